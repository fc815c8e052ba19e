//! Section 4: what each egress policy decided in the baseline, and the unmatched traffic.

use crate::engine::Outcome;

use super::super::tables::{action_text, ms, share};
use super::markup::{p, section, table, td};
use super::numbers::{share_shown, td_count, td_ms, td_share};
use super::page::Ctx;

/// The policies section.
pub(super) fn render(ctx: &Ctx) -> String {
    let (w, m) = (ctx.world, ctx.m);
    let all = m.total(0, None, None).requests;
    let rows: Vec<Vec<String>> = (0..m.policy_slots)
        .map(|ps| {
            let c = &m.policy_cells[m.policy_index(0, ps)];
            let mut r = match w.policies.get(ps) {
                Some(pol) => vec![
                    td(&pol.name),
                    format!("<td class=\"num\">{}</td>", pol.precedence),
                    td(&if pol.enabled {
                        action_text(w, &pol.action)
                    } else {
                        format!("{} (disabled)", action_text(w, &pol.action))
                    }),
                ],
                None => vec![
                    "<td><i>unmatched</i></td>".to_string(),
                    td(""),
                    td("nearest dedicated location"),
                ],
            };
            r.extend([
                td_count(c.users),
                td_count(c.requests),
                td_share(&share(c.requests, all)),
            ]);
            r.extend(
                Outcome::ALL
                    .iter()
                    .map(|o| td_count(c.outcomes[*o as usize])),
            );
            r.push(td_count(c.blocked));
            r.push(td_count(c.violations));
            r.push(td_ms(&ms(c.rtt.quantile_ms(0.5))));
            r.push(td_ms(&ms(c.rtt.quantile_ms(0.95))));
            r
        })
        .collect();
    let mut s = table(
        "policies",
        "Egress policies in precedence order, baseline (policies.csv)",
        &[
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
            "#blocked",
            "#geography violations",
            "#RTT p50",
            "#RTT p95",
        ],
        &rows,
    );
    let un = &m.policy_cells[m.policy_index(0, m.policy_slots - 1)];
    s.push_str(&p(&format!(
        "{} of requests matched no egress policy; Gateway sends such traffic through the dedicated egress location nearest to the user (or default egress when none is available). Blocked: refused by the destination's allowlist. Geography violations: the request left outside a required region, or was dropped.",
        share_shown(&share(un.requests, all))
    )));
    section("policies", "4. Policies", &s)
}
