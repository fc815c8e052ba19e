//! Gateway rule listings: import them into a scenario's `[[policy]]` tables, export a scenario's
//! policies in the API's rule shape.
//!
//! The API shape is described in GATEWAY-REFERENCE.md ("The API rule object"): a listing is
//! `{"success": true, "result": [rule, ...]}` and an egress rule carries `action = "egress"`, three filter
//! expressions and `rule_settings.egress` with addresses (`ipv4`, `ipv6`, `ipv4_fallback`).
//!
//! # `rules import`
//!
//! Reads a listing (the API envelope or a bare array; unknown fields are ignored), keeps the rules with
//! `action == "egress"`, maps their addresses to the scenario's egress ids and writes the scenario with
//! its `[[policy]]` tables replaced (the rest of the file, comments included, is kept as written).
//!
//! Exit status, chosen so that a partial import is still usable:
//! - 0 when at least one egress rule was imported, or when the listing has no egress rules at all
//!   (the scenario is then written without policies). Every rule that had to be left out (an address
//!   the scenario does not have, an expression that does not parse or type-check) is reported on
//!   standard error with its name, followed by a summary line.
//! - 2 when the rules file cannot be read, is not JSON, is not a rule listing, or when it has egress
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

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, InputError, Result};

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
}

/// Options of `egress-sim rules export`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The scenario.
    pub scenario: PathBuf,
    /// Where to write the JSON (default: standard output).
    pub out: Option<PathBuf>,
}

/// Writes `text` to `path` through a temporary sibling and a rename, so that a reader (or a failed
/// run) never sees a half-written file and an existing file is replaced in one step.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    // A directory or a path without a file name is the user's mistake, not an I/O failure.
    let Some(file_name) = path.file_name() else {
        return Err(InputError::new(format!(
            "`{}` does not name a file to write",
            path.display()
        ))
        .with_help("give a file path such as `out/imported.toml`")
        .into());
    };
    if path.is_dir() {
        return Err(InputError::new(format!(
            "`{}` is a directory, not a file to write",
            path.display()
        ))
        .with_help("give a file path inside it")
        .into());
    }
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    if let Err(e) = fs::write(&tmp, text) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(format!("cannot write `{}`", tmp.display()), e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(
            format!("cannot move `{}` to `{}`", tmp.display(), path.display()),
            e,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(dir.path(), "x").unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn atomic_write_into_a_missing_folder_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(&dir.path().join("no/such/out.json"), "x").unwrap_err();
        assert_eq!(e.exit_code(), 1);
    }
}
