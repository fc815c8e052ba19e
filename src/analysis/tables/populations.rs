//! `populations.csv` (per case × population × egress slot) and `latency_histogram.csv` (the RTT
//! distribution per case × population).

use serde::{Deserialize, Serialize};

use super::{quantile, slot_name, Inputs};
use crate::analysis::values::{Km, Ms, Share};

/// One population's requests through one egress slot in one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PopulationRow {
    /// Case name.
    pub case: String,
    /// Population name.
    pub population: String,
    /// Egress id, `default` or `dropped`.
    pub egress: String,
    /// Users with at least one request through this slot.
    pub users: u64,
    /// Requests through this slot.
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
    /// Delivered requests that appear to come from another country.
    pub apparent_country_mismatch_share: Share,
    /// Mean distance user → apparent location.
    pub apparent_distance_mean_km: Km,
}

/// One RTT bucket of one population in one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HistogramRow {
    /// Case name.
    pub case: String,
    /// Population name.
    pub population: String,
    /// Lower bound of the bucket.
    pub rtt_lower_ms: Ms,
    /// Upper bound (exclusive).
    pub rtt_upper_ms: Ms,
    /// Delivered requests in the bucket.
    pub requests: u64,
}

pub(super) fn rows(i: &Inputs) -> Vec<PopulationRow> {
    let (world, m) = (i.world, i.m);
    let mut out = Vec::new();
    for ci in 0..m.cases {
        for (pi, p) in world.populations.iter().enumerate() {
            for s in 0..m.slots {
                let c = m.cell(ci, pi, s);
                if c.requests == 0 {
                    continue;
                }
                out.push(PopulationRow {
                    case: world.cases[ci].name.clone(),
                    population: p.name.clone(),
                    egress: slot_name(world, s),
                    users: c.users,
                    requests: c.requests,
                    rtt_mean_ms: Ms(c.rtt_mean_ms()),
                    rtt_p50_ms: quantile(c, 0.5),
                    rtt_p90_ms: quantile(c, 0.9),
                    rtt_p95_ms: quantile(c, 0.95),
                    rtt_p99_ms: quantile(c, 0.99),
                    apparent_country_mismatch_share: Share::ratio(
                        c.country_mismatch,
                        c.delivered(),
                    ),
                    apparent_distance_mean_km: Km::mean_of_metres(
                        c.apparent_distance_m,
                        c.delivered(),
                    ),
                });
            }
        }
    }
    out
}

pub(super) fn histogram_rows(i: &Inputs) -> Vec<HistogramRow> {
    let (world, m) = (i.world, i.m);
    let mut out = Vec::new();
    for ci in 0..m.cases {
        for (pi, p) in world.populations.iter().enumerate() {
            let total = m.total(ci, Some(pi), None);
            out.extend(total.rtt.buckets().map(|(lo, hi, n)| HistogramRow {
                case: world.cases[ci].name.clone(),
                population: p.name.clone(),
                rtt_lower_ms: Ms::of(lo),
                rtt_upper_ms: Ms::of(hi),
                requests: n,
            }));
        }
    }
    out
}
