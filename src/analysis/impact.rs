//! What one case did to a set of requests (a population, a policy, or everything) against the
//! baseline, and what it moved.

use crate::engine::{Cell, Metrics, Outcome};

/// What one case did to a set of requests, against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impact {
    /// Requests (the same in every case).
    pub requests: u64,
    /// Dropped in the case.
    pub dropped: u64,
    /// Fallback in the case.
    pub fallback: u64,
    /// Default egress in the case.
    pub default: u64,
    /// Refused by allowlists in the case.
    pub blocked: u64,
    /// Refused by allowlists in the baseline.
    pub blocked_before: u64,
    /// Geography violations in the case.
    pub violations: u64,
    /// Geography violations in the baseline.
    pub violations_before: u64,
    /// p50 RTT in the baseline and the case, ms.
    pub p50: (Option<f64>, Option<f64>),
    /// p95 RTT in the baseline and the case, ms.
    pub p95: (Option<f64>, Option<f64>),
}

impl Impact {
    /// The change from the cell `base` (baseline) to the cell `now` (the case) of the same requests.
    pub fn between(base: &Cell, now: &Cell) -> Self {
        Self {
            requests: now.requests,
            dropped: now.outcomes[Outcome::Dropped as usize],
            fallback: now.outcomes[Outcome::Fallback as usize],
            default: now.outcomes[Outcome::Default as usize],
            blocked: now.blocked,
            blocked_before: base.blocked,
            violations: now.violations,
            violations_before: base.violations,
            p50: (base.rtt.quantile_ms(0.5), now.rtt.quantile_ms(0.5)),
            p95: (base.rtt.quantile_ms(0.95), now.rtt.quantile_ms(0.95)),
        }
    }

    /// Impact of `case` on the traffic decided by policy slot `slot` (`policies.len()` = unmatched).
    pub fn of_policy(m: &Metrics, case: usize, slot: usize) -> Self {
        Self::between(
            &m.policy_cells[m.policy_index(0, slot)],
            &m.policy_cells[m.policy_index(case, slot)],
        )
    }

    /// p95 after minus before, ms.
    pub fn p95_change_ms(&self) -> Option<f64> {
        Some(self.p95.1? - self.p95.0?)
    }

    /// Share of requests dropped.
    pub fn dropped_share(&self) -> f64 {
        ratio(self.dropped, self.requests)
    }

    /// Share of requests newly refused by allowlists (beyond the baseline's refusals).
    pub fn extra_blocked_share(&self) -> f64 {
        ratio(
            self.blocked.saturating_sub(self.blocked_before),
            self.requests,
        )
    }

    /// Share of requests newly breaking a geography requirement.
    pub fn extra_violation_share(&self) -> f64 {
        ratio(
            self.violations.saturating_sub(self.violations_before),
            self.requests,
        )
    }

    /// Share of requests lost, refused or off-geography beyond the baseline.
    pub fn harmed_share(&self) -> f64 {
        self.dropped_share() + self.extra_blocked_share() + self.extra_violation_share()
    }

    /// Ordering key: harmed requests first, then the p95 increase.
    pub fn harm_score(&self) -> f64 {
        self.harmed_share() * 1e6 + self.p95_change_ms().unwrap_or(0.0).max(0.0)
    }
}

/// Users and requests a case moved, against the baseline (summed over populations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Moved {
    /// Users whose ingress data center changed.
    pub users_ingress_moved: u64,
    /// Users with at least one request leaving through a different egress slot.
    pub users_egress_changed: u64,
    /// Requests leaving through a different egress slot.
    pub requests_rerouted: u64,
}

impl Moved {
    /// What `case` moved, over every population.
    pub fn of_case(m: &Metrics, case: usize) -> Self {
        (0..m.populations).fold(Self::default(), |acc, p| {
            let s = m.shift(case, p);
            Self {
                users_ingress_moved: acc.users_ingress_moved + s.users_ingress_moved,
                users_egress_changed: acc.users_egress_changed + s.users_egress_changed,
                requests_rerouted: acc.requests_rerouted + s.requests_rerouted,
            }
        })
    }
}

/// `n / d`, 0 when `d` is 0.
pub(crate) fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}
