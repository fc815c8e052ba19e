//! The end-of-run summary as data (`egress-sim run --format json`): a documented, stable JSON object
//! for scripts, built from the rows of [`Results`] that the CSV tables and the terminal summary
//! show, so every number equals its CSV cell (the CSV text read back: [`Ms::rounded`] and friends).
//! Absent values (a percentile of a case that delivered nothing) are `null`.
//!
//! The object's fields are documented in README.md ("JSON output"); `schema` names its version and
//! changes only when a field is removed or changes meaning.

use serde::Serialize;

use super::tables::{EgressLoadRow, RedundancyRow, SummaryRow};
use super::values::{Km, Ms, Share};
use super::Results;

/// Version of the object; bump on an incompatible change.
pub const SCHEMA: &str = "egress-sim/run/1";

/// What a run did, for scripts.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// Scenario name (`name` in the file).
    pub scenario: String,
    /// Random seed used.
    pub seed: u64,
    /// Users simulated.
    pub users: u64,
    /// Requests per user.
    pub requests_per_user: u32,
    /// Requests per case (users × requests per user).
    pub requests: u64,
    /// Cases simulated, the baseline included.
    pub cases: usize,
    /// The baseline, all requests (the `baseline` row of `summary.csv`).
    pub baseline: CaseNumbers,
    /// The baseline per egress slot (rows of `egress_load.csv`): every egress IP, then default
    /// egress and dropped when they carry requests.
    pub egress: Vec<EgressNumbers>,
    /// Every failure case, most harmful first (the one ranking of every output), from
    /// `summary.csv`; the terminal and the report list those whose `changes_something` is true.
    pub failure_cases: Vec<FailureCase>,
    /// Failure cases that change nothing a reader would see (left out of the terminal's list).
    pub failure_cases_without_effect: usize,
    /// Every row of `redundancy.csv`, most severe first.
    pub findings: Vec<FindingRow>,
    /// The results folder.
    pub output: String,
    /// Wall-clock seconds per phase.
    pub timings: PhaseSeconds,
    /// Warnings about the scenario and the output folder (also on standard error).
    pub warnings: Vec<String>,
}

/// Wall-clock seconds of a run's phases.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhaseSeconds {
    /// Loading and compiling the scenario.
    pub load: f64,
    /// Generating users and simulating requests.
    pub simulate: f64,
    /// Analysing and writing the outputs.
    pub output: f64,
}

/// One case, all requests (a `summary.csv` row).
#[derive(Debug, Clone, Serialize)]
pub struct CaseNumbers {
    /// Requests simulated.
    pub requests: u64,
    /// Mean RTT of delivered requests, ms.
    pub rtt_mean_ms: Option<f64>,
    /// Median RTT, ms.
    pub rtt_p50_ms: Option<f64>,
    /// 90th percentile RTT, ms.
    pub rtt_p90_ms: Option<f64>,
    /// 95th percentile RTT, ms.
    pub rtt_p95_ms: Option<f64>,
    /// 99th percentile RTT, ms.
    pub rtt_p99_ms: Option<f64>,
    /// Share of delivered requests that appear to come from another country.
    pub apparent_country_mismatch_share: Option<f64>,
    /// Share that appear to come from another continent.
    pub apparent_continent_mismatch_share: Option<f64>,
    /// Mean distance user → apparent location, km.
    pub apparent_distance_mean_km: Option<f64>,
    /// Share of requests through the dedicated egress IP chosen first.
    pub dedicated_share: Option<f64>,
    /// Share through a policy's fallback.
    pub fallback_share: Option<f64>,
    /// Share through default egress.
    pub default_share: Option<f64>,
    /// Share dropped.
    pub dropped_share: Option<f64>,
    /// Share delivered to private networks (Cloudflare Tunnel or Magic WAN, never a dedicated IP).
    pub private_network_share: Option<f64>,
    /// Share refused by allowlists.
    pub blocked_share: Option<f64>,
    /// Share breaking a geography requirement.
    pub geography_violation_share: Option<f64>,
}

/// One egress slot in the baseline (an `egress_load.csv` row).
#[derive(Debug, Clone, Serialize)]
pub struct EgressNumbers {
    /// Egress id, `default` or `dropped`.
    pub egress: String,
    /// Data center code (empty for default egress and dropped).
    pub datacenter: String,
    /// Users whose first request leaves here.
    pub users: u64,
    /// Requests through this slot.
    pub requests: u64,
    /// Share of all requests.
    pub request_share: Option<f64>,
    /// Median RTT, ms.
    pub rtt_p50_ms: Option<f64>,
    /// 95th percentile RTT, ms.
    pub rtt_p95_ms: Option<f64>,
    /// 99th percentile RTT, ms.
    pub rtt_p99_ms: Option<f64>,
    /// Highest utilisation of the per-origin connection limit over origins (accepted IPv4).
    pub peak_origin_utilization: Option<f64>,
}

