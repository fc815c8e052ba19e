//! Failover what-ifs through the real binary: declared failures and sweeps, the failover and
//! redundancy tables, geography requirements, bad failure input, determinism with many cases, and a
//! sweep case equal to the same failure declared on its own.

mod common;

use std::fs;

use common::*;

fn run_fixture(name: &str, out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let scenario = format!("tests/fixtures/{name}");
    let mut args = vec![
        "run",
        scenario.as_str(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn rows_for<'a>(
    h: &[String],
    rows: &'a [Vec<String>],
    column: &str,
    value: &str,
) -> Vec<&'a Vec<String>> {
    let c = col(h, column);
    rows.iter().filter(|r| r[c] == value).collect()
}

#[test]
fn london_must_not_fall_back_to_dublin() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run_fixture("london-not-dublin.toml", &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    let (h, rows) = read_csv(&out.join("policies.csv"));
    let base = rows_for(&h, &rows, "case", "baseline");
    let fin = base
        .iter()
        .find(|r| r[col(&h, "policy")] == "finance-london")
        .unwrap();
    assert_eq!(fin[col(&h, "geography_violations")], "0");
    let outage = rows_for(&h, &rows, "case", "lhr-outage");
    let fin = outage
        .iter()
        .find(|r| r[col(&h, "policy")] == "finance-london")
        .unwrap();
    let requests: u64 = fin[col(&h, "requests")].parse().unwrap();
    assert_eq!(requests, 3000 * 6);
    assert_eq!(
        fin[col(&h, "fallback_requests")],
        requests.to_string(),
        "Dublin took over"
    );
    assert_eq!(
        fin[col(&h, "geography_violations")],
        requests.to_string(),
        "every request that fell back to Dublin left London"
    );

    let (h, rows) = read_csv(&out.join("redundancy.csv"));
    let f = rows
        .iter()
        .find(|r| r[col(&h, "finding")] == "single_failure_harms_policy")
        .expect("a finding for the policy");
    assert_eq!(f[col(&h, "severity")], "high");
    assert_eq!(f[col(&h, "entity")], "finance-london");
    assert_eq!(f[col(&h, "case")], "lhr-outage");
    assert!(
        f[col(&h, "recommendation")].contains("second data center inside London"),
        "{f:?}"
    );
    assert_eq!(rows[0][col(&h, "severity")], "high", "most severe first");

    let (h, rows) = read_csv(&out.join("failover.csv"));
    assert_eq!(rows.len(), 1, "one failure case × one population");
    let r = &rows[0];
    assert_eq!(r[col(&h, "case")], "lhr-outage");
    assert_eq!(r[col(&h, "users_egress_changed")], "3000");
    assert_eq!(r[col(&h, "geography_violations")], (3000 * 6).to_string());
    assert_eq!(r[col(&h, "dropped_requests")], "0");
    let before: f64 = r[col(&h, "rtt_p95_before_ms")].parse().unwrap();
    let after: f64 = r[col(&h, "rtt_p95_after_ms")].parse().unwrap();
    assert!(after > before, "London users now egress in Dublin: slower");
}

#[test]
fn the_run_prints_cases_and_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run(&[
        "run",
        "tests/fixtures/london-not-dublin.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("1 failure case"), "{text}");
    assert!(text.contains("lhr-outage"), "{text}");
    assert!(
        text.contains("[high] policy `finance-london` does not survive `lhr-outage`"),
        "{text}"
    );
}

#[test]
fn sweeps_add_readable_stable_case_names() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run_fixture("london-not-dublin.toml", &out, &["--sweep", "n-2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = read_csv(&out.join("summary.csv"));
    let names: Vec<&str> = rows.iter().map(|r| r[col(&h, "case")].as_str()).collect();
    assert_eq!(
        &names[..6],
        [
            "baseline",
            "lhr-outage",
            "down:LHR",
            "down:DUB",
            "down:lhr-1",
            "down:dub-1"
        ]
    );
    assert!(names.contains(&"down:LHR+DUB"), "{names:?}");
    // London users connect to LHR, and a few to nearby data centers: those are swept too.
    assert!(names.iter().filter(|n| n.starts_with("down:")).count() >= 5);
    // Every case carries every request.
    for r in &rows {
        assert_eq!(r[col(&h, "requests")], (3000 * 6).to_string());
    }
    // Both sites down: nothing left for the policy, IPv4 is dropped.
    let both = rows
        .iter()
        .find(|r| r[col(&h, "case")] == "down:LHR+DUB")
        .unwrap();
    assert_eq!(both[col(&h, "dropped_share")], "1.000000");
}

#[test]
fn a_sweep_case_equals_the_same_failure_declared_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let swept = tmp.path().join("swept");
    let o = run(&[
        "run",
        "scenarios/three-sites.toml",
        "--out",
        swept.to_str().unwrap(),
        "--users",
        "12000",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same failure, declared and evaluated without any sweep.
    let text = fs::read_to_string(root().join("scenarios/three-sites.toml"))
        .unwrap()
        .replace("sweep = \"n-1\"", "sweep = \"none\"")
        + "\n[[failure]]\nname = \"ams-alone\"\ndatacenters = [\"AMS\"]\n";
    let scenario = tmp.path().join("alone.toml");
    fs::write(&scenario, text).unwrap();
    let alone = tmp.path().join("alone");
    let o = run(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        alone.to_str().unwrap(),
        "--users",
        "12000",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in [
        "populations.csv",
        "policies.csv",
        "capacity.csv",
        "failover.csv",
    ] {
        let (h, a) = read_csv(&swept.join(file));
        let (_, b) = read_csv(&alone.join(file));
        let c = col(&h, "case");
        let strip = |rows: &[Vec<String>], name: &str| -> Vec<Vec<String>> {
            rows.iter()
                .filter(|r| r[c] == name)
                .map(|r| {
                    let mut r = r.clone();
                    r[c].clear();
                    // The worst case of a capacity pair differs when the sweep has more cases.
                    r.truncate(if file == "capacity.csv" { 9 } else { r.len() });
                    r
                })
                .collect()
        };
        let x = strip(&a, "down:AMS");
        assert!(!x.is_empty(), "{file}");
        assert_eq!(x, strip(&b, "ams-alone"), "{file}");
    }
}

#[test]
fn identical_csv_bytes_for_any_thread_count_with_a_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("t1");
    let b = tmp.path().join("t2");
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let o = run(&[
            "run",
            "scenarios/finance-and-qa.toml",
            "--out",
            dir.to_str().unwrap(),
            "--users",
            "20000",
            "--requests-per-user",
            "4",
            "--threads",
            threads,
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in [
        "summary.csv",
        "failover.csv",
        "redundancy.csv",
        "capacity.csv",
        "policies.csv",
        "populations.csv",
    ] {
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f} differs between thread counts"
        );
    }
}

#[test]
fn failure_input_errors_are_located_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let base = fs::read_to_string(root().join("tests/fixtures/london-not-dublin.toml")).unwrap();
    for (extra, expect, hint) in [
        (
            "[[failure]]\nname = \"x\"\ndatacenters = [\"LON\"]\n",
            "unknown data center `LON`",
            "LHR",
        ),
        (
            "[[failure]]\nname = \"x\"\negress = [\"lhr1\"]\n",
            "unknown egress IP `lhr1`",
            "lhr-1",
        ),
        (
            "[[failure]]\nname = \"x\"\nregions = [\"WEUR\"]\n",
            "unknown Cloudflare region",
            "WEU",
        ),
        (
            "[[failure]]\nname = \"x\"\n",
            "takes nothing down",
            "datacenters",
        ),
        (
            "[[failure]]\nname = \"down:LHR\"\ndatacenters = [\"LHR\"]\n",
            "is reserved",
            "down:",
        ),
        (
            "[[failure]]\nname = \"lhr-outage\"\ndatacenters = [\"LHR\"]\n",
            "duplicate failure name",
            "",
        ),
    ] {
        let path = tmp.path().join("bad.toml");
        fs::write(&path, format!("{base}\n{extra}")).unwrap();
        let o = run(&["check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{extra}");
        let err = stderr(&o);
        assert!(err.contains(expect), "{extra}: {err}");
        assert!(err.contains(hint), "{extra}: {err}");
        assert!(err.contains("bad.toml:"), "located: {err}");
    }
    let path = tmp.path().join("bad.toml");
    fs::write(
        &path,
        base.replace(
            "require_egress_in = [\"London\"]",
            "require_egress_in = [\"Londn\"]",
        ),
    )
    .unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown place `Londn`"),
        "{}",
        stderr(&o)
    );
    fs::write(
        &path,
        base.replace("[simulation]\n", "[simulation]\nsweep = \"n-3\"\n"),
    )
    .unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown sweep `n-3`"), "{}", stderr(&o));
    let o = run(&[
        "run",
        "tests/fixtures/london-not-dublin.toml",
        "--sweep",
        "n3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("n-1"), "{}", stderr(&o));
}

#[test]
fn explain_follows_a_user_into_a_sweep_case() {
    let o = run(&[
        "explain",
        "tests/fixtures/london-not-dublin.toml",
        "--user",
        "0",
        "--case",
        "down:LHR",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("case down:LHR"), "{text}");
    assert!(text.contains("dub-1"), "{text}");
}

#[test]
fn explain_finds_a_pair_case_without_sweep() {
    // `down:AMS+LHR` exists only in the N-2 sweep; explain compiles the scenario with it when asked.
    let o = run(&[
        "explain",
        "scenarios/three-sites.toml",
        "--user",
        "7",
        "--case",
        "down:AMS+LHR",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("case down:AMS+LHR"), "{text}");
    assert!(!text.contains("ingress          AMS"), "{text}");
    assert!(!text.contains("ingress          LHR"), "{text}");
    // A pair in the wrong order is not a case; the message suggests the right one.
    let o = run(&[
        "explain",
        "scenarios/three-sites.toml",
        "--user",
        "7",
        "--case",
        "down:LHR+AMS",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown case `down:LHR+AMS`"),
        "{}",
        stderr(&o)
    );
}
