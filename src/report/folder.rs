//! Atomic output folders: results are written to a temporary sibling and renamed into place at the end,
//! so an interrupted or failed run never leaves a half-written folder that looks complete.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, InputError, Result};

/// Marker file that identifies a folder this tool created (and may therefore replace).
pub const MARKER: &str = ".egress-sim";

/// A results folder being written.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl OutputDir {
    /// Checks that `target` may be (re)written and creates the temporary sibling folder.
    ///
    /// A non-empty folder without the marker is refused unless `force`: it may hold someone's files.
    pub fn create(target: &Path, force: bool) -> Result<Self> {
        if target.exists() {
            if !target.is_dir() {
                return Err(InputError::new(format!(
                    "output path `{}` exists and is not a folder",
                    target.display()
                ))
                .with_help("choose another path with `--out DIR`")
                .into());
            }
            let non_empty = fs::read_dir(target)
                .map_err(|e| Error::io(format!("cannot read `{}`", target.display()), e))?
                .next()
                .is_some();
            if non_empty && !target.join(MARKER).exists() && !force {
                return Err(InputError::new(format!(
                    "output folder `{}` is not empty and was not created by egress-sim",
                    target.display()
                ))
                .with_help(
                    "pass `--force` to replace it, or choose another folder with `--out DIR`",
                )
                .into());
            }
        }
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .map_err(|e| Error::io(format!("cannot create `{}`", parent.display()), e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if staging.exists() {
            let _ = fs::remove_dir_all(&staging);
        }
        fs::create_dir(&staging)
            .map_err(|e| Error::io(format!("cannot create `{}`", staging.display()), e))?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Where files are written until [`commit`](Self::commit).
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Marks the folder as ours and moves it into place, replacing an earlier result.
    pub fn commit(mut self) -> Result<PathBuf> {
        fs::write(
            self.staging.join(MARKER),
            concat!("egress-sim ", env!("CARGO_PKG_VERSION"), "\n"),
        )
        .map_err(|e| Error::io("cannot write the output marker", e))?;
        let old = self.staging.with_extension("old");
        if self.target.exists() {
            fs::rename(&self.target, &old).map_err(|e| {
                Error::io(
                    format!("cannot move the previous `{}` aside", self.target.display()),
                    e,
                )
            })?;
        }
        fs::rename(&self.staging, &self.target).map_err(|e| {
            Error::io(
                format!("cannot move results into `{}`", self.target.display()),
                e,
            )
        })?;
        self.committed = true;
        if old.exists() {
            let _ = fs::remove_dir_all(&old);
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_our_own_folder_and_refuses_foreign_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let d = OutputDir::create(&target, false).unwrap();
        fs::write(d.path().join("a.csv"), "x").unwrap();
        d.commit().unwrap();
        assert!(target.join("a.csv").exists() && target.join(MARKER).exists());
        // Ours: may be replaced.
        let d = OutputDir::create(&target, false).unwrap();
        fs::write(d.path().join("b.csv"), "y").unwrap();
        d.commit().unwrap();
        assert!(!target.join("a.csv").exists() && target.join("b.csv").exists());
        // Foreign: refused unless forced.
        let foreign = tmp.path().join("foreign");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("keep.txt"), "mine").unwrap();
        assert!(OutputDir::create(&foreign, false).is_err());
        assert!(OutputDir::create(&foreign, true).is_ok());
    }

    #[test]
    fn dropping_without_commit_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        {
            let d = OutputDir::create(&target, false).unwrap();
            fs::write(d.path().join("a.csv"), "x").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
