//! The results of a run, computed once: between the engine's finished [`Metrics`] and every output
//! there is one [`Results`], built by [`Results::compute`]; every output (CSV tables, charts,
//! `report.html`, the terminal summary) only reads it.
//!
//! - `tables/`: one typed row struct per CSV table (serde derives the header from the fields);
//! - `values.rs`: fixed-decimal CSV values; `human.rs`: the one number formatter for people;
//! - `cases.rs`, `impact.rs`: what each case did against the baseline; `ranking.rs`: the one
//!   most-harmful-first ranking;
//! - `capacity.rs`: connections against the per-origin limit;
//! - `findings/`: redundancy findings and recommendations;
//! - `charts.rs`: what the charts draw; `typical.rs`: a typical user's round trip per population;
//! - `run_summary.rs`: the end-of-run summary as a JSON object (`run --format json`).
//!
//! Analysis reads the engine's results (and, for the typical users, traces a handful of users
//! through the engine's routing); it never runs a simulation and never writes files.

pub mod capacity;
pub mod cases;
pub mod charts;
pub mod comparison;
pub mod findings;
pub mod human;
pub mod impact;
pub mod ranking;
mod run_info;
pub mod run_summary;
pub mod tables;
pub mod typical;
pub mod values;

pub use run_info::RunInfo;

use crate::engine::Metrics;
use crate::error::Result;
use crate::world::World;
use capacity::Capacity;
use cases::{Baseline, CaseFigures};
use charts::ChartInputs;
use findings::Finding;
use ranking::{Candidate, TieBreak};
use tables::Tables;
use typical::TypicalTrip;

/// Everything the outputs show about one run.
#[derive(Debug, Clone)]
pub struct Results<'w> {
    /// The simulated world (names, settings, descriptions).
    pub world: &'w World,
    /// When and by which version the run was made.
    pub run: RunInfo,
    /// The CSV tables' rows.
    pub tables: Tables,
    /// Per case (index 0 is the baseline): its impact and what it moved.
    pub cases: Vec<CaseFigures>,
    /// Failure cases, most harmful first, ties in case order (report, charts).
    pub ranked: Vec<usize>,
    /// Failure cases, most harmful first, ties by traffic moved (terminal).
    pub ranked_by_movement: Vec<usize>,
    /// The baseline per population and overall.
    pub baseline: Baseline,
    /// Findings, most severe first (the rows of `redundancy.csv`).
    pub findings: Vec<Finding>,
    /// Connections against the per-origin limit.
    pub capacity: Capacity,
    /// What the charts draw.
    pub charts: ChartInputs,
    /// A typical user's round trip per population (empty without destinations).
    pub typical: Vec<Option<TypicalTrip>>,
}

impl<'w> Results<'w> {
    /// Computes the results of `world`'s finished simulation `m`.
    /// (`engine::simulate` only ever returns finished metrics: failure cases are totals, not
    /// differences from the baseline.)
    pub fn compute(world: &'w World, m: &Metrics, run: RunInfo) -> Result<Self> {
        let cases = cases::case_figures(m);
        let capacity = Capacity::new(world, m);
        let rank = |ties| {
            let candidates = (1..m.cases)
                .map(|c| Candidate {
                    case: c,
                    harm: cases[c].impact.harm_score(),
                    moved: cases[c].moved,
                })
                .collect();
            ranking::rank(candidates, ties)
        };
        let (ranked, ranked_by_movement) =
            (rank(TieBreak::CaseOrder), rank(TieBreak::TrafficMoved));
        let findings = findings::findings(&findings::Inputs {
            world,
            m,
            cases: &cases,
            capacity: &capacity,
        });
        let tables = Tables::build(&tables::Inputs {
            world,
            m,
            cases: &cases,
            capacity: &capacity,
            findings: &findings,
        });
        let charts = ChartInputs::build(&charts::Inputs {
            world,
            m,
            cases: &cases,
            ranked: &ranked,
            capacity: &capacity,
            egress_load: &tables.egress_load,
        });
        Ok(Self {
            world,
            run,
            baseline: Baseline::new(m),
            typical: typical::trips(world),
            tables,
            cases,
            ranked,
            ranked_by_movement,
            findings,
            capacity,
            charts,
        })
    }
}

#[cfg(test)]
mod tests;
