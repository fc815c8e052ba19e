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
        // `code` spans are <code> elements: the text without backticks is the CSV's.
        let shown = unescape(&tr.replace("<code>", "").replace("</code>", ""));
        for field in ["detail", "recommendation"] {
            let text = r[col(&h, field)].replace('`', "");
            assert!(shown.contains(&text), "{field} `{text}` missing");
        }
    }
}

#[test]
fn findings_show_code_spans_not_backticks() {
    let (_, html) = shared_run();
    let findings = section(html, "findings");
    assert!(!findings.contains('`'), "raw backticks in the findings");
    assert!(findings.contains("<code>iad-1</code>"), "no code span");
    // Elsewhere too: nothing the report shows (outside its stylesheet) has raw backticks:
    // paragraphs, cards, tables, chart texts.
    let page = &html[html.find("</style>").unwrap()..];
    if let Some(at) = page.find('`') {
        panic!(
            "raw backtick in `{}`",
            &page[at.saturating_sub(80)..at + 40]
        );
    }
}

#[test]
fn wide_tables_fit_a_1400_px_window() {
    // Measured in headless Chromium by tools/check_report_layout.sh (docs/report-layout.md);
    // here, what makes them fit: the page is at most 1,240 px wide, numeric headers wrap, the
    // 14-column policies table is packed tighter, and the failure table has its 8 columns.
    let (_, html) = shared_run();
    let css = &html[..html.find("</style>").unwrap()];
    for rule in [
        "main { max-width: 1240px;",
        "th.num { white-space: normal; }",
        "table.policies th, table.policies td { padding: 5px 6px; }",
        "td.detail { min-width: 240px; max-width: 460px; }",
    ] {
        assert!(css.contains(rule), "stylesheet lacks `{rule}`");
    }
    let worst = section(html, "failover");
    let worst = &worst[worst.find("<table class=\"worst\">").unwrap()..];
    let head = &worst[..worst.find("</thead>").unwrap()];
    let cells: Vec<&str> = head.split("</th>").collect();
    let headers: Vec<&str> = cells[..cells.len() - 1]
        .iter()
        .map(|h| &h[h.rfind('>').unwrap() + 1..])
        .collect();
    assert_eq!(
        headers,
        [
            "case",
            "what changed",
            "users on another egress",
            "requests rerouted",
            "dropped",
            "newly refused",
            "newly off-geography",
            "p95 change"
        ]
    );
    // Every numeric header may wrap (the p95 change column was cut when they could not).
    assert_eq!(head.matches("<th class=\"num\"").count(), 6, "{head}");
}

#[test]
fn the_report_groups_thousands_as_the_terminal_does() {
    let (_, html) = shared_run();
    assert!(
        !html.contains('\u{202f}'),
        "narrow no-break spaces in numbers"
    );
    let egress = section(html, "sites");
    assert!(
        egress.contains(">40,000<"),
        "connection limits with commas: {egress}"
    );
}

#[test]
fn printing_keeps_table_headers_with_their_rows() {
    let (_, html) = shared_run();
    let print = &html[html.find("@media print").expect("a print stylesheet")..];
    for rule in [
        "thead { display: table-header-group; }",
        "tbody tr:first-child { break-before: avoid; }",
        ".table-wrap.keep { break-inside: avoid; }",
        "h2, h3, caption",
        "tr, figure.chart, .kpi { break-inside: avoid; }",
    ] {
        assert!(print.contains(rule), "print stylesheet lacks `{rule}`");
    }
    // Short tables are printed whole; the findings (long) may split between rows.
    assert!(html.contains("<div class=\"table-wrap keep\"><table class=\"load\">"));
}

