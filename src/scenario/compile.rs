//! Validation and compilation of a parsed scenario into a [`World`].

use std::ops::Range;

use toml::Spanned;

use super::populations::{declared_groups, populations, Registry};
use super::raw::*;
use super::resources::resources;
use super::sites::{advise_resilience, datacenters, egress_ips};
use super::{toml_error, Loaded};
use crate::catalog::{Catalog, DataCenter};
use crate::country_index::CountryIndex;
use crate::error::{Error, InputError, Source};
use crate::latency::{LatencyModel, Network};
use crate::nearest::NearestIndex;
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
    let lists = super::listed::list_source(
        &mut cx,
        raw.geoip.as_ref(),
        &raw.population,
        overrides.geoip.as_deref(),
        seed,
    );
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
        &lists,
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
    let sweep = match overrides.sweep {
        Some(s) => s,
        None => super::failures::sweep(
            &mut cx,
            raw.simulation.as_ref().and_then(|s| s.sweep.as_ref()),
        ),
    };
    let failures = super::failures::failures(&mut cx, catalog, &datacenters, &egress, &raw.failure);
    let mut requirements = Vec::new();
    let mut wanted: Vec<(bool, String, u16)> = Vec::new();
    let raw_reqs = raw
        .population
        .iter()
        .map(|p| (true, p.name.get_ref(), &p.require_egress_in))
        .chain(
            raw.policy
                .iter()
                .map(|p| (false, p.name.get_ref(), &p.require_egress_in)),
        );
    for (is_pop, name, items) in raw_reqs {
        let Some(items) = items else { continue };
        let whose = format!(
            "{} `{}`",
            if is_pop { "population" } else { "policy" },
            name.trim()
        );
        if let Some(r) = super::failures::requirement(&mut cx, catalog, &datacenters, items, &whose)
        {
            requirements.push(r);
            wanted.push((
                is_pop,
                name.trim().to_string(),
                requirements.len() as u16 - 1,
            ));
        }
    }
    let mut populations = populations;
    let mut policies = policies;
    for (is_pop, name, r) in wanted {
        if is_pop {
            if let Some(p) = populations.iter_mut().find(|p| p.name == name) {
                p.require_egress_in = Some(r);
            }
        } else if let Some(p) = policies.iter_mut().find(|p| p.name == name) {
            p.require_egress_in = Some(r);
        }
    }
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
    let resource_alias =
        crate::alias::AliasTable::new(&resources.iter().map(|r| r.weight).collect::<Vec<_>>())
            .map_err(|e| Error::Internal(format!("resource weights: {e}")))?;
    let (dc_to_resource_ms, dc_to_egress_ms) = tables(&latency, &datacenters, &egress, &resources);
    let mut cases = vec![Case::baseline(datacenters.len(), egress.len())];
    cases.extend(failures);
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
        sweep,
        requirements,
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
