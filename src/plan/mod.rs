//! `egress-sim plan`: where to reserve the next K dedicated egress IPs.
//!
//! The scenario's egress IPs are kept (or, with `--from-scratch`, dropped) and K planned IPs are
//! added, one per candidate data center; a plan world is the scenario with those `[[egress]]`
//! entries, exactly what `egress-sim run plan.toml` compiles. The search (`search.rs`: greedy
//! additions, then Teitz–Bart swaps, or every set with `--exhaustive`) judges plan worlds with an
//! exact incremental evaluator (`eval/`) that routes through planned IPs with the engine's own
//! functions; the final plan world then runs through `pipeline` like any scenario, and its figures
//! must equal the evaluator's.
//!
//! - `settings.rs`: options over the scenario's `[plan]` table; `candidates.rs`: candidate tokens;
//! - `new_ips.rs`: each candidate's planned IP; `plan_file.rs`: `plan.toml`;
//! - `results.rs`: the findings as `analysis::plan::PlanResults`.

mod candidates;
pub(crate) mod eval;
mod new_ips;
mod plan_file;
mod results;
mod search;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use settings::PlanOptions;

use crate::engine::route::Listed;
use crate::error::{Error, Result, Source};
use crate::pipeline::{self, Extra, RunSpec, Silent};
use crate::printed::Printed;
use crate::report::folder::OutputDir;
use crate::scenario::raw::RawScenario;
use crate::scenario::{self, Overrides};
use crate::world::Sweep;
use eval::{Model, ModelInputs};
use plan_file::{render, Edit};
use search::SearchOptions;

/// The comment above the planned `[[egress]]` entries of `plan.toml`.
const HEADING: &str =
    "# Planned by `egress-sim plan`: one new dedicated egress IP per chosen data center.";

/// Plans a scenario: searches, writes the plan folder (the final plan world's run outputs plus
/// `plan.csv`, `candidates.csv`, `plan.toml` and the plan charts) and returns the summary.
pub fn plan(o: &PlanOptions) -> Result<Printed> {
    let source = Source::read(&o.scenario)?;
    let overrides = |sweep: Option<Sweep>| Overrides {
        users: o.users,
        seed: o.seed,
        sweep,
        threads: o.threads,
        ..Overrides::default()
    };
    let loaded = scenario::compile(&source, &overrides(Some(Sweep::None)))?;
    let raw: RawScenario = toml::from_str(&source.text).map_err(|e| {
        Error::Internal(format!(
            "the scenario compiled but does not parse again: {e}"
        ))
    })?;
    let settings = settings::resolve(o, &source, &raw, &loaded.world)?;
    let target = o
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}-plan", loaded.world.name)));
    // Refuse a folder we may not replace before searching, not after.
    drop(OutputDir::create(&target, o.force)?);
    let taken: Vec<String> = loaded.world.egress.iter().map(|e| e.id.clone()).collect();
    let ips = new_ips::planned_ips(&loaded.world, &settings.candidates, &taken);
    let robust = settings.robust != crate::analysis::plan::Robust::None;
    let eval_text = render(
        &source.text,
        &Edit {
            // Without kept IPs the scenario needs one to compile; the model ignores it.
            ips: if settings.from_scratch {
                &ips[..1]
            } else {
                &[]
            },
            allowlist_add: true,
            from_scratch: settings.from_scratch,
            drop_failures: true,
            heading: "",
        },
    )
    .map_err(|e| Error::Internal(format!("cannot edit the scenario: {e}")))?;
    let sweep = if robust { Sweep::N1 } else { Sweep::None };
    let eval_world = scenario::compile(
        &Source::new(&source.path, eval_text),
        &overrides(Some(sweep)),
    )?
    .world;
    let model = Model::new(ModelInputs {
        world: &eval_world,
        kept: if settings.from_scratch {
            0
        } else {
            eval_world.egress.len()
        },
        candidates: settings
            .candidates
            .iter()
            .zip(&ips)
            .map(|(&d, ip)| (d, ip.ipv4))
            .collect(),
        listed: match settings.allowlists {
            crate::analysis::plan::Allowlists::Add => Listed::Everywhere,
            crate::analysis::plan::Allowlists::Keep => Listed::Nowhere,
        },
        robust,
        threads: o.threads,
    })?;
    let search_options = SearchOptions {
        add: settings.add,
        objective: settings.objective.clone(),
        robust: settings.robust,
        exhaustive: settings.exhaustive,
        always_add: settings.from_scratch,
    };
    let found = search::search(&model, &search_options);
    let chosen: Vec<_> = found
        .state
        .chosen
        .iter()
        .map(|&c| ips[c as usize].clone())
        .collect();
    let plan_text = render(
        &source.text,
        &Edit {
            ips: &chosen,
            allowlist_add: settings.allowlists == crate::analysis::plan::Allowlists::Add,
            from_scratch: settings.from_scratch,
            drop_failures: false,
            heading: HEADING,
        },
    )
    .map_err(|e| Error::Internal(format!("cannot edit the scenario: {e}")))?;
    let plan_toml = plan_file::rebase_paths(&plan_text, &source_dir(&source.path), &target)
        .map_err(|e| Error::Internal(format!("cannot edit the scenario: {e}")))?;
    let results = results::Inputs {
        world: &loaded.world,
        model: &model,
        settings: &settings,
        search: &search_options,
        ips: &ips,
        found: &found,
        plan_toml,
    }
    .build();
    let results = Arc::new(results);
    let spec = RunSpec {
        scenario: o.scenario.clone(),
        out: Some(target),
        force: o.force,
        overrides: overrides(robust.then_some(Sweep::N1)),
        threads: o.threads,
        per_user: false,
        per_user_cases: Vec::new(),
    };
    let extra = Extra {
        source: Some(Source::new(&source.path, plan_text)),
        plan: Some(results.clone()),
    };
    let finished = pipeline::run_with(&spec, &Silent, extra)?;
    let mut warnings = loaded.warnings;
    for w in finished.warnings {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
    let text = if o.quiet {
        String::new()
    } else {
        format!(
            "{}\n{}",
            crate::report::plan::terminal(&results),
            finished.summary
        )
    };
    Ok(Printed { text, warnings })
}

/// The folder a scenario's relative paths are relative to.
fn source_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
