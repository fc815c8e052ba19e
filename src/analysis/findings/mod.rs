//! Redundancy findings: what the failure cases reveal, as severity-ranked rows with plain-language
//! recommendations (`redundancy.csv`, the report's findings, the terminal). Computed once per run
//! from the finished metrics; never simulates.
//!
//! Kinds of finding:
//! - per policy (`policy.rs`): where its traffic can egress (data centers, cities, countries across
//!   primary and fallback), its single points of failure, and whether it survives every simulated
//!   single data-center failure without drops, allowlist blocks or geography violations;
//! - per population (`population.rs`): the failure that hurts it most (any drops first, then the
//!   largest p95 increase); declared failures that lose, refuse or misplace traffic;
//! - account level (`account.rs`): Cloudflare's resilience advice (two cities at least; several IPs
//!   in one city in different data centers) and connection capacity against the per-origin limit;
//! - per destination (`allowlist.rs`): requests its allowlist refuses in the baseline, every day;
//! - dedicated-egress policies sending traffic to private networks (`private.rs`), which never uses
//!   the dedicated IP.

mod account;
mod allowlist;
mod policy;
mod population;
mod private;

pub use policy::{policy_redundancy, PolicyRedundancy};

use super::capacity::Capacity;
use super::cases::CaseFigures;
use super::refusals::Refusal;
use crate::engine::Metrics;
use crate::world::World;

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Traffic is lost, refused or leaves the required geography in a failure.
    High,
    /// A single point of failure or a large slowdown.
    Medium,
    /// Worth knowing: a small slowdown, a near-limit capacity, advice not followed.
    Low,
    /// A description, no action needed.
    Info,
}

impl Severity {
    /// Lower-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// One row of `redundancy.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// How urgent.
    pub severity: Severity,
    /// Machine-readable kind (`no_fallback`, `worst_failure`, ...).
    pub kind: &'static str,
    /// `policy`, `population`, `case`, `account` or `egress`.
    pub entity_kind: &'static str,
    /// Name of the policy, population or egress IP (empty for the account).
    pub entity: String,
    /// The case that shows the problem (empty when it is structural).
    pub case: String,
    /// Share of the entity's requests affected in that case (dropped, refused or off-geography), or the
    /// utilisation for capacity findings.
    pub impact: Option<f64>,
    /// What was found.
    pub detail: String,
    /// What to do about it.
    pub recommendation: String,
}

/// What the findings read.
pub(crate) struct Inputs<'a> {
    pub world: &'a World,
    pub m: &'a Metrics,
    pub cases: &'a [CaseFigures],
    pub capacity: &'a Capacity,
    pub refusals: &'a [Refusal],
}

/// All findings, most severe first (ties: larger impact first, then destinations, policies,
/// populations, cases, account, egress, in that order of discovery).
pub(crate) fn findings(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    allowlist::refusals(i.world, i.refusals, &mut out);
    policy::findings(i.world, i.m, &mut out);
    population::worst_failures(i, &mut out);
    population::declared_failures(i, &mut out);
    account::resilience(i.world, &mut out);
    account::capacity(i.world, i.capacity, &mut out);
    private::dedicated_to_private(i.world, i.m, &mut out);
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.impact.unwrap_or(0.0).total_cmp(&a.impact.unwrap_or(0.0)))
    });
    out
}

fn pct(x: f64) -> String {
    super::human::percent(Some(x))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
