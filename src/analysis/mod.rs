//! The results of a run, computed once: between the engine's finished [`Metrics`] and every output
//! there is one [`Results`], built by [`Results::compute`]; every output (CSV tables, charts,
//! `report.html`, the terminal summary) only reads it.
//!
//! - `tables/`: one typed row struct per CSV table (serde derives the header from the fields);
//! - `values.rs`: fixed-decimal CSV values; `human.rs`: the one number formatter for people;
//! - `cases.rs`, `impact.rs`: what each case did against the baseline; `ranking.rs`: the one
//!   most-harmful-first ranking;
//! - `capacity.rs`: connections against the per-origin limit; `refusals.rs`: what allowlists
//!   refuse in the baseline;
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
pub mod plan;
pub mod ranking;
pub mod refusals;
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
use ranking::{Candidate, Harm};
use refusals::Refusal;
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
    /// Every failure case, most harmful first ([`ranking`]: the one order of every output).
    pub ranked: Vec<usize>,
    /// The failure cases of `ranked` that change something
    /// ([`CaseFigures::changes_something`]), in the same order: the ones the heatmap, the
    /// failover chart, the report's table and the terminal list; the others are only counted.
    pub with_effect: Vec<usize>,
    /// The baseline per population and overall.
    pub baseline: Baseline,
    /// Findings, most severe first (the rows of `redundancy.csv`).
    pub findings: Vec<Finding>,
    /// Connections against the per-origin limit.
    pub capacity: Capacity,
    /// Requests refused by allowlists in the baseline, per (destination, egress slot).
    pub refusals: Vec<Refusal>,
    /// What the charts draw.
    pub charts: ChartInputs,
    /// A typical user's round trip per population (empty without destinations).
    pub typical: Vec<Option<TypicalTrip>>,
    /// The plan this run is the final world of (`egress-sim plan`), checked against the run.
    pub plan: Option<std::sync::Arc<plan::PlanResults>>,
}

impl<'w> Results<'w> {
    /// Computes the results of `world`'s finished simulation `m`.
    /// (`engine::simulate` only ever returns finished metrics: failure cases are totals, not
    /// differences from the baseline.)
    pub fn compute(world: &'w World, m: &Metrics, run: RunInfo) -> Result<Self> {
        let cases = cases::case_figures(m);
        let capacity = Capacity::new(world, m);
        let ranked = ranking::rank(
            (1..m.cases)
                .map(|c| Candidate {
                    case: c,
                    harm: Harm::of_case(&cases[c]),
                    moved: cases[c].moved,
                })
                .collect(),
        );
        let with_effect: Vec<usize> = ranked
            .iter()
            .copied()
            .filter(|&c| cases[c].changes_something())
            .collect();
        let refusals = refusals::baseline_refusals(world, m);
        let findings = findings::findings(&findings::Inputs {
            world,
            m,
            cases: &cases,
            capacity: &capacity,
            refusals: &refusals,
        });
        let tables = Tables::build(&tables::Inputs {
            world,
            m,
            cases: &cases,
            capacity: &capacity,
            findings: &findings,
        });
        let baseline = Baseline::new(m);
        let charts = ChartInputs::build(&charts::Inputs {
            world,
            m,
            cases: &cases,
            ranked: &ranked,
            with_effect: &with_effect,
            capacity: &capacity,
            baseline: &baseline,
            summary: &tables.summary,
            egress_load: &tables.egress_load,
        });
        let typical = typical::trips(world);
        Ok(Self {
            world,
            run,
            baseline,
            typical,
            tables,
            cases,
            ranked,
            with_effect,
            findings,
            capacity,
            refusals,
            charts,
            plan: None,
        })
    }
}

impl Results<'_> {
    /// Failure cases that change nothing (left out of the lists and charts, only counted).
    pub fn without_effect(&self) -> usize {
        self.ranked.len() - self.with_effect.len()
    }

    /// The failure case the headline calls the worst, and whether it is a single failure (one
    /// data center or one egress IP down): the most harmful single failure that harms anything,
    /// so a regional or multi-site case is never called a single failure; when the run has no
    /// single failure, the most harmful case. `None` when no case harms anything.
    pub fn worst_failure(&self) -> Option<(usize, bool)> {
        let harms = |c: &usize| self.cases[*c].impact.harm_score() > 0.0;
        let single = |c: &usize| ranking::is_single_failure(&self.world.cases[*c]);
        if self.ranked.iter().any(single) {
            self.ranked
                .iter()
                .copied()
                .find(|c| single(c) && harms(c))
                .map(|c| (c, true))
        } else {
            self.ranked
                .first()
                .copied()
                .filter(harms)
                .map(|c| (c, false))
        }
    }
}

#[cfg(test)]
mod tests;
