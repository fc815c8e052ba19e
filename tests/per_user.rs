//! `--per-user` says how large `users.csv` will be before it starts, warns above 1 GB, and
//! `--per-user-cases` limits it to the cases asked for.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The estimated size in the notice (`about 14 MB`), in bytes.
fn estimate(err: &str) -> f64 {
    let line = err
        .lines()
        .find(|l| l.starts_with("users.csv:"))
        .unwrap_or_else(|| panic!("no size notice in {err}"));
    let about = line.split("about ").nth(1).unwrap();
    let (n, unit) = about.split_once(' ').unwrap();
    let scale = match unit {
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => panic!("unit {unit}"),
    };
    n.parse::<f64>().unwrap() * scale
}

#[test]
fn the_size_is_estimated_before_the_run_and_cases_can_be_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    let o = run(&[
        "run",
        "scenarios/finance-and-qa.toml",
        "--users",
        "3000",
        "--per-user",
        "--out",
        all.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let (h, rows) = read_csv(&all.join("users.csv"));
    let cases: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r[col(&h, "case")].as_str()).collect();
    assert!(
        err.contains(&format!(
            "users.csv: 3,000 users × {} cases = {} rows, about",
            cases.len(),
            count(rows.len())
        )),
        "{err}"
    );
    let actual = std::fs::metadata(all.join("users.csv")).unwrap().len() as f64;
    let ratio = estimate(&err) / actual;
    assert!((0.85..1.15).contains(&ratio), "estimate/actual = {ratio}");

    // Two cases only: exactly those rows of the full file, in the same order.
    let some = tmp.path().join("some");
    let o = run(&[
        "run",
        "scenarios/finance-and-qa.toml",
        "--users",
        "3000",
        "--per-user-cases",
        "baseline,down:LHR",
        "--out",
        some.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("users.csv: 3,000 users × 2 cases = 6,000 rows"),
        "{err}"
    );
    let (h2, chosen) = read_csv(&some.join("users.csv"));
    assert_eq!(h2, h);
    let expected: Vec<_> = rows
        .iter()
        .filter(|r| ["baseline", "down:LHR"].contains(&r[col(&h, "case")].as_str()))
        .cloned()
        .collect();
    assert_eq!(chosen, expected);
    // Everything else is unchanged by the choice.
    assert_eq!(
        std::fs::read(some.join("summary.csv")).unwrap(),
        std::fs::read(all.join("summary.csv")).unwrap()
    );
}

/// `1234567` as `1,234,567`.
fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn an_unknown_case_is_refused_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run(&[
        "run",
        "scenarios/three-sites.toml",
        "--users",
        "100",
        "--per-user-cases",
        "baseline,down:LON",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown case `down:LON` in `--per-user-cases`"),
        "{err}"
    );
    assert!(err.contains("did you mean `down:LHR`?"), "{err}");
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn a_large_users_csv_is_announced_before_the_simulation() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .args(["run", "scenarios/three-sites.toml", "--users", "1000000"])
        .args(["--per-user", "--quiet", "--out"])
        .arg(tmp.path().join("out"))
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // Shown while the run goes on (even with --quiet): there is still time to stop it.
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(still_running);
    assert!(
        first.starts_with("warning: users.csv: 1,000,000 users × "),
        "{first}"
    );
    assert!(first.contains("GB (more than 1.0 GB)"), "{first}");
    assert!(
        first.contains("pass `--per-user-cases baseline` for the baseline alone (about 7"),
        "{first}"
    );
}
