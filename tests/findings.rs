//! Findings a planner can trust, on real runs: steady-state allowlist refusals (issue 14's own
//! scenario and the flagship's) and a terminal summary in 100 columns with one number format.

mod common;
use common::*;
use std::path::Path;

/// Runs `scenario` into a temporary folder; returns the folder (kept alive) and the summary.
fn run_scenario(scenario: &str, extra: &[&str]) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let mut args = vec!["run", scenario, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    (tmp, stdout(&o))
}

fn res(tmp: &tempfile::TempDir) -> std::path::PathBuf {
    tmp.path().join("res")
}

/// The `allowlist_refuses` rows of `redundancy.csv`: (entity, detail, recommendation, severity,
/// impact).
fn refusal_findings(dir: &Path) -> Vec<(String, String, String, String, f64)> {
    let (h, rows) = read_csv(&dir.join("redundancy.csv"));
    rows.iter()
        .filter(|r| r[col(&h, "finding")] == "allowlist_refuses")
        .map(|r| {
            (
                r[col(&h, "entity")].clone(),
                r[col(&h, "detail")].clone(),
                r[col(&h, "recommendation")].clone(),
                r[col(&h, "severity")].clone(),
                r[col(&h, "impact_share")].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn steady_state_refusals_get_a_finding_a_card_and_a_line() {
    let (tmp, summary) = run_scenario(
        "tests/fixtures/allowlist-refusals.toml",
        &["--sweep", "none"],
    );
    let dir = res(&tmp);
    // resources.csv: the ERP refuses everything that leaves through Mumbai and Singapore.
    let (h, rows) = read_csv_case(&dir.join("resources.csv"), "baseline");
    let erp: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col(&h, "resource")] == "erp-saas")
        .collect();
    let erp_requests: u64 = erp
        .iter()
        .map(|r| r[col(&h, "requests")].parse::<u64>().unwrap())
        .sum();
    let refused: Vec<(&str, u64)> = erp
        .iter()
        .filter(|r| r[col(&h, "blocked_requests")] != "0")
        .map(|r| {
            (
                r[col(&h, "egress")].as_str(),
                r[col(&h, "blocked_requests")].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refused.iter().map(|r| r.0).collect::<Vec<_>>(),
        ["bom-1", "sin-1"]
    );

    // One finding per (destination, egress IP), with its share of the destination's requests and
    // the two fixes, naming the accepted IP.
    let findings = refusal_findings(&dir);
    assert_eq!(findings.len(), 2, "{findings:?}");
    for (ip, n) in &refused {
        let f = findings
            .iter()
            .find(|f| f.1.contains(&format!("`{ip}`")))
            .unwrap_or_else(|| panic!("no finding for {ip}: {findings:?}"));
        assert_eq!(f.0, "erp-saas");
        assert_eq!(f.3, "high", "{} of the ERP's requests refused", n);
        let share = *n as f64 / erp_requests as f64;
        assert!((f.4 - share).abs() < 1e-6, "{} vs {share}", f.4);
        assert!(
            f.2.contains(&format!("add `{ip}`")) && f.2.contains("allowlist of `erp-saas`"),
            "{}",
            f.2
        );
        assert!(f.2.contains("e.g. `fra-1` (FRA)"), "{}", f.2);
        assert!(
            f.2.contains("net.fqdn.host == \"erp.saas.example\""),
            "{}",
            f.2
        );
    }

    // A headline card with summary.csv's refused share, and a line in the terminal summary.
    let (h, base) = read_csv_case(&dir.join("summary.csv"), "baseline");
    let blocked = &base[0][col(&h, "blocked_share")];
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let card = &html[html.find("id=\"kpi-refused\"").expect("a refusals card")..];
    assert!(
        card.contains(&format!("data-value=\"{blocked}\"")),
        "{}",
        &card[..300]
    );
    assert!(card[..card.find("</div></div>").unwrap()].contains("erp-saas refuses bom-1"));
    assert!(
        !html.contains("class=\"kpi\" id=\"kpi-refused\""),
        "the card is an alert"
    );
    let line = summary
        .lines()
        .find(|l| l.contains("allowlists refused"))
        .unwrap_or_else(|| panic!("no refusal line in\n{summary}"));
    let pct = egress_sim::analysis::human::percent(blocked.parse().ok());
    assert!(
        line.contains(&format!("refused {pct} of requests")),
        "{line}"
    );
    assert!(summary.contains("`erp-saas` refuses `bom-1`"), "{summary}");
    assert!(
        summary.contains("[high] in the baseline (no failure), `erp-saas` refuses"),
        "{summary}"
    );
}

#[test]
fn the_flagships_refusal_gets_a_finding_too() {
    let (tmp, _) = run_scenario(
        "scenarios/three-sites.toml",
        &["--users", "3000", "--sweep", "none", "--quiet"],
    );
    let findings = refusal_findings(&res(&tmp));
    assert_eq!(findings.len(), 1, "{findings:?}");
    let (entity, detail, recommendation, severity, _) = &findings[0];
    assert_eq!((entity.as_str(), severity.as_str()), ("bank-api", "high"));
    assert!(
        detail.contains("`iad-1` (IAD), which is not on its allowlist"),
        "{detail}"
    );
    // The accepted IP nearest to Washington.
    assert!(
        recommendation.contains("e.g. `lhr-1` (LHR)"),
        "{recommendation}"
    );
}

/// Runs of digits of four or more without thousands separators, outside addresses, identifiers
/// and decimals (`51249`, not `51,249`, `203.0.113.30`, `lhr-1` or `0.123456`).
fn ungrouped_numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let glued =
            |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || ".:-_/".contains(*c));
        let before = start.checked_sub(1).and_then(|b| chars.get(b));
        if i - start >= 4 && !glued(before) && !glued(chars.get(i)) {
            out.push(chars[start..i].iter().collect());
        }
    }
    out
}

#[test]
fn every_shipped_summary_fits_100_columns_with_one_number_format() {
    for scenario in [
        "three-sites",
        "finance-and-qa",
        "from-user-list",
        "three-sites-plus-frankfurt",
    ] {
        let (_tmp, summary) = run_scenario(&format!("scenarios/{scenario}.toml"), &[]);
        assert!(summary.contains("findings"), "{summary}");
        for line in summary.lines().filter(|l| !l.starts_with("results: ")) {
            assert!(
                line.chars().count() <= 100,
                "{scenario}: {} columns: {line}",
                line.chars().count()
            );
        }
        assert_eq!(
            ungrouped_numbers(&summary),
            Vec::<String>::new(),
            "{scenario}:\n{summary}"
        );
    }
    assert_eq!(
        ungrouped_numbers("51249 connections, 203.0.113.30, 51,249, 0.123456"),
        ["51249"]
    );
}
