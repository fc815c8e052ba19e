//! A run from start to finish, as a library function: load the scenario → simulate → analyse →
//! write every output into an atomic folder. `egress-sim run` and `egress-sim compare` (for scenario
//! files) both call [`run`]; neither prints anything here: warnings and the summary are returned.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::analysis::run_summary::{PhaseSeconds, RunContext, RunSummary};
use crate::analysis::{Results, RunInfo};
use crate::engine::{self, SimOptions, UserRow};
use crate::error::Result;
use crate::report::csv::UsersCsv;
use crate::report::folder::OutputDir;
use crate::report::per_user::CaseSelection;
use crate::report::terminal::{Summary, Timings};
use crate::report::{self, Destination, Output};
use crate::scenario::{self, Overrides};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Output folder (default `output/<scenario-name>`).
    pub out: Option<PathBuf>,
    /// Replace a non-empty folder egress-sim did not create.
    pub force: bool,
    /// Setting overrides.
    pub overrides: Overrides,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Stream `users.csv`.
    pub per_user: bool,
    /// The cases `users.csv` covers, by name (empty: every case).
    pub per_user_cases: Vec<String>,
}

/// Receives the simulation's progress (a progress bar in the CLI).
pub trait Progress: Sync {
    /// The simulation of `users` users starts.
    fn start(&self, users: u64);
    /// `done` users are simulated.
    fn advance(&self, done: u64);
    /// The simulation is over.
    fn finish(&self);
    /// Something to show before the simulation starts (the size `users.csv` will have); a
    /// `warning` is shown even to a quiet run.
    fn notice(&self, _text: &str, _warning: bool) {}
}

/// No progress reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The folder holding the results.
    pub dir: PathBuf,
    /// Scenario warnings (legal but probably not what was meant).
    pub warnings: Vec<String>,
    /// The end-of-run summary for the terminal.
    pub summary: String,
    /// The same summary as data (`--format json`).
    pub data: RunSummary,
    /// How long each phase took.
    pub timings: Timings,
}

/// What a run can carry beyond its [`RunSpec`]: the scenario's text (instead of reading the file),
/// and a plan whose final world this run is (`egress-sim plan`), checked against the run and
/// written with its outputs.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// The scenario text, compiled as if it were `spec.scenario`'s (relative paths resolve there).
    pub source: Option<crate::error::Source>,
    /// The plan this run is the final world of.
    pub plan: Option<std::sync::Arc<crate::analysis::plan::PlanResults>>,
}

/// Runs `spec` end to end.
pub fn run(spec: &RunSpec, progress: &dyn Progress) -> Result<Finished> {
    run_with(spec, progress, Extra::default())
}

/// [`run`] with a scenario text and a plan (see [`Extra`]). With a plan, the planner's figures
/// must equal the run's (an internal error otherwise, and nothing is written).
pub fn run_with(spec: &RunSpec, progress: &dyn Progress, extra: Extra) -> Result<Finished> {
    let t0 = Instant::now();
    let overrides = Overrides {
        threads: spec.threads,
        ..spec.overrides.clone()
    };
    let loaded = match &extra.source {
        Some(source) => scenario::compile(source, &overrides)?,
        None => scenario::load(&spec.scenario, &overrides)?,
    };
    let world = loaded.world;
    let target = spec
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&world.name));
    // Checked before anything is written.
    let per_user_cases = spec
        .per_user
        .then(|| CaseSelection::named(&world, &spec.per_user_cases))
        .transpose()?;
    let out = OutputDir::create(&target, spec.force)?;
    let mut warnings = loaded.warnings;
    warnings.extend_from_slice(out.notes());
    let mut timings = Timings {
        load: t0.elapsed(),
        ..Timings::default()
    };

    let t1 = Instant::now();
    let world = &world;
    let row_cases = per_user_cases
        .as_ref()
        .map_or_else(Vec::new, |c| c.selected.clone());
    let mut users_csv = if let Some(cases) = per_user_cases {
        let (text, warning) = cases.describe(world);
        progress.notice(&text, warning);
        Some((UsersCsv::create(out.path())?, cases))
    } else {
        None
    };
    let mut sink = |rows: &[UserRow]| match users_csv.as_mut() {
        Some((w, cases)) => w.write(
            rows.iter()
                .filter(|r| cases.includes(r.case))
                .map(|r| crate::analysis::tables::UserRecord::new(world, r)),
        ),
        None => Ok(()),
    };
    let sim = SimOptions {
        threads: spec.threads,
        per_user: spec.per_user,
        per_user_cases: row_cases,
    };
    progress.start(world.users);
    let metrics = engine::simulate(world, &sim, &|done| progress.advance(done), &mut sink);
    progress.finish();
    let metrics = metrics?;
    timings.simulate = t1.elapsed();

    let t2 = Instant::now();
    if let Some((w, _)) = users_csv {
        w.finish()?;
    }
    let mut results = Results::compute(world, &metrics, RunInfo::now())?;
    drop(metrics);
    if let Some(plan) = extra.plan {
        plan.verify(&results)?;
        results.plan = Some(plan);
    }
    report::write_all(&results, out.path())?;
    let dir = out.commit()?;
    timings.output = t2.elapsed();
    finished(&results, dir, timings, warnings)
}

/// The summaries of a run whose results are in `dir`.
fn finished(
    results: &Results,
    dir: PathBuf,
    timings: Timings,
    warnings: Vec<String>,
) -> Result<Finished> {
    let summary = Summary {
        timings,
        dir: dir.display().to_string(),
    };
    let mut text = Destination::new(&dir);
    summary.write(results, &mut text)?;
    let data = RunSummary::new(
        results,
        RunContext {
            output: summary.dir.clone(),
            timings: PhaseSeconds {
                load: timings.load.as_secs_f64(),
                simulate: timings.simulate.as_secs_f64(),
                output: timings.output.as_secs_f64(),
            },
            warnings: warnings.clone(),
        },
    );
    Ok(Finished {
        dir,
        warnings,
        summary: text.text().to_string(),
        data,
        timings,
    })
}
