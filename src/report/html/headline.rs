//! Section 1: what was simulated, and the key numbers.

use crate::analysis::findings::Severity;
use crate::analysis::human::{count_thin, ms_change};
use crate::analysis::values::Share;

use super::markup::esc;
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

fn kpis(ctx: &Ctx) -> Vec<Kpi> {
    let (w, r) = (ctx.world, ctx.r);
    let base = &r.tables.summary[0];
    let mut out = Vec::new();
    out.push(Kpi {
        id: "kpi-p95",
        shown: base.rtt_p95_ms.to_string(),
        csv: base.rtt_p95_ms.csv(),
        label: "p95 round-trip time",
        note: format!("all requests, baseline; median {}", base.rtt_p50_ms),
        alert: false,
    });
    out.push(Kpi {
        id: "kpi-dedicated",
        shown: base.dedicated_share.to_string(),
        csv: base.dedicated_share.csv(),
        label: "requests on dedicated egress IPs",
        note: format!(
            "baseline; {} through Cloudflare's default egress",
            base.default_share
        ),
        alert: false,
    });
    if let Some(&c) = r
        .ranked
        .first()
        .filter(|&&c| r.cases[c].impact.harm_score() > 0.0)
    {
        let change = r.tables.summary[c].rtt_p95_change_ms;
        let harmed = r.cases[c].impact.harmed_share();
        out.push(Kpi {
            id: "kpi-worst",
            shown: ms_change(change.rounded()),
            csv: change.csv(),
            label: "p95 change in the worst single failure",
            note: format!(
                "{}: {} of requests dropped, refused or off-geography",
                w.cases[c].name,
                Share::of(harmed)
            ),
            alert: harmed > 0.0,
        });
    }
    if let Some(h) = r.capacity.highest() {
        let u = Share::of(h.utilization);
        out.push(Kpi {
            id: "kpi-capacity",
            shown: u.to_string(),
            csv: u.csv(),
            label: "highest connection utilisation",
            note: format!(
                "{} → {} in {}, of the per-origin limit",
                w.egress[h.egress].id,
                r.capacity.origins()[h.origin].names,
                w.cases[h.case].name
            ),
            alert: h.utilization >= 1.0,
        });
    }
    let high = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::High)
        .count();
    out.push(Kpi {
        id: "kpi-high",
        shown: high.to_string(),
        csv: high.to_string(),
        label: "high-severity findings",
        note: format!("of {} findings in total", r.findings.len()),
        alert: high > 0,
    });
    out
}

/// The headline section.
pub(super) fn render(ctx: &Ctx) -> String {
    let w = ctx.world;
    let base = &ctx.r.tables.summary[0];
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
        count_thin(w.users),
        count_thin(base.requests),
        w.cases.len() - 1,
        if w.cases.len() == 2 { "" } else { "s" },
        esc(&ctx.r.run.date),
        esc(&ctx.r.run.version),
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
