//! `summary.csv`: one row per case, all requests.

use serde::{Deserialize, Serialize};

use super::{quantile, Inputs};
use crate::analysis::values::{Km, Ms, Share};
use crate::engine::Outcome;

/// One case, all populations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Case name.
    pub case: String,
    /// Users simulated.
    pub users: u64,
    /// Requests simulated.
    pub requests: u64,
    /// Mean RTT of delivered requests.
    pub rtt_mean_ms: Ms,
    /// Median RTT.
    pub rtt_p50_ms: Ms,
    /// 90th percentile RTT.
    pub rtt_p90_ms: Ms,
    /// 95th percentile RTT.
    pub rtt_p95_ms: Ms,
    /// 99th percentile RTT.
    pub rtt_p99_ms: Ms,
    /// Delivered requests that appear to come from another country than the user's.
    pub apparent_country_mismatch_share: Share,
    /// Delivered requests that appear to come from another continent.
    pub apparent_continent_mismatch_share: Share,
    /// Mean distance user → apparent location.
    pub apparent_distance_mean_km: Km,
    /// Requests through the dedicated egress IP chosen first.
    pub dedicated_share: Share,
    /// Requests through a policy's fallback.
    pub fallback_share: Share,
    /// Requests through default egress.
    pub default_share: Share,
    /// Requests dropped.
    pub dropped_share: Share,
    /// Share of requests delivered to private networks (Cloudflare Tunnel or Magic WAN), which never
    /// use a dedicated egress IP.
    #[serde(default)]
    pub private_network_share: Share,
    /// Requests refused by allowlists.
    pub blocked_share: Share,
    /// Requests breaking a geography requirement.
    pub geography_violation_share: Share,
    /// Users with at least one request on another egress slot than in the baseline.
    pub users_egress_changed: u64,
    /// Requests on another egress slot than in the baseline.
    pub requests_rerouted_share: Share,
    /// p95 minus the baseline's p95.
    pub rtt_p95_change_ms: Ms,
    /// The case's description.
    pub description: String,
}

pub(super) fn rows(i: &Inputs) -> Vec<SummaryRow> {
    let (world, m) = (i.world, i.m);
    let base = m.total(0, None, None);
    let base_p95 = base.rtt.quantile_ms(0.95);
    world
        .cases
        .iter()
        .enumerate()
        .map(|(ci, case)| {
            let t = m.total(ci, None, None);
            let delivered = t.delivered();
            let outcome = |o: Outcome| Share::ratio(t.outcomes[o as usize], t.requests);
            let moved = &i.cases[ci].moved;
            SummaryRow {
                case: case.name.clone(),
                users: world.users,
                requests: t.requests,
                rtt_mean_ms: Ms(t.rtt_mean_ms()),
                rtt_p50_ms: quantile(&t, 0.5),
                rtt_p90_ms: quantile(&t, 0.9),
                rtt_p95_ms: quantile(&t, 0.95),
                rtt_p99_ms: quantile(&t, 0.99),
                apparent_country_mismatch_share: Share::ratio(t.country_mismatch, delivered),
                apparent_continent_mismatch_share: Share::ratio(t.continent_mismatch, delivered),
                apparent_distance_mean_km: Km::mean_of_metres(t.apparent_distance_m, delivered),
                dedicated_share: outcome(Outcome::Dedicated),
                fallback_share: outcome(Outcome::Fallback),
                default_share: outcome(Outcome::Default),
                dropped_share: outcome(Outcome::Dropped),
                private_network_share: outcome(Outcome::PrivateNetwork),
                blocked_share: Share::ratio(t.blocked, t.requests),
                geography_violation_share: Share::ratio(t.violations, t.requests),
                users_egress_changed: moved.users_egress_changed,
                requests_rerouted_share: Share::ratio(moved.requests_rerouted, t.requests),
                rtt_p95_change_ms: Ms(t.rtt.quantile_ms(0.95).zip(base_p95).map(|(a, b)| a - b)),
                description: case.description.clone(),
            }
        })
        .collect()
}
