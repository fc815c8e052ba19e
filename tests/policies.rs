//! Egress policies end to end: the shipped policy scenario, explain, and bad expressions.

mod common;
use common::*;
use std::fs;

#[test]
fn finance_and_qa_outcomes_follow_the_policies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fq");
    let o = run(&[
        "run",
        "scenarios/finance-and-qa.toml",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "8000",
        "--sweep",
        "none",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["policies.csv", "resources.csv"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let (h, rows) = read_csv(&out.join("policies.csv"));
    // The baseline only (the scenario also declares a failure case).
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| r[col(&h, "case")] == "baseline")
        .collect();
    let get = |name: &str, column: &str| -> String {
        rows.iter()
            .find(|r| r[col(&h, "policy")] == name)
            .unwrap_or_else(|| panic!("no row {name}"))[col(&h, column)]
        .clone()
    };
    let n = |name: &str, column: &str| get(name, column).parse::<u64>().unwrap();
    // Finance's bank traffic is dedicated through London and never blocked.
    assert!(n("Finance to the bank via London", "requests") > 0);
    assert_eq!(
        n("Finance to the bank via London", "dedicated_requests"),
        n("Finance to the bank via London", "requests")
    );
    assert_eq!(n("Finance to the bank via London", "blocked_requests"), 0);
    // The disabled policy never decides anything.
    assert_eq!(
        n("Legacy: all finance traffic via Washington", "requests"),
        0
    );
    assert_eq!(
        get("Legacy: all finance traffic via Washington", "enabled"),
        "false"
    );
    // The catch-all sends its traffic to default egress.
    let c = "Everything else: default egress";
    assert_eq!(n(c, "default_requests"), n(c, "requests"));
    // Conservation over policies.
    let total: u64 = rows
        .iter()
        .map(|r| r[col(&h, "requests")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 8000 * 20);
    let (h2, s) = read_csv(&out.join("summary.csv"));
    let shares: f64 = [
        "dedicated_share",
        "fallback_share",
        "default_share",
        "dropped_share",
    ]
    .iter()
    .map(|c| s[0][col(&h2, c)].parse::<f64>().unwrap())
    .sum();
    assert!((shares - 1.0).abs() < 1e-5);

    // resources.csv: the bank refuses Washington, accepts London.
    let (h, rows) = read_csv(&out.join("resources.csv"));
    for r in rows.iter().filter(|r| r[col(&h, "case")] == "baseline") {
        let (res, egress) = (&r[col(&h, "resource")], &r[col(&h, "egress")]);
        let blocked: u64 = r[col(&h, "blocked_requests")].parse().unwrap();
        let allowed: u64 = r[col(&h, "allowed_requests")].parse().unwrap();
        if res == "bank-api" && egress == "iad-1" {
            assert_eq!(allowed, 0);
        }
        if res == "bank-api" && egress == "lhr-1" {
            assert_eq!(blocked, 0);
        }
        if res == "web" {
            // Only the QA team's policies (no traffic filter) take web traffic elsewhere.
            assert!(
                ["default", "lhr-2", "iad-1"].contains(&egress.as_str()),
                "web via {egress}"
            );
        }
    }
}

#[test]
fn explain_walks_through_policies_for_a_finance_user() {
    let o = run(&[
        "explain",
        "scenarios/finance-and-qa.toml",
        "--user",
        "5",
        "--resource",
        "bank-api",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    for want in [
        "population `london-finance`",
        "groups           finance",
        "ingress",
        "Finance to the bank via London",
        "MATCH",
        "not evaluated (an earlier policy matched)",
        "decision: dedicated via lhr-1",
        "backbone",
        "total (jitter at its mean)",
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
}

#[test]
fn explain_names_the_first_failing_condition() {
    // User 6000 is in europe-staff (after 4,000 london-finance users).
    let o = run(&[
        "explain",
        "scenarios/finance-and-qa.toml",
        "--user",
        "6000",
        "--resource",
        "web",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("population `europe-staff`"), "{s}");
    assert!(
        s.contains("no match: traffic `net.fqdn.host == \"api.bank.example\"` is false")
            || s.contains("no match: identity"),
        "{s}"
    );
    assert!(s.contains("skipped (disabled)"), "{s}");
    assert!(
        s.contains("decided by policy `Everything else: default egress`"),
        "{s}"
    );
}

#[test]
fn explain_rejects_unknown_user_resource_and_case() {
    let o = run(&[
        "explain",
        "scenarios/finance-and-qa.toml",
        "--user",
        "99999999",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let o = run(&[
        "explain",
        "scenarios/finance-and-qa.toml",
        "--user",
        "1",
        "--resource",
        "bank-ap",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `bank-api`?"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "explain",
        "scenarios/finance-and-qa.toml",
        "--user",
        "1",
        "--case",
        "baselin",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `baseline`?"),
        "{}",
        stderr(&o)
    );
}

const BASE: &str = r#"name = "p"
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"
[[egress]]
id = "ams-1"
datacenter = "AMS"
ipv4 = "203.0.113.10"
[[population]]
name = "office"
users = 50
groups = { finance = 0.5 }
[population.location]
around = ["London"]
[[resource]]
name = "app"
host = "app.example.com"
ipv4 = "198.51.100.10"
location = "London"
"#;

fn check(extra: &str) -> std::process::Output {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("p.toml");
    fs::write(&path, format!("{BASE}{extra}")).unwrap();
    run_in(tmp.path(), &["check", path.to_str().unwrap()])
}

#[test]
fn a_bad_expression_points_at_its_column() {
    let o = check(
        "[[policy]]\nname = \"x\"\ntraffic = 'net.dst.port in {443 8000..}'\nipv4 = \"lhr-1\"\n",
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    // Line 23 of the file; the expression starts at column 12 and the bad range 21 characters further.
    assert!(e.contains("p.toml:23:33"), "{e}");
    assert!(e.contains("in `traffic` of policy `x`"), "{e}");
    assert!(e.contains('^'), "{e}");
}

#[test]
fn type_errors_and_unknown_fields_are_load_errors() {
    let o =
        check("[[policy]]\nname = \"x\"\ntraffic = 'net.dst.port == \"443\"'\nipv4 = \"lhr-1\"\n");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = check("[[policy]]\nname = \"x\"\ntraffic = 'net.dst.prot == 443'\nipv4 = \"lhr-1\"\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("net.dst.port"), "{}", stderr(&o));
}

#[test]
fn actions_are_validated() {
    let o = check("[[policy]]\nname = \"x\"\nipv4 = \"lhr-2\"\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `lhr-1`?"),
        "{}",
        stderr(&o)
    );
    let o = check("[[policy]]\nname = \"x\"\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no action"), "{}", stderr(&o));
    // By address works.
    let o = check("[[policy]]\nname = \"x\"\nipv4 = \"203.0.113.20\"\nipv4_fallback = \"ams-1\"\n");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = check("[[policy]]\nname = \"a\"\nprecedence = 5\nipv4 = \"lhr-1\"\n[[policy]]\nname = \"b\"\nipv4 = \"ams-1\"\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("give every policy a `precedence`"),
        "{}",
        stderr(&o)
    );
}

/// Golden round trip on the shipped scenarios: every compiled filter prints to text that parses back to
/// the same tree.
#[test]
fn shipped_policy_expressions_print_and_parse_back() {
    use egress_sim::policy::expr;
    let mut checked = 0;
    for entry in fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue; // data folders such as scenarios/from-user-list/
        }
        let loaded = egress_sim::scenario::load(&path, &Default::default()).unwrap();
        for p in &loaded.world.policies {
            for cond in p.filters.iter().flatten() {
                let again = expr::parse(&cond.text)
                    .unwrap_or_else(|e| panic!("{}: {}", p.name, e.render(&cond.text)));
                assert_eq!(
                    again.without_spans(),
                    cond.expr.without_spans(),
                    "{}: {}",
                    p.name,
                    cond.text
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 8,
        "the shipped scenarios have policy filters ({checked})"
    );
}

/// Cloudflare requires the secondary IPv4 in another location than the primary: the primary itself
/// or an IP in its data center is a located error with a suggestion; no fallback at all stays
/// allowed but is warned about (enabled policies only).
#[test]
fn fallback_rules_follow_cloudflare() {
    let second_in_lhr =
        "[[egress]]\nid = \"lhr-2\"\ndatacenter = \"LHR\"\nipv4 = \"203.0.113.21\"\n";
    let o = check(&format!(
        "{second_in_lhr}[[policy]]\nname = \"x\"\nipv4 = \"lhr-1\"\nipv4_fallback = \"lhr-2\"\n"
    ));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("policy `x`: `ipv4_fallback` `lhr-2` is in the same data center (LHR, London) as the primary `lhr-1`"),
        "{e}"
    );
    assert!(e.contains("p.toml:28:17"), "{e}");
    assert!(
        e.contains("use `ams-1` (the nearest egress IP in another data center)"),
        "{e}"
    );

    let o = check("[[policy]]\nname = \"x\"\nipv4 = \"lhr-1\"\nipv4_fallback = \"203.0.113.20\"\n");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`ipv4_fallback` is the primary `lhr-1` itself"),
        "{}",
        stderr(&o)
    );

    let o = check("[[policy]]\nname = \"x\"\nipv4 = \"lhr-1\"\n");
    assert!(o.status.success(), "{}", stderr(&o));
    let warned = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        warned.contains("warning: policy `x` has no `ipv4_fallback`: its IPv4 traffic is dropped whenever LHR (London) is unavailable"),
        "{warned}"
    );
    assert!(
        warned.contains("add `ipv4_fallback = \"ams-1\"`"),
        "{warned}"
    );
    let o = check("[[policy]]\nname = \"x\"\nenabled = false\nipv4 = \"lhr-1\"\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!format!("{}{}", stdout(&o), stderr(&o)).contains("ipv4_fallback"));
}

/// A London user's IPv4 to a non-proxied destination egresses from lhr-1's data center, which is
/// also where the user entered: explain says so, not "IPv6 or proxied destination".
#[test]
fn explain_gives_the_right_reason_when_the_egress_data_center_is_the_ingress() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("p.toml");
    fs::write(&path, BASE).unwrap();
    let o = run_in(tmp.path(), &["explain", "p.toml", "--user", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("decision: dedicated via lhr-1"), "{s}");
    assert!(
        s.contains(
            "physical egress: LHR (London) = ingress, which holds the dedicated IPv4 (IPv4 to a non-proxied destination leaves from the egress IP's data center)"
        ),
        "{s}"
    );
    assert!(!s.contains("IPv6 or proxied"), "{s}");
}
