//! `failover.csv` (what each failure case did to each population) and `redundancy.csv` (the
//! findings).

use serde::{Deserialize, Serialize};

use super::Inputs;
use crate::analysis::findings::Finding;
use crate::analysis::values::{Ms, Share};

/// What one failure case did to one population.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FailoverRow {
    /// Case name.
    pub case: String,
    /// Population name.
    pub population: String,
    /// Users of the population.
    pub users: u64,
    /// Users whose ingress data center changed.
    pub users_ingress_moved: u64,
    /// Users with at least one request on another egress slot.
    pub users_egress_changed: u64,
    /// Requests of the population.
    pub requests: u64,
    /// Requests on another egress slot.
    pub requests_rerouted: u64,
    /// `requests_rerouted / requests`.
    pub rerouted_share: Share,
    /// Requests dropped in the case.
    pub dropped_requests: u64,
    /// Requests through a fallback in the case.
    pub fallback_requests: u64,
    /// Requests through default egress in the case.
    pub default_requests: u64,
    /// Requests refused by allowlists in the case.
    pub blocked_requests: u64,
    /// Requests breaking a geography requirement in the case.
    pub geography_violations: u64,
    /// Median RTT in the baseline.
    pub rtt_p50_before_ms: Ms,
    /// Median RTT in the case.
    pub rtt_p50_after_ms: Ms,
    /// p95 RTT in the baseline.
    pub rtt_p95_before_ms: Ms,
    /// p95 RTT in the case.
    pub rtt_p95_after_ms: Ms,
    /// p95 after minus before.
    pub rtt_p95_change_ms: Ms,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RedundancyRow {
    /// `high`, `medium`, `low` or `info`.
    pub severity: String,
    /// Machine-readable kind (`no_fallback`, `worst_failure`, ...).
    pub finding: String,
    /// `policy`, `population`, `case`, `account` or `egress`.
    pub entity_kind: String,
    /// Name of the entity (empty for the account).
    pub entity: String,
    /// The case that shows the problem (empty when structural).
    pub case: String,
    /// Share of the entity's requests affected, or the utilisation for capacity findings.
    pub impact_share: Share,
    /// What was found.
    pub detail: String,
    /// What to do about it.
    pub recommendation: String,
}

impl From<&Finding> for RedundancyRow {
    fn from(f: &Finding) -> Self {
        Self {
            severity: f.severity.name().to_string(),
            finding: f.kind.to_string(),
            entity_kind: f.entity_kind.to_string(),
            entity: f.entity.clone(),
            case: f.case.clone(),
            impact_share: Share(f.impact),
            detail: f.detail.clone(),
            recommendation: f.recommendation.clone(),
        }
    }
}

pub(super) fn rows(i: &Inputs) -> Vec<FailoverRow> {
    let (world, m) = (i.world, i.m);
    let mut out = Vec::new();
    for c in 1..m.cases {
        for (pi, p) in world.populations.iter().enumerate() {
            let s = m.shift(c, pi);
            let imp = &i.cases[c].populations[pi];
            out.push(FailoverRow {
                case: world.cases[c].name.clone(),
                population: p.name.clone(),
                users: p.users,
                users_ingress_moved: s.users_ingress_moved,
                users_egress_changed: s.users_egress_changed,
                requests: imp.requests,
                requests_rerouted: s.requests_rerouted,
                rerouted_share: Share::ratio(s.requests_rerouted, imp.requests),
                dropped_requests: imp.dropped,
                fallback_requests: imp.fallback,
                default_requests: imp.default,
                blocked_requests: imp.blocked,
                geography_violations: imp.violations,
                rtt_p50_before_ms: Ms(imp.p50.0),
                rtt_p50_after_ms: Ms(imp.p50.1),
                rtt_p95_before_ms: Ms(imp.p95.0),
                rtt_p95_after_ms: Ms(imp.p95.1),
                rtt_p95_change_ms: Ms(imp.p95_change_ms()),
            });
        }
    }
    out
}
