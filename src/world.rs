//! The compiled, immutable model of one scenario that the simulator reads.
//!
//! Everything is resolved to indexes before simulation starts: data centers, egress IPs, populations,
//! resources and cases refer to each other by position, and per-pair distances and segment times are
//! precomputed tables, so the hot loop does no name lookups, hashing or allocation.

use std::net::{Ipv4Addr, Ipv6Addr};

use rand_distr::weighted::WeightedAliasIndex;

use crate::catalog::{CountryId, DataCenter};
use crate::geodesy::LatLon;
use crate::latency::{AccessProfile, LatencyModel};
use crate::nearest::NearestIndex;

pub use crate::ids::{DcId, EgressId};

/// Default concurrent-connection limit per dedicated IP and origin (Cloudflare documentation).
pub const DEFAULT_CONNECTION_LIMIT: u32 = 40_000;

/// An IPv6 range in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    /// Network address (host bits zero).
    pub addr: Ipv6Addr,
    /// Prefix length, 0..=128.
    pub len: u8,
}

impl std::fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl std::str::FromStr for Ipv6Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match parse_network(s, "an IPv6 prefix", "2001:db8:1::/48")? {
            (std::net::IpAddr::V6(addr), len) => Ok(Self { addr, len }),
            (std::net::IpAddr::V4(_), _) => Err(format!(
                "`{s}` is an IPv4 network; expected an IPv6 prefix such as `2001:db8:1::/48`"
            )),
        }
    }
}

/// Parses `address/length` (IPv4 or IPv6) and checks that the host bits are zero. `what` and
/// `example` shape the messages ("an IPv6 prefix", "2001:db8:1::/48").
pub fn parse_network(s: &str, what: &str, example: &str) -> Result<(std::net::IpAddr, u8), String> {
    use std::net::IpAddr;
    let s = s.trim();
    let (a, l) = s.split_once('/').ok_or_else(|| {
        format!("`{s}` is not {what}: expected `address/length`, e.g. `{example}`")
    })?;
    let addr: IpAddr = a.parse().map_err(|_| {
        let family = if example.contains(':') {
            "IPv6"
        } else {
            "IPv4"
        };
        format!("`{a}` is not a valid {family} address")
    })?;
    let bits: u32 = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = l
        .parse()
        .ok()
        .filter(|l| u32::from(*l) <= bits)
        .ok_or_else(|| format!("prefix length `{l}` must be a number from 0 to {bits}"))?;
    // Work in the top bits of a u128 so both families share one mask computation.
    let value: u128 = match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    if value & !mask != 0 {
        let net = value & mask;
        let shown = match addr {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from((net >> 96) as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(net)),
        };
        return Err(format!(
            "`{s}` has host bits set; the network address is `{shown}/{len}`"
        ));
    }
    Ok((addr, len))
}

/// Backbone RTT between data centers `from` and `to`, ms; zero for the same data center. The one
/// definition behind `World::dc_to_egress_ms` (and the planner's IPs it is only considering).
pub fn backbone_between_ms(
    latency: &LatencyModel,
    dcs: &[crate::catalog::DataCenter],
    from: usize,
    to: usize,
) -> f32 {
    if from == to {
        return 0.0;
    }
    let km = dcs[from].location.distance_km(dcs[to].location);
    latency.segment_rtt_ms(km, crate::latency::Network::Backbone) as f32
}

/// One dedicated egress IP: an IPv4 address plus an IPv6 range, bound to one data center.
#[derive(Debug, Clone, PartialEq)]
pub struct Egress {
    /// User-chosen id (`lhr-1`).
    pub id: String,
    /// Data center it is bound to.
    pub datacenter: DcId,
    /// Dedicated IPv4 address.
    pub ipv4: Ipv4Addr,
    /// Dedicated IPv6 range.
    pub ipv6: Option<Ipv6Prefix>,
    /// Concurrent connections per origin.
    pub connection_limit: u32,
}

/// Where a population's users are: anchor points with weights, and a spread around each.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Anchor points (named places or catalog cities).
    pub anchors: Vec<LatLon>,
    /// Weighted choice of anchor per user.
    pub alias: WeightedAliasIndex<f64>,
    /// Distance distribution around the anchor.
    pub spread: Spread,
    /// Human description (`around Amsterdam, NL`, `cities of DE`).
    pub description: String,
    /// For a country, continent or region: the countries users must stay in (indexed by
    /// `CountryId`); an offset that leaves them is drawn again. `None` for `around` places.
    pub area: Option<Vec<bool>>,
}

