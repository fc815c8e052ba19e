//! Section 2: the egress IPs, where they are, and who they serve (map and load).

use super::super::charts::egress_css_color;
use super::markup::{figure, p, section, swatch, table, td, td_html};
use super::numbers::{td_count, td_ms, td_share};
use super::page::Ctx;
use crate::analysis::tables::EgressLoadRow;

/// The baseline's rows of `egress_load.csv`: every egress IP, plus default/dropped when any case
/// uses them.
pub(super) fn baseline_load<'a>(ctx: &'a Ctx) -> &'a [EgressLoadRow] {
    let rows = &ctx.r.tables.egress_load;
    &rows[..rows.len() / ctx.world.cases.len().max(1)]
}

/// A slot's name with its chart colour (grey for default egress and dropped).
pub(super) fn slot_label(ctx: &Ctx, slot: usize, name: &str) -> String {
    let color = if slot < ctx.world.egress.len() {
        egress_css_color(slot)
    } else {
        "#969696".to_string()
    };
    swatch(&color, name)
}

fn egress_table(ctx: &Ctx) -> String {
    let w = ctx.world;
    let rows: Vec<Vec<String>> = w
        .egress
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let dc = &w.datacenters[e.datacenter as usize];
            let c = ctx.catalog.country(dc.country);
            vec![
                td_html(&slot_label(ctx, i, &e.id)),
                td(&dc.code),
                td(&dc.city),
                td(&format!("{} ({})", c.name, c.iso2)),
                format!("<td class=\"mono\">{}</td>", e.ipv4),
                format!(
                    "<td class=\"mono\">{}</td>",
                    e.ipv6.map_or_else(|| "–".to_string(), |x| x.to_string())
                ),
                td_count(e.connection_limit as u64),
            ]
        })
        .collect();
    table(
        "egress",
        "Dedicated egress IPs",
        &[
            "egress IP",
            "data center",
            "city",
            "country",
            "IPv4",
            "IPv6 range",
            "#connection limit",
        ],
        &rows,
    )
}

fn load_table(ctx: &Ctx) -> String {
    let rows: Vec<Vec<String>> = baseline_load(ctx)
        .iter()
        .enumerate()
        .map(|(s, t)| {
            vec![
                td_html(&slot_label(ctx, s, &t.egress)),
                td_count(t.users),
                td_count(t.requests),
                td_share(t.request_share),
                td_ms(t.rtt_p50_ms),
                td_ms(t.rtt_p95_ms),
                td_count(t.blocked_requests),
            ]
        })
        .collect();
    table(
        "load",
        "Load per egress IP, baseline (egress_load.csv)",
        &[
            "egress",
            "#users",
            "#requests",
            "#request share",
            "#RTT p50",
            "#RTT p95",
            "#blocked requests",
        ],
        &rows,
    )
}

/// The sites section.
pub(super) fn render(ctx: &Ctx) -> String {
    let mut s = String::new();
    if ctx.world.egress.is_empty() {
        s.push_str(&p("The scenario has no dedicated egress IPs: all traffic uses Cloudflare's default egress."));
    } else {
        s.push_str(&egress_table(ctx));
    }
    s.push_str(&figure(
        &ctx.charts.map,
        "Users coloured by the egress IP that serves them in the baseline (a thinned sample; grey: default egress or dropped). Egress sites are labelled.",
    ));
    s.push_str(&load_table(ctx));
    s.push_str(&figure(
        &ctx.charts.egress_load,
        "Share of requests per egress IP in the baseline.",
    ));
    section("sites", "2. Sites", &s)
}
