//! `compare` through the real binary: two scenario files run and compared, numbers traced back to
//! the runs' own CSV tables, output folders compared directly, and bad arguments.

mod common;

use std::fs;

use common::*;

#[test]
fn compares_two_scenarios_with_numbers_from_their_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let o = run(&[
        "compare",
        "scenarios/three-sites.toml",
        "scenarios/three-sites-plus-frankfurt.toml",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "4000",
        "--sweep",
        "n-1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("rtt_p95_ms") && text.contains("B − A"),
        "{text}"
    );

    let (h, rows) = read_csv(&out.join("comparison.csv"));
    assert_eq!(h, ["section", "entity", "metric", "a", "b", "difference"]);
    let get = |section: &str, entity: &str, metric: &str| {
        rows.iter()
            .find(|r| r[0] == section && r[1] == entity && r[2] == metric)
            .unwrap_or_else(|| panic!("no {section}/{entity}/{metric}"))
            .clone()
    };
    // Headline p95 equals each run's summary.csv baseline row.
    let runs = tmp.path().join("cmp.runs");
    for (side, idx) in [("a", 3), ("b", 4)] {
        let (sh, srows) = read_csv_case(&runs.join(side).join("summary.csv"), "baseline");
        let want: f64 = srows[0][col(&sh, "rtt_p95_ms")].parse().unwrap();
        let got: f64 = get("headline", "", "rtt_p95_ms")[idx].parse().unwrap();
        assert!((want - got).abs() < 1e-9, "{side}: {want} vs {got}");
    }
    // The difference is B − A.
    let r = get("headline", "", "rtt_p95_ms");
    let (a, b, d): (f64, f64, f64) = (
        r[3].parse().unwrap(),
        r[4].parse().unwrap(),
        r[5].parse().unwrap(),
    );
    assert!((b - a - d).abs() < 1e-9);
    // The Frankfurt IP's failure exists only in B.
    let fra = get("case", "down:fra-1", "rtt_p95_ms");
    assert!(fra[3].is_empty() && !fra[4].is_empty(), "{fra:?}");
    // Per-population numbers are there for every population.
    for pop in ["amsterdam-hq", "london-office", "us-east"] {
        get("population", pop, "rtt_p95_ms");
    }
    let html = fs::read_to_string(out.join("comparison.html")).unwrap();
    assert!(html.contains("<table") && !html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script"));
}

#[test]
fn compares_output_folders_and_rejects_other_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let o = run(&[
        "run",
        "tests/fixtures/london-not-dublin.toml",
        "--out",
        a.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = tmp.path().join("same");
    let o = run(&[
        "compare",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, rows) = read_csv(&out.join("comparison.csv"));
    assert!(rows
        .iter()
        .all(|r| r[5].is_empty() || r[5].parse::<f64>().unwrap() == 0.0));

    let o = run(&["compare", "no/such/dir", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("neither an output folder nor a scenario file"),
        "{}",
        stderr(&o)
    );
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let o = run(&["compare", empty.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("summary.csv"), "{}", stderr(&o));
}
