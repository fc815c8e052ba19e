//! Temporary paths that an interrupted run must not leave behind.
//!
//! Results are staged in hidden siblings (`.NAME.tmp-PID` folders, `.NAME.PID.tmp` files) and renamed
//! into place at the end. On an error, their owners remove them when dropped; a signal, however,
//! ends the process without running any destructor. So every staged path is also listed here while
//! it exists, and [`install`] starts a thread that, on SIGINT, SIGTERM or SIGHUP, removes every
//! listed path and then ends the process by the same signal (so a calling shell sees "interrupted",
//! exit status 128 + signal).
//!
//! The list's lock is held while a path is being renamed into place, and the handler keeps it until
//! the process is gone: a folder is therefore either removed or completely in place, never both or
//! half.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Paths to remove if the process is interrupted.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The list, locked (a panic elsewhere while it was held leaves it usable: it is only a list).
pub(crate) fn lock() -> Staged {
    Staged(STAGED.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The locked list of staged paths.
pub(crate) struct Staged(MutexGuard<'static, Vec<PathBuf>>);

impl Staged {
    /// Lists `path` for removal on interruption.
    pub(crate) fn add(&mut self, path: &Path) {
        self.0.push(path.to_path_buf());
    }

    /// Takes `path` off the list (it was renamed into place or removed).
    pub(crate) fn remove(&mut self, path: &Path) {
        self.0.retain(|p| p != path);
    }

    /// Removes every listed path from the disk; returns those it removed.
    fn remove_all_from_disk(&mut self) -> Vec<PathBuf> {
        self.0.drain(..).filter(|p| remove_path(p)).collect()
    }
}

/// A staged path listed while this value lives.
#[derive(Debug)]
pub(crate) struct Listed(PathBuf);

impl Listed {
    /// Lists `path`.
    pub(crate) fn new(path: &Path) -> Self {
        lock().add(path);
        Self(path.to_path_buf())
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        lock().remove(&self.0);
    }
}

/// Removes a file or a folder tree. Workers may still be creating files in a folder while it is
/// removed, so a folder that is not empty yet is tried again a few times.
fn remove_path(p: &Path) -> bool {
    for _ in 0..10 {
        let result = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
        match result {
            Ok(()) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    false
}

/// Starts the thread that cleans up on SIGINT, SIGTERM and SIGHUP (Unix). Call once, early in
/// `main`; `report` receives the text to show (on standard error) before the process ends.
#[cfg(unix)]
pub fn install(report: fn(&str)) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Kept until the process ends, so nothing is staged or committed meanwhile.
                let mut staged = lock();
                for p in staged.remove_all_from_disk() {
                    report(&format!(
                        "interrupted: removed the unfinished `{}`",
                        p.display()
                    ));
                }
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Without Unix signals there is nothing to install; an interrupted run's folder is reported as
/// stale by the next run in the same place.
#[cfg(not(unix))]
pub fn install(_report: fn(&str)) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_paths_are_removed_and_taken_off_the_list() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".out.tmp-1");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a.csv"), "x").unwrap();
        let file = tmp.path().join(".x.toml.1.tmp");
        std::fs::write(&file, "y").unwrap();
        // Other tests list their own paths meanwhile: only these two are touched here.
        let (a, b) = (Listed::new(&dir), Listed::new(&file));
        {
            let listed = lock();
            assert!(listed.0.contains(&dir) && listed.0.contains(&file));
        }
        assert!(remove_path(&dir) && remove_path(&file));
        assert!(!dir.exists() && !file.exists());
        assert!(!remove_path(&dir), "already gone");
        drop((a, b));
        let listed = lock();
        assert!(!listed.0.contains(&dir) && !listed.0.contains(&file));
    }
}
