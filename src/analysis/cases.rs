//! Per-case figures computed once from the metrics: what each case did to all requests and to each
//! population, what it moved, and the baseline's figures per population.

use super::human;
use super::impact::{Impact, Moved};
use super::values::{Km, Ms, Share};
use crate::engine::{Cell, Metrics};

/// What one case did, against the baseline (all zero changes for the baseline itself).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFigures {
    /// Impact on all requests.
    pub impact: Impact,
    /// Users and requests moved.
    pub moved: Moved,
    /// Impact on each population's requests.
    pub populations: Vec<Impact>,
}

impl CaseFigures {
    /// Whether the case changes anything a reader would see: some requests dropped, newly
    /// refused or newly off-geography, or a population's p95 RTT change that does not round to
    /// `±0.0 ms`. Cases that change nothing are left out of the heatmap, the failover chart, the
    /// report's table and the terminal's list (and counted there).
    ///
    /// The p95 of all requests alone does not count: it is a percentile of a mixture, and a few
    /// users moving between populations' ranges can shift it by a histogram bucket while no
    /// population's p95 moves (a heatmap row of `±0.0 ms` cells). Without populations it is
    /// the only p95 there is.
    pub fn changes_something(&self) -> bool {
        let shows = |i: &Impact| {
            i.harmed_share() > 0.0 || human::ms_change_shows(Ms(i.p95_change_ms()).rounded())
        };
        self.impact.harmed_share() > 0.0
            || self.populations.iter().any(shows)
            || (self.populations.is_empty() && shows(&self.impact))
    }
}

/// Every case's figures, in case order.
pub(crate) fn case_figures(m: &Metrics) -> Vec<CaseFigures> {
    let base = m.total(0, None, None);
    let base_pops: Vec<Cell> = (0..m.populations)
        .map(|p| m.total(0, Some(p), None))
        .collect();
    (0..m.cases)
        .map(|c| CaseFigures {
            impact: Impact::between(&base, &m.total(c, None, None)),
            moved: Moved::of_case(m, c),
            populations: base_pops
                .iter()
                .enumerate()
                .map(|(p, b)| Impact::between(b, &m.total(c, Some(p), None)))
                .collect(),
        })
        .collect()
}

/// Round-trip time and apparent location of a set of requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Traffic {
    /// Requests.
    pub requests: u64,
    /// Delivered (not dropped) requests.
    pub delivered: u64,
    /// Mean RTT of delivered requests.
    pub rtt_mean_ms: Ms,
    /// RTT percentiles 50, 90, 95, 99.
    pub rtt_ms: [Ms; 4],
    /// Delivered requests that appear to come from another country.
    pub country_mismatch: Share,
    /// Delivered requests that appear to come from another continent.
    pub continent_mismatch: Share,
    /// Mean distance user → apparent location.
    pub apparent_distance: Km,
}

impl Traffic {
    /// Percentiles in [`Traffic::rtt_ms`].
    pub const PERCENTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

    fn of(c: &Cell) -> Self {
        let delivered = c.delivered();
        Self {
            requests: c.requests,
            delivered,
            rtt_mean_ms: Ms(c.rtt_mean_ms()),
            rtt_ms: Self::PERCENTILES.map(|q| Ms(c.rtt.quantile_ms(q))),
            country_mismatch: Share::ratio(c.country_mismatch, delivered),
            continent_mismatch: Share::ratio(c.continent_mismatch, delivered),
            apparent_distance: Km::mean_of_metres(c.apparent_distance_m, delivered),
        }
    }
}

/// The baseline per population and for everyone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Baseline {
    /// Per population, in scenario order.
    pub populations: Vec<Traffic>,
    /// All requests.
    pub all: Traffic,
}

impl Baseline {
    /// The baseline figures of a finished run.
    pub(crate) fn new(m: &Metrics) -> Self {
        Self {
            populations: (0..m.populations)
                .map(|p| Traffic::of(&m.total(0, Some(p), None)))
                .collect(),
            all: Traffic::of(&m.total(0, None, None)),
        }
    }
}
