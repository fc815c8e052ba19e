//! Section 6: what each failure does to each population, the worst cases, and the RTT overlay.

use super::markup::{esc, figure, p, section, table, td};
use super::numbers::{td_change, td_count, td_share};
use super::page::Ctx;
use crate::analysis::human::count;
use crate::analysis::values::Share;

/// Worst cases listed in the table at most.
const WORST_ROWS: usize = 8;

/// The case's description, or what it takes down when it has none (sweep cases).
fn what_changed(ctx: &Ctx, c: usize) -> String {
    let (w, case) = (ctx.world, &ctx.world.cases[c]);
    if !case.description.is_empty() {
        return case.description.clone();
    }
    let mut down: Vec<String> = w
        .datacenters
        .iter()
        .zip(&case.dc_down)
        .filter(|(_, d)| **d)
        .map(|(dc, _)| format!("data center {} ({})", dc.code, dc.city))
        .collect();
    down.extend(
        w.egress
            .iter()
            .zip(&case.egress_down)
            .filter(|(_, d)| **d)
            .map(|(e, _)| format!("egress IP {}", e.id)),
    );
    if down.is_empty() {
        String::new()
    } else {
        format!("{} down", down.join(", "))
    }
}

fn worst_table(ctx: &Ctx) -> String {
    let (w, r) = (ctx.world, ctx.r);
    let rows: Vec<Vec<String>> = r
        .with_effect
        .iter()
        .take(WORST_ROWS)
        .map(|&c| {
            let (imp, row) = (&r.cases[c].impact, &r.tables.summary[c]);
            vec![
                td(&w.cases[c].name),
                format!("<td class=\"detail\">{}</td>", esc(&what_changed(ctx, c))),
                td_count(row.users_egress_changed),
                td_share(row.requests_rerouted_share),
                td_share(Share::of(imp.dropped_share())),
                td_share(Share::of(imp.extra_blocked_share())),
                td_share(Share::of(imp.extra_violation_share())),
                td_change(row.rtt_p95_change_ms),
            ]
        })
        .collect();
    if rows.is_empty() {
        return p("No failure case changes anything: no population's p95 round-trip time moves, and nothing is dropped, refused or sent off-geography.");
    }
    table(
        "worst",
        "Most harmful failure cases, all users (summary.csv)",
        &[
            "case",
            "what changed",
            "#users on another egress",
            "#requests rerouted",
            "#dropped",
            "#newly refused",
            "#newly off-geography",
            "#p95 change",
        ],
        &rows,
    )
}

/// How many cases ran, how they are ordered, and how many are left out for changing nothing.
fn ranking_text(ctx: &Ctx) -> String {
    let (cases, unchanged) = (ctx.r.ranked.len(), ctx.r.without_effect());
    let mut text = format!(
        "{} failure case{} simulated. Cases are ranked by harm: requests dropped, refused or sent outside a required region first, then the increase of p95 round-trip time (of all requests, then of the population hit hardest), then the traffic they moved.",
        count(cases as u64),
        if cases == 1 { " was" } else { "s were" }
    );
    if unchanged > 0 {
        text.push_str(&format!(
            " {} of them change{} nothing (no population's p95 moves by 0.1 ms or more; nothing is dropped, refused or sent off-geography) and {} left out of the heatmap, the table and the chart below; failover.csv has every case.",
            count(unchanged as u64),
            if unchanged == 1 { "s" } else { "" },
            if unchanged == 1 { "is" } else { "are" }
        ));
    }
    text
}

/// The failover section.
pub(super) fn render(ctx: &Ctx) -> String {
    let mut s = String::new();
    if ctx.world.cases.len() <= 1 {
        s.push_str(&p("No failure cases were simulated. Add `[[failure]]` entries to the scenario or run with `--sweep n-1` to see what each data-center failure would do."));
        return section("failover", "6. Failover", &s);
    }
    s.push_str(&p(&ranking_text(ctx)));
    s.push_str(&figure(
        &ctx.charts.heatmap,
        "Change of p95 RTT per failure case (rows, most harmful first) and population (columns); hatched cells lose, refuse or misplace traffic.",
    ));
    s.push_str(&worst_table(ctx));
    s.push_str(&figure(
        &ctx.charts.failover_cdf,
        "Round-trip time of all requests in the baseline against the most harmful failure cases.",
    ));
    section("failover", "6. Failover", &s)
}
