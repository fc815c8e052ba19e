//! Validation and compilation of a parsed scenario into a [`World`].

use std::ops::Range;

use toml::Spanned;

use super::failures::failures;
use super::latency_settings::latency_model;
use super::listed::list_source;
use super::placement::Places;
use super::policies::policies;
use super::populations::{populations, PopulationInputs};
use super::raw::*;
use super::registry::Registry;
use super::resources::{resources, ResourceInputs};
use super::sites::{advise_resilience, datacenters, egress_ips};
use super::{toml_error, Loaded};
use crate::catalog::{Catalog, DataCenter};
use crate::country_index::CountryIndex;
use crate::error::{Error, InputError, Source};
use crate::latency::{LatencyModel, Network};
use crate::nearest::NearestIndex;
use crate::policy::expr::Universe;
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
    /// Failure sweep (replaces `[simulation] sweep`).
    pub sweep: Option<Sweep>,
    /// GeoIP database for listed populations (`--geoip`), instead of the scenario's `geoip`.
    pub geoip: Option<std::path::PathBuf>,
    /// How unmatched traffic is balanced (`--balancing`), instead of `[balancing] mode`.
    pub balancing: Option<BalancingMode>,
    /// Worker threads for the work done while compiling (the sweep's pre-pass over the users);
    /// 0 = one per core. Never changes the result.
    pub threads: usize,
}

impl Overrides {
    /// No failure sweep, whatever the scenario says: for commands that read the model but never
    /// simulate (`latency --scenario`, `rules`), so they neither pay for the sweep's pre-pass over the
    /// users nor fail on its case limit.
    pub fn without_sweep() -> Self {
        Self {
            sweep: Some(Sweep::None),
            ..Self::default()
        }
    }
}

/// Largest simulation the tool accepts, to catch typos like an extra zero before they eat the machine.
pub(super) const MAX_USERS: u64 = 1_000_000_000;
const MAX_REQUESTS_PER_USER: u32 = 100_000;
/// Per-user egress bookkeeping uses a 64-bit set with two slots reserved (default egress, dropped).
pub const MAX_EGRESS: usize = 62;

/// Where compile diagnostics go while a scenario compiles.
pub(super) struct Ctx<'a> {
    pub(super) src: &'a Source,
    pub(super) errors: Vec<InputError>,
    pub(super) warnings: Vec<String>,
}

