//! `egress-sim plan` end to end: the plan's figures equal `run` on its `plan.toml`, the plan folder is
//! identical for any thread count, the objective never rises along `plan.csv`, the heuristic finds
//! what an exhaustive search finds on small instances, and bad input is refused (exit 2, located,
//! nothing written).

mod common;
use common::*;
use std::fs;
use std::path::Path;

/// The CSV tables a run writes (and so a plan folder holds) that `run plan.toml` must reproduce.
const RUN_TABLES: [&str; 6] = [
    "summary.csv",
    "egress_load.csv",
    "populations.csv",
    "capacity.csv",
    "failover.csv",
    "latency_histogram.csv",
];

/// Runs `plan` with `args` into `out`; panics with its output unless it succeeds.
fn plan(args: &[&str], out: &Path) -> String {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap(), "--force"]);
    let o = run(&all);
    assert!(o.status.success(), "plan {args:?} failed:\n{}", stderr(&o));
    stdout(&o)
}

/// A column of a CSV as numbers (empty cells skipped).
fn numbers(path: &Path, name: &str) -> Vec<f64> {
    let (h, rows) = read_csv(path);
    let c = col(&h, name);
    rows.iter()
        .filter(|r| !r[c].is_empty())
        .map(|r| r[c].parse().unwrap())
        .collect()
}

