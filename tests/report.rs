//! `report.html`: self-contained, every section in order, and the same numbers as the CSV files.

mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One run of the shipped scenario (with its n-1 sweep), shared by the tests: (output folder, html).
fn shared_run() -> (&'static Path, &'static str) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, String)> = OnceLock::new();
    let (_, out, html) = RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("res");
        let html = run_report(&out);
        (tmp, out, html)
    });
    (out, html)
}

fn run_report(out: &Path) -> String {
    let o = run(&[
        "run",
        "scenarios/three-sites.toml",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "6000",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = out.join("report.html");
    assert!(p.is_file(), "report.html missing");
    fs::read_to_string(p).unwrap()
}

/// The markup of the element with `id` up to the end of its section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section `{id}`"));
    let rest = &html[start..];
    let end = rest
        .find("</section>")
        .or_else(|| rest.find("</header>"))
        .unwrap();
    &rest[..end]
}

/// Every `data-value` in `fragment`, in order.
fn data_values(fragment: &str) -> Vec<String> {
    fragment
        .split("data-value=\"")
        .skip(1)
        .map(|s| unescape(&s[..s.find('"').unwrap()]))
        .collect()
}

/// The body rows of the first table in `fragment`.
fn body_rows(fragment: &str) -> Vec<&str> {
    let body = &fragment[fragment.find("<tbody>").expect("a table") + 7..];
    let body = &body[..body.find("</tbody>").unwrap()];
    body.split("<tr>").skip(1).collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Value of the first `data-value` after `id="{id}"`.
fn kpi(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no key number `{id}`"));
    data_values(&html[at..]).remove(0)
}

#[test]
fn report_is_self_contained() {
    let (_, html) = shared_run();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for attr in ["src=", "href="] {
        for quote in ['"', '\''] {
            let pat = format!("{attr}{quote}");
            for v in html.split(pat.as_str()).skip(1) {
                let v = &v[..v.find(quote).unwrap()];
                assert!(
                    !v.contains("http:") && !v.contains("https:") && !v.starts_with("//"),
                    "external reference {attr}{v}"
                );
            }
        }
    }
    let lower = html.to_lowercase();
    for bad in [
        "<script", "@import", "url(http", "url(//", "<link", "<iframe",
    ] {
        assert!(!lower.contains(bad), "report contains `{bad}`");
    }
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(
        html.len() < 3_000_000,
        "report.html is {} bytes",
        html.len()
    );
}

#[test]
fn every_section_is_present_in_order() {
    let (_, html) = shared_run();
    let ids = [
        "headline",
        "sites",
        "latency",
        "policies",
        "geolocation",
        "failover",
        "capacity",
        "findings",
        "method",
    ];
    let mut last = 0;
    for id in ids {
        let tag = if id == "headline" {
            "<header"
        } else {
            "<section"
        };
        let at = html
            .find(&format!("{tag} id=\"{id}\""))
            .unwrap_or_else(|| panic!("no section `{id}`"));
        assert!(at >= last, "section `{id}` out of order");
        last = at;
    }
    // Sections with charts carry them inline.
    for id in ["sites", "latency", "failover", "capacity"] {
        assert!(section(html, id).contains("<svg"), "no chart in `{id}`");
    }
    assert!(html.contains("<h1>three-sites</h1>"));
}

#[test]
fn headline_numbers_equal_the_csv_numbers() {
    let (out, html) = shared_run();
    let (h, rows) = read_csv_case(&out.join("summary.csv"), "baseline");
    let base = &rows[0];
    assert_eq!(kpi(html, "kpi-p95"), base[col(&h, "rtt_p95_ms")]);
    assert_eq!(kpi(html, "kpi-dedicated"), base[col(&h, "dedicated_share")]);
    let head = section(html, "headline");
    let meta = data_values(head);
    assert_eq!(meta[0], "42", "seed");
    assert_eq!(meta[1], base[col(&h, "users")]);
    assert_eq!(meta[2], base[col(&h, "requests")]);

    // Worst failure: its p95 change is one of summary.csv's, the largest when nothing is lost.
    let (h, all) = read_csv(&out.join("summary.csv"));
    let worst = kpi(html, "kpi-worst");
    assert!(
        all.iter().any(|r| r[col(&h, "rtt_p95_change_ms")] == worst),
        "worst p95 change {worst} not in summary.csv"
    );

    let (h, cap) = read_csv(&out.join("capacity.csv"));
    let wu = col(&h, "worst_utilization");
    let max = cap
        .iter()
        .map(|r| r[wu].as_str())
        .max_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse().unwrap()))
        .unwrap();
    assert_eq!(kpi(html, "kpi-capacity"), max);

    let (h, red) = read_csv(&out.join("redundancy.csv"));
    let high = red
        .iter()
        .filter(|r| r[col(&h, "severity")] == "high")
        .count();
    assert_eq!(kpi(html, "kpi-high"), high.to_string());
}

