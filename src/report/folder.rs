//! Atomic output folders: results are written to a temporary sibling and renamed into place at the end,
//! so an interrupted or failed run never leaves a half-written folder that looks complete.

use std::fs;
use std::path::{Path, PathBuf};

use super::stale;
use crate::error::{Error, InputError, Result};
use crate::interrupt::{self, Listed};

/// Marker file that identifies a folder this tool created (and may therefore replace).
pub const MARKER: &str = ".egress-sim";

/// Marker file of a folder being written (removed before the rename): names the version and the
/// process, so a later run can tell a folder left by an interrupted run from someone's files.
pub(crate) const STAGING_MARKER: &str = ".egress-sim-staging";

/// A results folder being written.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
    /// Keeps `staging` on the list of paths removed if the process is interrupted.
    _listed: Listed,
    notes: Vec<String>,
}

impl OutputDir {
    /// Checks that `target` may be (re)written and creates the temporary sibling folder.
    ///
    /// A non-empty folder without the marker is refused unless `force`: it may hold someone's files.
    /// Temporary folders that interrupted runs left beside it are removed when they are clearly ours
    /// and their process is gone, and reported otherwise ([`notes`](Self::notes)).
    pub fn create(target: &Path, force: bool) -> Result<Self> {
        check_target(target, force)?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .map_err(|e| Error::io(format!("cannot create `{}`", parent.display()), e))?;
        let notes = stale::clean(&parent);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if staging.exists() {
            let _ = fs::remove_dir_all(&staging);
        }
        let listed = Listed::new(&staging);
        fs::create_dir(&staging)
            .map_err(|e| Error::io(format!("cannot create `{}`", staging.display()), e))?;
        let dir = Self {
            target: target.to_path_buf(),
            staging,
            committed: false,
            _listed: listed,
            notes,
        };
        fs::write(
            dir.staging.join(STAGING_MARKER),
            format!(
                "egress-sim {}\npid {}\n",
                env!("CARGO_PKG_VERSION"),
                std::process::id()
            ),
        )
        .map_err(|e| Error::io("cannot write the output marker", e))?;
        Ok(dir)
    }

    /// Where files are written until [`commit`](Self::commit).
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// What was found (and removed) beside the folder: temporary folders of interrupted runs, one
    /// warning each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Marks the folder as ours and moves it into place, replacing an earlier result.
    pub fn commit(mut self) -> Result<PathBuf> {
        let _ = fs::remove_file(self.staging.join(STAGING_MARKER));
        fs::write(
            self.staging.join(MARKER),
            concat!("egress-sim ", env!("CARGO_PKG_VERSION"), "\n"),
        )
        .map_err(|e| Error::io("cannot write the output marker", e))?;
        let old = self.staging.with_extension("old");
        {
            // An interruption waits for both renames: the folder is then in place, not removed.
            let mut staged = interrupt::lock();
            self.swap_in(&old)?;
            self.committed = true;
            staged.remove(&self.staging);
            staged.add(&old);
        }
        if old.exists() {
            let _ = fs::remove_dir_all(&old);
        }
        interrupt::lock().remove(&old);
        Ok(self.target.clone())
    }

    /// Moves an earlier result to `old` and the staging folder to the target; puts the earlier
    /// result back when the second rename fails.
    fn swap_in(&self, old: &Path) -> Result<()> {
        let had_target = self.target.exists();
        if had_target {
            fs::rename(&self.target, old).map_err(|e| {
                Error::io(
                    format!("cannot move the previous `{}` aside", self.target.display()),
                    e,
                )
            })?;
        }
        fs::rename(&self.staging, &self.target).map_err(|e| {
            if had_target {
                let _ = fs::rename(old, &self.target);
            }
            Error::io(
                format!("cannot move results into `{}`", self.target.display()),
                e,
            )
        })
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Refuses targets that can never be replaced as a whole, before anything is computed: the
/// filesystem root, the user's home folder, and any folder that contains the current directory
/// (`.`, `..`), which the final rename cannot move.
pub fn check_target(target: &Path, force: bool) -> Result<()> {
    if let Some(why) = unreplaceable(target) {
        return Err(InputError::new(format!(
            "refusing to write results into `{}`: it {why}, and a results folder is replaced as a whole",
            target.display()
        ))
        .with_help("name a new folder for the results, e.g. `--out results` or `--out output/my-run`")
        .into());
    }
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
            .with_help("pass `--force` to replace it, or choose another folder with `--out DIR`")
            .into());
        }
    }
    Ok(())
}

/// Why `target` can never be a results folder, if it cannot.
fn unreplaceable(target: &Path) -> Option<&'static str> {
    // A path that does not exist yet contains nothing, unless it ends in `..` or `.` (which then
    // name an existing folder anyway).
    let full = fs::canonicalize(target).ok()?;
    if full.parent().is_none() {
        return Some("is the root of the filesystem");
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
    if home.and_then(|h| fs::canonicalize(h).ok()).as_ref() == Some(&full) {
        return Some("is your home folder");
    }
    let cwd = std::env::current_dir().and_then(fs::canonicalize).ok()?;
    if cwd == full {
        return Some("is the current folder");
    }
    cwd.starts_with(&full)
        .then_some("contains the current folder")
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
