//! Section 1: what was simulated, and the key numbers.

use crate::analysis::findings::Severity;
use crate::analysis::human::{count, ms_change};
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
    out.extend(refused(ctx));
    out.extend(worst(ctx));
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

/// Requests refused by allowlists in the baseline, when any destination has an allowlist: a
/// share of 100% on dedicated egress IPs says nothing about what the destinations accept.
fn refused(ctx: &Ctx) -> Option<Kpi> {
    let (w, r) = (ctx.world, ctx.r);
    if w.resources.iter().all(|x| x.allowlist.is_none()) {
        return None;
    }
    let share = r.tables.summary[0].blocked_share;
    let pairs: Vec<String> = r
        .refusals
        .iter()
        .take(2)
        .map(|x| {
            let through = x
                .egress(w)
                .map_or("default egress", |e| w.egress[e].id.as_str());
            format!("{} refuses {through}", w.resources[x.resource].name)
        })
        .collect();
    let note = match r.refusals.len() {
        0 => "baseline; every destination accepts the egress IPs its traffic uses".to_string(),
        n => format!(
            "baseline, without any failure: {}{}",
            pairs.join(", "),
            if n > pairs.len() {
                format!(" and {} more", n - pairs.len())
            } else {
                String::new()
            }
        ),
    };
    Some(Kpi {
        id: "kpi-refused",
        shown: share.to_string(),
        csv: share.csv(),
        label: "requests refused by allowlists",
        note,
        alert: !r.refusals.is_empty(),
    })
}

/// The p95 change in the worst single failure (never a regional or multi-site case under that
/// name; the worst case overall is named in the note when it is another one).
fn worst(ctx: &Ctx) -> Option<Kpi> {
    let (w, r) = (ctx.world, ctx.r);
    let (c, single) = r.worst_failure()?;
    let change = r.tables.summary[c].rtt_p95_change_ms;
    let harmed = r.cases[c].impact.harmed_share();
    let mut note = format!(
        "{}: {} of requests dropped, refused or off-geography",
        w.cases[c].name,
        Share::of(harmed)
    );
    if let Some(&top) = r.ranked.first().filter(|&&top| top != c) {
        note.push_str(&format!(
            "; worst of all cases: {} ({})",
            w.cases[top].name,
            ms_change(r.tables.summary[top].rtt_p95_change_ms.rounded())
        ));
    }
    Some(Kpi {
        id: "kpi-worst",
        shown: ms_change(change.rounded()),
        csv: change.csv(),
        label: if single {
            "p95 change in the worst single failure"
        } else {
            "p95 change in the worst failure case"
        },
        note,
        alert: harmed > 0.0,
    })
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
        count(w.users),
        count(base.requests),
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
