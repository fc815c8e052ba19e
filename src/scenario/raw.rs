//! The scenario file as written: serde structures that mirror the TOML one to one.
//!
//! Everything a later check must point at is wrapped in [`Spanned`] so that validation errors can name
//! the line and column. Unknown keys are rejected (`deny_unknown_fields`) so typos never pass silently.

use serde::Deserialize;
use toml::Spanned;

/// Top level of a scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Scenario name; also the default output folder name.
    pub name: Option<Spanned<String>>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// Random seed; same seed and scenario give identical results.
    pub seed: Option<Spanned<i64>>,
    /// Simulation size.
    pub simulation: Option<RawSimulation>,
    /// Latency model constants.
    pub latency: Option<RawLatency>,
    /// How users reach Cloudflare.
    pub ingress: Option<RawIngress>,
    /// How unmatched traffic is balanced across dedicated egress locations.
    pub balancing: Option<RawBalancing>,
    /// GeoIP database for populations read from user lists: a path, or a table with settings.
    pub geoip: Option<Spanned<RawGeoip>>,
    /// Extra data centers beyond the built-in catalog.
    #[serde(default)]
    pub datacenter: Vec<RawDataCenter>,
    /// Dedicated egress IPs.
    #[serde(default)]
    pub egress: Vec<RawEgress>,
    /// Identity groups (optional; groups named by populations are created automatically).
    #[serde(default)]
    pub group: Vec<RawGroup>,
    /// User populations.
    #[serde(default)]
    pub population: Vec<RawPopulation>,
    /// Destinations.
    #[serde(default)]
    pub resource: Vec<RawResource>,
    /// Egress policies.
    #[serde(default)]
    pub policy: Vec<RawPolicy>,
    /// Failure cases.
    #[serde(default)]
    pub failure: Vec<RawFailure>,
    /// Settings of `egress-sim plan` (ignored by the other commands).
    pub plan: Option<RawPlan>,
}

/// `[plan]`: how `egress-sim plan` plans this scenario, so a plan is reproducible from the file
/// alone (command-line options override each key).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    /// Sites to add to the scenario's egress IPs.
    pub add: Option<Spanned<i64>>,
    /// Sites to choose with none of the scenario's egress IPs kept.
    pub from_scratch: Option<Spanned<i64>>,
    /// Candidate data centers: codes, countries, continents, Cloudflare regions.
    pub candidates: Option<Vec<Spanned<String>>>,
    /// What to minimise (`p95-rtt`, `p95-rtt=1,refused=500`).
    pub objective: Option<Spanned<String>>,
    /// `none`, `n-1` or `n-1:mean`.
    pub robust: Option<Spanned<String>>,
    /// `add` (new IPs join every allowlist) or `keep`.
    pub allowlists: Option<Spanned<String>>,
}

/// `[[failure]]`: a what-if case; everything listed is down at once.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailure {
    /// Unique name (`lhr-outage`).
    pub name: Spanned<String>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// Data center codes that are down.
    #[serde(default)]
    pub datacenters: Vec<Spanned<String>>,
    /// Egress IP ids that are down.
    #[serde(default)]
    pub egress: Vec<Spanned<String>>,
    /// Countries (ISO code or name) whose data centers are all down.
    #[serde(default)]
    pub countries: Vec<Spanned<String>>,
    /// Cloudflare regions (`WEU`, `ENAM`, ...) whose data centers are all down.
    #[serde(default)]
    pub regions: Vec<Spanned<String>>,
}

/// `[simulation]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Total users when populations give shares; a scale target when they give counts.
    pub users: Option<Spanned<i64>>,
    /// Requests each user sends.
    pub requests_per_user: Option<Spanned<i64>>,
    /// Failure sweep to add: `none` (default), `n-1` or `n-2`.
    pub sweep: Option<Spanned<String>>,
}

