//! Validation and compilation of a parsed scenario into a [`World`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use rand_distr::weighted::WeightedAliasIndex;
use toml::Spanned;

use super::raw::*;
use super::{toml_error, Loaded};
use crate::catalog::{Catalog, Continent, DataCenter};
use crate::country_index::CountryIndex;
use crate::error::{Error, InputError, Source};
use crate::geodesy::LatLon;
use crate::latency::{access_preset, AccessProfile, LatencyModel, Network, ACCESS_PRESETS};
use crate::nearest::{NearestIndex, Neighbor};
use crate::place;
use crate::suggest;
use crate::world::*;

/// Command-line overrides of scenario settings.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Total users (scales populations given as counts).
    pub users: Option<u64>,
    /// Requests per user.
    pub requests_per_user: Option<u32>,
    /// Random seed.
    pub seed: Option<u64>,
}

/// Largest simulation the tool accepts, to catch typos like an extra zero before they eat the machine.
const MAX_USERS: u64 = 1_000_000_000;
const MAX_REQUESTS_PER_USER: u32 = 100_000;
/// Per-user egress bookkeeping uses a 64-bit set with two slots reserved (default egress, dropped).
pub const MAX_EGRESS: usize = 62;

struct Ctx<'a> {
    src: &'a Source,
    errors: Vec<InputError>,
    warnings: Vec<String>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.errors.push(InputError::at(self.src, span, msg));
    }
    fn err_help(&mut self, span: Range<usize>, msg: impl Into<String>, help: Option<String>) {
        self.errors
            .push(InputError::at(self.src, span, msg).with_optional_help(help));
    }
    fn warn(&mut self, span: Range<usize>, msg: impl Into<String>) {
        let (line, col) = self.src.line_col(span.start);
        self.warnings.push(format!(
            "warning: {} ({}:{line}:{col})",
            msg.into(),
            self.src.path.display()
        ));
    }
    /// A positive finite number, else an error and `default`.
    fn positive(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
        match v {
            None => default,
            Some(s) if s.get_ref().is_finite() && *s.get_ref() > 0.0 => *s.get_ref(),
            Some(s) => {
                self.err(
                    s.span(),
                    format!("`{key}` must be a positive number, found {}", s.get_ref()),
                );
                default
            }
        }
    }
    /// A finite number >= 0.
    fn non_negative(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
        match v {
            None => default,
            Some(s) if s.get_ref().is_finite() && *s.get_ref() >= 0.0 => *s.get_ref(),
            Some(s) => {
                self.err(
                    s.span(),
                    format!("`{key}` must be zero or more, found {}", s.get_ref()),
                );
                default
            }
        }
    }
    /// A share in 0..=1.
    fn share(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
        match v {
            None => default,
            Some(s) => self.share_value(s, key),
        }
    }
    fn share_value(&mut self, s: &Spanned<f64>, key: &str) -> f64 {
        let x = *s.get_ref();
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            x
        } else {
            self.err_help(
                s.span(),
                format!("`{key}` is a share and must be between 0 and 1, found {x}"),
                (x > 1.0 && x <= 100.0).then(|| format!("for {x}% write {}", x / 100.0)),
            );
            0.0
        }
    }
    /// A count >= 1.
    fn count(&mut self, v: &Spanned<i64>, key: &str, max: u64) -> Option<u64> {
        let x = *v.get_ref();
        if x < 1 {
            self.err(v.span(), format!("`{key}` must be at least 1, found {x}"));
            None
        } else if x as u64 > max {
            self.err(
                v.span(),
                format!("`{key}` = {x} is larger than the supported maximum {max}"),
            );
            None
        } else {
            Some(x as u64)
        }
    }
}

