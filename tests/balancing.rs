//! `[balancing] mode` and `--balancing`: `nearest` (the default) and `fastest`, through the real
//! binary on the shipped scenario.

mod common;
use common::*;
use std::fs;

const SCENARIO: &str = "scenarios/three-sites.toml";
/// A `europe-remote` user (nearest dedicated location AMS) for whom `fastest` sends the Washington
/// and San Francisco destinations through IAD.
const USER: &str = "50001";

#[test]
fn explain_states_the_mode_and_why_it_chose_the_site() {
    let args = ["explain", SCENARIO, "--user", USER, "--sweep", "none"];
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("balancing        nearest"), "{text}");
    assert!(
        text.contains("balancing chose it (nearest: AMS, the closest dedicated location"),
        "{text}"
    );
    assert!(!text.contains("fastest:"), "{text}");

    let o = run(&[&args[..], &["--balancing", "fastest"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("balancing        fastest"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("(fastest: IAD ") && l.contains(" ms vs nearest AMS "))
        .unwrap_or_else(|| panic!("a destination moved to IAD:\n{text}"));
    assert!(line.contains("via iad-1"), "{line}");

    let o = run(&[&args[..], &["--balancing", "fastest", "--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["balancing"], "fastest");
    let picks: Vec<&serde_json::Value> = v["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["ip_versions"].as_array().unwrap())
        .map(|x| &x["balancing"])
        .collect();
    assert!(picks.iter().all(|b| b["mode"] == "fastest"), "{picks:?}");
    assert!(picks.iter().any(|b| b["datacenter"] == "IAD"
        && b["nearest_datacenter"] == "AMS"
        && b["rtt_ms"].as_f64() < b["nearest_rtt_ms"].as_f64()));
}

#[test]
fn fastest_runs_are_identical_for_any_thread_count_and_differ_from_nearest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = |name: &str| tmp.path().join(name);
    let go = |dir: &str, extra: &[&str]| {
        let d = out(dir);
        let base = [
            "run",
            SCENARIO,
            "--users",
            "3000",
            "--quiet",
            "--out",
            d.to_str().unwrap(),
        ];
        let o = run(&[&base[..], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
    };
    go("t1", &["--balancing", "fastest", "--threads", "1"]);
    go("t2", &["--balancing", "fastest", "--threads", "2"]);
    go("near", &["--threads", "2"]);
    let mut csvs = 0;
    for e in fs::read_dir(out("t1")).unwrap() {
        let name = e.unwrap().file_name();
        if name.to_string_lossy().ends_with(".csv") {
            csvs += 1;
            let a = fs::read(out("t1").join(&name)).unwrap();
            let b = fs::read(out("t2").join(&name)).unwrap();
            assert!(a == b, "{name:?} differs between --threads 1 and 2");
        }
    }
    assert!(csvs > 5);
    let a = fs::read(out("t1").join("egress_load.csv")).unwrap();
    let b = fs::read(out("near").join("egress_load.csv")).unwrap();
    assert!(a != b, "fastest moves some traffic to another site");
}

#[test]
fn an_unknown_mode_is_a_located_error_listing_the_valid_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join(SCENARIO)).unwrap().replacen(
        "mode = \"nearest\"",
        "mode = \"quickest\"",
        1,
    );
    let path = tmp.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    let o = run(&["check", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown balancing mode `quickest`"), "{err}");
    assert!(err.contains("bad.toml:39:8"), "{err}");
    assert!(
        err.contains("`nearest`") && err.contains("`fastest`"),
        "{err}"
    );

    let o = run(&["check", SCENARIO, "--balancing", "quickest"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nearest") && err.contains("fastest"), "{err}");
}

#[test]
fn check_shows_the_mode_from_the_file_or_the_flag() {
    let o = run(&["check", SCENARIO]);
    assert!(stdout(&o).contains("balancing nearest:"), "{}", stdout(&o));
    let o = run(&["check", SCENARIO, "--balancing", "fastest"]);
    assert!(stdout(&o).contains("balancing fastest:"), "{}", stdout(&o));
}