/// `[latency]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    /// A TOML file (relative to this scenario) whose `[latency]` table sets the defaults for this one,
    /// such as the one `egress-sim calibrate -o` writes.
    pub include: Option<Spanned<String>>,
    /// Signal speed in fiber, km per millisecond.
    pub fiber_km_per_ms: Option<Spanned<f64>>,
    /// Public-internet path length over great-circle distance.
    pub internet_inflation: Option<Spanned<f64>>,
    /// Fixed round-trip cost of each public-internet segment, ms.
    pub internet_fixed_ms: Option<Spanned<f64>>,
    /// Cloudflare backbone path length over great-circle distance.
    pub backbone_inflation: Option<Spanned<f64>>,
    /// Fixed round-trip cost of each backbone segment, ms.
    pub backbone_fixed_ms: Option<Spanned<f64>>,
    /// Older name: one fixed cost for every segment (sets both `internet_fixed_ms` and
    /// `backbone_fixed_ms`).
    pub segment_overhead_ms: Option<Spanned<f64>>,
    /// Mean of the exponential per-request jitter, ms.
    pub jitter_mean_ms: Option<Spanned<f64>>,
}

/// A file that `[latency] include` names: a `[latency]` table and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatencyFile {
    /// The settings.
    pub latency: RawLatency,
}

/// `[ingress]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIngress {
    /// Share of users whose anycast route lands on their second-nearest data center.
    pub second_nearest_share: Option<Spanned<f64>>,
    /// Share of users whose anycast route lands on their third-nearest data center.
    pub third_nearest_share: Option<Spanned<f64>>,
}

/// `[balancing]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBalancing {
    /// `nearest` (default) or `fastest`.
    pub mode: Option<Spanned<String>>,
    /// Dedicated locations whose distances differ by at most this much count as tied, km.
    pub tie_tolerance_km: Option<Spanned<f64>>,
    /// Share of eligible requests (IPv6-capable user, destination with IPv6) that use IPv6.
    pub ipv6_preference: Option<Spanned<f64>>,
}

/// `[[datacenter]]`: a data center the catalog does not have.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataCenter {
    /// Code, unique among the catalog and the scenario (e.g. `LHR2`).
    pub code: Spanned<String>,
    /// City name shown in reports.
    pub city: Spanned<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Spanned<String>,
    /// Latitude in degrees.
    pub lat: Spanned<f64>,
    /// Longitude in degrees.
    pub lon: Spanned<f64>,
    /// Cloudflare load-balancing region (optional).
    pub region: Option<String>,
}

/// `[[egress]]`: one dedicated egress IP.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEgress {
    /// Identifier chosen by the user (`lhr-1`).
    pub id: Spanned<String>,
    /// Data center code it is bound to.
    pub datacenter: Spanned<String>,
    /// The dedicated IPv4 address.
    pub ipv4: Spanned<String>,
    /// The dedicated IPv6 range (CIDR).
    pub ipv6: Option<Spanned<String>>,
    /// Concurrent connections per origin (default 40,000).
    pub connection_limit: Option<Spanned<i64>>,
}

/// `[[group]]`: an identity group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Group name (`finance`).
    pub name: Spanned<String>,
    /// Identity-provider group id.
    pub id: Option<String>,
    /// Group email address.
    pub email: Option<String>,
}

