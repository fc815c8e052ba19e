//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) that
//! tells the story of a run, section by section, with the same numbers as the CSV tables.
//!
//! Layout: `page.rs` assembles the page in section order; each section has its own file
//! (`headline.rs`, `sites.rs`, `latency.rs`, `policies.rs`, `geolocation.rs`, `failover.rs`,
//! `capacity.rs`, `findings.rs`, `method.rs`, and `plan.rs` when the run comes from `plan`); `markup.rs` escapes text and builds tables;
//! `numbers.rs` makes number cells; `style.rs` is the stylesheet.
//!
//! Every number shown next to a `data-value` attribute is a value of the CSV rows (or of the same
//! figures) in [`Results`]; `data-value` holds the exact CSV string.

mod capacity;
mod failover;
mod findings;
mod geolocation;
mod headline;
mod latency;
pub(crate) mod markup;
mod method;
mod numbers;
mod page;
mod plan;
mod policies;
mod sites;
mod style;

use super::{Destination, Output};
use crate::analysis::Results;
use crate::error::{Error, Result};

/// `report.html`.
#[derive(Debug, Clone, Copy)]
pub struct Report;

impl Output<Results<'_>> for Report {
    fn write(&self, r: &Results, to: &mut Destination) -> Result<()> {
        let html = render(r)?;
        let path = to.file("report.html");
        std::fs::write(&path, html)
            .map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))
    }
}

/// The whole page as text.
pub fn render(r: &Results) -> Result<String> {
    page::render(r)
}