impl Ctx<'_> {
    pub(super) fn err(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.errors.push(InputError::at(self.src, span, msg));
    }
    pub(super) fn err_help(
        &mut self,
        span: Range<usize>,
        msg: impl Into<String>,
        help: Option<String>,
    ) {
        self.errors
            .push(InputError::at(self.src, span, msg).with_optional_help(help));
    }
    pub(super) fn warn(&mut self, span: Range<usize>, msg: impl Into<String>) {
        let (line, col) = self.src.line_col(span.start);
        self.warnings.push(format!(
            "warning: {} ({}:{line}:{col})",
            msg.into(),
            self.src.path.display()
        ));
    }
    /// A positive finite number, else an error and `default`.
    pub(super) fn positive(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
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
    pub(super) fn non_negative(
        &mut self,
        v: &Option<Spanned<f64>>,
        key: &str,
        default: f64,
    ) -> f64 {
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
    pub(super) fn share(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
        match v {
            None => default,
            Some(s) => self.share_value(s, key),
        }
    }
    pub(super) fn share_value(&mut self, s: &Spanned<f64>, key: &str) -> f64 {
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
    /// An address typed in the scenario (trimmed); else an error naming the `family` and `help`.
    pub(super) fn address<T: std::str::FromStr>(
        &mut self,
        s: &Spanned<String>,
        family: &str,
        help: &str,
    ) -> Option<T> {
        let parsed = s.get_ref().trim().parse::<T>().ok();
        if parsed.is_none() {
            self.err_help(
                s.span(),
                format!("`{}` is not a valid {family} address", s.get_ref()),
                Some(help.into()),
            );
        }
        parsed
    }
    /// A count >= 1.
    pub(super) fn count(&mut self, v: &Spanned<i64>, key: &str, max: u64) -> Option<u64> {
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

/// Validates and compiles a scenario source into a complete World (sweep cases included). Collects
/// every error it can before giving up.
pub fn compile(source: &Source, overrides: &Overrides) -> Result<Loaded, Error> {
    let raw: RawScenario =
        toml::from_str(&source.text).map_err(|e| Error::Input(toml_error::convert(source, &e)))?;
    let mut cx = Ctx {
        src: source,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let parts = parts(&mut cx, &raw, overrides);
    if !cx.errors.is_empty() {
        return Err(if cx.errors.len() == 1 {
            Error::Input(cx.errors.remove(0))
        } else {
            Error::Inputs(cx.errors)
        });
    }
    advise_resilience(&mut cx, &parts.datacenters, &parts.egress, &raw.egress);
    let mut world = parts.into_world(source)?;
    super::sweep::add_cases(&mut world, overrides.threads)?;
    Ok(Loaded {
        world,
        warnings: cx.warnings,
    })
}

/// Scenario-wide settings.
struct Settings {
    name: String,
    description: String,
    seed: u64,
    requests_per_user: u32,
    latency: LatencyModel,
    ingress: IngressSettings,
    balancing: Balancing,
    sweep: Sweep,
}

/// Everything compiled from the tables, before the derived tables and the sweep.
struct Parts {
    settings: Settings,
    datacenters: Vec<DataCenter>,
    egress: Vec<Egress>,
    registry: Registry,
    dc_index: NearestIndex,
    populations: Vec<Population>,
    resources: Vec<Resource>,
    policies: Vec<crate::policy::Policy>,
    failures: Vec<Case>,
    requirements: Vec<EgressRequirement>,
}

/// Compiles every table, in file-independent order (errors are reported in this order).
fn parts(cx: &mut Ctx, raw: &RawScenario, overrides: &Overrides) -> Parts {
    let catalog = Catalog::embedded();
    let name = scenario_name(cx, raw);
    let seed = seed(cx, raw, overrides);
    let latency = latency_model(cx, raw.latency.as_ref());
    let ingress = ingress_settings(cx, raw.ingress.as_ref());
    let balancing = balancing(cx, raw.balancing.as_ref(), overrides.balancing);
    let datacenters = datacenters(cx, catalog, &raw.datacenter);
    let egress = egress_ips(cx, &datacenters, &raw.egress);
    let mut registry = Registry::with_declared_groups(cx, &raw.group);
    let dc_index = NearestIndex::new(&datacenters.iter().map(|d| d.location).collect::<Vec<_>>());
    let requests_per_user = requests_per_user(cx, raw, overrides);
    let sim = raw.simulation.as_ref();
    let sim_users = sim
        .and_then(|s| s.users.as_ref())
        .and_then(|v| Some((cx.count(v, "users", MAX_USERS)?, v.span())));
    let lists = list_source(
        cx,
        raw.geoip.as_ref(),
        &raw.population,
        overrides.geoip.as_deref(),
        seed,
    );
    let inputs = PopulationInputs {
        places: Places {
            catalog,
            dcs: &datacenters,
            dc_index: &dc_index,
        },
        sim_users,
        override_users: overrides.users,
        lists: &lists,
    };
    let mut populations = populations(cx, &inputs, &mut registry, &raw.population);
    let resource_inputs = ResourceInputs {
        catalog,
        countries: CountryIndex::embedded(),
        dcs: &datacenters,
        egress: &egress,
    };
    let resources = resources(cx, &resource_inputs, &raw.resource);
    require_tables(cx, raw);
    let universe = universe(&registry);
    let mut policies = policies(cx, &raw.policy, &egress, &datacenters, &universe);
    let sweep = match overrides.sweep {
        Some(s) => s,
        None => super::failures::sweep(cx, sim.and_then(|s| s.sweep.as_ref())),
    };
    let failures = failures(cx, catalog, &datacenters, &egress, &raw.failure);
    let requirements = requirements(cx, raw, &datacenters, &mut populations, &mut policies);
    Parts {
        settings: Settings {
            name,
            description: raw.description.clone().unwrap_or_default(),
            seed,
            requests_per_user,
            latency,
            ingress,
            balancing,
            sweep,
        },
        datacenters,
        egress,
        registry,
        dc_index,
        populations,
        resources,
        policies,
        failures,
        requirements,
    }
}

impl Parts {
    /// The World, with its derived tables (destination choice, per-pair RTTs); no sweep cases yet.
    fn into_world(self, source: &Source) -> Result<World, Error> {
        let users: u64 = self.populations.iter().map(|p| p.users).sum();
        if users == 0 {
            return Err(InputError::in_file(source, "the scenario simulates zero users")
                .with_help("give populations `users = N`, or `[simulation] users = N` with population shares")
                .into());
        }
        let resource_alias = crate::alias::AliasTable::new(
            &self.resources.iter().map(|r| r.weight).collect::<Vec<_>>(),
        )
        .map_err(|e| Error::Internal(format!("resource weights: {e}")))?;
        let s = self.settings;
        let (dc_to_resource_ms, dc_to_egress_ms) =
            tables(&s.latency, &self.datacenters, &self.egress, &self.resources);
        let mut cases = vec![Case::baseline(self.datacenters.len(), self.egress.len())];
        cases.extend(self.failures);
        Ok(World {
            name: s.name,
            description: s.description,
            seed: s.seed,
            users,
            requests_per_user: s.requests_per_user,
            datacenters: self.datacenters,
            egress: self.egress,
            groups: self.registry.groups,
            posture_checks: self.registry.posture_checks,
            vnets: self.registry.vnets,
            policies: self.policies,
            populations: self.populations,
            resources: self.resources,
            resource_alias,
            latency: s.latency,
            ingress: s.ingress,
            balancing: s.balancing,
            cases,
            sweep: s.sweep,
            requirements: self.requirements,
            dc_index: self.dc_index,
            dc_to_resource_ms,
            dc_to_egress_ms,
        })
    }
}

/// `[balancing]`, with `--balancing` over its `mode`.
fn balancing(cx: &mut Ctx, raw: Option<&RawBalancing>, mode: Option<BalancingMode>) -> Balancing {
    let Some(b) = raw else {
        return Balancing {
            mode: mode.unwrap_or_default(),
            ..Balancing::default()
        };
    };
    let file_mode = b.mode.as_ref().map_or(BalancingMode::Nearest, |m| {
        BalancingMode::parse(m.get_ref()).unwrap_or_else(|| {
            cx.err_help(
                m.span(),
                format!("unknown balancing mode `{}`", m.get_ref()),
                Some("use `nearest` (the closest dedicated location, Cloudflare's documented behaviour) or `fastest` (per destination, the lowest modelled round trip)".into()),
            );
            BalancingMode::Nearest
        })
    });
    Balancing {
        mode: mode.unwrap_or(file_mode),
        tie_tolerance_km: cx.non_negative(&b.tie_tolerance_km, "tie_tolerance_km", 0.0),
        ipv6_preference: cx.share(&b.ipv6_preference, "ipv6_preference", 1.0),
    }
}

/// `--seed`, else `seed`, else 1.
fn seed(cx: &mut Ctx, raw: &RawScenario, overrides: &Overrides) -> u64 {
    match (&overrides.seed, &raw.seed) {
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
    }
}

/// `--requests-per-user`, else `[simulation] requests_per_user`, else 20.
fn requests_per_user(cx: &mut Ctx, raw: &RawScenario, overrides: &Overrides) -> u32 {
    let from_file = raw
        .simulation
        .as_ref()
        .and_then(|s| s.requests_per_user.as_ref());
    match (&overrides.requests_per_user, from_file) {
        (Some(n), _) => *n,
        (None, Some(v)) => cx
            .count(v, "requests_per_user", MAX_REQUESTS_PER_USER as u64)
            .unwrap_or(1) as u32,
        (None, None) => 20,
    }
}

fn ingress_settings(cx: &mut Ctx, raw: Option<&RawIngress>) -> IngressSettings {
    let Some(i) = raw else {
        return IngressSettings::default();
    };
    let s = IngressSettings {
        second_nearest_share: cx.share(&i.second_nearest_share, "second_nearest_share", 0.0),
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

/// Errors for a scenario without egress IPs, populations or destinations.
fn require_tables(cx: &mut Ctx, raw: &RawScenario) {
    let source = cx.src;
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
}

/// The names policies may refer to.
fn universe(registry: &Registry) -> Universe {
    universe_of(&registry.groups, &registry.posture_checks, &registry.vnets)
}

/// Compiles every `require_egress_in` (populations first, then policies) and attaches each to its
/// population or policy by name.
fn requirements(
    cx: &mut Ctx,
    raw: &RawScenario,
    dcs: &[DataCenter],
    populations: &mut [Population],
    policies: &mut [crate::policy::Policy],
) -> Vec<EgressRequirement> {
    let catalog = Catalog::embedded();
    let raw_reqs = raw
        .population
        .iter()
        .map(|p| (true, p.name.get_ref(), &p.require_egress_in))
        .chain(
            raw.policy
                .iter()
                .map(|p| (false, p.name.get_ref(), &p.require_egress_in)),
        );
    let mut requirements = Vec::new();
    for (is_pop, name, items) in raw_reqs {
        let Some(items) = items else { continue };
        let name = name.trim();
        let whose = format!("{} `{name}`", if is_pop { "population" } else { "policy" },);
        let Some(r) = super::failures::requirement(cx, catalog, dcs, items, &whose) else {
            continue;
        };
        requirements.push(r);
        let index = Some(requirements.len() as u16 - 1);
        if is_pop {
            if let Some(p) = populations.iter_mut().find(|p| p.name == name) {
                p.require_egress_in = index;
            }
        } else if let Some(p) = policies.iter_mut().find(|p| p.name == name) {
            p.require_egress_in = index;
        }
    }
    requirements
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
            to_egress.push(backbone_between_ms(latency, dcs, di, e.datacenter as usize));
        }
    }
    (to_resource, to_egress)
}
