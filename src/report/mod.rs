//! Reports: turn [`Metrics`] into files and text. Reports never simulate.
//!
//! - `tables`: the CSV tables (and the streamed per-user table).
//! - `charts`: PNG and SVG charts drawn with plotters.
//! - `terminal`: the summary printed at the end of a run.
//! - `output`: the atomic output folder.

pub mod charts;
mod failover_tables;
pub mod output;
pub mod tables;
pub mod terminal;

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::engine::Metrics;
use crate::error::{Error, Result};
use crate::world::World;

/// Writes every table and chart for `world`'s results into `dir`; returns the files written.
pub fn write_all(dir: &Path, world: &World, m: &Metrics) -> Result<Vec<PathBuf>> {
    let mut files = tables::write_tables(dir, world, m)?;
    files.extend(write_charts(dir, world, m)?);
    Ok(files)
}

/// Draws the baseline charts: the user map, the RTT CDF per population and the load per egress IP.
pub fn write_charts(dir: &Path, world: &World, m: &Metrics) -> Result<Vec<PathBuf>> {
    let catalog = Catalog::embedded();
    let outlines: Vec<geo::MultiPolygon<f64>> =
        catalog.outlines.iter().map(|o| o.shape.clone()).collect();
    let sites: Vec<charts::EgressSite> = world
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
        .collect();
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
    let case = 0;
    let cdfs: Vec<charts::CdfSeries> = world
        .populations
        .iter()
        .enumerate()
        .map(|(pi, p)| charts::CdfSeries {
            name: p.name.clone(),
            points: m.total(case, Some(pi), None).rtt.cdf(),
        })
        .collect();
    let all = m.total(case, None, None).requests.max(1);
    let load: Vec<charts::LoadBar> = (0..m.slots)
        .filter_map(|s| {
            let t = m.total(case, None, Some(s));
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
        case: &world.cases[case].name,
        outlines: &outlines,
        sites: &sites,
        points: &points,
        cdfs: &cdfs,
        load: &load,
    };
    charts::write_charts(dir, &set).map_err(|e| Error::Internal(e.to_string()))
}