/// Distance distribution of users around their anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// East and north offsets each normal with this standard deviation, km.
    Normal {
        /// Standard deviation per axis, km.
        sigma_km: f64,
    },
    /// Distance log-normal with this median and shape, uniform bearing.
    LogNormal {
        /// Median distance, km.
        median_km: f64,
        /// Standard deviation of the natural log.
        sigma: f64,
    },
}

/// An identity group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Name (`finance`).
    pub name: String,
    /// Identity-provider id.
    pub id: String,
    /// Group email.
    pub email: String,
}

/// A population of synthetic users, compiled.
#[derive(Debug, Clone)]
pub struct Population {
    /// Unique name.
    pub name: String,
    /// First global user index of this population.
    pub first_user: u64,
    /// Number of users.
    pub users: u64,
    /// Where users are.
    pub placement: Placement,
    /// Share of users that are IPv6-capable.
    pub ipv6_share: f64,
    /// Last-mile access profile.
    pub access: AccessProfile,
    /// Name of the access profile (preset or `custom`).
    pub access_name: String,
    /// Group memberships: (group index, share of users).
    pub groups: Vec<(u16, f64)>,
    /// Concurrent connections per user, split across destinations by weight.
    pub connections_per_user: f64,
    /// Email domain of synthetic users.
    pub email_domain: String,
    /// Posture checks users' devices pass: (check index, share of users).
    pub posture: Vec<(u8, f64)>,
    /// Virtual networks users have selected: (vnet index, share of users); the rest have none.
    pub vnets: Vec<(u16, f64)>,
    /// Public source addresses of the users' devices: an IPv4 network (address, prefix length).
    pub source_prefix: (std::net::Ipv4Addr, u8),
    /// Index into `World::requirements`: where this population's traffic must egress.
    pub require_egress_in: Option<u16>,
    /// Users read from a CSV list and located with a GeoIP database (`from_csv`); `None` for a
    /// synthetic population. User `first_user + i` is `listing.users[i]`.
    pub listing: Option<std::sync::Arc<crate::geoip::Listing>>,
}

impl Population {
    /// The listed user behind global user `index`, for a population read from a user list.
    #[inline]
    pub fn listed_user(&self, index: u64) -> Option<&crate::geoip::ListedUser> {
        self.listing
            .as_ref()
            .and_then(|l| l.users.get(index.checked_sub(self.first_user)? as usize))
    }

    /// Concurrent connections of user `index` (the list's `connections`, else the population's).
    #[inline]
    pub fn connections_of(&self, index: u64) -> f64 {
        self.listed_user(index)
            .and_then(|u| u.connections)
            .unwrap_or(self.connections_per_user)
    }

    /// Writes user `index`'s `identity.email` and `identity.name` into the buffers (cleared first):
    /// the list's values for a listed user, `u<index>@<email_domain>` and `User <index>` otherwise.
    pub fn write_identity(&self, index: u64, email: &mut String, name: &mut String) {
        use std::fmt::Write;
        email.clear();
        name.clear();
        match self.listed_user(index) {
            Some(u) => {
                email.push_str(&u.email);
                name.push_str(&u.name);
            }
            None => {
                let _ = write!(email, "u{index}@{}", self.email_domain);
                let _ = write!(name, "User {index}");
            }
        }
    }
}

/// A destination, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Unique name.
    pub name: String,
    /// Host name.
    pub host: String,
    /// IPv4 address, if it has one.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address, if it has one.
    pub ipv6: Option<Ipv6Addr>,
    /// Destination port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Origin location.
    pub location: LatLon,
    /// Label of the location as resolved.
    pub location_label: String,
    /// Country of the origin.
    pub country: CountryId,
    /// Proxied by Cloudflare (orange-clouded).
    pub proxied: bool,
    /// Reached through a private network (Cloudflare Tunnel or Magic WAN) over IPv4 and over IPv6:
    /// such traffic always uses Cloudflare's shared addresses, never a dedicated egress IP.
    pub private: PrivateNetwork,
    /// Accepted egress IPs; `None` accepts every source.
    pub allowlist: Option<Vec<bool>>,
    /// Relative request weight.
    pub weight: f64,
    /// Origin processing time, ms.
    pub processing_ms: f64,
    /// `net.fqdn.domains`: the host and each parent domain.
    pub domains: Vec<String>,
    /// `app.ids` of the destination.
    pub app_ids: Vec<u32>,
}

/// Which addresses of a destination are on a private network behind Cloudflare Tunnel or Magic WAN
/// (GATEWAY-REFERENCE.md: such traffic always uses shared addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrivateNetwork {
    /// The IPv4 address.
    pub v4: bool,
    /// The IPv6 address.
    pub v6: bool,
}

