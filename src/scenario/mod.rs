//! Scenario files: load, validate, and compile into a [`World`].
//!
//! `raw` mirrors the TOML; `compile` resolves every reference and checks every value, collecting all the
//! errors it can find in one pass so a user fixes a file in one go rather than one error per run.

mod compile;
mod failures;
mod latency_settings;
mod listed;
mod placement;
mod policies;
mod populations;
pub mod raw;
mod registry;
mod resources;
mod sites;
mod sweep;
mod toml_error;

use std::path::Path;

use crate::error::{Error, Source};
use crate::world::World;

pub use compile::{compile, Overrides, MAX_EGRESS};
pub use policies::{derived_id, MAX_POLICIES};
pub use sweep::{egress_case_name, MAX_CASES};

/// A compiled scenario and the warnings found while compiling it. The world is complete (failure sweep
/// cases included) and is never changed afterwards.
#[derive(Debug)]
pub struct Loaded {
    /// The compiled world.
    pub world: World,
    /// Things that are legal but probably not what the user meant.
    pub warnings: Vec<String>,
}

/// Reads, parses, validates and compiles the scenario at `path`, sweep cases included.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Loaded, Error> {
    let source = Source::read(path)?;
    compile(&source, overrides)
}
