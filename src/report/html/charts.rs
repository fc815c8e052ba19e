//! The charts embedded in the report: the same drawings as the `.svg` files of the run, built from
//! the same inputs, except that the map draws a thinner user sample to keep the page light.

use crate::catalog::Catalog;
use crate::engine::{route, Metrics, Prepared};
use crate::error::{Error, Result};
use crate::world::World;

use super::super::{charts, egress_sites, load_bars, population_cdfs, FailoverInputs};

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
    let ingress = ingress_points(world, m, &points);
    charts::charts_svg(&set, &ingress).map_err(chart_error)
}

/// Failover CDF, heatmap and capacity, from the inputs the chart files use.
fn failover(world: &World, m: &Metrics) -> Result<[String; 3]> {
    let inputs = FailoverInputs::new(world, m);
    let set = inputs.set(&world.name);
    charts::failover_charts_svg(&set).map_err(chart_error)
}
