//! Section 1: what was simulated, and the key numbers.

use crate::engine::Outcome;
use crate::redundancy::Severity;

use super::super::tables::{ms, share};
use super::markup::esc;
use super::numbers::{change_shown, count_shown, ms_shown, share_shown};
use super::page::Ctx;

/// One key number: the readable value, the exact CSV string, a label and a note.
struct Kpi {
    id: &'static str,
    shown: String,
    csv: String,
    label: &'static str,
    note: String,
    alert: bool,
}

/// The highest per-destination utilisation in any case, as in `capacity.csv`'s `worst_utilization`:
/// (value, CSV string, egress, destination, case).
pub(super) fn highest_utilization(ctx: &Ctx) -> Option<(f64, String, String, String, String)> {
    let (w, m) = (ctx.world, ctx.m);
    let conns = |c: usize, e: usize, r: usize| {
        m.connections_v4_micro[m.connection_index(c, e, r)] as f64 / 1e6
    };
    let mut best: Option<(f64, String, String, String, String)> = None;
    for (e, eg) in w.egress.iter().enumerate() {
        let limit = eg.connection_limit as f64;
        for (ri, res) in w.resources.iter().enumerate() {
            let worst = (0..m.cases).fold(0, |wc, c| {
                if conns(c, e, ri) > conns(wc, e, ri) {
                    c
                } else {
                    wc
                }
            });
            let u = conns(worst, e, ri) / limit;
            if best.as_ref().is_none_or(|b| u > b.0) {
                best = Some((
                    u,
                    format!("{u:.6}"),
                    eg.id.clone(),
                    res.name.clone(),
                    w.cases[worst].name.clone(),
                ));
            }
        }
    }
    best
}

fn kpis(ctx: &Ctx) -> Vec<Kpi> {
    let (w, m) = (ctx.world, ctx.m);
    let base = m.total(0, None, None);
    let mut out = Vec::new();
    let p95 = ms(base.rtt.quantile_ms(0.95));
    out.push(Kpi {
        id: "kpi-p95",
        shown: ms_shown(&p95),
        csv: p95,
        label: "p95 round-trip time",
        note: format!(
            "all requests, baseline; median {}",
            ms_shown(&ms(base.rtt.quantile_ms(0.5)))
        ),
        alert: false,
    });
    let ded = share(base.outcomes[Outcome::Dedicated as usize], base.requests);
    out.push(Kpi {
        id: "kpi-dedicated",
        shown: share_shown(&ded),
        csv: ded,
        label: "requests on dedicated egress IPs",
        note: format!(
            "baseline; {} through Cloudflare's default egress",
            share_shown(&share(
                base.outcomes[Outcome::Default as usize],
                base.requests
            ))
        ),
        alert: false,
    });
    if let Some((c, imp)) = ctx.ranked.first().filter(|(_, i)| i.harm_score() > 0.0) {
        let t = m.total(*c, None, None);
        let change = ms(t
            .rtt
            .quantile_ms(0.95)
            .zip(base.rtt.quantile_ms(0.95))
            .map(|(a, b)| a - b));
        let harmed = imp.harmed_share();
        out.push(Kpi {
            id: "kpi-worst",
            shown: change_shown(&change),
            csv: change,
            label: "p95 change in the worst single failure",
            note: format!(
                "{}: {} of requests dropped, refused or off-geography",
                w.cases[*c].name,
                share_shown(&format!("{harmed:.6}"))
            ),
            alert: harmed > 0.0,
        });
    }
    if let Some((u, csv, egress, res, case)) = highest_utilization(ctx) {
        out.push(Kpi {
            id: "kpi-capacity",
            shown: share_shown(&csv),
            csv,
            label: "highest connection utilisation",
            note: format!("{egress} → {res} in {case}, of the per-origin limit"),
            alert: u >= 1.0,
        });
    }
    let high = ctx
        .findings
        .iter()
        .filter(|f| f.severity == Severity::High)
        .count();
    out.push(Kpi {
        id: "kpi-high",
        shown: high.to_string(),
        csv: high.to_string(),
        label: "high-severity findings",
        note: format!("of {} findings in total", ctx.findings.len()),
        alert: high > 0,
    });
    out
}

/// The headline section.
pub(super) fn render(ctx: &Ctx) -> String {
    let (w, m) = (ctx.world, ctx.m);
    let base = m.total(0, None, None);
    let mut s = String::new();
    s.push_str("<p class=\"kicker\">egress-sim report</p>");
    s.push_str(&format!("<h1>{}</h1>", esc(&w.name)));
    if !w.description.is_empty() {
        s.push_str(&format!("<p class=\"lede\">{}</p>", esc(&w.description)));
    }
    s.push_str(&format!(
        "<p class=\"meta\"><span>seed <b data-value=\"{seed}\">{seed}</b></span>\
         <span><b data-value=\"{users}\">{}</b> users</span>\
         <span><b data-value=\"{req}\">{}</b> requests</span>\
         <span>{} failure case{}</span>\
         <span class=\"run-date\">run {}</span><span>egress-sim {}</span></p>",
        count_shown(w.users),
        count_shown(base.requests),
        m.cases - 1,
        if m.cases == 2 { "" } else { "s" },
        esc(&ctx.run.date),
        esc(&ctx.run.version),
        seed = w.seed,
        users = w.users,
        req = base.requests,
    ));
    s.push_str("<div class=\"kpis\">");
    for k in kpis(ctx) {
        s.push_str(&format!(
            "<div class=\"kpi{}\" id=\"{}\"><div class=\"kpi-value\" data-value=\"{}\">{}</div>\
             <div class=\"kpi-label\">{}</div><div class=\"kpi-note\">{}</div></div>",
            if k.alert { " alert" } else { "" },
            k.id,
            esc(&k.csv),
            esc(&k.shown),
            esc(k.label),
            esc(&k.note)
        ));
    }
    s.push_str("</div>");
    format!("<header id=\"headline\" class=\"headline\">{s}</header>\n")
}
