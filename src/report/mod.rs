//! Outputs: every file and text a run or a comparison produces, each a writer of already computed
//! results ([`crate::analysis::Results`], [`crate::analysis::comparison::Comparison`]). Outputs never simulate
//! and never read the engine's metrics: no file under `report/` names the engine module (a test
//! checks).
//!
//! One trait, [`Output`], one implementation per output:
//! - `csv.rs`: every CSV table of a run (each a list of typed rows) and the streamed `users.csv`;
//! - `charts/`: each chart as PNG and SVG;
//! - `html/`: `report.html`;
//! - `terminal.rs`: the end-of-run summary;
//! - `comparison.rs`: `comparison.csv`, `comparison.html` and the comparison's terminal table;
//! - `folder.rs`: the atomic output folder the files go to.

pub mod charts;
pub mod comparison;
pub mod csv;
pub mod folder;
pub mod html;
pub mod per_user;
pub mod plan;
mod stale;
pub mod terminal;

use std::path::{Path, PathBuf};

use crate::analysis::Results;
use crate::error::Result;

/// Where outputs write: a folder (the run's staging folder), the files written so far, and text for
/// the terminal.
#[derive(Debug)]
pub struct Destination {
    dir: PathBuf,
    files: Vec<PathBuf>,
    text: String,
}

impl Destination {
    /// Outputs into `dir` (which must exist).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: Vec::new(),
            text: String::new(),
        }
    }

    /// The path of a new file `name` in the folder, recorded as written.
    pub fn file(&mut self, name: &str) -> PathBuf {
        let path = self.dir.join(name);
        self.files.push(path.clone());
        path
    }

    /// Appends text for the terminal.
    pub fn print(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Files written, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The text for the terminal.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// An output of results `R`: a file (or a set of files), or text for the terminal.
pub trait Output<R: ?Sized> {
    /// Writes `r` to `to`.
    fn write(&self, r: &R, to: &mut Destination) -> Result<()>;
}

/// Every file output of a run, in the order they are written (the terminal summary comes after the
/// folder is in place, see [`terminal::Summary`]).
pub fn run_outputs<'w>() -> Vec<Box<dyn Output<Results<'w>>>> {
    let mut out: Vec<Box<dyn Output<Results<'w>>>> = Vec::new();
    out.extend(
        csv::TABLES
            .iter()
            .map(|t| Box::new(*t) as Box<dyn Output<Results>>),
    );
    out.extend(
        charts::CHARTS
            .iter()
            .map(|c| Box::new(*c) as Box<dyn Output<Results>>),
    );
    out.push(Box::new(plan::PlanFiles));
    out.push(Box::new(charts::PlanCharts));
    out.push(Box::new(html::Report));
    out
}

/// Writes every file output of `r` into `dir`; returns the files written.
pub fn write_all(r: &Results, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut to = Destination::new(dir);
    for o in run_outputs() {
        o.write(r, &mut to)?;
    }
    Ok(to.files)
}

#[cfg(test)]
mod tests {
    /// Outputs read results only: no file under `src/report/` may name the engine.
    #[test]
    fn outputs_never_use_the_engine() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report");
        let mut stack = vec![root];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // Spelt in pieces so this file does not match itself.
                    assert!(
                        !text.contains(concat!("crate", "::engine"))
                            && !text.contains(concat!("Metr", "ics")),
                        "{} uses the engine",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10);
    }
}
