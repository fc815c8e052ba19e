//! Gateway rule listings: import them into a scenario's `[[policy]]` tables, export a scenario's
//! policies in the API's rule shape.
//!
//! The API shape is described in docs/gateway-semantics.md ("Rule objects"): a listing is
//! `{"success": true, "result": [rule, ...]}` and an egress rule carries `action = "egress"`, three filter
//! expressions and `rule_settings.egress` with addresses (`ipv4`, `ipv6`, `ipv4_fallback`).
//!
//! # `rules import`
//!
//! Reads a listing (the API envelope or a bare array; unknown fields are ignored), keeps the rules with
//! `action == "egress"`, maps their addresses to the scenario's egress ids and writes the scenario with
//! its `[[policy]]` tables replaced (the rest of the file, comments included, is kept as written).
//! With `--lists`, list references (`$<id>`) are replaced by the lists' items first (`lists.rs`).
//!
//! Exit status, chosen so that a partial import is still usable:
//! - 0 when at least one egress rule was imported, or when the listing has no egress rules at all
//!   (the scenario is then written without policies). Every rule that had to be left out (an address
//!   the scenario does not have, a list it cannot resolve, an expression that does not parse or
//!   type-check) is reported on
//!   standard error with its name, followed by a summary line.
//! - 2 when the rules or lists file cannot be read, is not JSON, is not a listing, or when it has egress
//!   rules but none of them could be imported (nothing is written then).
//! - 1 when the generated scenario does not compile, which would be a bug in the importer.
//!
//! # `rules export`
//!
//! Writes the scenario's policies, in precedence order, as `{"success": true, "errors": [],
//! "messages": [], "result": [...]}` with addresses rather than egress ids, so the output has the shape
//! the API returns. `rules import` of an export gives the same policies back.

mod export;
mod import;
mod json;
mod lists;

use std::path::PathBuf;

use crate::atomic_file::write_atomic;

pub use export::export;
pub use import::import;

/// Options of `egress-sim rules import`.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The rules JSON (`{"result": [...]}` or a bare array).
    pub rules: PathBuf,
    /// The scenario whose egress IPs the addresses map to.
    pub scenario: PathBuf,
    /// Where to write the new scenario (default: standard output).
    pub out: Option<PathBuf>,
    /// The account's Gateway lists (the API's list listing), to resolve `$<id>` references.
    pub lists: Option<PathBuf>,
}

/// Options of `egress-sim rules export`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The scenario.
    pub scenario: PathBuf,
    /// Where to write the JSON (default: standard output).
    pub out: Option<PathBuf>,
}
