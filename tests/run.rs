//! End-to-end runs of the real binary on the shipped scenario.

mod common;
use common::*;
use std::fs;

const FILES: &[&str] = &[
    "summary.csv",
    "egress_load.csv",
    "populations.csv",
    "latency_histogram.csv",
    "capacity.csv",
    "map.png",
    "map.svg",
    "latency_cdf.png",
    "latency_cdf.svg",
    "egress_load.png",
    "egress_load.svg",
];

fn run_three_sites(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "scenarios/three-sites.toml",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "6000",
        "--sweep",
        "none",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn writes_every_table_and_chart_with_documented_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run_three_sites(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in FILES {
        let p = out.join(f);
        assert!(
            p.is_file() && fs::metadata(&p).unwrap().len() > 0,
            "missing {f}"
        );
    }
    let (h, _) = read_csv(&out.join("summary.csv"));
    for c in [
        "case",
        "users",
        "requests",
        "rtt_mean_ms",
        "rtt_p50_ms",
        "rtt_p90_ms",
        "rtt_p95_ms",
        "rtt_p99_ms",
        "apparent_country_mismatch_share",
        "apparent_distance_mean_km",
    ] {
        col(&h, c);
    }
    let (h, _) = read_csv(&out.join("egress_load.csv"));
    for c in [
        "egress",
        "users",
        "requests",
        "request_share",
        "rtt_p95_ms",
        "connections_v4",
        "peak_origin_utilization",
    ] {
        col(&h, c);
    }
    let (h, _) = read_csv(&out.join("populations.csv"));
    for c in [
        "case",
        "population",
        "egress",
        "users",
        "requests",
        "rtt_p50_ms",
    ] {
        col(&h, c);
    }
    let (h, rows) = read_csv(&out.join("latency_histogram.csv"));
    assert_eq!(
        h,
        [
            "case",
            "population",
            "rtt_lower_ms",
            "rtt_upper_ms",
            "requests"
        ]
    );
    assert!(!rows.is_empty());
    let svg = fs::read_to_string(out.join("map.svg")).unwrap();
    assert!(svg.contains("three-sites"), "map title names the scenario");
    assert!(out.join(".egress-sim").exists(), "marker file");
}

#[test]
fn requests_are_conserved_across_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run_three_sites(&out, &["--requests-per-user", "7"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = read_csv_case(&out.join("summary.csv"), "baseline");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&h, "case")], "baseline");
    assert_eq!(rows[0][col(&h, "users")], "6000");
    let total: u64 = rows[0][col(&h, "requests")].parse().unwrap();
    assert_eq!(total, 6000 * 7);

    let (h, rows) = read_csv_case(&out.join("egress_load.csv"), "baseline");
    let per_egress: u64 = rows
        .iter()
        .map(|r| r[col(&h, "requests")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(per_egress, total, "per-egress requests sum to the total");
    let users: u64 = rows
        .iter()
        .map(|r| r[col(&h, "users")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        users, 6000,
        "each user has exactly one egress without policies"
    );
    let shares: f64 = rows
        .iter()
        .map(|r| r[col(&h, "request_share")].parse::<f64>().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-5);

    let (h, rows) = read_csv_case(&out.join("populations.csv"), "baseline");
    let per_pop: u64 = rows
        .iter()
        .map(|r| r[col(&h, "requests")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(per_pop, total);

    let (h, rows) = read_csv_case(&out.join("latency_histogram.csv"), "baseline");
    let hist: u64 = rows
        .iter()
        .map(|r| r[col(&h, "requests")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(hist, total, "every delivered request is in the histogram");

    let (h, rows) = read_csv_case(&out.join("capacity.csv"), "baseline");
    let cap: u64 = rows
        .iter()
        .map(|r| r[col(&h, "requests")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(cap, total);
}

#[test]
fn users_near_amsterdam_egress_via_amsterdam_and_us_east_via_washington() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run_three_sites(&out, &["--per-user"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = read_csv_case(&out.join("populations.csv"), "baseline");
    let egress_of = |pop: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[col(&h, "population")] == pop)
            .map(|r| r[col(&h, "egress")].clone())
            .collect()
    };
    assert_eq!(egress_of("amsterdam-hq"), ["ams-1"]);
    assert_eq!(egress_of("london-office"), ["lhr-1"]);
    assert_eq!(egress_of("us-east"), ["iad-1"]);

    let (h, rows) = read_csv_case(&out.join("users.csv"), "baseline");
    assert_eq!(rows.len(), 6000);
    let mut near_ams = 0;
    for r in &rows {
        let (lat, lon): (f64, f64) = (
            r[col(&h, "lat")].parse().unwrap(),
            r[col(&h, "lon")].parse().unwrap(),
        );
        // Within ~50 km of Amsterdam.
        if (lat - 52.37).abs() < 0.4 && (lon - 4.89).abs() < 0.6 {
            near_ams += 1;
            assert_eq!(r[col(&h, "egress")], "ams-1", "user at {lat},{lon}");
            assert_eq!(r[col(&h, "country")], "NL");
        }
    }
    assert!(
        near_ams > 500,
        "the scenario puts many users around Amsterdam ({near_ams})"
    );
}

#[test]
fn identical_csv_bytes_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("t1");
    let b = tmp.path().join("t2");
    // 20,000 users spans several simulation chunks, so thread scheduling really differs.
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let o = run(&[
            "run",
            "scenarios/three-sites.toml",
            "--out",
            dir.to_str().unwrap(),
            "--users",
            "20000",
            "--requests-per-user",
            "5",
            "--threads",
            threads,
            "--per-user",
            "--sweep",
            "none",
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in [
        "summary.csv",
        "egress_load.csv",
        "populations.csv",
        "latency_histogram.csv",
        "capacity.csv",
        "users.csv",
    ] {
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f} differs between thread counts"
        );
    }
}

#[test]
fn seed_changes_results_and_same_seed_repeats_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = ["s1", "s1b", "s2"]
        .iter()
        .map(|d| tmp.path().join(d))
        .collect();
    for (dir, seed) in dirs.iter().zip(["1", "1", "2"]) {
        let o = run_three_sites(dir, &["--seed", seed]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let read = |d: &std::path::Path| fs::read(d.join("summary.csv")).unwrap();
    assert_eq!(read(&dirs[0]), read(&dirs[1]));
    assert_ne!(read(&dirs[0]), read(&dirs[2]));
}

#[test]
fn default_output_folder_is_named_after_the_scenario_and_rerun_replaces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = root().join("scenarios/three-sites.toml");
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--users",
        "500",
        "--quiet",
    ];
    let o = run_in(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tmp.path().join("output/three-sites/summary.csv").exists());
    // A second run replaces the folder it created itself, without --force.
    let o = run_in(tmp.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    // No temporary folders are left behind.
    let leftovers: Vec<_> = fs::read_dir(tmp.path().join("output"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn refuses_to_overwrite_a_foreign_folder_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mine");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "precious").unwrap();
    let o = run_three_sites(&out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "precious"
    );
    let o = run_three_sites(&out, &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("summary.csv").exists() && !out.join("notes.txt").exists());
}

#[test]
fn terminal_summary_lists_each_egress() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run(&[
        "run",
        "scenarios/three-sites.toml",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "3000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    for id in [
        "ams-1",
        "lhr-1",
        "iad-1",
        "case baseline",
        "p95 ms",
        "results:",
    ] {
        assert!(s.contains(id), "summary lacks {id}:\n{s}");
    }
    // Piped output: no progress bar escape codes.
    assert!(!stderr(&o).contains('\u{1b}'), "{}", stderr(&o));
}

#[test]
fn check_accepts_every_shipped_scenario() {
    for entry in fs::read_dir(root().join("scenarios")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "toml") {
            continue; // data folders such as scenarios/from-user-list/
        }
        let o = run(&["check", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
        assert!(stdout(&o).contains("OK"));
    }
}

#[test]
fn latency_explains_parts_as_text_and_json() {
    let o = run(&["latency", "London", "Frankfurt", "--via", "AMS"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    for part in [
        "access (last mile)",
        "user → ingress LHR",
        "backbone",
        "destination",
        "total without last-mile access",
    ] {
        assert!(s.contains(part), "missing `{part}`:\n{s}");
    }
    let o = run(&[
        "latency",
        "51.5,-0.12",
        "FRA",
        "--json",
        "--access",
        "fiber",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let without = v["rtt_ms"].as_f64().unwrap();
    let with = v["rtt_with_access_ms"].as_f64().unwrap();
    assert!(with > without && without > 5.0 && without < 40.0, "{v}");
    assert_eq!(v["ingress"], "LHR");
    let parts = v["parts"].as_array().unwrap();
    let sum: f64 = parts.iter().map(|p| p["rtt_ms"].as_f64().unwrap()).sum();
    assert!((sum - with).abs() < 1e-9);

    let o = run(&["latency", "Lndon", "FRA"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean"), "{}", stderr(&o));
}

#[test]
fn latency_accepts_negative_coordinates_anywhere() {
    // Sydney → Rio de Janeiro, typed as coordinates with negative latitudes (and a negative longitude),
    // first, after an option, and after the other place.
    for args in [
        &["latency", "-33.87,151.21", "-22.91,-43.17", "--json"][..],
        &["latency", "--json", "-33.87,151.21", "-22.91,-43.17"][..],
        &["latency", "-33.87,151.21", "--json", "-22.91,-43.17"][..],
        &[
            "latency",
            "--access",
            "fiber",
            "-33.87,151.21",
            "-22.91,-43.17",
            "--json",
        ][..],
    ] {
        let o = run(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["ingress"], "SYD", "{args:?}: {v}");
        assert_eq!(v["from"]["lat"], -33.87, "{args:?}: {v}");
        assert_eq!(v["to"]["lon"], -43.17, "{args:?}: {v}");
    }
    // `--via` takes a data center: negative coordinates reach the command and get its message.
    let o = run(&["latency", "London", "FRA", "--via", "-33.87,151.21"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--via: `-33.87,151.21` is not a data center code"),
        "{}",
        stderr(&o)
    );
}
