//! The command-line commands as library functions: each takes plain options, does its job through the
//! library, and returns what to print ([`Printed`]). `main.rs` only parses arguments, calls these and
//! prints; nothing here prints by itself.

use std::io::IsTerminal;
use std::path::Path;

use crate::error::Result;
use crate::explain::{explain_path, PathQuery};
use crate::pipeline::{self, Progress, RunSpec};
use crate::scenario::{self, Overrides};

pub use crate::printed::Printed;

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

/// Runs a scenario end to end; prints the summary unless `quiet` (which also hides the progress
/// bar). What must be seen before the simulation starts (the size of `users.csv`) goes to `show`
/// as it happens (warnings even when `quiet`).
pub fn run(spec: &RunSpec, quiet: bool, show: fn(&str)) -> Result<Printed> {
    let finished = pipeline::run(spec, &Bar::new(quiet, show))?;
    Ok(Printed {
        text: if quiet {
            String::new()
        } else {
            finished.summary
        },
        warnings: finished.warnings,
    })
}

/// Validates a scenario without simulating; returns a one-paragraph description.
pub fn check(path: &Path) -> Result<String> {
    check_with(path, &Overrides::default())
}

/// [`check`] with setting overrides (`--geoip`).
pub fn check_with(path: &Path, overrides: &Overrides) -> Result<String> {
    let loaded = scenario::load(path, overrides)?;
    let w = &loaded.world;
    let mut s = String::new();
    for warn in &loaded.warnings {
        s.push_str(warn);
        s.push('\n');
    }
    let mut dcs: Vec<&str> = w
        .egress
        .iter()
        .map(|e| w.datacenters[e.datacenter as usize].code.as_str())
        .collect();
    dcs.dedup();
    s.push_str(&format!(
        "{}: OK\n  scenario `{}`: {} egress IPs ({}), {} populations ({} users × {} requests), {} resources, {} case{}\n",
        path.display(),
        w.name,
        w.egress.len(),
        dcs.join(", "),
        w.populations.len(),
        w.users,
        w.requests_per_user,
        w.resources.len(),
        w.cases.len(),
        if w.cases.len() == 1 { "" } else { "s" }
    ));
    for p in &w.populations {
        s.push_str(&format!(
            "  population `{}`: {} users, {}, access {}\n",
            p.name, p.users, p.placement.description, p.access_name
        ));
    }
    Ok(s)
}

/// Explains the model's RTT between two places, as a table or (`json`) one JSON object.
pub fn latency(query: &PathQuery, json: bool) -> Result<String> {
    let x = explain_path(query)?;
    if json {
        x.to_json()
    } else {
        Ok(x.to_table())
    }
}