/// Validates and compiles a scenario source. Collects every error it can before giving up.
pub fn compile(source: &Source, overrides: &Overrides) -> Result<Loaded, Error> {
    let raw: RawScenario =
        toml::from_str(&source.text).map_err(|e| Error::Input(toml_error::convert(source, &e)))?;
    let catalog = Catalog::embedded();
    let mut cx = Ctx {
        src: source,
        errors: Vec::new(),
        warnings: Vec::new(),
    };

    let name = scenario_name(&mut cx, &raw);
    let seed = match (&overrides.seed, &raw.seed) {
        (Some(s), _) => *s,
        (None, Some(s)) if *s.get_ref() >= 0 => *s.get_ref() as u64,
        (None, Some(s)) => {
            cx.err(
                s.span(),
                format!(
                    "`seed` must be zero or a positive integer, found {}",
                    s.get_ref()
                ),
            );
            0
        }
        (None, None) => 1,
    };
    let latency = latency_model(&mut cx, raw.latency.as_ref());
    let ingress = match &raw.ingress {
        None => IngressSettings::default(),
        Some(i) => {
            let s = IngressSettings {
                second_nearest_share: cx.share(
                    &i.second_nearest_share,
                    "second_nearest_share",
                    0.0,
                ),
                third_nearest_share: cx.share(&i.third_nearest_share, "third_nearest_share", 0.0),
            };
            if s.second_nearest_share + s.third_nearest_share > 1.0 {
                if let Some(v) = &i.second_nearest_share {
                    cx.err(
                        v.span(),
                        "`second_nearest_share` + `third_nearest_share` must not exceed 1",
                    );
                }
            }
            s
        }
    };
    let balancing = match &raw.balancing {
        None => Balancing::default(),
        Some(b) => Balancing {
            tie_tolerance_km: cx.non_negative(&b.tie_tolerance_km, "tie_tolerance_km", 0.0),
            ipv6_preference: cx.share(&b.ipv6_preference, "ipv6_preference", 1.0),
        },
    };

    let datacenters = datacenters(&mut cx, catalog, &raw.datacenter);
    let egress = egress_ips(&mut cx, &datacenters, &raw.egress);
    let mut groups = declared_groups(&mut cx, &raw.group);
    let country_index = CountryIndex::embedded();
    let dc_index = NearestIndex::new(&datacenters.iter().map(|d| d.location).collect::<Vec<_>>());

    let requests_per_user = match (
        &overrides.requests_per_user,
        raw.simulation
            .as_ref()
            .and_then(|s| s.requests_per_user.as_ref()),
    ) {
        (Some(n), _) => *n,
        (None, Some(v)) => cx
            .count(v, "requests_per_user", MAX_REQUESTS_PER_USER as u64)
            .unwrap_or(1) as u32,
        (None, None) => 20,
    };
    let sim_users = raw
        .simulation
        .as_ref()
        .and_then(|s| s.users.as_ref())
        .and_then(|v| cx.count(v, "users", MAX_USERS));

    let mut registry = Registry::default();
    let populations = populations(
        &mut cx,
        catalog,
        &datacenters,
        &dc_index,
        &mut groups,
        &mut registry,
        &raw.population,
        sim_users,
        overrides.users,
    );
    let resources = resources(
        &mut cx,
        catalog,
        country_index,
        &datacenters,
        &egress,
        &raw.resource,
    );

    if raw.egress.is_empty() {
        cx.errors.push(InputError::in_file(source, "the scenario defines no dedicated egress IPs").with_help(
            "add at least one `[[egress]]` table with `id`, `datacenter` and `ipv4` (see scenarios/three-sites.toml)",
        ));
    }
    if raw.population.is_empty() {
        cx.errors.push(InputError::in_file(source, "the scenario defines no user populations").with_help(
            "add at least one `[[population]]` table with `name`, `users` and `[population.location]`",
        ));
    }
    if raw.resource.is_empty() {
        cx.errors.push(
            InputError::in_file(source, "the scenario defines no destinations").with_help(
                "add at least one `[[resource]]` table with `name`, `ipv4` and `location`",
            ),
        );
    }
    let universe = crate::policy::expr::Universe {
        groups: groups
            .iter()
            .map(|g| crate::policy::expr::GroupDef {
                name: g.name.clone(),
                id: g.id.clone(),
                email: g.email.clone(),
            })
            .collect(),
        posture_checks: registry.posture_checks.clone(),
        vnets: registry.vnets.clone(),
    };
    let policies = {
        let mut sink = super::policies::Sink {
            src: source,
            errors: &mut cx.errors,
            warnings: &mut cx.warnings,
        };
        super::policies::policies(&mut sink, &raw.policy, &egress, &datacenters, &universe)
    };
    if !cx.errors.is_empty() {
        return Err(if cx.errors.len() == 1 {
            Error::Input(cx.errors.remove(0))
        } else {
            Error::Inputs(cx.errors)
        });
    }
    advise_resilience(&mut cx, &datacenters, &egress, &raw.egress);

    let users: u64 = populations.iter().map(|p| p.users).sum();
    if users == 0 {
        return Err(InputError::in_file(source, "the scenario simulates zero users")
            .with_help("give populations `users = N`, or `[simulation] users = N` with population shares")
            .into());
    }
    let resource_alias = WeightedAliasIndex::new(resources.iter().map(|r| r.weight).collect())
        .map_err(|e| Error::Internal(format!("resource weights: {e}")))?;
    let (dc_to_resource_ms, dc_to_egress_ms) = tables(&latency, &datacenters, &egress, &resources);
    let cases = vec![Case {
        name: "baseline".into(),
        dc_down: vec![false; datacenters.len()],
        egress_down: vec![false; egress.len()],
    }];
    let world = World {
        name,
        description: raw.description.clone().unwrap_or_default(),
        seed,
        users,
        requests_per_user,
        datacenters,
        egress,
        groups,
        posture_checks: registry.posture_checks,
        vnets: registry.vnets,
        policies,
        populations,
        resources,
        resource_alias,
        latency,
        ingress,
        balancing,
        cases,
        dc_index,
        dc_to_resource_ms,
        dc_to_egress_ms,
    };
    Ok(Loaded {
        world,
        warnings: cx.warnings,
    })
}