#[test]
fn refusals_have_a_headline_card() {
    let (out, html) = shared_run();
    let (h, rows) = read_csv_case(&out.join("summary.csv"), "baseline");
    let blocked = &rows[0][col(&h, "blocked_share")];
    assert!(
        blocked.parse::<f64>().unwrap() > 0.0,
        "the flagship refuses some"
    );
    assert_eq!(&kpi(html, "kpi-refused"), blocked);
    let card = section(html, "headline");
    let card = &card[card.find("id=\"kpi-refused\"").unwrap()..];
    let card = &card[..card.find("</div></div>").unwrap()];
    assert!(card.contains("requests refused by allowlists"), "{card}");
    assert!(card.contains("bank-api refuses iad-1"), "{card}");
    assert!(
        card.starts_with("id=\"kpi-refused\"")
            && html.contains("class=\"kpi alert\" id=\"kpi-refused\"")
    );
}

#[test]
fn the_worst_single_failure_card_names_a_single_failure() {
    let (out, html) = shared_run();
    let at = html.find("id=\"kpi-worst\"").unwrap();
    let card = &html[at..at + html[at..].find("</div></div>").unwrap()];
    assert!(card.contains("worst single failure"), "{card}");
    // The regional `western-europe` is worse, but it is named as the worst of all cases only.
    let note = &card[card.find("kpi-note").unwrap()..];
    assert!(note.contains(">down:IAD:"), "{note}");
    assert!(
        note.contains("worst of all cases: western-europe"),
        "{note}"
    );
    let (h, rows) = read_csv_case(&out.join("summary.csv"), "down:IAD");
    assert_eq!(
        kpi(html, "kpi-worst"),
        rows[0][col(&h, "rtt_p95_change_ms")]
    );
}

#[test]
fn cases_that_change_nothing_are_left_out_and_counted() {
    let (out, html) = shared_run();
    let failover = section(html, "failover");
    let text = unescape(failover);
    let counted = |s: &str, after: &str| -> usize {
        let at = s
            .find(after)
            .unwrap_or_else(|| panic!("no `{after}` in {s}"));
        let before = s[..at].trim_end();
        let digits: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .collect();
        digits
            .chars()
            .rev()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };
    let left_out = counted(&text, "of them change nothing");
    let heat = svg_texts(&out.join("failover_heatmap.svg"));
    let footer = heat
        .iter()
        .find(|t| t.contains("that change nothing left out"))
        .unwrap();
    assert_eq!(counted(footer, "cases that change nothing"), left_out);
    // The heatmap rows, the table rows and the CDF lines are the same cases, in the same order.
    let (h, summary) = read_csv(&out.join("summary.csv"));
    let names: Vec<&str> = summary
        .iter()
        .skip(1)
        .map(|r| r[col(&h, "case")].as_str())
        .collect();
    let rows: Vec<&str> = heat
        .iter()
        .map(String::as_str)
        .filter(|t| names.contains(t))
        .collect();
    assert_eq!(rows.len() + left_out, names.len(), "{rows:?}");
    let table = body_rows(&failover[failover.find("class=\"worst\"").unwrap()..]);
    for (tr, name) in table.iter().zip(&rows) {
        assert!(
            tr.starts_with(&format!("<td>{name}</td>")),
            "{tr} vs {name}"
        );
    }
}

/// The texts of an SVG file's `<text>` elements, unescaped and trimmed.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = fs::read_to_string(path).unwrap();
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            unescape(t[..t.find("</text>").unwrap()].trim())
        })
        .collect()
}

/// A CSV value in the one human form of milliseconds.
fn ms(csv: &str) -> String {
    egress_sim::analysis::human::ms(csv.parse().ok())
}

fn ms_change(csv: &str) -> String {
    egress_sim::analysis::human::ms_change(csv.parse().ok())
}

fn share(csv: &str) -> String {
    egress_sim::analysis::human::percent(csv.parse().ok())
}

