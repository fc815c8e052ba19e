//! Section 3: RTT distribution per population, and a typical user's round trip part by part.

use super::markup::{figure, p, section, table, td, td_num};
use super::numbers::{td_count, td_ms};
use super::page::Ctx;
use crate::analysis::cases::Traffic;
use crate::analysis::human::ms_column;

fn percentile_row(first: String, access: &str, users: u64, t: &Traffic) -> Vec<String> {
    let mut r = vec![first, td(access), td_count(users), td_count(t.requests)];
    r.push(td_ms(t.rtt_mean_ms));
    r.extend(t.rtt_ms.iter().map(|q| td_ms(*q)));
    r
}

fn percentile_table(ctx: &Ctx) -> String {
    let w = ctx.world;
    let base = &ctx.r.baseline;
    let mut rows: Vec<Vec<String>> = w
        .populations
        .iter()
        .zip(&base.populations)
        .map(|(pop, t)| percentile_row(td(&pop.name), &pop.access_name, pop.users, t))
        .collect();
    rows.push(percentile_row(
        "<td><b>all users</b></td>".to_string(),
        "",
        w.users,
        &base.all,
    ));
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
    let trips = &ctx.r.typical;
    if trips.iter().all(Option::is_none) {
        return p("No typical round trip to show: no destination, or every population's representative user is dropped.");
    }
    let rows: Vec<Vec<String>> = trips
        .iter()
        .flatten()
        .map(|t| {
            let mut r = vec![
                td(&t.population),
                td_num(&t.user.to_string(), &t.user.to_string()),
                td(&t.ingress),
                td(&t.egress),
                td(&t.destination),
            ];
            r.extend(
                t.parts
                    .iter()
                    .map(|x| td_num(&ms_column(x.rounded()), &x.csv())),
            );
            r.push(format!(
                "<td class=\"num\" data-value=\"{}\"><b>{}</b></td>",
                t.total.csv(),
                ms_column(t.total.rounded())
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
    let sampled = trips.iter().flatten().map(|t| t.sampled).max().unwrap_or(0);
    s.push_str(&p(&format!(
        "How the typical user is chosen: of up to {sampled} users spread evenly over the population (every n-th user, the same on every run), each traced through the simulator's own routing, the one whose round trip to the destination with the highest request weight is the median of theirs (ties go to the lower user number). `egress-sim explain --user N` traces that user in full. The p50 above is over every destination, so it differs from this one trip. Backbone is zero when the traffic leaves where it entered (IPv6, proxied destinations, default egress, or an egress IP in the ingress data center)."
    )));
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
