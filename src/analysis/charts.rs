//! What the charts draw, computed once per run: the map sample, the RTT distributions, the load per
//! egress IP, the failover overlay and heatmap, and the capacity bars. The chart files and the report
//! draw from these same inputs.

use super::capacity::Capacity;
use super::cases::{Baseline, CaseFigures, Traffic};
use super::human;
use super::tables::{EgressLoadRow, SummaryRow};
use super::values::Ms;
use crate::engine::Metrics;
use crate::world::World;

/// `MapPoint::egress` value for users that are not on a dedicated egress IP (default egress or
/// dropped); drawn in grey.
pub const NO_EGRESS: u16 = u16::MAX;

/// Failure cases in the heatmap at most (all are in `failover.csv`).
const HEATMAP_MAX_CASES: usize = 40;
/// Failure cases drawn against the baseline in the RTT chart at most.
const CDF_MAX_CASES: usize = 5;
/// Users drawn on the report's map at most (the map files draw the full sample).
const REPORT_MAP_POINTS: usize = 6000;

/// A dedicated egress IP placed on the map, with the data center it is bound to.
#[derive(Debug, Clone, PartialEq)]
pub struct EgressSite {
    /// Egress IP id chosen by the user, for example `lhr-1`.
    pub id: String,
    /// IATA code of the data center that hosts the egress IP, for example `LHR`.
    pub datacenter: String,
    /// City of that data center, shown in the map legend.
    pub city: String,
    /// Latitude of the data center in degrees.
    pub lat: f64,
    /// Longitude of the data center in degrees, -180..180.
    pub lon: f64,
}

/// One sampled user drawn as a dot on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapPoint {
    /// Latitude of the user in degrees.
    pub lat: f32,
    /// Longitude of the user in degrees, -180..180.
    pub lon: f32,
    /// Index into the egress sites of the egress IP that serves the user, or [`NO_EGRESS`]
    /// for default egress or dropped traffic. An index past the end is treated as `NO_EGRESS`.
    pub egress: u16,
}

/// One line of an RTT CDF chart, typically one population or one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfSeries {
    /// Name shown in the legend.
    pub name: String,
    /// `(rtt_ms, cumulative share of requests 0..1)`, ascending in both. Non-finite points are
    /// ignored; shares are clamped to 0..1.
    pub points: Vec<(f64, f64)>,
    /// The figures the legend prints: the same values as the CSV tables.
    pub stats: CdfStats,
}

/// What a CDF line's legend says, taken from the tables (never re-read off the curve, whose
/// interpolation would give slightly different numbers than the CSV files).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CdfStats {
    /// Median RTT (`rtt_p50_ms`).
    pub p50: Ms,
    /// 95th percentile RTT (`rtt_p95_ms`).
    pub p95: Ms,
    /// p95 change against the baseline (`rtt_p95_change_ms`), for failure cases.
    pub p95_change: Option<Ms>,
}

impl CdfStats {
    /// The median and p95 of `t` (a population's or everyone's baseline).
    pub(crate) fn of_traffic(t: &Traffic) -> Self {
        Self {
            p50: t.rtt_ms[0],
            p95: t.rtt_ms[2],
            p95_change: None,
        }
    }

    /// The legend text: `median 112.1 ms, p95 209.9 ms (+41.0 ms)`, each number the table's
    /// value in the one human form ([`human::ms`], [`human::ms_change`]).
    pub fn legend(&self) -> String {
        match (self.p50.rounded(), self.p95.rounded()) {
            (Some(_), Some(_)) => {
                let change = self
                    .p95_change
                    .and_then(|c| c.rounded())
                    .map_or(String::new(), |c| {
                        format!(" ({})", human::ms_change(Some(c)))
                    });
                format!("median {}, p95 {}{change}", self.p50, self.p95)
            }
            _ => "no requests delivered".to_string(),
        }
    }

    /// The median, p95 and p95 change of a `summary.csv` row.
    pub(crate) fn of_summary(row: &SummaryRow) -> Self {
        Self {
            p50: row.rtt_p50_ms,
            p95: row.rtt_p95_ms,
            p95_change: Some(row.rtt_p95_change_ms),
        }
    }
}

/// One bar of the egress load chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBar {
    /// Egress IP id; bars whose id matches an [`EgressSite::id`] get that site's map colour,
    /// others (for example a `default` bucket) are grey.
    pub egress_id: String,
    /// Requests carried by the egress IP.
    pub requests: u64,
    /// Distinct users whose requests it carried.
    pub users: u64,
    /// Share of all requests, as a fraction 0..1.
    pub share: f64,
}

