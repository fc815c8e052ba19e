//! Section 7: concurrent connections per egress IP and destination against the per-origin limit.

use super::markup::{figure, p, section, swatch, table, td, td_html};
use super::numbers::{td_conns, td_count, td_share};
use super::page::Ctx;

/// The capacity section.
pub(super) fn render(ctx: &Ctx) -> String {
    let w = ctx.world;
    let mut s = String::new();
    if w.egress.is_empty() || w.resources.is_empty() {
        s.push_str(&p(
            "No dedicated egress IPs or no destinations: nothing to measure.",
        ));
        return section("capacity", "7. Capacity", &s);
    }
    s.push_str(&figure(
        &ctx.charts.capacity,
        "Peak accepted IPv4 connections to one origin (destination address and port, summed over the destinations sharing it) per egress IP, baseline and worst case, against the per-origin limit.",
    ));
    // The baseline's rows of capacity.csv, one per (egress IP, destination).
    let per_egress = w.resources.len();
    let rows: Vec<Vec<String>> = ctx.r.tables.capacity[..w.egress.len() * per_egress]
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let over = row.worst_utilization.rounded().is_some_and(|x| x >= 1.0);
            let color = super::super::charts::egress_css_color(i / per_egress);
            vec![
                td_html(&swatch(&color, &row.egress)),
                td(&row.resource),
                td(&if row.origin_resources == row.resource {
                    row.origin.clone()
                } else {
                    format!("{} (shared: {})", row.origin, row.origin_resources)
                }),
                td_count(u64::from(row.connection_limit)),
                td_conns(row.origin_connections_v4),
                td_share(row.utilization),
                td(&row.worst_case),
                td_conns(row.worst_connections_v4),
                if over {
                    format!(
                        "<td class=\"num over\" data-value=\"{}\">{}</td>",
                        row.worst_utilization.csv(),
                        row.worst_utilization
                    )
                } else {
                    td_share(row.worst_utilization)
                },
            ]
        })
        .collect();
    s.push_str(&table(
        "capacity",
        "Accepted IPv4 connections per egress IP and origin, the destination address and port the limit counts (capacity.csv)",
        &[
            "egress IP",
            "destination",
            "origin",
            "#limit",
            "#baseline connections",
            "#baseline utilisation",
            "worst case",
            "#worst connections",
            "#worst utilisation",
        ],
        &rows,
    ));
    section("capacity", "7. Capacity", &s)
}
