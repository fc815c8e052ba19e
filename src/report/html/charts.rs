//! The charts embedded in the report: the same drawings as the `.svg` files of the run, built from
//! the same inputs, except that the map draws a thinner user sample to keep the page light.

use crate::catalog::Catalog;
use crate::engine::{route, Metrics, Prepared};
use crate::error::{Error, Result};
use crate::redundancy::Impact;
use crate::world::World;

use super::super::{cases_by_harm, charts, egress_sites, tables, CDF_MAX_CASES, HEATMAP_MAX_CASES};

/// Users drawn on the report's map at most (the map files draw the full sample).
const MAP_POINTS: usize = 6000;

/// SVG text of every chart in the report.
pub(super) struct ReportCharts {
    /// User map.
    pub map: String,
    /// RTT CDF per population.
    pub latency_cdf: String,
    /// Requests per egress IP.
    pub egress_load: String,
    /// RTT CDF of the baseline against the worst cases.
    pub failover_cdf: String,
    /// Case × population heatmap.
    pub heatmap: String,
    /// Peak connections against the limit.
    pub capacity: String,
}

/// Renders every chart.
pub(super) fn render(world: &World, m: &Metrics) -> Result<ReportCharts> {
    let [map, latency_cdf, egress_load] = baseline(world, m)?;
    let [failover_cdf, heatmap, capacity] = failover(world, m)?;
    Ok(ReportCharts {
        map,
        latency_cdf,
        egress_load,
        failover_cdf,
        heatmap,
        capacity,
    })
}

fn chart_error(e: charts::ChartError) -> Error {
    Error::Internal(e.to_string())
}

/// Every `k`-th sampled user, so at most [`MAP_POINTS`] remain (deterministic: samples are sorted).
fn map_points(world: &World, m: &Metrics) -> Vec<charts::MapPoint> {
    let step = m.samples.len().div_ceil(MAP_POINTS).max(1);
    m.samples
        .iter()
        .step_by(step)
        .map(|s| charts::MapPoint {
            lat: s.lat,
            lon: s.lon,
            egress: if (s.slot as usize) < world.egress.len() {
                s.slot
            } else {
                charts::NO_EGRESS
            },
        })
        .collect()
}

/// Ingress data centers of the users on the report's map in the baseline, as `(lon, lat)`, each once,
/// found by the engine's own routing (`engine::route::user_case`).
fn ingress_points(world: &World, m: &Metrics, points: &[charts::MapPoint]) -> Vec<(f64, f64)> {
    let p = Prepared::new(world);
    let step = m.samples.len().div_ceil(MAP_POINTS).max(1);
    let mut used = vec![false; world.datacenters.len()];
    for s in m.samples.iter().step_by(step).take(points.len()) {
        let (user, _) = p.user(s.user);
        let geo = route::UserGeo::new(&p, &user);
        if let Some(d) = route::user_case(&p, &user, &geo, 0).ingress {
            used[d as usize] = true;
        }
    }
    world
        .datacenters
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(d, _)| (d.location.lon, d.location.lat))
        .collect()
}

/// Map, latency CDF and load bars, built as `report::write_charts` builds them.
fn baseline(world: &World, m: &Metrics) -> Result<[String; 3]> {
    let catalog = Catalog::embedded();
    let outlines: Vec<geo::MultiPolygon<f64>> =
        catalog.outlines.iter().map(|o| o.shape.clone()).collect();
    let sites = egress_sites(world);
    let points = map_points(world, m);
    let cdfs: Vec<charts::CdfSeries> = world
        .populations
        .iter()
        .enumerate()
        .map(|(pi, p)| charts::CdfSeries {
            name: p.name.clone(),
            points: m.total(0, Some(pi), None).rtt.cdf(),
        })
        .collect();
    let all = m.total(0, None, None).requests.max(1);
    let load: Vec<charts::LoadBar> = (0..m.slots)
        .filter_map(|s| {
            let t = m.total(0, None, Some(s));
            (s < world.egress.len() || t.requests > 0).then(|| charts::LoadBar {
                egress_id: tables::slot_name(world, s),
                requests: t.requests,
                users: t.users,
                share: t.requests as f64 / all as f64,
            })
        })
        .collect();
    let set = charts::ChartSet {
        scenario: &world.name,
        case: &world.cases[0].name,
        outlines: &outlines,
        sites: &sites,
        points: &points,
        cdfs: &cdfs,
        load: &load,
    };
    let ingress = ingress_points(world, m, &points);
    charts::charts_svg(&set, &ingress).map_err(chart_error)
}

/// Failover CDF, heatmap and capacity, built as `report::write_failover_charts` builds them.
fn failover(world: &World, m: &Metrics) -> Result<[String; 3]> {
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
    let heat_populations: Vec<String> = world.populations.iter().map(|p| p.name.clone()).collect();
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
    let set = charts::FailoverSet {
        scenario: &world.name,
        sites: &sites,
        baseline_cdf: &baseline_cdf,
        case_cdfs: &case_cdfs,
        heat_cases: &heat_cases,
        heat_populations: &heat_populations,
        heat: &heat,
        heat_hidden: ranked.len().saturating_sub(HEATMAP_MAX_CASES),
        capacity: &capacity,
    };
    charts::failover_charts_svg(&set).map_err(chart_error)
}
