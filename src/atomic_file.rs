//! Writing one output file so that nobody ever sees it half-written.

use std::fs;
use std::path::Path;

use crate::error::{Error, InputError, Result};
use crate::interrupt::Listed;

/// Writes `text` to `path` through a temporary sibling and a rename, so that a reader (or a failed
/// run) never sees a half-written file and an existing file is replaced in one step.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<()> {
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
    // Removed by the interrupt handler if the process is stopped before the rename.
    let _listed = Listed::new(&tmp);
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
