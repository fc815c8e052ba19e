//! Reports: turn [`Metrics`] into files and text. Reports never simulate.
//!
//! - `tables`: the CSV tables (and the streamed per-user table).
//! - `charts`: PNG and SVG charts drawn with plotters.
//! - `terminal`: the summary printed at the end of a run.
//! - `output`: the atomic output folder.

pub mod charts;
mod failover_tables;
pub mod html;
pub mod output;
pub mod tables;
pub mod terminal;

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::engine::Metrics;
use crate::error::{Error, Result};
use crate::redundancy::Impact;
use crate::world::World;

/// Writes every table and chart for `world`'s results into `dir`; returns the files written.
pub fn write_all(dir: &Path, world: &World, m: &Metrics) -> Result<Vec<PathBuf>> {
    let mut files = tables::write_tables(dir, world, m)?;
    files.extend(write_charts(dir, world, m)?);
    files.extend(write_failover_charts(dir, world, m)?);
    files.push(html::write_report(dir, world, m, &html::RunInfo::now())?);
    Ok(files)
}

/// Failure cases in the heatmap at most (all are in `failover.csv`).
const HEATMAP_MAX_CASES: usize = 40;
/// Failure cases drawn against the baseline in the RTT chart at most.
const CDF_MAX_CASES: usize = 5;

/// The egress IPs as chart sites (fixing each egress IP's colour).
fn egress_sites(world: &World) -> Vec<charts::EgressSite> {
    world
        .egress
        .iter()
        .map(|e| {
            let dc = &world.datacenters[e.datacenter as usize];
            charts::EgressSite {
                id: e.id.clone(),
                datacenter: dc.code.clone(),
                city: dc.city.clone(),
                lat: dc.location.lat,
                lon: dc.location.lon,
            }
        })
        .collect()
}

/// Failure cases, most harmful first (harmed requests, then p95 increase, then file order).
pub fn cases_by_harm(m: &Metrics) -> Vec<(usize, Impact)> {
    let mut rows: Vec<(usize, Impact)> = (1..m.cases)
        .map(|c| (c, Impact::of_population(m, c, None)))
        .collect();
    rows.sort_by(|a, b| {
        b.1.harm_score()
            .total_cmp(&a.1.harm_score())
            .then(a.0.cmp(&b.0))
    });
    rows
}

/// The failover and capacity charts' inputs, owned (shared by the chart files and `report.html`).
pub(crate) struct FailoverInputs {
    sites: Vec<charts::EgressSite>,
    baseline_cdf: charts::CdfSeries,
    case_cdfs: Vec<charts::CdfSeries>,
    heat_cases: Vec<String>,
    heat_populations: Vec<String>,
    heat: Vec<charts::HeatCell>,
    heat_hidden: usize,
    capacity: Vec<charts::CapacityBar>,
}

impl FailoverInputs {
    /// Assembles the inputs from a finished run.
    pub(crate) fn new(world: &World, m: &Metrics) -> Self {
        let sites = egress_sites(world);
        let baseline_cdf = charts::CdfSeries {
            name: "baseline".into(),
            points: m.total(0, None, None).rtt.cdf(),
        };
        let ranked = cases_by_harm(m);
        let case_cdfs: Vec<charts::CdfSeries> = ranked
            .iter()
            .filter(|(_, imp)| imp.harm_score() > 0.0)
            .take(CDF_MAX_CASES)
            .map(|(c, _)| charts::CdfSeries {
                name: world.cases[*c].name.clone(),
                points: m.total(*c, None, None).rtt.cdf(),
            })
            .collect();
        let shown: Vec<usize> = ranked
            .iter()
            .take(HEATMAP_MAX_CASES)
            .map(|(c, _)| *c)
            .collect();
        let heat_cases: Vec<String> = shown.iter().map(|&c| world.cases[c].name.clone()).collect();
        let heat_populations: Vec<String> =
            world.populations.iter().map(|p| p.name.clone()).collect();
        let heat: Vec<charts::HeatCell> = shown
            .iter()
            .flat_map(|&c| {
                (0..m.populations).map(move |p| {
                    let imp = Impact::of_population(m, c, Some(p));
                    charts::HeatCell {
                        p95_change_ms: imp.p95_change_ms(),
                        dropped_share: imp.dropped_share(),
                        blocked_share: imp.extra_blocked_share(),
                        violation_share: imp.extra_violation_share(),
                    }
                })
            })
            .collect();
        let capacity: Vec<charts::CapacityBar> = world
            .egress
            .iter()
            .enumerate()
            .map(|(e, eg)| {
                let conns = |c: usize, r: usize| {
                    m.connections_v4_micro[m.connection_index(c, e, r)] as f64 / 1e6
                };
                let baseline_peak = (0..m.resources).map(|r| conns(0, r)).fold(0.0, f64::max);
                let (mut wc, mut wr, mut wv) = (0, 0, -1.0);
                for c in 0..m.cases {
                    for r in 0..m.resources {
                        if conns(c, r) > wv {
                            (wc, wr, wv) = (c, r, conns(c, r));
                        }
                    }
                }
                charts::CapacityBar {
                    egress_id: eg.id.clone(),
                    baseline_peak,
                    worst_peak: wv.max(0.0),
                    worst_case: world.cases[wc].name.clone(),
                    worst_resource: world
                        .resources
                        .get(wr)
                        .map_or(String::new(), |r| r.name.clone()),
                    limit: eg.connection_limit as f64,
                }
            })
            .collect();
        Self {
            sites,
            baseline_cdf,
            case_cdfs,
            heat_cases,
            heat_populations,
            heat,
            heat_hidden: ranked.len().saturating_sub(HEATMAP_MAX_CASES),
            capacity,
        }
    }

