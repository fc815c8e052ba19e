//! Section 4: what each egress policy decided in the baseline, and the unmatched traffic.

use super::markup::{p, section, table, td};
use super::numbers::{td_count, td_ms, td_share};
use super::page::Ctx;
use crate::analysis::tables::PolicyRow;

/// The baseline's rows of `policies.csv`: every policy, then the unmatched traffic.
fn baseline_rows<'a>(ctx: &'a Ctx) -> &'a [PolicyRow] {
    let rows = &ctx.r.tables.policies;
    &rows[..rows.len() / ctx.world.cases.len().max(1)]
}

/// The policies section.
pub(super) fn render(ctx: &Ctx) -> String {
    let w = ctx.world;
    let baseline = baseline_rows(ctx);
    // The private-network column only when a destination is on a private network.
    let private = baseline.iter().any(|c| c.private_network_requests > 0);
    let rows: Vec<Vec<String>> = baseline
        .iter()
        .enumerate()
        .map(|(ps, c)| {
            let mut r = match w.policies.get(ps) {
                Some(pol) => vec![
                    td(&pol.name),
                    format!("<td class=\"num\">{}</td>", pol.precedence),
                    td(&if pol.enabled {
                        c.action.clone()
                    } else {
                        format!("{} (disabled)", c.action)
                    }),
                ],
                None => vec![
                    "<td><i>unmatched</i></td>".to_string(),
                    td(""),
                    td(&c.action),
                ],
            };
            r.extend([
                td_count(c.users),
                td_count(c.requests),
                td_share(c.request_share),
                td_count(c.dedicated_requests),
                td_count(c.fallback_requests),
                td_count(c.default_requests),
                td_count(c.dropped_requests),
            ]);
            if private {
                r.push(td_count(c.private_network_requests));
            }
            r.extend([
                td_count(c.blocked_requests),
                td_count(c.geography_violations),
                td_ms(c.rtt_p50_ms),
                td_ms(c.rtt_p95_ms),
            ]);
            r
        })
        .collect();
    let mut header = vec![
        "policy",
        "#precedence",
        "action",
        "#users",
        "#requests",
        "#matched share",
        "#dedicated",
        "#fallback",
        "#default",
        "#dropped",
    ];
    if private {
        header.push("#private network");
    }
    header.extend(["#blocked", "#geography violations", "#RTT p50", "#RTT p95"]);
    let mut s = table(
        "policies",
        "Egress policies in precedence order, baseline (policies.csv)",
        &header,
        &rows,
    );
    let unmatched = baseline.last().map(|u| u.request_share).unwrap_or_default();
    s.push_str(&p(&format!(
        "{unmatched} of requests matched no egress policy; Gateway sends such traffic through the dedicated egress location nearest to the user (or default egress when none is available). Blocked: refused by the destination's allowlist. Geography violations: the request left outside a required region, or was dropped.",
    )));
    section("policies", "4. Policies", &s)
}