#[test]
fn policy_rows_equal_policies_csv() {
    let (out, html) = shared_run();
    let (h, rows) = read_csv_case(&out.join("policies.csv"), "baseline");
    let table = body_rows(section(html, "policies"));
    assert_eq!(table.len(), rows.len(), "one row per policy plus unmatched");
    let first = col(&h, "users");
    // The private-network column is shown only when some destination is on a private network.
    let private = col(&h, "private_network_requests");
    assert!(rows.iter().all(|r| r[private] == "0"));
    for (tr, csv) in table.iter().zip(&rows) {
        assert!(tr.contains(&csv[col(&h, "policy")]), "{tr}");
        let want: Vec<String> = (first..csv.len())
            .filter(|&i| i != private)
            .map(|i| csv[i].clone())
            .collect();
        assert_eq!(data_values(tr), want, "policy {}", csv[1]);
    }
}

#[test]
fn capacity_rows_equal_capacity_csv() {
    let (out, html) = shared_run();
    let (h, rows) = read_csv_case(&out.join("capacity.csv"), "baseline");
    let table = body_rows(section(html, "capacity"));
    assert_eq!(table.len(), rows.len());
    for (tr, r) in table.iter().zip(&rows) {
        let want: Vec<String> = [
            "connection_limit",
            "origin_connections_v4",
            "utilization",
            "worst_connections_v4",
            "worst_utilization",
        ]
        .iter()
        .map(|c| r[col(&h, c)].clone())
        .collect();
        assert_eq!(data_values(tr), want);
        assert!(tr.contains(&format!("<td>{}</td>", r[col(&h, "worst_case")])));
    }
}

#[test]
fn load_and_geolocation_equal_the_csv_numbers() {
    let (out, html) = shared_run();
    let (h, rows) = read_csv_case(&out.join("egress_load.csv"), "baseline");
    let sites = section(html, "sites");
    let table = body_rows(&sites[sites.find("class=\"load\"").unwrap()..]);
    assert_eq!(table.len(), rows.len());
    for (tr, r) in table.iter().zip(&rows) {
        let v = data_values(tr);
        assert_eq!(v[0], r[col(&h, "users")]);
        assert_eq!(v[1], r[col(&h, "requests")]);
        assert_eq!(v[2], r[col(&h, "request_share")]);
        assert_eq!(v[3], r[col(&h, "rtt_p50_ms")]);
        assert_eq!(v[4], r[col(&h, "rtt_p95_ms")]);
        assert_eq!(v[5], r[col(&h, "blocked_requests")]);
    }
    let (h, rows) = read_csv_case(&out.join("summary.csv"), "baseline");
    let geo = body_rows(section(html, "geolocation"));
    let all = data_values(geo.last().unwrap());
    assert_eq!(all[1], rows[0][col(&h, "apparent_country_mismatch_share")]);
    assert_eq!(
        all[2],
        rows[0][col(&h, "apparent_continent_mismatch_share")]
    );
    assert_eq!(all[3], rows[0][col(&h, "apparent_distance_mean_km")]);
    let lat = body_rows(section(html, "latency"));
    let all = data_values(lat.last().unwrap());
    assert_eq!(all[2], rows[0][col(&h, "rtt_mean_ms")]);
    assert_eq!(all[3], rows[0][col(&h, "rtt_p50_ms")]);
    assert_eq!(all[4], rows[0][col(&h, "rtt_p90_ms")]);
    assert_eq!(all[5], rows[0][col(&h, "rtt_p95_ms")]);
    assert_eq!(all[6], rows[0][col(&h, "rtt_p99_ms")]);
}

#[test]
fn findings_equal_redundancy_csv() {
    let (out, html) = shared_run();
    let (h, rows) = read_csv(&out.join("redundancy.csv"));
    assert!(!rows.is_empty());
    let table = body_rows(section(html, "findings"));
    assert_eq!(table.len(), rows.len());
    for (tr, r) in table.iter().zip(&rows) {
        assert_eq!(data_values(tr)[0], r[col(&h, "severity")]);
        assert!(
            unescape(tr).contains(&r[col(&h, "detail")]),
            "detail `{}` missing",
            r[col(&h, "detail")]
        );
        assert!(unescape(tr).contains(&r[col(&h, "recommendation")]));
    }
}

#[test]
fn two_runs_differ_only_in_the_date() {
    let tmp = tempfile::tempdir().unwrap();
    let strip = |html: &str| {
        let at = html.find("class=\"run-date\">run ").unwrap() + 20;
        let date = &html[at..at + html[at..].find('<').unwrap()];
        assert!(date.ends_with(" UTC"), "{date}");
        html.replace(date, "DATE")
    };
    let a = run_report(&tmp.path().join("a"));
    let b = run_report(&tmp.path().join("b"));
    assert_eq!(strip(&a), strip(&b));
}
