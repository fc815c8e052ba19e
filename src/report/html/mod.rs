//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) that
//! tells the story of a run, section by section, with the same numbers as the CSV tables.
//!
//! Layout: `page.rs` assembles the page in section order; each section has its own file
//! (`headline.rs`, `sites.rs`, `latency.rs`, `policies.rs`, `geolocation.rs`, `failover.rs`,
//! `capacity.rs`, `findings.rs`, `method.rs`); `typical.rs` traces one representative user per
//! population; `charts.rs` renders the embedded charts; `markup.rs` escapes text and builds tables;
//! `numbers.rs` formats CSV values for reading; `style.rs` is the stylesheet; `run_info.rs` holds the
//! run date and tool version.
//!
//! Every number shown next to a `data-value` attribute is computed by the same functions, with the
//! same formatting, as the CSV file it comes from; `data-value` holds the exact CSV string.

mod capacity;
mod charts;
mod failover;
mod findings;
mod geolocation;
mod headline;
mod latency;
mod markup;
mod method;
mod numbers;
mod page;
mod policies;
mod run_info;
mod sites;
mod style;
mod typical;

use std::path::{Path, PathBuf};

use crate::engine::Metrics;
use crate::error::{Error, Result};
use crate::world::World;

pub use run_info::RunInfo;

/// Writes `report.html` for `world`'s results into `dir` and returns its path.
pub fn write_report(dir: &Path, world: &World, m: &Metrics, run: &RunInfo) -> Result<PathBuf> {
    let html = render(world, m, run)?;
    let path = dir.join("report.html");
    std::fs::write(&path, html)
        .map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))?;
    Ok(path)
}

/// The whole page as text.
pub fn render(world: &World, m: &Metrics, run: &RunInfo) -> Result<String> {
    page::render(world, m, run)
}
