//! `egress-sim check`: validates a scenario without simulating, and says what it holds, as a short
//! text or (`--format json`) one JSON object that also carries located errors for scripts and
//! editors.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, InputError, Result};
use crate::printed::{json, Format};
use crate::scenario::{self, Loaded, Overrides};
use crate::world::BalancingMode;

/// Version of the JSON object; bump on an incompatible change.
pub const SCHEMA: &str = "egress-sim/check/1";

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The scenario file, as given.
    pub file: String,
    /// True when the scenario compiles.
    pub valid: bool,
    /// What the scenario holds (absent when it is not valid).
    pub scenario: Option<ScenarioFacts>,
    /// Warnings: legal, but probably not what was meant.
    pub warnings: Vec<String>,
    /// Errors, each located where possible (empty when valid).
    pub errors: Vec<ErrorReport>,
}

/// What a valid scenario holds.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioFacts {
    /// Scenario name.
    pub name: String,
    /// Users in all.
    pub users: u64,
    /// Requests per user.
    pub requests_per_user: u32,
    /// Egress IPs: id and data center code.
    pub egress: Vec<EgressFacts>,
    /// Populations: name, users, where, access.
    pub populations: Vec<PopulationFacts>,
    /// Destinations.
    pub resources: usize,
    /// Egress policies.
    pub policies: usize,
    /// Cases, the baseline and any sweep included.
    pub cases: usize,
    /// How unmatched traffic picks its dedicated location: `nearest` or `fastest`.
    pub balancing: &'static str,
}

/// One egress IP.
#[derive(Debug, Clone, Serialize)]
pub struct EgressFacts {
    /// Egress id.
    pub id: String,
    /// Data center code.
    pub datacenter: String,
}

/// One population.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationFacts {
    /// Population name.
    pub name: String,
    /// Users.
    pub users: u64,
    /// Where they are, in words.
    pub placement: String,
    /// Access preset.
    pub access: String,
}

/// One located error.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// What is wrong and what was expected.
    pub message: String,
    /// The file it is in, when known.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// A suggestion, when there is one.
    pub help: Option<String>,
}

impl From<&InputError> for ErrorReport {
    fn from(e: &InputError) -> Self {
        Self {
            message: e.message.clone(),
            file: e.file.as_ref().map(|f| f.display().to_string()),
            line: e.line_col.map(|(l, _)| l),
            column: e.line_col.map(|(_, c)| c),
            help: e.help.clone(),
        }
    }
}

fn facts(loaded: &Loaded) -> ScenarioFacts {
    let w = &loaded.world;
    ScenarioFacts {
        name: w.name.clone(),
        users: w.users,
        requests_per_user: w.requests_per_user,
        egress: w
            .egress
            .iter()
            .map(|e| EgressFacts {
                id: e.id.clone(),
                datacenter: w.datacenters[e.datacenter as usize].code.clone(),
            })
            .collect(),
        populations: w
            .populations
            .iter()
            .map(|p| PopulationFacts {
                name: p.name.clone(),
                users: p.users,
                placement: p.placement.description.clone(),
                access: p.access_name.clone(),
            })
            .collect(),
        resources: w.resources.len(),
        policies: w.policies.len(),
        cases: w.cases.len(),
        balancing: w.balancing.mode.name(),
    }
}

/// Validates `path` and describes it in `format`. With JSON, input errors are part of the object
/// (printed on standard output) as well as the returned error (standard error, exit code 2).
pub fn check(path: &Path, overrides: &Overrides, format: Format) -> Result<String> {
    let file = path.display().to_string();
    match (scenario::load(path, overrides), format) {
        (Ok(loaded), Format::Text) => Ok(text(path, &loaded)),
        (Ok(loaded), Format::Json) => json(&CheckReport {
            schema: SCHEMA,
            file,
            valid: true,
            scenario: Some(facts(&loaded)),
            warnings: loaded.warnings,
            errors: Vec::new(),
        }),
        (Err(e), Format::Json) if e.exit_code() == crate::error::EXIT_INPUT => {
            let report = CheckReport {
                schema: SCHEMA,
                file,
                valid: false,
                scenario: None,
                warnings: Vec::new(),
                errors: input_errors(&e)
                    .into_iter()
                    .map(ErrorReport::from)
                    .collect(),
            };
            Err(Error::WithOutput {
                text: json(&report)?,
                error: Box::new(e),
            })
        }
        (Err(e), _) => Err(e),
    }
}

/// The input errors inside `e`.
fn input_errors(e: &Error) -> Vec<&InputError> {
    match e {
        Error::Input(x) => vec![x],
        Error::Inputs(xs) => xs.iter().collect(),
        Error::Explained { error, .. } | Error::WithOutput { error, .. } => input_errors(error),
        Error::Io { .. } | Error::Internal(_) => Vec::new(),
    }
}

/// The text description: warnings, then one paragraph.
fn text(path: &Path, loaded: &Loaded) -> String {
    let f = facts(loaded);
    let mut s = String::new();
    for warn in &loaded.warnings {
        s.push_str(warn);
        s.push('\n');
    }
    let mut dcs: Vec<&str> = f.egress.iter().map(|e| e.datacenter.as_str()).collect();
    dcs.dedup();
    s.push_str(&format!(
        "{}: OK\n  scenario `{}`: {} egress IPs ({}), {} populations ({} users × {} requests), {} resources, {} case{}\n",
        path.display(),
        f.name,
        f.egress.len(),
        dcs.join(", "),
        f.populations.len(),
        f.users,
        f.requests_per_user,
        f.resources,
        f.cases,
        if f.cases == 1 { "" } else { "s" }
    ));
    for p in &f.populations {
        s.push_str(&format!(
            "  population `{}`: {} users, {}, access {}\n",
            p.name, p.users, p.placement, p.access
        ));
    }
    let how = match loaded.world.balancing.mode {
        BalancingMode::Nearest => "the nearest dedicated location",
        BalancingMode::Fastest => {
            "per destination, the dedicated location with the lowest modelled round trip"
        }
    };
    s.push_str(&format!(
        "  balancing {}: unmatched traffic takes {how}\n",
        f.balancing
    ));
    s
}