/// One cell of the failover heatmap: what a failure case did to one population.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatCell {
    /// Change of the population's p95 RTT against the baseline, ms (`None` when nothing was delivered).
    pub p95_change_ms: Option<f64>,
    /// Share of the population's requests dropped in this case, 0..1.
    pub dropped_share: f64,
    /// Share of the population's requests newly refused by allowlists in this case (beyond the
    /// baseline's refusals), 0..1.
    pub blocked_share: f64,
    /// Share of the population's requests that newly broke a geography requirement, 0..1.
    pub violation_share: f64,
}

/// Peak connections of one egress IP against its per-origin limit.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityBar {
    /// Egress IP id (colour as on the map).
    pub egress_id: String,
    /// Largest accepted IPv4 connections to one origin (destination address and port) in the
    /// baseline.
    pub baseline_peak: f64,
    /// Largest accepted IPv4 connections to one origin in any case.
    pub worst_peak: f64,
    /// The case of `worst_peak` (`baseline` when no failure loads it more).
    pub worst_case: String,
    /// The destinations sharing the origin of `worst_peak` (`a+b`).
    pub worst_resource: String,
    /// Per-origin connection limit of the egress IP.
    pub limit: f64,
}

/// Every chart's inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartInputs {
    /// Egress IPs, fixing each egress colour.
    pub sites: Vec<EgressSite>,
    /// The engine's map sample (up to about 20,000 users), for the map files.
    pub points: Vec<MapPoint>,
    /// A thinner sample for the report's map.
    pub report_points: Vec<MapPoint>,
    /// Ingress data centers of the report's sample, each once, as `(lon, lat)`.
    pub report_ingress: Vec<(f64, f64)>,
    /// Baseline RTT CDF of each population.
    pub population_cdfs: Vec<CdfSeries>,
    /// Baseline requests per egress IP (plus default egress / dropped when used).
    pub load: Vec<LoadBar>,
    /// RTT CDF of all requests in the baseline.
    pub baseline_cdf: CdfSeries,
    /// RTT CDFs of the most harmful cases (at most five), each named after its case.
    pub case_cdfs: Vec<CdfSeries>,
    /// Heatmap rows: the names of the failure cases that change something, most harmful first
    /// (at most forty).
    pub heat_cases: Vec<String>,
    /// Heatmap columns: population names.
    pub heat_populations: Vec<String>,
    /// Heatmap cells, row-major (`case * populations + population`).
    pub heat: Vec<HeatCell>,
    /// Failure cases that change something but are not in the heatmap (beyond forty).
    pub heat_hidden: usize,
    /// Failure cases left out of the heatmap because they change nothing.
    pub heat_unchanged: usize,
    /// One bar pair per egress IP.
    pub capacity: Vec<CapacityBar>,
}

/// What the chart inputs are built from.
pub(crate) struct Inputs<'a> {
    pub world: &'a World,
    pub m: &'a Metrics,
    pub cases: &'a [CaseFigures],
    /// Failure cases, most harmful first.
    pub ranked: &'a [usize],
    /// The ones that change something, in the same order.
    pub with_effect: &'a [usize],
    pub capacity: &'a Capacity,
    /// The baseline per population and overall.
    pub baseline: &'a Baseline,
    /// `summary.csv`'s rows (one per case).
    pub summary: &'a [SummaryRow],
    /// `egress_load.csv`'s rows.
    pub egress_load: &'a [EgressLoadRow],
}