#[test]
fn the_plan_equals_run_on_its_plan_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let text = plan(
        &[
            "scenarios/three-continents.toml",
            "--users",
            "800",
            "--candidates",
            "GB,US,IN,DE",
        ],
        &out,
    );
    assert!(text.contains("adding LHR"), "{text}");
    let again = tmp.path().join("again");
    let plan_toml = out.join("plan.toml");
    let o = run(&[
        "run",
        plan_toml.to_str().unwrap(),
        "--users",
        "800",
        "--out",
        again.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for t in RUN_TABLES {
        assert_eq!(
            fs::read(out.join(t)).unwrap(),
            fs::read(again.join(t)).unwrap(),
            "{t} differs between the plan folder and `run plan.toml`"
        );
    }
    // The plan's reported final p95 is the run's baseline p95.
    let (h, rows) = read_csv_case(&again.join("summary.csv"), "baseline");
    let p95: f64 = rows[0][col(&h, "rtt_p95_ms")].parse().unwrap();
    let planned = numbers(&out.join("plan.csv"), "rtt_p95_ms");
    assert_eq!(*planned.last().unwrap(), p95);
}

#[test]
fn the_robust_plan_equals_run_with_the_n_1_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(
        &[
            "scenarios/three-sites.toml",
            "--add",
            "2",
            "--users",
            "600",
            "--candidates",
            "GB,FR,IN,US",
            "--robust",
            "n-1",
        ],
        &out,
    );
    let again = tmp.path().join("again");
    let o = run(&[
        "run",
        out.join("plan.toml").to_str().unwrap(),
        "--users",
        "600",
        "--sweep",
        "n-1",
        "--out",
        again.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for t in RUN_TABLES {
        assert_eq!(
            fs::read(out.join(t)).unwrap(),
            fs::read(again.join(t)).unwrap(),
            "{t} differs"
        );
    }
    // The worst case named in plan.csv has, in the run, the p95 plan.csv gives it.
    let (h, rows) = read_csv(&out.join("plan.csv"));
    let last = rows.last().unwrap();
    let case = &last[col(&h, "worst_case")];
    assert!(!case.is_empty(), "a robust plan names its worst case");
    let (sh, srows) = read_csv_case(&again.join("summary.csv"), case);
    assert_eq!(srows.len(), 1, "case {case} is in the run");
    assert_eq!(
        srows[0][col(&sh, "rtt_p95_ms")],
        last[col(&h, "worst_rtt_p95_ms")]
    );
}

#[test]
fn plan_folders_are_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = ["1", "2"]
        .iter()
        .map(|t| {
            let out = tmp.path().join(format!("t{t}"));
            plan(
                &[
                    "scenarios/three-continents.toml",
                    "--users",
                    "500",
                    "--candidates",
                    "WEU,ENAM,IN",
                    "--threads",
                    t,
                    "--quiet",
                ],
                &out,
            );
            out
        })
        .collect();
    let mut compared = 0;
    for e in fs::read_dir(&dirs[0]).unwrap() {
        let name = e.unwrap().file_name();
        let n = name.to_string_lossy();
        if n.ends_with(".csv") || n == "plan.toml" {
            assert_eq!(
                fs::read(dirs[0].join(&name)).unwrap(),
                fs::read(dirs[1].join(&name)).unwrap(),
                "{n} differs between --threads 1 and 2"
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 10,
        "plan.csv, candidates.csv and the run's tables"
    );
}

#[test]
fn the_objective_never_rises_along_plan_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan(
        &[
            "scenarios/three-sites.toml",
            "--add",
            "3",
            "--users",
            "600",
            "--candidates",
            "EU,continent:NA,IN",
            "--objective",
            "mean-rtt",
            "--quiet",
        ],
        &out,
    );
    let before = numbers(&out.join("plan.csv"), "objective_before");
    let after = numbers(&out.join("plan.csv"), "objective_after");
    assert!(!after.is_empty());
    for i in 0..after.len() {
        assert!(after[i] < before[i], "step {} improves", i + 1);
        if i > 0 {
            assert_eq!(before[i], after[i - 1], "steps chain");
        }
    }
    let (h, rows) = read_csv(&out.join("candidates.csv"));
    let chosen = rows
        .iter()
        .filter(|r| r[col(&h, "chosen")] == "true")
        .count();
    assert_eq!(chosen, 3);
    // No single addition to the final plan beats it by more than the next greedy step could.
    let plan_value = numbers(&out.join("candidates.csv"), "objective_plan")[0];
    assert_eq!(plan_value, *after.last().unwrap());
}

/// The final objective of a plan folder.
fn final_objective(out: &Path) -> f64 {
    numbers(&out.join("candidates.csv"), "objective_plan")[0]
}

#[test]
fn the_heuristic_matches_an_exhaustive_search_on_small_instances() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 4] = [
        (
            "scenarios/three-sites.toml",
            &[
                "--add",
                "2",
                "--candidates",
                "LHR,MAN,CDG,MRS,FRA,MUC,BOM,DEL,YYZ,YVR",
            ],
        ),
        (
            "scenarios/finance-and-qa.toml",
            &[
                "--add",
                "2",
                "--candidates",
                "LHR,MAN,DUB,CDG,FRA,ZRH,MAD,MXP",
                "--objective",
                "mean-rtt",
            ],
        ),
        (
            "scenarios/three-continents.toml",
            &[
                "--add",
                "3",
                "--candidates",
                "LHR,MAN,BOM,MAA,IAD,ORD,LAX,SEA,DFW",
            ],
        ),
        (
            "scenarios/three-continents.toml",
            &[
                "--from-scratch",
                "2",
                "--candidates",
                "LHR,MAN,CDG,FRA,IAD,ORD,BOM",
            ],
        ),
    ];
    for (i, (scenario, args)) in cases.iter().enumerate() {
        let mut common_args = vec![*scenario, "--users", "400", "--quiet"];
        common_args.extend_from_slice(args);
        let h = tmp.path().join(format!("h{i}"));
        plan(&common_args, &h);
        let e = tmp.path().join(format!("e{i}"));
        let mut ex = common_args.clone();
        ex.push("--exhaustive");
        plan(&ex, &e);
        assert_eq!(
            final_objective(&h),
            final_objective(&e),
            "{scenario} {args:?}: heuristic against exhaustive"
        );
    }
}

