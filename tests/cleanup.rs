//! A run leaves nothing behind but its results: not when interrupted (SIGINT, SIGTERM), not when it
//! fails, and temporary folders that a killed run left are found by the next run. Output folders
//! that can never be replaced as a whole (`.`, `..`, the root, home) are refused up front.

#![cfg(unix)]

mod common;
use common::*;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Hidden temporary folders and files (`.NAME.tmp-PID`, `.NAME.PID.tmp`) in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains("tmp"))
        .collect()
}

/// Starts a long run into `dir/out`, waits until its temporary folder exists (plus a moment, so
/// the simulation is under way), sends `signal`, and returns how the process ended and its
/// standard error.
fn interrupt(dir: &Path, signal: &str, extra: &[&str]) -> (std::process::ExitStatus, String) {
    let out = dir.join("out");
    let mut child = Command::new(bin())
        .args([
            "run",
            "scenarios/three-sites.toml",
            "--users",
            "20000000",
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while temporaries(dir).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never started writing"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run is still going"
    );
    let pid = child.id().to_string();
    let kill = Command::new("kill").args([signal, &pid]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    (o.status, String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn ctrl_c_removes_the_temporary_folder_and_ends_by_the_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let (status, err) = interrupt(tmp.path(), "-INT", &["--per-user"]);
    assert_eq!(
        status.signal(),
        Some(2),
        "ended by SIGINT: {status:?}\n{err}"
    );
    assert!(err.contains("interrupted: removed the unfinished"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(temporaries(tmp.path()), Vec::<String>::new());
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn sigterm_removes_the_temporary_folder_and_ends_by_the_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let (status, err) = interrupt(tmp.path(), "-TERM", &[]);
    assert_eq!(
        status.signal(),
        Some(15),
        "ended by SIGTERM: {status:?}\n{err}"
    );
    assert_eq!(temporaries(tmp.path()), Vec::<String>::new());
    assert!(!tmp.path().join("out").exists());
}

/// A process id that has certainly ended.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn temporary_folders_of_killed_runs_are_removed_or_reported() {
    let tmp = tempfile::tempdir().unwrap();
    // A run that was killed outright (SIGKILL) left its staging folder, with the marker.
    let pid = dead_pid();
    let ours = tmp.path().join(format!(".out.tmp-{pid}"));
    fs::create_dir(&ours).unwrap();
    fs::write(ours.join(".egress-sim-staging"), "egress-sim 0.1.0\n").unwrap();
    fs::write(ours.join("users.csv"), "case,user\n").unwrap();
    // One from an older version: no marker, so it is only reported.
    let older = tmp.path().join(format!(".big.tmp-{pid}"));
    fs::create_dir(&older).unwrap();
    let out = tmp.path().join("out");
    let o = run(&[
        "run",
        "scenarios/three-sites.toml",
        "--users",
        "2000",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!ours.exists(), "ours and dead: removed\n{err}");
    assert!(
        err.contains(&format!("warning: removed `{}`", ours.display())),
        "{err}"
    );
    assert!(older.exists(), "not clearly ours: left in place");
    assert!(
        err.contains(&format!("rm -rf '{}'", older.display())),
        "tells how to remove it: {err}"
    );
}

#[test]
fn a_run_that_fails_while_writing_leaves_no_temporary_folder() {
    // Files may grow to 64 KiB only, and the signal that would kill the process for a larger one
    // is ignored (as inherited across exec), so writing the results fails with an I/O error after
    // the temporary folder exists: the error path, not an interruption.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 128; exec '{}' run scenarios/three-sites.toml --users 3000 --per-user --out '{}'",
            bin().display(),
            out.display()
        ))
        .current_dir(root())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "an I/O error: {err}");
    assert!(err.contains("error: cannot write"), "{err}");
    assert_eq!(temporaries(tmp.path()), Vec::<String>::new());
    assert!(!out.exists());
}

/// `args` with `--out DIR --force` must be refused with exit 2 and a clear reason, from `cwd`.
fn refused(cwd: &Path, args: &[&str], dir: &str, why: &str) {
    let o = run_in(cwd, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(&format!("refusing to write results into `{dir}`")),
        "{err}"
    );
    assert!(err.contains(why), "{why}: {err}");
    assert!(err.contains("help: name a new folder"), "{err}");
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn out_folders_that_hold_the_current_folder_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("work");
    fs::create_dir(&cwd).unwrap();
    fs::write(cwd.join("keep.txt"), "mine").unwrap();
    let scenario = root().join("scenarios/three-sites.toml");
    let s = scenario.to_str().unwrap();
    for (dir, why) in [
        (".", "is the current folder"),
        ("..", "contains the current folder"),
        ("/", "is the root of the filesystem"),
    ] {
        refused(
            &cwd,
            &["run", s, "--users", "100", "--out", dir, "--force"],
            dir,
            why,
        );
        refused(&cwd, &["compare", s, s, "--out", dir, "--force"], dir, why);
    }
    assert!(cwd.join("keep.txt").exists());
    assert_eq!(fs::read_dir(&cwd).unwrap().count(), 1, "nothing written");
}

#[test]
fn the_home_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    fs::create_dir(&home).unwrap();
    let scenario = root().join("scenarios/three-sites.toml");
    let o = Command::new(bin())
        .args(["run", scenario.to_str().unwrap(), "--users", "100"])
        .args(["--out", home.to_str().unwrap(), "--force"])
        .current_dir(tmp.path())
        .env("HOME", &home)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is your home folder"), "{err}");
}