/// `[[population]]`: a group of synthetic users.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopulation {
    /// Unique name.
    pub name: Spanned<String>,
    /// Absolute number of users.
    pub users: Option<Spanned<i64>>,
    /// Share of `simulation.users`.
    pub share: Option<Spanned<f64>>,
    /// Where the users are (synthetic populations).
    pub location: Option<Spanned<RawLocation>>,
    /// Read the users from this CSV list (relative to the scenario file) instead of generating them.
    pub from_csv: Option<Spanned<String>>,
    /// Share of users whose client and network support IPv6 (default 0.5).
    pub ipv6_share: Option<Spanned<f64>>,
    /// Last-mile access: a preset name or a custom distribution (default `cable`).
    pub access: Option<Spanned<RawAccess>>,
    /// Group name → share of users in that group.
    #[serde(default)]
    pub groups: std::collections::BTreeMap<String, Spanned<f64>>,
    /// Concurrent connections each user keeps open, split across destinations by weight (default 10).
    pub connections_per_user: Option<Spanned<f64>>,
    /// Email domain for synthetic users (default `example.com`).
    pub email_domain: Option<String>,
    /// Device posture check id → share of users whose device passes it.
    #[serde(default)]
    pub posture: std::collections::BTreeMap<String, Spanned<f64>>,
    /// Virtual network id → share of users who selected it (shares add up to at most 1).
    #[serde(default)]
    pub vnets: std::collections::BTreeMap<String, Spanned<f64>>,
    /// IPv4 network the devices' public addresses come from (default `198.18.0.0/15`).
    pub source_ips: Option<Spanned<String>>,
    /// Where this population's traffic must egress: countries, cities or data center codes.
    pub require_egress_in: Option<Vec<Spanned<String>>>,
}

/// `geoip = "path.mmdb"` or `[geoip]`: the database that locates listed users, and how.
#[derive(Debug)]
pub struct RawGeoip {
    /// Database path, relative to the scenario file.
    pub database: Option<Spanned<String>>,
    /// `skip` (default), `error`, or `country`: users the database cannot place.
    pub unresolved: Option<Spanned<String>>,
    /// `error` (default) or `skip`: malformed rows of user lists.
    pub bad_rows: Option<Spanned<String>>,
    /// Spread each user within the record's accuracy radius (default false).
    pub spread_accuracy_radius: Option<bool>,
}

/// The table form of `[geoip]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeoipTable {
    database: Option<Spanned<String>>,
    unresolved: Option<Spanned<String>>,
    bad_rows: Option<Spanned<String>>,
    spread_accuracy_radius: Option<bool>,
}