#[test]
fn cdf_legends_print_the_csv_numbers() {
    let (out, _) = shared_run();
    // Failover CDF: each line's median, p95 and p95 change are summary.csv's.
    let (h, summary) = read_csv(&out.join("summary.csv"));
    let legend = svg_texts(&out.join("failover_cdf.svg"));
    let mut lines = 0;
    for r in &summary {
        let name = &r[col(&h, "case")];
        let Some(text) = legend
            .iter()
            .find(|t| t.starts_with(&format!("{name}: median")))
        else {
            continue;
        };
        let mut want = format!(
            "{name}: median {}, p95 {}",
            ms(&r[col(&h, "rtt_p50_ms")]),
            ms(&r[col(&h, "rtt_p95_ms")])
        );
        if name != "baseline" {
            want.push_str(&format!(
                " ({})",
                ms_change(&r[col(&h, "rtt_p95_change_ms")])
            ));
        }
        assert_eq!(text, &want);
        lines += 1;
    }
    assert!(lines >= 3, "{legend:?}");
    // Latency CDF: each population's median and p95 are failover.csv's baseline columns.
    let (h, failover) = read_csv(&out.join("failover.csv"));
    let legend = svg_texts(&out.join("latency_cdf.svg"));
    let pops: Vec<&Vec<String>> = failover
        .iter()
        .take_while(|r| r[0] == failover[0][0])
        .collect();
    for r in &pops {
        let want = format!(
            "{}: median {}, p95 {}",
            r[col(&h, "population")],
            ms(&r[col(&h, "rtt_p50_before_ms")]),
            ms(&r[col(&h, "rtt_p95_before_ms")])
        );
        assert!(legend.contains(&want), "`{want}` not in {legend:?}");
    }
}

#[test]
fn heatmap_bar_and_capacity_labels_print_the_csv_numbers() {
    let (out, _) = shared_run();
    let (h, summary) = read_csv(&out.join("summary.csv"));
    let (h2, failover) = read_csv(&out.join("failover.csv"));
    let pops = failover
        .iter()
        .take_while(|r| r[0] == failover[0][0])
        .count();
    // Heatmap: the cells of the first row are failover.csv's p95 changes of that case.
    let heat = svg_texts(&out.join("failover_heatmap.svg"));
    let first = summary[1..]
        .iter()
        .map(|r| &r[col(&h, "case")])
        .find(|n| heat.contains(n))
        .unwrap();
    let at = heat.iter().position(|t| t == first).unwrap();
    let cells: Vec<&String> = heat[at + 1..]
        .iter()
        .filter(|t| t.ends_with(" ms"))
        .take(pops)
        .collect();
    assert_eq!(cells.len(), pops);
    for (cell, r) in cells.iter().zip(failover.iter().filter(|r| &r[0] == first)) {
        assert_eq!(*cell, &ms_change(&r[col(&h2, "rtt_p95_change_ms")]));
    }
    // Load bars: requests and share of egress_load.csv.
    let (h, load) = read_csv_case(&out.join("egress_load.csv"), "baseline");
    let bars = svg_texts(&out.join("egress_load.svg"));
    for r in load.iter().filter(|r| r[col(&h, "requests")] != "0") {
        let requests: u64 = r[col(&h, "requests")].parse().unwrap();
        let want = format!(
            "{} ({})",
            egress_sim::analysis::human::count(requests),
            share(&r[col(&h, "request_share")])
        );
        assert!(
            bars.iter().any(|t| t.starts_with(&want)),
            "`{want}` not in {bars:?}"
        );
    }
    // Capacity: the worst connections and utilisation of capacity.csv.
    let (h, cap) = read_csv(&out.join("capacity.csv"));
    let labels = svg_texts(&out.join("capacity.svg"));
    let worst = cap
        .iter()
        .max_by(|a, b| {
            let u = |r: &Vec<String>| r[col(&h, "worst_utilization")].parse::<f64>().unwrap();
            u(a).total_cmp(&u(b))
        })
        .unwrap();
    let conns: f64 = worst[col(&h, "worst_connections_v4")].parse().unwrap();
    let want = format!(
        "{} · {} of limit",
        egress_sim::analysis::human::count(conns.round() as u64),
        share(&worst[col(&h, "worst_utilization")])
    );
    assert!(labels.contains(&want), "`{want}` not in {labels:?}");
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
