//! `compare`: two runs side by side ("what does adding a Frankfurt IP buy us?").
//!
//! Works on output folders (read back through the runs' own typed CSV rows, so any two runs can be
//! compared later) or on scenario files (each run first through [`crate::pipeline::run`], with the
//! same overrides, beside the comparison folder). The [`Comparison`] is written by the outputs in
//! `report/comparison.rs`: `comparison.csv` (tidy: section, entity, metric, a, b, difference), a
//! self-contained `comparison.html`, and a terminal table.

use std::path::{Path, PathBuf};

use crate::analysis::comparison::{read_run, Comparison};
use crate::error::{Error, InputError, Result};
use crate::pipeline::{self, RunSpec, Silent};
use crate::printed::{Format, Printed};
use crate::report::comparison::{ComparisonCsv, ComparisonHtml, ComparisonJson, ComparisonTable};
use crate::report::folder::{check_target, OutputDir};
use crate::report::{Destination, Output};
use crate::scenario::Overrides;

/// Options of `egress-sim compare`.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// First run: an output folder or a scenario file.
    pub a: PathBuf,
    /// Second run: an output folder or a scenario file.
    pub b: PathBuf,
    /// Output folder (default `output/compare-<a>-vs-<b>`).
    pub out: Option<PathBuf>,
    /// Replace a non-empty folder egress-sim did not create.
    pub force: bool,
    /// Overrides for scenario files (the same for both).
    pub overrides: Overrides,
    /// Worker threads for scenario files.
    pub threads: usize,
    /// Print nothing.
    pub quiet: bool,
    /// The terminal table, or one JSON object.
    pub format: Format,
}

/// A run's output folder: the folder itself, or a scenario file run into `scratch` first (its
/// warnings are added to `warnings`).
fn resolve(
    path: &Path,
    scratch: &Path,
    opts: &CompareOptions,
    warnings: &mut Vec<String>,
) -> Result<PathBuf> {
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    if path.extension().is_some_and(|e| e == "toml") {
        let finished = pipeline::run(
            &RunSpec {
                scenario: path.to_path_buf(),
                out: Some(scratch.to_path_buf()),
                force: true,
                overrides: opts.overrides.clone(),
                threads: opts.threads,
                per_user: false,
                per_user_cases: Vec::new(),
            },
            &Silent,
        )?;
        warnings.extend(finished.warnings);
        return Ok(finished.dir);
    }
    Err(Error::Input(
        InputError::new(format!(
            "`{}` is neither an output folder nor a scenario file",
            path.display()
        ))
        .with_help("pass two folders written by `egress-sim run`, or two `.toml` scenario files"),
    ))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("run")
        .to_string()
}

/// Runs `compare`.
pub fn compare(opts: &CompareOptions) -> Result<Printed> {
    let target = opts.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!("compare-{}-vs-{}", stem(&opts.a), stem(&opts.b)))
    });
    // Scenario runs go beside the comparison, so the comparison folder itself stays atomic.
    let runs = target.with_file_name(format!(
        "{}.runs",
        target
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("compare")
    ));
    // Refused before either scenario runs, not after.
    check_target(&target, opts.force)?;
    let mut warnings = Vec::new();
    let dir_a = resolve(&opts.a, &runs.join("a"), opts, &mut warnings)?;
    let dir_b = resolve(&opts.b, &runs.join("b"), opts, &mut warnings)?;
    let comparison = Comparison::new(
        opts.a.display().to_string(),
        opts.b.display().to_string(),
        read_run(&dir_a)?,
        read_run(&dir_b)?,
    );
    let out = OutputDir::create(&target, opts.force)?;
    warnings.extend_from_slice(out.notes());
    let mut to = Destination::new(out.path());
    ComparisonCsv.write(&comparison, &mut to)?;
    ComparisonHtml.write(&comparison, &mut to)?;
    let final_dir = out.commit()?;
    let mut text = Destination::new(&final_dir);
    let dir = final_dir.display().to_string();
    match (opts.quiet, opts.format) {
        (true, _) => {}
        (false, Format::Text) => ComparisonTable { dir }.write(&comparison, &mut text)?,
        (false, Format::Json) => ComparisonJson { dir }.write(&comparison, &mut text)?,
    }
    Ok(Printed {
        text: text.text().to_string(),
        warnings,
    })
}
