//! Temporary folders that an interrupted run left beside its results (`.NAME.tmp-PID`, and
//! `.NAME.tmp-PID.old` for an earlier result being replaced): a run killed outright (SIGKILL, a
//! power cut) cannot remove its own, so the next run in the same place looks for them.
//!
//! Such a folder is removed only when it is clearly ours and dead: it holds egress-sim's marker
//! file and the process named in its name has ended (known where `/proc` exists). Otherwise (no
//! marker, as left by versions before the marker existed; a process that cannot be checked; the
//! process id now used by another program) it is left alone and a warning says how to remove it.
//! A folder whose egress-sim process is still running is another run at work and is not mentioned.

use std::fs;
use std::path::Path;

use super::folder::{MARKER, STAGING_MARKER};

/// Removes or reports the stale temporary folders in `parent`; one warning per folder.
pub(crate) fn clean(parent: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(std::path::PathBuf, u32)> = entries
        .flatten()
        .filter_map(|e| {
            let pid = temporary_pid(&e.file_name().to_string_lossy())?;
            let path = e.path();
            (path.is_dir() && pid != std::process::id()).then_some((path, pid))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .filter_map(|(path, pid)| verdict(&path, pid))
        .collect()
}

/// The process id in a temporary folder's name (`.NAME.tmp-PID` or `.NAME.tmp-PID.old`).
fn temporary_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let rest = rest.strip_suffix(".old").unwrap_or(rest);
    let (stem, pid) = rest.rsplit_once(".tmp-")?;
    if stem.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process is running, as far as this system lets us tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Process {
    /// An egress-sim process with that id is running.
    Ours,
    /// Another program has that id now.
    Other,
    /// No process has that id.
    Gone,
    /// This system has no `/proc` to ask.
    Unknown,
}

fn process(pid: u32) -> Process {
    if !Path::new("/proc/self").exists() {
        return Process::Unknown;
    }
    let dir = Path::new("/proc").join(pid.to_string());
    if !dir.exists() {
        return Process::Gone;
    }
    match fs::read_to_string(dir.join("comm")) {
        Ok(name) if name.trim_end().starts_with("egress-sim") => Process::Ours,
        _ => Process::Other,
    }
}

/// Removes `path` (and says so) when it is ours and dead; a warning with the command to remove it
/// when that cannot be told; nothing while its run is still going.
fn verdict(path: &Path, pid: u32) -> Option<String> {
    let marked = path.join(STAGING_MARKER).exists() || path.join(MARKER).exists();
    let state = process(pid);
    let why = match (marked, state) {
        (_, Process::Ours) => return None,
        (true, Process::Gone) => {
            return Some(match fs::remove_dir_all(path) {
                Ok(()) => format!(
                    "warning: removed `{}`, the unfinished output of an interrupted egress-sim run (process {pid} has ended)",
                    path.display()
                ),
                Err(e) => format!(
                    "warning: `{}` is the unfinished output of an interrupted egress-sim run (process {pid} has ended) but could not be removed ({e}); remove it with `rm -rf '{}'`",
                    path.display(),
                    path.display()
                ),
            });
        }
        (false, _) => "it has no egress-sim marker inside".to_string(),
        (true, Process::Other) => format!("process {pid} is now another program"),
        (true, _) => format!("this system cannot tell whether process {pid} is still running"),
    };
    Some(format!(
        "warning: `{}` looks like the unfinished output of an interrupted egress-sim run; it was left in place because {why}. If no egress-sim run is writing there, remove it with `rm -rf '{}'`",
        path.display(),
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_give_their_process_id() {
        assert_eq!(temporary_pid(".three-sites.tmp-1234"), Some(1234));
        assert_eq!(temporary_pid(".three-sites.tmp-1234.old"), Some(1234));
        assert_eq!(temporary_pid(".a.tmp-b.tmp-77"), Some(77));
        for name in [
            "three-sites.tmp-1234",
            ".three-sites.tmp-",
            ".tmp-12",
            ".x.tmp-12a",
            ".x.toml.12.tmp",
        ] {
            assert_eq!(temporary_pid(name), None, "{name}");
        }
    }

    /// The id of a process that has certainly ended.
    #[cfg(unix)]
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[cfg(unix)]
    #[test]
    fn a_marked_folder_of_an_ended_process_is_removed_an_unmarked_one_reported() {
        if process(std::process::id()) == Process::Unknown {
            return; // no /proc: nothing can be told dead (the warning path is tested below)
        }
        let tmp = tempfile::tempdir().unwrap();
        let pid = dead_pid();
        let marked = tmp.path().join(format!(".out.tmp-{pid}"));
        fs::create_dir(&marked).unwrap();
        fs::write(marked.join(STAGING_MARKER), "egress-sim\n").unwrap();
        let unmarked = tmp.path().join(format!(".other.tmp-{pid}"));
        fs::create_dir(&unmarked).unwrap();
        let someone_elses = tmp.path().join("notes.tmp-12");
        fs::create_dir(&someone_elses).unwrap();
        let notes = clean(tmp.path());
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(!marked.exists() && unmarked.exists() && someone_elses.exists());
        assert!(notes[0].contains("has no egress-sim marker"), "{notes:?}");
        assert!(notes[0].contains("rm -rf"), "{notes:?}");
        assert!(notes[1].starts_with("warning: removed"), "{notes:?}");
    }

    #[test]
    fn a_running_runs_folder_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let mine = tmp.path().join(format!(".out.tmp-{}", std::process::id()));
        fs::create_dir(&mine).unwrap();
        fs::write(mine.join(STAGING_MARKER), "egress-sim\n").unwrap();
        assert!(clean(tmp.path()).is_empty());
        assert!(mine.exists());
    }
}
