//! `--format json` on `run`, `check`, `explain`, `compare` and `latency`: one JSON object on standard
//! output whose numbers equal the CSV cells (and the text) they come from.

mod common;
use common::*;
use serde_json::Value;

/// Parses standard output as one JSON object, after checking the command succeeded.
fn json_of(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A CSV cell as the JSON value it must equal (empty: null).
fn cell(v: &str) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.into()))
    }
}

/// Checks that every `fields` of `object` equals the same column of `row`.
fn assert_row(object: &Value, header: &[String], row: &[String], fields: &[&str]) {
    for f in fields {
        let raw = &row[col(header, f)];
        let json = &object[*f];
        if let Some(text) = json.as_str() {
            assert_eq!(text, raw, "{f}");
            continue;
        }
        let csv = cell(raw);
        let equal = match (csv.as_f64(), json.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => &csv == json,
        };
        assert!(equal, "{f}: CSV {csv} vs JSON {json}");
    }
}

#[test]
fn run_json_numbers_equal_the_csvs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let v = json_of(&run(&[
        "run",
        "scenarios/finance-and-qa.toml",
        "--users",
        "3000",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(v["schema"], "egress-sim/run/1");
    assert_eq!(v["scenario"], "finance-and-qa");
    assert_eq!(v["users"], 3000);
    assert_eq!(v["output"], out.to_str().unwrap());
    let (h, summary) = read_csv(&out.join("summary.csv"));
    assert_eq!(v["cases"], summary.len());
    assert_eq!(
        v["requests"],
        summary[0][col(&h, "requests")].parse::<u64>().unwrap()
    );
    let case_fields = [
        "requests",
        "rtt_mean_ms",
        "rtt_p50_ms",
        "rtt_p90_ms",
        "rtt_p95_ms",
        "rtt_p99_ms",
        "apparent_country_mismatch_share",
        "apparent_continent_mismatch_share",
        "apparent_distance_mean_km",
        "dedicated_share",
        "fallback_share",
        "default_share",
        "dropped_share",
        "blocked_share",
        "geography_violation_share",
    ];
    assert_row(&v["baseline"], &h, &summary[0], &case_fields);

    // Per egress slot: the baseline rows of egress_load.csv.
    let (eh, load) = read_csv_case(&out.join("egress_load.csv"), "baseline");
    let egress = v["egress"].as_array().unwrap();
    assert!(egress.len() >= 3, "{egress:?}");
    for e in egress {
        let row = load
            .iter()
            .find(|r| r[col(&eh, "egress")] == e["egress"].as_str().unwrap())
            .unwrap();
        assert_row(
            e,
            &eh,
            row,
            &[
                "datacenter",
                "users",
                "requests",
                "request_share",
                "rtt_p50_ms",
                "rtt_p95_ms",
                "rtt_p99_ms",
                "peak_origin_utilization",
            ],
        );
    }

    // Every failure case, with its summary.csv numbers.
    let failures = v["failure_cases"].as_array().unwrap();
    assert_eq!(failures.len(), summary.len() - 1);
    for f in failures {
        let row = summary
            .iter()
            .find(|r| r[col(&h, "case")] == f["case"].as_str().unwrap())
            .unwrap();
        assert_row(
            f,
            &h,
            row,
            &[
                "users_egress_changed",
                "requests_rerouted_share",
                "dropped_share",
                "blocked_share",
                "geography_violation_share",
                "rtt_p95_ms",
                "rtt_p95_change_ms",
            ],
        );
    }

    // Findings: every row of redundancy.csv, in order.
    let (rh, redundancy) = read_csv(&out.join("redundancy.csv"));
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), redundancy.len());
    for (f, row) in findings.iter().zip(&redundancy) {
        assert_row(
            f,
            &rh,
            row,
            &[
                "severity",
                "finding",
                "entity_kind",
                "entity",
                "case",
                "impact_share",
                "detail",
                "recommendation",
            ],
        );
    }
    for phase in ["load", "simulate", "output"] {
        assert!(v["timings"][phase].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn run_json_with_quiet_prints_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&[
        "run",
        "scenarios/three-sites.toml",
        "--users",
        "300",
        "--format",
        "json",
        "--quiet",
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).is_empty());
}

#[test]
fn check_json_describes_the_scenario_or_its_located_errors() {
    let v = json_of(&run(&[
        "check",
        "scenarios/finance-and-qa.toml",
        "--format",
        "json",
    ]));
    assert_eq!(v["schema"], "egress-sim/check/1");
    assert_eq!(v["valid"], true);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    let s = &v["scenario"];
    assert_eq!(s["name"], "finance-and-qa");
    let text = stdout(&run(&["check", "scenarios/finance-and-qa.toml"]));
    for p in s["populations"].as_array().unwrap() {
        let line = format!(
            "population `{}`: {} users, {}, access {}",
            p["name"].as_str().unwrap(),
            p["users"],
            p["placement"].as_str().unwrap(),
            p["access"].as_str().unwrap()
        );
        assert!(text.contains(&line), "{line} not in {text}");
    }
    assert!(text.contains(&format!("{} cases", s["cases"])), "{text}");

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\n[[egress]]\nid = \"a\"\ndatacenter = \"LON\"\nipv4 = \"203.0.113.1\"\n",
    )
    .unwrap();
    let o = run(&["check", bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["scenario"], Value::Null);
    let e = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"] == "unknown data center `LON`")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(4), Some(14))
    );
    assert_eq!(e["help"], "did you mean `LHR` (London)?");
    // People still read the errors on standard error.
    assert!(stderr(&o).contains("error: unknown data center `LON`"));
}