fn scenario_name(cx: &mut Ctx, raw: &RawScenario) -> String {
    match &raw.name {
        Some(n) => {
            let s = n.get_ref().trim();
            let ok = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !s.starts_with('.');
            if !ok {
                cx.err_help(
                    n.span(),
                    format!("scenario name `{s}` cannot be used as a folder name"),
                    Some("use letters, digits, `-`, `_` and `.` only, e.g. `three-sites`".into()),
                );
            }
            s.to_string()
        }
        None => cx
            .src
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("scenario")
            .to_string(),
    }
}

fn latency_model(cx: &mut Ctx, raw: Option<&RawLatency>) -> LatencyModel {
    let d = LatencyModel::default();
    let Some(l) = raw else { return d };
    let m = LatencyModel {
        fiber_km_per_ms: cx.positive(&l.fiber_km_per_ms, "fiber_km_per_ms", d.fiber_km_per_ms),
        internet_inflation: cx.positive(
            &l.internet_inflation,
            "internet_inflation",
            d.internet_inflation,
        ),
        backbone_inflation: cx.positive(
            &l.backbone_inflation,
            "backbone_inflation",
            d.backbone_inflation,
        ),
        segment_overhead_ms: cx.non_negative(
            &l.segment_overhead_ms,
            "segment_overhead_ms",
            d.segment_overhead_ms,
        ),
        jitter_mean_ms: cx.non_negative(&l.jitter_mean_ms, "jitter_mean_ms", d.jitter_mean_ms),
    };
    for (v, key) in [
        (&l.internet_inflation, "internet_inflation"),
        (&l.backbone_inflation, "backbone_inflation"),
    ] {
        if let Some(s) = v {
            if *s.get_ref() < 1.0 && *s.get_ref() > 0.0 {
                cx.err(s.span(), format!("`{key}` must be at least 1 (a path cannot be shorter than the great circle)"));
            }
        }
    }
    if let Some(s) = &l.fiber_km_per_ms {
        if *s.get_ref() > 300.0 {
            cx.err(
                s.span(),
                "`fiber_km_per_ms` cannot exceed the speed of light (299.8 km/ms)",
            );
        }
    }
    m
}

fn datacenters(cx: &mut Ctx, catalog: &Catalog, raw: &[RawDataCenter]) -> Vec<DataCenter> {
    let mut all = catalog.datacenters.clone();
    for d in raw {
        let code = d.code.get_ref().trim();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            cx.err_help(
                d.code.span(),
                format!("data center code `{code}` is not valid"),
                Some("use letters, digits and `-`, e.g. `LHR2`".into()),
            );
            continue;
        }
        if all.iter().any(|x| x.code.eq_ignore_ascii_case(code)) {
            cx.err_help(
                d.code.span(),
                format!("data center `{code}` already exists"),
                Some("pick a new code for the extra facility, e.g. `LHR2`; built-in codes cannot be redefined".into()),
            );
            continue;
        }
        let Some(country) = catalog.country_by_code(d.country.get_ref()) else {
            cx.err_help(
                d.country.span(),
                format!(
                    "unknown country `{}`: expected an ISO 3166-1 alpha-2 code",
                    d.country.get_ref()
                ),
                catalog
                    .suggest_country(d.country.get_ref())
                    .map(|s| format!("did you mean {s}?")),
            );
            continue;
        };
        let loc = LatLon::new(*d.lat.get_ref(), *d.lon.get_ref());
        if !(-90.0..=90.0).contains(&loc.lat) || !loc.lat.is_finite() {
            cx.err(
                d.lat.span(),
                format!("latitude must be between -90 and 90, found {}", loc.lat),
            );
            continue;
        }
        if !(-180.0..=180.0).contains(&loc.lon) || !loc.lon.is_finite() {
            cx.err(
                d.lon.span(),
                format!("longitude must be between -180 and 180, found {}", loc.lon),
            );
            continue;
        }
        all.push(DataCenter {
            code: code.to_string(),
            city: d.city.get_ref().trim().to_string(),
            country,
            region: d.region.clone().unwrap_or_default(),
            location: loc,
        });
    }
    all
}

fn resolve_dc(cx: &mut Ctx, dcs: &[DataCenter], code: &Spanned<String>) -> Option<DcId> {
    let c = code.get_ref().trim();
    if let Some(i) = dcs.iter().position(|d| d.code == c) {
        return Some(i as DcId);
    }
    let help = dcs
        .iter()
        .find(|d| d.code.eq_ignore_ascii_case(c))
        .map(|d| {
            format!(
                "data center codes are upper case: `{}` ({})",
                d.code, d.city
            )
        })
        .or_else(|| place::suggest_datacenter(c, dcs));
    cx.err_help(code.span(), format!("unknown data center `{c}`"), help);
    None
}

