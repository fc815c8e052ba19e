//! Gateway rule listings: import them into a scenario's `[[policy]]` tables, export a scenario's
//! policies in the API's rule shape.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Options of `egress-sim rules import`.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The rules JSON (`{"result": [...]}` or a bare array).
    pub rules: PathBuf,
    /// The scenario whose egress IPs the addresses map to.
    pub scenario: PathBuf,
    /// Where to write the new scenario (default: standard output).
    pub out: Option<PathBuf>,
}

/// Options of `egress-sim rules export`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The scenario.
    pub scenario: PathBuf,
    /// Where to write the JSON (default: standard output).
    pub out: Option<PathBuf>,
}

/// Runs `rules import`; returns the text to print on standard output.
pub fn import(_opts: &ImportOptions) -> Result<String> {
    Err(Error::Internal("rules import is not implemented yet".into()))
}

/// Runs `rules export`; returns the text to print on standard output.
pub fn export(_opts: &ExportOptions) -> Result<String> {
    Err(Error::Internal("rules export is not implemented yet".into()))
}