/// One failure case against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct FailureCase {
    /// Case name (`down:LHR`, or a `[[failure]]` name).
    pub case: String,
    /// Users whose ingress data center moved.
    pub users_ingress_moved: u64,
    /// Users with a request on another egress slot than in the baseline.
    pub users_egress_changed: u64,
    /// Share of requests on another egress slot.
    pub requests_rerouted_share: Option<f64>,
    /// Share of requests dropped.
    pub dropped_share: Option<f64>,
    /// Share refused by allowlists.
    pub blocked_share: Option<f64>,
    /// Share breaking a geography requirement.
    pub geography_violation_share: Option<f64>,
    /// 95th percentile RTT, ms.
    pub rtt_p95_ms: Option<f64>,
    /// p95 minus the baseline's p95, ms.
    pub rtt_p95_change_ms: Option<f64>,
    /// Whether the case changes anything a reader would see (harm, or a p95 change that shows
    /// at the printed precision); the terminal and the report list only these.
    pub changes_something: bool,
}

/// One finding (a `redundancy.csv` row).
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
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
    pub impact_share: Option<f64>,
    /// What was found.
    pub detail: String,
    /// What to do about it.
    pub recommendation: String,
}

/// What a run knows beyond its [`Results`]: where they are, how long it took, its warnings.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The results folder.
    pub output: String,
    /// Wall-clock seconds per phase.
    pub timings: PhaseSeconds,
    /// Warnings about the scenario and the output folder.
    pub warnings: Vec<String>,
}

impl RunSummary {
    /// The summary of `r`.
    pub fn new(r: &Results, context: RunContext) -> Self {
        let world = r.world;
        let per_case = r.tables.egress_load.len() / world.cases.len().max(1);
        let egress = r
            .tables
            .egress_load
            .iter()
            .take(per_case)
            .enumerate()
            .filter(|(slot, row)| *slot < world.egress.len() || row.requests > 0)
            .map(|(_, row)| EgressNumbers::from(row))
            .collect();
        Self {
            schema: SCHEMA,
            scenario: world.name.clone(),
            seed: world.seed,
            users: world.users,
            requests_per_user: world.requests_per_user,
            requests: world.users * u64::from(world.requests_per_user),
            cases: world.cases.len(),
            baseline: CaseNumbers::from(&r.tables.summary[0]),
            egress,
            failure_cases: r.ranked.iter().map(|&c| FailureCase::new(r, c)).collect(),
            failure_cases_without_effect: r.without_effect(),
            findings: r.tables.redundancy.iter().map(FindingRow::from).collect(),
            output: context.output,
            timings: context.timings,
            warnings: context.warnings,
        }
    }
}

/// A millisecond value as in the CSV.
fn ms(v: Ms) -> Option<f64> {
    v.rounded()
}

/// A share as in the CSV.
fn share(v: Share) -> Option<f64> {
    v.rounded()
}

/// Kilometres as in the CSV.
fn km(v: Km) -> Option<f64> {
    v.rounded()
}

impl From<&SummaryRow> for CaseNumbers {
    fn from(s: &SummaryRow) -> Self {
        Self {
            requests: s.requests,
            rtt_mean_ms: ms(s.rtt_mean_ms),
            rtt_p50_ms: ms(s.rtt_p50_ms),
            rtt_p90_ms: ms(s.rtt_p90_ms),
            rtt_p95_ms: ms(s.rtt_p95_ms),
            rtt_p99_ms: ms(s.rtt_p99_ms),
            apparent_country_mismatch_share: share(s.apparent_country_mismatch_share),
            apparent_continent_mismatch_share: share(s.apparent_continent_mismatch_share),
            apparent_distance_mean_km: km(s.apparent_distance_mean_km),
            dedicated_share: share(s.dedicated_share),
            fallback_share: share(s.fallback_share),
            default_share: share(s.default_share),
            dropped_share: share(s.dropped_share),
            private_network_share: share(s.private_network_share),
            blocked_share: share(s.blocked_share),
            geography_violation_share: share(s.geography_violation_share),
        }
    }
}

impl From<&EgressLoadRow> for EgressNumbers {
    fn from(e: &EgressLoadRow) -> Self {
        Self {
            egress: e.egress.clone(),
            datacenter: e.datacenter.clone(),
            users: e.users,
            requests: e.requests,
            request_share: share(e.request_share),
            rtt_p50_ms: ms(e.rtt_p50_ms),
            rtt_p95_ms: ms(e.rtt_p95_ms),
            rtt_p99_ms: ms(e.rtt_p99_ms),
            peak_origin_utilization: share(e.peak_origin_utilization),
        }
    }
}

impl FailureCase {
    fn new(r: &Results, case: usize) -> Self {
        let s = &r.tables.summary[case];
        Self {
            case: s.case.clone(),
            users_ingress_moved: r.cases[case].moved.users_ingress_moved,
            users_egress_changed: s.users_egress_changed,
            requests_rerouted_share: share(s.requests_rerouted_share),
            dropped_share: share(s.dropped_share),
            blocked_share: share(s.blocked_share),
            geography_violation_share: share(s.geography_violation_share),
            rtt_p95_ms: ms(s.rtt_p95_ms),
            rtt_p95_change_ms: ms(s.rtt_p95_change_ms),
            changes_something: r.cases[case].changes_something(),
        }
    }
}

impl From<&RedundancyRow> for FindingRow {
    fn from(f: &RedundancyRow) -> Self {
        Self {
            severity: f.severity.clone(),
            finding: f.finding.clone(),
            entity_kind: f.entity_kind.clone(),
            entity: f.entity.clone(),
            case: f.case.clone(),
            impact_share: share(f.impact_share),
            detail: f.detail.clone(),
            recommendation: f.recommendation.clone(),
        }
    }
}
