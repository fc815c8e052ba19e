//! Section 3: RTT distribution per population, and a typical user's round trip part by part.

use super::super::tables::ms;
use super::markup::{figure, p, section, table, td, td_num};
use super::numbers::{count_shown, td_count, td_ms};
use super::page::Ctx;
use super::typical;

fn percentile_table(ctx: &Ctx) -> String {
    let (w, m) = (ctx.world, ctx.m);
    let mut rows: Vec<Vec<String>> = w
        .populations
        .iter()
        .enumerate()
        .map(|(pi, pop)| {
            let t = m.total(0, Some(pi), None);
            let mut r = vec![td(&pop.name), td(&pop.access_name), td_count(pop.users)];
            r.push(td_count(t.requests));
            r.push(td_ms(&ms(t.rtt_mean_ms())));
            for q in [0.5, 0.9, 0.95, 0.99] {
                r.push(td_ms(&ms(t.rtt.quantile_ms(q))));
            }
            r
        })
        .collect();
    let t = m.total(0, None, None);
    let mut all = vec![
        "<td><b>all users</b></td>".to_string(),
        td(""),
        td_count(w.users),
        td_count(t.requests),
        td_ms(&ms(t.rtt_mean_ms())),
    ];
    for q in [0.5, 0.9, 0.95, 0.99] {
        all.push(td_ms(&ms(t.rtt.quantile_ms(q))));
    }
    rows.push(all);
    table(
        "percentiles",
        "Round-trip time per population, baseline (delivered requests)",
        &[
            "population",
            "access",
            "#users",
            "#requests",
            "#mean",
            "#p50",
            "#p90",
            "#p95",
            "#p99",
        ],
        &rows,
    )
}

fn parts_table(ctx: &Ctx) -> String {
    let traces = typical::traces(ctx.world);
    if traces.iter().all(Option::is_none) {
        return p("No typical round trip to show: no destination, or every population's representative user is dropped.");
    }
    let ms1 = |x: f64| td_num(&format!("{x:.1}"), &format!("{x:.3}"));
    let rows: Vec<Vec<String>> = traces
        .into_iter()
        .flatten()
        .map(|t| {
            let mut r = vec![
                td(&t.population),
                td_num(&count_shown(t.user), &t.user.to_string()),
                td(&t.ingress),
                td(&t.egress),
                td(&t.destination),
            ];
            r.extend(t.parts.iter().map(|x| ms1(*x)));
            r.push(format!(
                "<td class=\"num\" data-value=\"{:.3}\"><b>{:.1}</b></td>",
                t.total, t.total
            ));
            r
        })
        .collect();
    let mut s = table(
        "parts",
        "Round trip of a typical user of each population, ms (baseline, IPv4, most requested destination)",
        &[
            "population",
            "#user",
            "ingress",
            "egress",
            "destination",
            "#access",
            "#to ingress",
            "#backbone",
            "#to destination",
            "#processing",
            "#jitter (mean)",
            "#total",
        ],
        &rows,
    );
    s.push_str(&p("The typical user is each population's first user (the same user `egress-sim explain --user N` traces), sent to the destination with the highest request weight. Backbone is zero when the traffic leaves where it entered (IPv6, proxied destinations, default egress, or an egress IP in the ingress data center)."));
    s
}

/// The latency section.
pub(super) fn render(ctx: &Ctx) -> String {
    let mut s = String::new();
    s.push_str(&figure(
        &ctx.charts.latency_cdf,
        "Cumulative share of requests by round-trip time, one line per population (baseline).",
    ));
    s.push_str(&percentile_table(ctx));
    s.push_str(&parts_table(ctx));
    section("latency", "3. Latency", &s)
}