fn egress_ips(cx: &mut Ctx, dcs: &[DataCenter], raw: &[RawEgress]) -> Vec<Egress> {
    let mut out: Vec<Egress> = Vec::new();
    let mut ids: HashMap<String, Range<usize>> = HashMap::new();
    let mut v4s: HashMap<Ipv4Addr, String> = HashMap::new();
    let mut v6s: HashMap<Ipv6Prefix, String> = HashMap::new();
    if raw.len() > MAX_EGRESS {
        cx.err(
            raw[MAX_EGRESS].id.span(),
            format!("at most {MAX_EGRESS} egress IPs are supported"),
        );
    }
    for e in raw.iter().take(MAX_EGRESS) {
        let id = e.id.get_ref().trim().to_string();
        if id.is_empty() {
            cx.err(e.id.span(), "egress `id` must not be empty");
        } else if let Some(first) = ids.get(&id) {
            let (l, _) = cx.src.line_col(first.start);
            cx.err_help(
                e.id.span(),
                format!("duplicate egress id `{id}`"),
                Some(format!(
                    "it is first defined on line {l}; ids must be unique"
                )),
            );
        } else {
            ids.insert(id.clone(), e.id.span());
        }
        let dc = resolve_dc(cx, dcs, &e.datacenter);
        let ipv4 = match e.ipv4.get_ref().trim().parse::<Ipv4Addr>() {
            Ok(a) => {
                if let Some(other) = v4s.get(&a) {
                    cx.err_help(e.ipv4.span(), format!("IPv4 address {a} is already used by egress `{other}`"), Some("a dedicated IP is bound to exactly one data center; give each egress its own address".into()));
                }
                v4s.insert(a, id.clone());
                Some(a)
            }
            Err(_) => {
                cx.err_help(
                    e.ipv4.span(),
                    format!("`{}` is not a valid IPv4 address", e.ipv4.get_ref()),
                    Some("write a dotted quad such as `203.0.113.10` (no prefix length)".into()),
                );
                None
            }
        };
        let ipv6 = e
            .ipv6
            .as_ref()
            .and_then(|s| match s.get_ref().trim().parse::<Ipv6Prefix>() {
                Ok(p) => {
                    if let Some(other) = v6s.get(&p) {
                        cx.err(
                            s.span(),
                            format!("IPv6 range {p} is already used by egress `{other}`"),
                        );
                    }
                    v6s.insert(p, id.clone());
                    Some(p)
                }
                Err(m) => {
                    cx.err_help(
                        s.span(),
                        format!("invalid IPv6 range: {m}"),
                        Some("write a CIDR such as `2001:db8:10::/48`".into()),
                    );
                    None
                }
            });
        let connection_limit = match &e.connection_limit {
            None => DEFAULT_CONNECTION_LIMIT,
            Some(v) => cx
                .count(v, "connection_limit", u32::MAX as u64)
                .unwrap_or(1) as u32,
        };
        if let (Some(dc), Some(ipv4)) = (dc, ipv4) {
            out.push(Egress {
                id,
                datacenter: dc,
                ipv4,
                ipv6,
                connection_limit,
            });
        }
    }
    out
}

fn advise_resilience(cx: &mut Ctx, dcs: &[DataCenter], egress: &[Egress], raw: &[RawEgress]) {
    let cities: HashSet<(&str, u16)> = egress
        .iter()
        .map(|e| {
            let d = &dcs[e.datacenter as usize];
            (d.city.as_str(), d.country.0)
        })
        .collect();
    if cities.len() < 2 {
        if let Some(first) = raw.first() {
            cx.warn(
                first.id.span(),
                "all dedicated egress IPs are in one city; Cloudflare provisions at least two, in data centers in different cities, so one site failure does not take them all down",
            );
        }
    }
}

fn declared_groups(cx: &mut Ctx, raw: &[RawGroup]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for g in raw {
        let name = g.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(g.name.span(), "group `name` must not be empty");
            continue;
        }
        if out.iter().any(|x| x.name == name) {
            cx.err(g.name.span(), format!("duplicate group `{name}`"));
            continue;
        }
        out.push(Group {
            id: g.id.clone().unwrap_or_else(|| format!("group-{name}")),
            email: g
                .email
                .clone()
                .unwrap_or_else(|| format!("{name}@groups.example.com")),
            name,
        });
    }
    out
}

/// Splits `total` in proportion to `weights` (largest-remainder rounding, ties to the earlier entry).
pub(crate) fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().take(total.saturating_sub(assigned) as usize) {
        counts[i] += 1;
    }
    counts
}