#[test]
fn explain_json_is_the_trace_the_text_prints() {
    let args = [
        "explain",
        "scenarios/finance-and-qa.toml",
        "--user",
        "5",
        "--case",
        "down:LHR",
    ];
    let text = stdout(&run(&args));
    let mut with_json = args.to_vec();
    with_json.extend(["--format", "json"]);
    let v = json_of(&run(&with_json));
    assert_eq!(v["schema"], "egress-sim/explain/1");
    assert_eq!(v["case"], "down:LHR");
    assert_eq!(v["user"]["index"], 5);
    let i = &v["ingress"];
    assert!(
        text.contains(&format!(
            "ingress          {} ({}, {})",
            i["datacenter"].as_str().unwrap(),
            i["city"].as_str().unwrap(),
            i["country"].as_str().unwrap()
        )),
        "{text}"
    );
    let destinations = v["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), text.matches("\nresource ").count());
    for d in destinations {
        for ipv in d["ip_versions"].as_array().unwrap() {
            if let Some(rt) = ipv["round_trip"].as_object() {
                let total = rt["total_ms"].as_f64().unwrap();
                let sum: f64 = rt["parts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["rtt_ms"].as_f64().unwrap())
                    .sum();
                assert!((sum - total).abs() < 1e-9);
                assert!(
                    text.contains(&format!("{total:>8.2} ms")),
                    "{total}: {text}"
                );
            }
        }
    }
}

#[test]
fn compare_json_rows_equal_comparison_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let v = json_of(&run(&[
        "compare",
        "scenarios/three-sites.toml",
        "scenarios/three-sites-plus-frankfurt.toml",
        "--users",
        "2000",
        "--sweep",
        "none",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(v["schema"], "egress-sim/compare/1");
    assert_eq!(v["output"], out.to_str().unwrap());
    let (h, rows) = read_csv(&out.join("comparison.csv"));
    let json_rows = v["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), rows.len());
    for (j, r) in json_rows.iter().zip(&rows) {
        assert_row(
            j,
            &h,
            r,
            &["section", "entity", "metric", "a", "b", "difference"],
        );
    }
}

#[test]
fn latency_json_is_the_same_with_either_flag() {
    let a = run(&["latency", "London", "FRA", "--format", "json"]);
    let b = run(&["latency", "London", "FRA", "--json"]);
    assert_eq!(json_of(&a), json_of(&b));
    assert_eq!(json_of(&a)["ingress"], "LHR");
    let o = run(&["latency", "London", "FRA", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("possible values: text, json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_json_failure_cases_follow_the_terminals_ranking() {
    let tmp = tempfile::tempdir().unwrap();
    let args = |out: &str, json: bool| {
        let mut a = vec![
            "run".to_string(),
            "scenarios/three-sites.toml".into(),
            "--users".into(),
            "3000".into(),
            "--out".into(),
            tmp.path().join(out).to_str().unwrap().into(),
        ];
        if json {
            a.extend(["--format".into(), "json".into()]);
        }
        a
    };
    let text_args = args("text", false);
    let o = run(&text_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let json_args = args("json", true);
    let v = json_of(&run(&json_args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()));

    let cases = v["failure_cases"].as_array().unwrap();
    let without = cases
        .iter()
        .filter(|c| !c["changes_something"].as_bool().unwrap())
        .count();
    assert_eq!(v["failure_cases_without_effect"], without);
    assert!(
        without > 0,
        "the flagship's sweep has cases that change nothing"
    );
    assert!(
        text.contains(&format!("; {without} change nothing")),
        "{text}"
    );
    // The terminal lists the cases that change something, in the JSON's (the one ranking's) order.
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("case ") || !l.contains("Δp95"))
        .skip(1)
        .take_while(|l| l.starts_with("  ") && !l.trim_start().starts_with('…'))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let with_effect: Vec<&str> = cases
        .iter()
        .filter(|c| c["changes_something"].as_bool().unwrap())
        .map(|c| c["case"].as_str().unwrap())
        .collect();
    assert!(!listed.is_empty(), "{text}");
    assert_eq!(listed, with_effect[..listed.len()], "{text}");
}
