//! `failover.csv` (what each failure case did to each population) and `redundancy.csv` (findings).

use std::path::{Path, PathBuf};

use super::tables::{ms, share, strings, Table};
use crate::engine::Metrics;
use crate::error::Result;
use crate::redundancy::{self, Impact};
use crate::world::World;

/// One row per failure case × population.
pub(super) fn failover(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut t = Table::create(
        dir,
        "failover.csv",
        &strings([
            "case",
            "population",
            "users",
            "users_ingress_moved",
            "users_egress_changed",
            "requests",
            "requests_rerouted",
            "rerouted_share",
            "dropped_requests",
            "fallback_requests",
            "default_requests",
            "blocked_requests",
            "geography_violations",
            "rtt_p50_before_ms",
            "rtt_p50_after_ms",
            "rtt_p95_before_ms",
            "rtt_p95_after_ms",
            "rtt_p95_change_ms",
        ]),
    )?;
    for c in 1..m.cases {
        for (pi, p) in world.populations.iter().enumerate() {
            let s = m.shift(c, pi);
            let imp = Impact::of_population(m, c, Some(pi));
            t.row(&[
                world.cases[c].name.clone(),
                p.name.clone(),
                p.users.to_string(),
                s.users_ingress_moved.to_string(),
                s.users_egress_changed.to_string(),
                imp.requests.to_string(),
                s.requests_rerouted.to_string(),
                share(s.requests_rerouted, imp.requests),
                imp.dropped.to_string(),
                imp.fallback.to_string(),
                imp.default.to_string(),
                imp.blocked.to_string(),
                imp.violations.to_string(),
                ms(imp.p50.0),
                ms(imp.p50.1),
                ms(imp.p95.0),
                ms(imp.p95.1),
                ms(imp.p95_change_ms()),
            ])?;
        }
    }
    t.finish()
}

/// One row per finding, most severe first.
pub(super) fn redundancy(dir: &Path, world: &World, m: &Metrics) -> Result<PathBuf> {
    let mut t = Table::create(
        dir,
        "redundancy.csv",
        &strings([
            "severity",
            "finding",
            "entity_kind",
            "entity",
            "case",
            "impact_share",
            "detail",
            "recommendation",
        ]),
    )?;
    for f in redundancy::findings(world, m) {
        t.row(&[
            f.severity.name().to_string(),
            f.kind.to_string(),
            f.entity_kind.to_string(),
            f.entity,
            f.case,
            f.impact.map_or_else(String::new, |x| format!("{x:.6}")),
            f.detail,
            f.recommendation,
        ])?;
    }
    t.finish()
}