    /// The chart set borrowing these inputs.
    pub(crate) fn set<'a>(&'a self, scenario: &'a str) -> charts::FailoverSet<'a> {
        charts::FailoverSet {
            scenario,
            sites: &self.sites,
            baseline_cdf: &self.baseline_cdf,
            case_cdfs: &self.case_cdfs,
            heat_cases: &self.heat_cases,
            heat_populations: &self.heat_populations,
            heat: &self.heat,
            heat_hidden: self.heat_hidden,
            capacity: &self.capacity,
        }
    }
}

/// Draws the failover charts (RTT against the worst cases, case × population heatmap) and the
/// capacity chart.
pub fn write_failover_charts(dir: &Path, world: &World, m: &Metrics) -> Result<Vec<PathBuf>> {
    let inputs = FailoverInputs::new(world, m);
    let set = inputs.set(&world.name);
    charts::write_failover_charts(dir, &set).map_err(|e| Error::Internal(e.to_string()))
}

/// Baseline RTT CDF of each population.
pub(crate) fn population_cdfs(world: &World, m: &Metrics) -> Vec<charts::CdfSeries> {
    world
        .populations
        .iter()
        .enumerate()
        .map(|(pi, p)| charts::CdfSeries {
            name: p.name.clone(),
            points: m.total(0, Some(pi), None).rtt.cdf(),
        })
        .collect()
}

/// Baseline requests per egress IP (plus default egress / dropped when used).
pub(crate) fn load_bars(world: &World, m: &Metrics) -> Vec<charts::LoadBar> {
    let all = m.total(0, None, None).requests.max(1);
    (0..m.slots)
        .filter_map(|s| {
            let t = m.total(0, None, Some(s));
            (s < world.egress.len() || t.requests > 0).then(|| charts::LoadBar {
                egress_id: tables::slot_name(world, s),
                requests: t.requests,
                users: t.users,
                share: t.requests as f64 / all as f64,
            })
        })
        .collect()
}

/// Draws the baseline charts: the user map, the RTT CDF per population and the load per egress IP.
pub fn write_charts(dir: &Path, world: &World, m: &Metrics) -> Result<Vec<PathBuf>> {
    let catalog = Catalog::embedded();
    let outlines: Vec<geo::MultiPolygon<f64>> =
        catalog.outlines.iter().map(|o| o.shape.clone()).collect();
    let sites = egress_sites(world);
    let points: Vec<charts::MapPoint> = m
        .samples
        .iter()
        .map(|s| charts::MapPoint {
            lat: s.lat,
            lon: s.lon,
            egress: if (s.slot as usize) < world.egress.len() {
                s.slot
            } else {
                charts::NO_EGRESS
            },
        })
        .collect();
    let cdfs = population_cdfs(world, m);
    let load = load_bars(world, m);
    let set = charts::ChartSet {
        scenario: &world.name,
        case: &world.cases[0].name,
        outlines: &outlines,
        sites: &sites,
        points: &points,
        cdfs: &cdfs,
        load: &load,
    };
    charts::write_charts(dir, &set).map_err(|e| Error::Internal(e.to_string()))
}
