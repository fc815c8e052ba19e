//! A reader that goes away early (`egress-sim check bad.toml 2>&1 | head -2`) is not a crash: every
//! output stream (results, warnings, errors, clap's help, usage and version) ends quietly with the
//! command's own exit status, never 101 (a panic) and never a signal.

mod common;
use common::*;
use std::process::{Command, Stdio};

/// Runs `args` with standard output and error going to pipes whose readers are closed before the
/// program writes anything; returns the exit code.
fn with_closed_pipes(args: &[&str]) -> Option<i32> {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(
        status.code().is_some(),
        "{args:?} ended by a signal: {status:?}"
    );
    status.code()
}

#[test]
fn closed_pipes_end_quietly_with_the_commands_status() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[egress]]\nid = \"x\"\ndatacenter = \"LON\"\nipv4 = \"1\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["check", bad.to_str().unwrap()], 2),
        (vec!["check", "scenarios/finance-and-qa.toml"], 0),
        (vec!["--help"], 0),
        (vec!["run", "--help"], 0),
        (vec!["--version"], 0),
        (vec!["run"], 2),
        (vec!["rules", "export", "scenarios/finance-and-qa.toml"], 0),
        (vec!["latency", "London", "LHR"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
        (
            vec![
                "run",
                "scenarios/three-sites.toml",
                "--users",
                "500",
                "--out",
                out.to_str().unwrap(),
            ],
            0,
        ),
    ];
    // The race this guards against is timing-dependent; repeat each case.
    for _ in 0..5 {
        for (args, code) in &cases {
            assert_eq!(with_closed_pipes(args), Some(*code), "{args:?}");
        }
    }
}