impl Resource {
    /// Requests over this IP version go to a private network (and so never use a dedicated IP).
    #[inline]
    pub fn is_private(&self, ipv6: bool) -> bool {
        if ipv6 {
            self.private.v6
        } else {
            self.private.v4
        }
    }

    /// Every address of the destination is on a private network: no request to it ever uses a
    /// dedicated egress IP, so its allowlist and connection capacity never apply.
    pub fn only_private(&self) -> bool {
        (self.ipv4.is_none() || self.private.v4) && (self.ipv6.is_none() || self.private.v6)
    }
}

/// Where a case comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOrigin {
    /// Nothing down.
    Baseline,
    /// A `[[failure]]` entry of the scenario.
    Declared,
    /// Added by a sweep (`--sweep n-1` / `n-2`).
    Sweep,
}

/// One state of the world to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `baseline` or a failure name.
    pub name: String,
    /// Free text from the scenario (empty for sweeps).
    pub description: String,
    /// Where the case comes from.
    pub origin: CaseOrigin,
    /// Per data center: down in this case.
    pub dc_down: Vec<bool>,
    /// Per egress IP: its IPv4 address is unavailable in this case. (Its IPv6 range keeps working: IPv6
    /// egresses from the ingress data center and needs no secondary.)
    pub egress_down: Vec<bool>,
}

impl Case {
    /// The baseline: nothing down.
    pub fn baseline(datacenters: usize, egress: usize) -> Self {
        Self {
            name: "baseline".into(),
            description: String::new(),
            origin: CaseOrigin::Baseline,
            dc_down: vec![false; datacenters],
            egress_down: vec![false; egress],
        }
    }

    /// The data center this case takes down, when it takes down exactly one data center and nothing
    /// else (a "single data-center failure").
    pub fn single_datacenter(&self) -> Option<DcId> {
        if self.egress_down.iter().any(|&d| d) {
            return None;
        }
        let mut down = self.dc_down.iter().enumerate().filter(|(_, &d)| d);
        match (down.next(), down.next()) {
            (Some((i, _)), None) => Some(i as DcId),
            _ => None,
        }
    }

    /// True when nothing is down.
    pub fn is_baseline(&self) -> bool {
        !self.dc_down.iter().any(|&d| d) && !self.egress_down.iter().any(|&d| d)
    }
}

/// Failure cases added from the command line or `[simulation] sweep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sweep {
    /// Only the declared failures.
    #[default]
    None,
    /// One case per data center that hosts an egress IP or serves as ingress, and one per egress IP.
    N1,
    /// `N1` plus every pair of data centers hosting egress IPs.
    N2,
}

impl Sweep {
    /// Parses `none`, `n-1` or `n-2`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" => Some(Self::None),
            "n-1" | "n1" => Some(Self::N1),
            "n-2" | "n2" => Some(Self::N2),
            _ => None,
        }
    }

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::N1 => "n-1",
            Self::N2 => "n-2",
        }
    }
}

/// A geography requirement (`require_egress_in`): the data centers where traffic may egress.
#[derive(Debug, Clone, PartialEq)]
pub struct EgressRequirement {
    /// The places as written, joined (`GB`, `London, LHR`).
    pub label: String,
    /// Per data center: egressing here satisfies the requirement.
    pub allowed: Vec<bool>,
}

/// Ingress (anycast) settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct IngressSettings {
    /// Share of users landing on their second-nearest data center.
    pub second_nearest_share: f64,
    /// Share of users landing on their third-nearest data center.
    pub third_nearest_share: f64,
}

/// How unmatched traffic picks its dedicated location (`[balancing] mode`, `--balancing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BalancingMode {
    /// The dedicated location closest to the user, whatever the destination (Cloudflare's documented
    /// behaviour).
    #[default]
    Nearest,
    /// Per user and destination, the dedicated location with the lowest modelled round trip
    /// user → ingress → egress data center → destination (a modelling assumption).
    Fastest,
}

impl BalancingMode {
    /// Every mode, in the order help texts list them.
    pub const ALL: [Self; 2] = [Self::Nearest, Self::Fastest];

    /// Parses `nearest` or `fastest`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s.trim().to_ascii_lowercase())
    }

    /// What unmatched traffic does, as the policies table says it.
    pub fn unmatched_action(self) -> &'static str {
        match self {
            Self::Nearest => "nearest dedicated location",
            Self::Fastest => "fastest dedicated location per destination",
        }
    }

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nearest => "nearest",
            Self::Fastest => "fastest",
        }
    }
}

