//! The command-line commands as library functions: each takes plain options, does its job through the
//! library, and returns what to print ([`Printed`]). `main.rs` only parses arguments, calls these and
//! prints; nothing here prints by itself.

use std::io::IsTerminal;
use std::path::Path;

use crate::error::Result;
use crate::explain::{explain_path, PathQuery};
use crate::pipeline::{self, Progress, RunSpec};
use crate::scenario::Overrides;

use crate::printed::json;
pub use crate::printed::{Format, Printed};

/// A progress bar on standard error, when it is a terminal; notices go to `show`.
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    show: fn(&str),
}

impl Progress for Bar {
    fn start(&self, users: u64) {
        if let Some(b) = &self.bar {
            b.set_length(users);
        }
    }
    fn advance(&self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
    fn notice(&self, text: &str, warning: bool) {
        if warning || !self.quiet {
            match &self.bar {
                Some(b) => b.suspend(|| (self.show)(text)),
                None => (self.show)(text),
            }
        }
    }
}

impl Bar {
    fn new(quiet: bool, show: fn(&str)) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} simulating {bar:40} {human_pos}/{human_len} users ({eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Self { bar, quiet, show }
    }
}

/// How `run` shows itself.
#[derive(Debug, Clone, Copy)]
pub struct RunDisplay {
    /// Print nothing but warnings and errors (no progress bar, no summary).
    pub quiet: bool,
    /// The summary as text or as one JSON object.
    pub format: Format,
    /// Where what must be seen before the simulation starts goes (the size of `users.csv`), as it
    /// happens; warnings even when `quiet`.
    pub show: fn(&str),
}

/// Runs a scenario end to end; returns the summary (nothing when quiet).
pub fn run(spec: &RunSpec, display: &RunDisplay) -> Result<Printed> {
    let finished = pipeline::run(spec, &Bar::new(display.quiet, display.show))?;
    let text = match (display.quiet, display.format) {
        (true, _) => String::new(),
        (false, Format::Text) => finished.summary,
        (false, Format::Json) => json(&finished.data)?,
    };
    Ok(Printed {
        text,
        warnings: finished.warnings,
    })
}

/// Validates a scenario without simulating; returns a one-paragraph description.
pub fn check(path: &Path) -> Result<String> {
    check_with(path, &Overrides::default())
}

/// [`check`] with setting overrides (`--geoip`).
pub fn check_with(path: &Path, overrides: &Overrides) -> Result<String> {
    crate::check::check(path, overrides, Format::Text)
}

/// Explains the model's RTT between two places, as a table or one JSON object.
pub fn latency(query: &PathQuery, format: Format) -> Result<String> {
    let x = explain_path(query)?;
    match format {
        Format::Text => Ok(x.to_table()),
        Format::Json => json(&x),
    }
}