impl ChartInputs {
    /// Builds every chart's inputs.
    pub(crate) fn build(i: &Inputs) -> Self {
        let (world, m) = (i.world, i.m);
        let points = map_points(world, m, 1);
        let step = m.samples.len().div_ceil(REPORT_MAP_POINTS).max(1);
        let shown: Vec<usize> = i
            .with_effect
            .iter()
            .copied()
            .take(HEATMAP_MAX_CASES)
            .collect();
        Self {
            sites: sites(world),
            report_points: map_points(world, m, step),
            report_ingress: ingress_points(world, m, step),
            points,
            population_cdfs: world
                .populations
                .iter()
                .enumerate()
                .map(|(p, pop)| {
                    let stats = CdfStats::of_traffic(&i.baseline.populations[p]);
                    cdf(&pop.name, m, (0, Some(p)), stats)
                })
                .collect(),
            load: load_bars(world, i.egress_load),
            baseline_cdf: cdf(
                "baseline",
                m,
                (0, None),
                CdfStats::of_traffic(&i.baseline.all),
            ),
            case_cdfs: i
                .with_effect
                .iter()
                .filter(|&&c| i.cases[c].impact.harm_score() > 0.0)
                .take(CDF_MAX_CASES)
                .map(|&c| {
                    let stats = CdfStats::of_summary(&i.summary[c]);
                    cdf(&world.cases[c].name, m, (c, None), stats)
                })
                .collect(),
            heat_cases: shown.iter().map(|&c| world.cases[c].name.clone()).collect(),
            heat_populations: world.populations.iter().map(|p| p.name.clone()).collect(),
            heat: shown
                .iter()
                .flat_map(|&c| i.cases[c].populations.iter().map(heat_cell))
                .collect(),
            heat_hidden: i.with_effect.len().saturating_sub(HEATMAP_MAX_CASES),
            heat_unchanged: i.ranked.len() - i.with_effect.len(),
            capacity: capacity_bars(world, i.capacity),
        }
    }
}

/// The egress IPs as chart sites.
fn sites(world: &World) -> Vec<EgressSite> {
    world
        .egress
        .iter()
        .map(|e| {
            let dc = &world.datacenters[e.datacenter as usize];
            EgressSite {
                id: e.id.clone(),
                datacenter: dc.code.clone(),
                city: dc.city.clone(),
                lat: dc.location.lat,
                lon: dc.location.lon,
            }
        })
        .collect()
}

/// Every `step`-th user of the map sample (deterministic: the sample is sorted by user).
fn map_points(world: &World, m: &Metrics, step: usize) -> Vec<MapPoint> {
    m.samples
        .iter()
        .step_by(step)
        .map(|s| MapPoint {
            lat: s.lat,
            lon: s.lon,
            egress: if (s.slot as usize) < world.egress.len() {
                s.slot
            } else {
                NO_EGRESS
            },
        })
        .collect()
}

/// Ingress data centers of every `step`-th sampled user, each once, in data-center order.
fn ingress_points(world: &World, m: &Metrics, step: usize) -> Vec<(f64, f64)> {
    let mut used = vec![false; world.datacenters.len()];
    for d in m.samples.iter().step_by(step).filter_map(|s| s.ingress) {
        used[d as usize] = true;
    }
    world
        .datacenters
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(d, _)| (d.location.lon, d.location.lat))
        .collect()
}

/// The CDF of `(case, population)` (every population when `None`).
fn cdf(name: &str, m: &Metrics, of: (usize, Option<usize>), stats: CdfStats) -> CdfSeries {
    CdfSeries {
        name: name.to_string(),
        points: m.total(of.0, of.1, None).rtt.cdf(),
        stats,
    }
}

/// Baseline load per egress IP, plus default egress / dropped when the baseline uses them.
fn load_bars(world: &World, egress_load: &[EgressLoadRow]) -> Vec<LoadBar> {
    // The baseline's rows come first, one per reported slot, egress IPs first.
    let per_case = egress_load.len() / world.cases.len().max(1);
    egress_load
        .iter()
        .take(per_case)
        .enumerate()
        .filter(|(s, r)| *s < world.egress.len() || r.requests > 0)
        .map(|(_, r)| LoadBar {
            egress_id: r.egress.clone(),
            requests: r.requests,
            users: r.users,
            share: r.request_share.0.unwrap_or(0.0),
        })
        .collect()
}

fn heat_cell(imp: &super::impact::Impact) -> HeatCell {
    HeatCell {
        p95_change_ms: imp.p95_change_ms(),
        dropped_share: imp.dropped_share(),
        blocked_share: imp.extra_blocked_share(),
        violation_share: imp.extra_violation_share(),
    }
}

/// Each egress IP's peak connections to one destination in the baseline and in any case.
fn capacity_bars(world: &World, cap: &Capacity) -> Vec<CapacityBar> {
    world
        .egress
        .iter()
        .enumerate()
        .map(|(e, eg)| {
            let (worst_case, worst_origin, worst_peak) = cap.worst_peak(e);
            CapacityBar {
                egress_id: eg.id.clone(),
                baseline_peak: cap.peak(0, e).1,
                worst_peak: worst_peak.max(0.0),
                worst_case: world.cases[worst_case].name.clone(),
                worst_resource: cap
                    .origins()
                    .get(worst_origin)
                    .map_or(String::new(), |o| o.names.clone()),
                limit: cap.limit(e),
            }
        })
        .collect()
}