/// Runs `plan` with `args` from a fresh folder holding `scenario` (as `s.toml`); checks exit 2,
/// nothing on stdout, nothing written; returns the error text.
fn refuses(scenario: &str, args: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.toml");
    fs::write(&path, scenario).unwrap();
    let mut all = vec!["plan", "s.toml", "--users", "200", "--out", "out"];
    all.extend_from_slice(args);
    let o = run_in(tmp.path(), &all);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit code for {args:?}:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "nothing written: {names:?}");
    err
}

fn example() -> String {
    fs::read_to_string(root().join("scenarios/three-continents.toml")).unwrap()
}

#[test]
fn bad_plan_inputs_are_located_and_write_nothing() {
    let s = example();
    let e = refuses(&s, &["--candidates", "GB,FRAA"]);
    assert!(e.contains("FRAA") && e.contains("did you mean"), "{e}");
    assert!(
        !e.contains("did you mean did you mean") && !e.contains("??"),
        "{e}"
    );
    let e = refuses(&s, &["--add", "0"]);
    assert!(e.contains("--add") && e.contains("at least 1"), "{e}");
    let e = refuses(&s, &["--add", "-2"]);
    assert!(e.contains("at least 1"), "{e}");
    let e = refuses(&s, &["--add", "3", "--candidates", "LHR,BOM"]);
    assert!(
        e.contains("only 2 candidate") && e.contains("LHR,BOM"),
        "{e}"
    );
    let e = refuses(&s, &["--objective", "p59-rtt"]);
    assert!(e.contains("did you mean `p95-rtt`"), "{e}");
    let e = refuses(&s, &["--candidates", "NA"]);
    assert!(
        e.contains("country:NA") && e.contains("continent:NA"),
        "{e}"
    );
    let e = refuses(&s, &["--exhaustive"]);
    assert!(e.contains("--candidates"), "{e}");
    // The same mistakes in the [plan] table point at the value.
    let e = refuses(&s.replace("add = 3", "add = 0"), &[]);
    assert!(e.contains("s.toml:") && e.contains("at least 1"), "{e}");
    let e = refuses(
        &s.replace(
            "objective = \"p95-rtt=1,violations=1000\"",
            "objective = \"fastest\"",
        ),
        &[],
    );
    assert!(e.contains("s.toml:") && e.contains("fastest"), "{e}");
    let e = refuses(&s.replace("robust = \"none\"", "robustness = \"n-1\""), &[]);
    assert!(e.contains("s.toml:") && e.contains("robust"), "{e}");
    let e = refuses(&s.replace("\"IN\"]", "\"IN\", \"Atlantis\"]"), &[]);
    assert!(e.contains("s.toml:") && e.contains("Atlantis"), "{e}");
}

#[test]
fn the_plan_toml_runs_and_keeps_the_scenario_comments() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let text = plan(
        &[
            "scenarios/three-continents.toml",
            "--add",
            "1",
            "--users",
            "300",
            "--candidates",
            "GB",
        ],
        &out,
    );
    assert!(text.contains("adding LHR"), "{text}");
    let p = fs::read_to_string(out.join("plan.toml")).unwrap();
    assert!(p.contains("# the bank's contract"), "comments kept");
    assert!(p.contains("id = \"plan-lhr-1\""), "{p}");
    assert!(p.contains("allowlist = [\"ams-1\", \"plan-lhr-1\"]"), "{p}");
    let c = run(&["check", out.join("plan.toml").to_str().unwrap()]);
    assert!(c.status.success(), "{}", stderr(&c));
    for f in ["plan.csv", "candidates.csv", "report.html"] {
        assert!(out.join(f).exists(), "{f}");
    }
}

#[test]
fn the_plan_summary_fits_100_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let text = plan(
        &["scenarios/three-continents.toml", "--users", "2000"],
        &tmp.path().join("p"),
    );
    assert!(text.contains("adding LHR"), "{text}");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}
