//! Section 7: concurrent connections per egress IP and destination against the per-origin limit.

use super::markup::td_num;
use super::markup::{figure, p, section, swatch, table, td, td_html};
use super::numbers::{count_shown, share_shown, td_count, td_share};
use super::page::Ctx;

fn conns_cell(v: f64) -> String {
    let csv = format!("{v:.1}");
    td_num(&count_shown(v.round() as u64), &csv)
}

/// The capacity section.
pub(super) fn render(ctx: &Ctx) -> String {
    let (w, m) = (ctx.world, ctx.m);
    let mut s = String::new();
    if w.egress.is_empty() || w.resources.is_empty() {
        s.push_str(&p(
            "No dedicated egress IPs or no destinations: nothing to measure.",
        ));
        return section("capacity", "7. Capacity", &s);
    }
    s.push_str(&figure(
        &ctx.charts.capacity,
        "Peak concurrent IPv4 connections to one destination per egress IP, baseline and worst case, against the per-origin limit.",
    ));
    let conns = |c: usize, e: usize, r: usize| {
        m.connections_v4_micro[m.connection_index(c, e, r)] as f64 / 1e6
    };
    let mut rows = Vec::new();
    for (e, eg) in w.egress.iter().enumerate() {
        let limit = eg.connection_limit as f64;
        for (ri, res) in w.resources.iter().enumerate() {
            let v4 = conns(0, e, ri);
            let worst = (0..m.cases).fold(0, |wc, c| {
                if conns(c, e, ri) > conns(wc, e, ri) {
                    c
                } else {
                    wc
                }
            });
            let wu = format!("{:.6}", conns(worst, e, ri) / limit);
            let over = wu.parse::<f64>().is_ok_and(|x| x >= 1.0);
            rows.push(vec![
                td_html(&swatch(&super::super::charts::egress_css_color(e), &eg.id)),
                td(&res.name),
                td_count(eg.connection_limit as u64),
                conns_cell(v4),
                td_share(&format!("{:.6}", v4 / limit)),
                td(&w.cases[worst].name),
                conns_cell(conns(worst, e, ri)),
                if over {
                    format!(
                        "<td class=\"num over\" data-value=\"{wu}\">{}</td>",
                        share_shown(&wu)
                    )
                } else {
                    td_share(&wu)
                },
            ]);
        }
    }
    s.push_str(&table(
        "capacity",
        "Concurrent IPv4 connections per egress IP and destination (capacity.csv)",
        &[
            "egress IP",
            "destination",
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