impl<'de> Deserialize<'de> for RawGeoip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawGeoip;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a database path, or a table with `database`, `unresolved`, `bad_rows`, `spread_accuracy_radius`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawGeoip, E> {
                Ok(RawGeoip {
                    database: Some(Spanned::new(0..0, v.to_string())),
                    unresolved: None,
                    bad_rows: None,
                    spread_accuracy_radius: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawGeoip, A::Error> {
                let t =
                    RawGeoipTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawGeoip {
                    database: t.database,
                    unresolved: t.unresolved,
                    bad_rows: t.bad_rows,
                    spread_accuracy_radius: t.spread_accuracy_radius,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `[population.location]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocation {
    /// Places users cluster around: data center codes, city names or `lat,lon`.
    pub around: Option<Vec<Spanned<String>>>,
    /// Relative weights for `around` (default equal).
    pub weights: Option<Spanned<Vec<f64>>>,
    /// Spread users over a country's cities (ISO2, ISO3 or name), weighted by population; with
    /// `region`, the part of that region in this country.
    pub country: Option<Spanned<String>>,
    /// Spread users over a continent's cities (AF AN AS EU NA OC SA), weighted by population.
    pub continent: Option<Spanned<String>>,
    /// Spread users over a Cloudflare region (WNAM, ENAM, WEU, ...): the cities of the countries
    /// hosting its data centers whose nearest data center is in the region.
    pub region: Option<Spanned<String>>,
    /// How far users are from their anchor point.
    pub spread: Option<Spanned<RawSpread>>,
}

/// Distance distribution of users around an anchor point.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpread {
    /// `normal` (east and north offsets each normal with `sigma_km`) or `lognormal`.
    pub distribution: Spanned<String>,
    /// Standard deviation per axis for `normal`, km.
    pub sigma_km: Option<Spanned<f64>>,
    /// Median distance for `lognormal`, km.
    pub median_km: Option<Spanned<f64>>,
    /// Shape (sigma of the log) for `lognormal`.
    pub sigma: Option<Spanned<f64>>,
}

/// Access profile: a preset name or a table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawAccess {
    /// `fiber`, `cable`, `dsl`, `mobile`, `office`.
    Preset(String),
    /// Custom log-normal last-mile RTT.
    Custom(RawAccessCustom),
}

/// Custom access profile.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccessCustom {
    /// Median last-mile round-trip time, ms.
    pub median_ms: f64,
    /// Shape (sigma of the log).
    pub sigma: f64,
}

/// `[[resource]]`: a destination.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResource {
    /// Unique name.
    pub name: Spanned<String>,
    /// Host name (`api.bank.example`).
    pub host: Option<Spanned<String>>,
    /// IPv4 address.
    pub ipv4: Option<Spanned<String>>,
    /// IPv6 address.
    pub ipv6: Option<Spanned<String>>,
    /// Destination port (default 443).
    pub port: Option<Spanned<i64>>,
    /// `tcp` or `udp` (default `tcp`).
    pub protocol: Option<Spanned<String>>,
    /// Where the origin is: data center code, city name or `lat,lon`.
    pub location: Spanned<String>,
    /// Whether the destination is itself proxied by Cloudflare (orange-clouded).
    #[serde(default)]
    pub proxied: bool,
    /// Reached through a private network (Cloudflare Tunnel or Magic WAN); default: when its
    /// address is private (RFC 1918, 100.64.0.0/10, fc00::/7).
    pub private: Option<Spanned<bool>>,
    /// Egress ids whose addresses the destination accepts; absent = accepts every source.
    pub allowlist: Option<Vec<Spanned<String>>>,
    /// Relative share of requests (default 1).
    pub weight: Option<Spanned<f64>>,
    /// Time the origin takes to answer, ms (default 0).
    pub processing_ms: Option<Spanned<f64>>,
    /// Gateway application ids of the destination (`app.ids`).
    #[serde(default)]
    pub app_ids: Vec<u32>,
}

/// `[[policy]]`: an egress policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Name shown in reports.
    pub name: Spanned<String>,
    /// Rule id (kept through import and export).
    pub id: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Evaluation order, ascending (default: file order after any explicit ones).
    pub precedence: Option<Spanned<i64>>,
    /// Disabled policies are skipped (default true).
    pub enabled: Option<bool>,
    /// Traffic filter expression.
    pub traffic: Option<Spanned<String>>,
    /// Identity filter expression.
    pub identity: Option<Spanned<String>>,
    /// Device posture filter expression.
    pub device_posture: Option<Spanned<String>>,
    /// Structured (dashboard) form of the conditions.
    pub conditions: Option<Vec<Spanned<RawConditionRow>>>,
    /// How structured conditions combine: `and` (default) or `or`.
    pub join: Option<Spanned<String>>,
    /// `default` or `dedicated` (default: `dedicated` when `ipv4` is set).
    pub egress: Option<Spanned<String>>,
    /// Primary IPv4: an egress id or its IPv4 address.
    pub ipv4: Option<Spanned<String>>,
    /// Secondary IPv4: an egress id, its address, or `0.0.0.0` / `default` for default egress.
    pub ipv4_fallback: Option<Spanned<String>>,
    /// IPv6: an egress id or its IPv6 range (default: the primary's range).
    pub ipv6: Option<Spanned<String>>,
    /// Where matched traffic must egress: countries, cities or data center codes.
    pub require_egress_in: Option<Vec<Spanned<String>>>,
}

/// One dashboard-style condition row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConditionRow {
    /// Selector: an API field name (`net.dst.port`) or dashboard label (`Destination Port`).
    pub selector: String,
    /// Operator: `is`, `is not`, `in`, `not in`, `matches regex`, `greater than`, ...
    pub operator: String,
    /// One value.
    pub value: Option<toml::Value>,
    /// Several values (for `in` / `not in`).
    pub values: Option<Vec<toml::Value>>,
}