/// Balancing of unmatched traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Balancing {
    /// How the dedicated location is chosen.
    pub mode: BalancingMode,
    /// Distances within this many km count as a tie (nearest mode).
    pub tie_tolerance_km: f64,
    /// Share of eligible requests that use IPv6.
    pub ipv6_preference: f64,
}

impl Default for Balancing {
    fn default() -> Self {
        Self {
            mode: BalancingMode::Nearest,
            tie_tolerance_km: 0.0,
            ipv6_preference: 1.0,
        }
    }
}

/// The names policies may refer to, from a scenario's groups, posture checks and virtual networks.
pub fn universe_of(
    groups: &[Group],
    posture_checks: &[String],
    vnets: &[String],
) -> crate::policy::expr::Universe {
    crate::policy::expr::Universe {
        groups: groups
            .iter()
            .map(|g| crate::policy::expr::GroupDef {
                name: g.name.clone(),
                id: g.id.clone(),
                email: g.email.clone(),
            })
            .collect(),
        posture_checks: posture_checks.to_vec(),
        vnets: vnets.to_vec(),
    }
}

/// The compiled scenario.
#[derive(Debug, Clone)]
pub struct World {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: String,
    /// Random seed.
    pub seed: u64,
    /// Total users.
    pub users: u64,
    /// Requests per user.
    pub requests_per_user: u32,
    /// Catalog data centers followed by scenario-defined ones.
    pub datacenters: Vec<DataCenter>,
    /// Dedicated egress IPs.
    pub egress: Vec<Egress>,
    /// Identity groups.
    pub groups: Vec<Group>,
    /// Device posture check ids.
    pub posture_checks: Vec<String>,
    /// Virtual network ids.
    pub vnets: Vec<String>,
    /// Egress policies sorted by precedence (ties keep file order).
    pub policies: Vec<crate::policy::Policy>,
    /// Populations, in user-index order.
    pub populations: Vec<Population>,
    /// Destinations.
    pub resources: Vec<Resource>,
    /// Weighted choice of destination by `weight` (one `u64` per draw). The engine draws destination
    /// and IP version together from tables built from the same weights (`engine::requests`).
    pub resource_alias: crate::alias::AliasTable,
    /// Latency model.
    pub latency: LatencyModel,
    /// Ingress settings.
    pub ingress: IngressSettings,
    /// Balancing settings.
    pub balancing: Balancing,
    /// Cases, `baseline` first, then declared failures, then sweep cases.
    pub cases: Vec<Case>,
    /// The failure sweep whose cases `cases` includes (added while compiling; informational).
    pub sweep: Sweep,
    /// Geography requirements referenced by populations and policies.
    pub requirements: Vec<EgressRequirement>,
    /// Nearest-data-center index over `datacenters`.
    pub dc_index: NearestIndex,
    /// Per (data center, resource): internet RTT from the data center to the resource, ms
    /// (`dc * resources.len() + resource`).
    pub dc_to_resource_ms: Vec<f32>,
    /// Per (data center, egress IP): backbone RTT from the data center to the egress IP's data center, ms;
    /// zero when they are the same data center (`dc * egress.len() + egress`).
    pub dc_to_egress_ms: Vec<f32>,
}

impl World {
    /// The data center an egress IP is bound to.
    pub fn egress_dc(&self, e: EgressId) -> &DataCenter {
        &self.datacenters[self.egress[e as usize].datacenter as usize]
    }

    /// Internet RTT from data center `dc` to resource `r`, ms.
    #[inline]
    pub fn resource_ms(&self, dc: DcId, r: usize) -> f32 {
        self.dc_to_resource_ms[dc as usize * self.resources.len() + r]
    }

    /// Backbone RTT from data center `dc` to egress IP `e`'s data center, ms.
    #[inline]
    pub fn backbone_ms(&self, dc: DcId, e: EgressId) -> f32 {
        self.dc_to_egress_ms[dc as usize * self.egress.len() + e as usize]
    }

    /// The names policies may refer to (groups, posture checks, virtual networks).
    pub fn universe(&self) -> crate::policy::expr::Universe {
        universe_of(&self.groups, &self.posture_checks, &self.vnets)
    }

    /// The listed populations (`from_csv`) as (name, listing), in population order.
    pub fn listings(&self) -> Vec<(&str, &crate::geoip::Listing)> {
        self.populations
            .iter()
            .filter_map(|p| Some((p.name.as_str(), p.listing.as_deref()?)))
            .collect()
    }

    /// Index of a population by name.
    pub fn population_index(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.name == name)
    }

    /// The population that user `index` belongs to.
    pub fn population_of(&self, index: u64) -> usize {
        self.populations
            .partition_point(|p| p.first_user + p.users <= index)
            .min(self.populations.len().saturating_sub(1))
    }
}