#[allow(clippy::too_many_arguments)]
fn populations(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    dc_index: &NearestIndex,
    groups: &mut Vec<Group>,
    registry: &mut Registry,
    raw: &[RawPopulation],
    sim_users: Option<u64>,
    override_users: Option<u64>,
) -> Vec<Population> {
    let mut names: HashSet<String> = HashSet::new();
    // Sizes: all absolute counts, or all shares of `simulation.users`.
    let with_users = raw.iter().filter(|p| p.users.is_some()).count();
    let with_share = raw.iter().filter(|p| p.share.is_some()).count();
    let mut weights = Vec::with_capacity(raw.len());
    for p in raw {
        match (&p.users, &p.share) {
            (Some(u), Some(_)) => {
                cx.err_help(
                    u.span(),
                    format!(
                        "population `{}` sets both `users` and `share`",
                        p.name.get_ref()
                    ),
                    Some(
                        "keep one: `users` is a count, `share` a fraction of `[simulation] users`"
                            .into(),
                    ),
                );
                weights.push(0.0);
            }
            (Some(u), None) => weights.push(cx.count(u, "users", MAX_USERS).unwrap_or(0) as f64),
            (None, Some(s)) => {
                let x = *s.get_ref();
                if !(x.is_finite() && x > 0.0 && x <= 1.0) {
                    cx.err_help(
                        s.span(),
                        format!("`share` must be greater than 0 and at most 1, found {x}"),
                        (x > 1.0 && x <= 100.0).then(|| format!("for {x}% write {}", x / 100.0)),
                    );
                    weights.push(0.0);
                } else {
                    weights.push(x);
                }
            }
            (None, None) => {
                cx.err_help(
                    p.name.span(),
                    format!("population `{}` needs a size", p.name.get_ref()),
                    Some(
                        "add `users = 1000` (a count) or `share = 0.25` (of `[simulation] users`)"
                            .into(),
                    ),
                );
                weights.push(0.0);
            }
        }
    }
    let counts: Vec<u64> = if with_users > 0 && with_share > 0 {
        if let Some(p) = raw.iter().find(|p| p.share.is_some()) {
            cx.err_help(
                p.name.span(),
                "some populations give `users` and others `share`",
                Some("use counts everywhere, or shares of `[simulation] users` everywhere".into()),
            );
        }
        vec![0; raw.len()]
    } else if with_share > 0 {
        let sum: f64 = weights.iter().sum();
        let total = override_users.or(sim_users);
        if (sum - 1.0).abs() > 1e-6 {
            if let Some(s) = raw.iter().find_map(|p| p.share.as_ref()) {
                cx.err_help(
                    s.span(),
                    format!("population shares add up to {sum}, not 1"),
                    Some(
                        "make the shares sum to 1, or give each population a `users` count".into(),
                    ),
                );
            }
        }
        match total {
            Some(t) => apportion(t, &weights),
            None => {
                if let Some(p) = raw.first() {
                    cx.err_help(
                        p.name.span(),
                        "populations give shares but the total is unknown",
                        Some(
                            "add `[simulation]` with `users = 100000`, or pass `--users N`".into(),
                        ),
                    );
                }
                vec![0; raw.len()]
            }
        }
    } else {
        let sum: u64 = weights.iter().map(|w| *w as u64).sum();
        match override_users.or(sim_users) {
            Some(t) if t != sum && sum > 0 => apportion(t, &weights),
            _ => weights.iter().map(|w| *w as u64).collect(),
        }
    };

    let mut out = Vec::with_capacity(raw.len());
    let mut first_user = 0u64;
    for (p, users) in raw.iter().zip(counts) {
        let name = p.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(p.name.span(), "population `name` must not be empty");
        } else if !names.insert(name.clone()) {
            cx.err(p.name.span(), format!("duplicate population `{name}`"));
        }
        let Some(placement) = placement(cx, catalog, dcs, dc_index, &p.location) else {
            continue;
        };
        let (access, access_name) = match &p.access {
            None => (
                access_preset("cable").unwrap_or(AccessProfile {
                    median_ms: 13.0,
                    sigma: 0.4,
                }),
                "cable".to_string(),
            ),
            Some(a) => {
                match a.get_ref() {
                    RawAccess::Preset(n) => match access_preset(n) {
                        Some(pr) => (pr, n.to_ascii_lowercase()),
                        None => {
                            let names: Vec<&str> = ACCESS_PRESETS.iter().map(|x| x.0).collect();
                            cx.err_help(
                            a.span(),
                            format!("unknown access preset `{n}`"),
                            Some(match suggest::closest(n, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`? presets: {}", names.join(", ")),
                                None => format!("presets: {}; or a table {{ median_ms = 12.0, sigma = 0.4 }}", names.join(", ")),
                            }),
                        );
                            continue;
                        }
                    },
                    RawAccess::Custom(c) => {
                        if !(c.median_ms.is_finite()
                            && c.median_ms > 0.0
                            && c.sigma.is_finite()
                            && c.sigma >= 0.0
                            && c.sigma <= 3.0)
                        {
                            cx.err(
                                a.span(),
                                "custom `access` needs `median_ms` > 0 and `sigma` between 0 and 3",
                            );
                            continue;
                        }
                        (
                            AccessProfile {
                                median_ms: c.median_ms,
                                sigma: c.sigma,
                            },
                            "custom".to_string(),
                        )
                    }
                }
            }
        };
        let mut memberships = Vec::new();
        for (g, share) in &p.groups {
            let s = cx.share_value(share, &format!("groups.{g}"));
            let gi = match groups.iter().position(|x| &x.name == g) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        name: g.clone(),
                        id: format!("group-{g}"),
                        email: format!("{g}@groups.example.com"),
                    });
                    groups.len() - 1
                }
            };
            if gi >= 256 {
                cx.err(share.span(), "at most 256 distinct groups are supported");
                continue;
            }
            memberships.push((gi as u16, s));
        }
        let ipv6_share = cx.share(&p.ipv6_share, "ipv6_share", 0.45);
        let mut posture = Vec::new();
        for (check, share) in &p.posture {
            let s = cx.share_value(share, &format!("posture.{check}"));
            let i = registry.posture(check);
            if i >= 256 {
                cx.err(
                    share.span(),
                    "at most 256 distinct posture checks are supported",
                );
                continue;
            }
            posture.push((i as u8, s));
        }
        let mut vnets = Vec::new();
        let mut vnet_total = 0.0;
        for (vnet, share) in &p.vnets {
            let s = cx.share_value(share, &format!("vnets.{vnet}"));
            vnet_total += s;
            vnets.push((registry.vnet(vnet) as u16, s));
        }
        if vnet_total > 1.0 + 1e-9 {
            if let Some((_, s)) = p.vnets.iter().next() {
                cx.err_help(
                    s.span(),
                    format!("virtual network shares add up to {vnet_total}, more than 1"),
                    Some("each user selects at most one virtual network".into()),
                );
            }
        }
        let source_prefix = match &p.source_ips {
            None => (Ipv4Addr::new(198, 18, 0, 0), 15),
            Some(v) => match parse_ipv4_net(v.get_ref()) {
                Ok(n) => n,
                Err(m) => {
                    cx.err_help(
                        v.span(),
                        format!("invalid `source_ips`: {m}"),
                        Some("write an IPv4 network such as `192.0.2.0/24`".into()),
                    );
                    (Ipv4Addr::UNSPECIFIED, 32)
                }
            },
        };
        let connections_per_user =
            cx.positive(&p.connections_per_user, "connections_per_user", 4.0);
        out.push(Population {
            name,
            first_user,
            users,
            placement,
            ipv6_share,
            access,
            access_name,
            groups: memberships,
            connections_per_user,
            email_domain: p
                .email_domain
                .clone()
                .unwrap_or_else(|| "example.com".into()),
            posture,
            vnets,
            source_prefix,
        });
        first_user += users;
    }
    out
}

fn placement(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    dc_index: &NearestIndex,
    loc: &Spanned<RawLocation>,
) -> Option<Placement> {
    let l = loc.get_ref();
    let given = [
        l.around.is_some(),
        l.country.is_some(),
        l.continent.is_some(),
        l.region.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        cx.err_help(
            loc.span(),
            if given == 0 { "`location` says nothing about where users are".to_string() } else { "`location` must use exactly one of `around`, `country`, `continent`, `region`".to_string() },
            Some("e.g. `around = [\"Amsterdam\"]`, `country = \"DE\"`, `continent = \"EU\"` or `region = \"WEU\"`".into()),
        );
        return None;
    }
    let spread = match &l.spread {
        None => Spread::Normal { sigma_km: 20.0 },
        Some(s) => spread(cx, s)?,
    };
    let (anchors, weights, description): (Vec<LatLon>, Vec<f64>, String) =
        if let Some(around) = &l.around {
            if around.is_empty() {
                cx.err(loc.span(), "`around` must list at least one place");
                return None;
            }
            let mut pts = Vec::new();
            let mut labels = Vec::new();
            for a in around {
                match place::resolve(a.get_ref(), dcs, catalog) {
                    Ok(p) => {
                        pts.push(p.location);
                        labels.push(p.label);
                    }
                    Err(e) => cx.err_help(a.span(), e.message, e.help),
                }
            }
            if pts.len() != around.len() {
                return None;
            }
            let weights = match &l.weights {
                None => vec![1.0; pts.len()],
                Some(w) => {
                    if w.get_ref().len() != pts.len() {
                        cx.err(
                            w.span(),
                            format!(
                                "`weights` has {} entries but `around` has {}",
                                w.get_ref().len(),
                                pts.len()
                            ),
                        );
                        return None;
                    }
                    if w.get_ref().iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                        cx.err(w.span(), "every weight must be a positive number");
                        return None;
                    }
                    w.get_ref().clone()
                }
            };
            (pts, weights, format!("around {}", labels.join("; ")))
        } else {
            let (ids, what): (Vec<u32>, String) = if let Some(c) = &l.country {
                match catalog
                    .country_by_code(c.get_ref())
                    .or_else(|| catalog.country_by_name(c.get_ref()))
                {
                    Some(id) => (
                        catalog.cities_in_country(id).to_vec(),
                        format!("cities of {}", catalog.country(id).name),
                    ),
                    None => {
                        cx.err_help(
                            c.span(),
                            format!("unknown country `{}`", c.get_ref()),
                            catalog
                                .suggest_country(c.get_ref())
                                .map(|s| format!("did you mean {s}?")),
                        );
                        return None;
                    }
                }
            } else if let Some(c) = &l.continent {
                match Continent::from_code(c.get_ref()) {
                    Some(k) => (
                        catalog.cities_in_continent(k).to_vec(),
                        format!("cities of {}", k.name()),
                    ),
                    None => {
                        cx.err_help(
                            c.span(),
                            format!("unknown continent `{}`", c.get_ref()),
                            Some("use a two-letter code: AF, AN, AS, EU, NA, OC, SA".into()),
                        );
                        return None;
                    }
                }
            } else if let Some(r) = &l.region {
                let region = r.get_ref().trim().to_ascii_uppercase();
                let known: Vec<&str> = {
                    let mut v: Vec<&str> = catalog
                        .datacenters
                        .iter()
                        .map(|d| d.region.as_str())
                        .filter(|s| !s.is_empty())
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                if !known.contains(&region.as_str()) {
                    cx.err_help(
                        r.span(),
                        format!("unknown Cloudflare region `{}`", r.get_ref()),
                        Some(format!("regions: {}", known.join(", "))),
                    );
                    return None;
                }
                // A city belongs to the region of its nearest catalog data center.
                let catalog_dcs = catalog.datacenters.len() as u32;
                let mut out = [Neighbor {
                    index: 0,
                    distance_km: 0.0,
                }; 1];
                let ids = (0..catalog.cities.len() as u32)
                    .filter(|&i| {
                        let n = dc_index.nearest(
                            catalog.cities[i as usize].location,
                            |d| d < catalog_dcs,
                            &mut out,
                        );
                        n == 1 && dcs[out[0].index as usize].region == region
                    })
                    .collect();
                (ids, format!("cities nearest to {region} data centers"))
            } else {
                return None;
            };
            if ids.is_empty() {
                cx.err(loc.span(), format!("no catalog cities found for {what}"));
                return None;
            }
            let pts = ids
                .iter()
                .map(|&i| catalog.cities[i as usize].location)
                .collect();
            let w = ids
                .iter()
                .map(|&i| catalog.cities[i as usize].population.max(1) as f64)
                .collect();
            (pts, w, format!("{what}, weighted by population"))
        };
    match WeightedAliasIndex::new(weights) {
        Ok(alias) => Some(Placement {
            anchors,
            alias,
            spread,
            description,
        }),
        Err(e) => {
            cx.err(loc.span(), format!("invalid weights: {e}"));
            None
        }
    }
}

fn spread(cx: &mut Ctx, s: &Spanned<RawSpread>) -> Option<Spread> {
    let r = s.get_ref();
    match r.distribution.get_ref().as_str() {
        "normal" => {
            if r.median_km.is_some() || r.sigma.is_some() {
                cx.err_help(
                    s.span(),
                    "`normal` spread takes only `sigma_km`",
                    Some("`median_km` and `sigma` belong to `lognormal`".into()),
                );
                return None;
            }
            let sigma_km = cx.non_negative(&r.sigma_km, "sigma_km", 20.0);
            Some(Spread::Normal { sigma_km })
        }
        "lognormal" => {
            if r.sigma_km.is_some() {
                cx.err_help(
                    s.span(),
                    "`lognormal` spread takes `median_km` and `sigma`",
                    Some("`sigma_km` belongs to `normal`".into()),
                );
                return None;
            }
            let median_km = cx.positive(&r.median_km, "median_km", 10.0);
            let sigma = cx.non_negative(&r.sigma, "sigma", 0.8);
            if sigma > 3.0 {
                cx.err(
                    s.span(),
                    "`sigma` above 3 puts users on the other side of the planet; use at most 3",
                );
                return None;
            }
            Some(Spread::LogNormal { median_km, sigma })
        }
        other => {
            cx.err_help(
                r.distribution.span(),
                format!("unknown spread distribution `{other}`"),
                Some(match suggest::closest(other, ["normal", "lognormal"]) {
                    Some(s) => format!("did you mean `{s}`? use `normal` or `lognormal`"),
                    None => {
                        "use `normal` (with `sigma_km`) or `lognormal` (with `median_km`, `sigma`)"
                            .into()
                    }
                }),
            );
            None
        }
    }
}

fn resources(
    cx: &mut Ctx,
    catalog: &Catalog,
    countries: &CountryIndex,
    dcs: &[DataCenter],
    egress: &[Egress],
    raw: &[RawResource],
) -> Vec<Resource> {
    let mut out = Vec::new();
    let mut names: BTreeMap<String, ()> = BTreeMap::new();
    for r in raw {
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(r.name.span(), "resource `name` must not be empty");
        } else if names.insert(name.clone(), ()).is_some() {
            cx.err(r.name.span(), format!("duplicate resource `{name}`"));
        }
        let ipv4 = r
            .ipv4
            .as_ref()
            .and_then(|s| match s.get_ref().trim().parse::<Ipv4Addr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    cx.err_help(
                        s.span(),
                        format!("`{}` is not a valid IPv4 address", s.get_ref()),
                        Some("write a dotted quad such as `198.51.100.20`".into()),
                    );
                    None
                }
            });
        let ipv6 = r
            .ipv6
            .as_ref()
            .and_then(|s| match s.get_ref().trim().parse::<Ipv6Addr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    cx.err_help(
                        s.span(),
                        format!("`{}` is not a valid IPv6 address", s.get_ref()),
                        Some("write an address such as `2001:db8::20` (no prefix length)".into()),
                    );
                    None
                }
            });
        if r.ipv4.is_none() && r.ipv6.is_none() {
            cx.err_help(
                r.name.span(),
                format!("resource `{name}` has no address"),
                Some("add `ipv4 = \"...\"` and/or `ipv6 = \"...\"`".into()),
            );
        }
        let port = match &r.port {
            None => 443,
            Some(p) if (1..=65535).contains(p.get_ref()) => *p.get_ref() as u16,
            Some(p) => {
                cx.err(
                    p.span(),
                    format!("`port` must be 1..65535, found {}", p.get_ref()),
                );
                443
            }
        };
        let protocol = match &r.protocol {
            None => "tcp".to_string(),
            Some(p) => {
                let v = p.get_ref().to_ascii_lowercase();
                if v != "tcp" && v != "udp" {
                    cx.err_help(
                        p.span(),
                        format!("unknown protocol `{}`", p.get_ref()),
                        Some("use `tcp` or `udp` (ICMP never uses dedicated egress IPs)".into()),
                    );
                }
                v
            }
        };
        let location = match place::resolve(r.location.get_ref(), dcs, catalog) {
            Ok(p) => Some(p),
            Err(e) => {
                cx.err_help(r.location.span(), e.message, e.help);
                None
            }
        };
        let allowlist = r.allowlist.as_ref().map(|ids| {
            let mut allowed = vec![false; egress.len()];
            for id in ids {
                match egress.iter().position(|e| &e.id == id.get_ref()) {
                    Some(i) => allowed[i] = true,
                    None => cx.err_help(
                        id.span(),
                        format!("unknown egress id `{}` in allowlist", id.get_ref()),
                        suggest::closest(id.get_ref(), egress.iter().map(|e| e.id.as_str()))
                            .map(|s| format!("did you mean `{s}`?")),
                    ),
                }
            }
            allowed
        });
        let weight = cx.positive(&r.weight, "weight", 1.0);
        let processing_ms = cx.non_negative(&r.processing_ms, "processing_ms", 0.0);
        let Some(location) = location else { continue };
        let country = location
            .country
            .unwrap_or_else(|| countries.lookup(location.location));
        out.push(Resource {
            host: r
                .host
                .as_ref()
                .map_or_else(|| name.clone(), |h| h.get_ref().trim().to_ascii_lowercase()),
            name,
            ipv4,
            ipv6,
            port,
            protocol,
            location: location.location,
            location_label: location.label,
            country,
            proxied: r.proxied,
            allowlist,
            weight,
            processing_ms,
            domains: Vec::new(),
            app_ids: r.app_ids.clone(),
        });
        if let Some(last) = out.last_mut() {
            last.domains = domains_of(&last.host);
        }
    }
    out
}

/// Names referenced by populations: posture checks and virtual networks, in first-use order.
#[derive(Debug, Default)]
struct Registry {
    posture_checks: Vec<String>,
    vnets: Vec<String>,
}

impl Registry {
    fn posture(&mut self, name: &str) -> usize {
        intern(&mut self.posture_checks, name)
    }
    fn vnet(&mut self, name: &str) -> usize {
        intern(&mut self.vnets, name)
    }
}

fn intern(list: &mut Vec<String>, name: &str) -> usize {
    match list.iter().position(|x| x == name) {
        Some(i) => i,
        None => {
            list.push(name.to_string());
            list.len() - 1
        }
    }
}

/// Parses an IPv4 network `a.b.c.d/len` (host bits must be zero).
fn parse_ipv4_net(s: &str) -> Result<(Ipv4Addr, u8), String> {
    match parse_network(s, "an IPv4 network", "192.0.2.0/24")? {
        (std::net::IpAddr::V4(a), len) => Ok((a, len)),
        (std::net::IpAddr::V6(_), _) => {
            Err(format!("`{s}` is an IPv6 prefix; expected an IPv4 network"))
        }
    }
}

/// `net.fqdn.domains` of a host: the host and each parent domain.
fn domains_of(host: &str) -> Vec<String> {
    let host = host.trim_end_matches('.');
    let mut out = vec![host.to_string()];
    let mut rest = host;
    while let Some((_, parent)) = rest.split_once('.') {
        out.push(parent.to_string());
        rest = parent;
    }
    out
}

fn tables(
    latency: &LatencyModel,
    dcs: &[DataCenter],
    egress: &[Egress],
    resources: &[Resource],
) -> (Vec<f32>, Vec<f32>) {
    let mut to_resource = Vec::with_capacity(dcs.len() * resources.len());
    let mut to_egress = Vec::with_capacity(dcs.len() * egress.len());
    for (di, d) in dcs.iter().enumerate() {
        for r in resources {
            to_resource.push(
                latency.segment_rtt_ms(d.location.distance_km(r.location), Network::Internet)
                    as f32,
            );
        }
        for e in egress {
            let ed = &dcs[e.datacenter as usize];
            to_egress.push(if e.datacenter as usize == di {
                0.0
            } else {
                latency.segment_rtt_ms(d.location.distance_km(ed.location), Network::Backbone)
                    as f32
            });
        }
    }
    (to_resource, to_egress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_and_stable() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(100, &[0.5, 0.25, 0.25]), vec![50, 25, 25]);
        let c = apportion(1_000_003, &[3.0, 7.0, 11.0]);
        assert_eq!(c.iter().sum::<u64>(), 1_000_003);
    }
}
