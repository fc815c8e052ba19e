//! Section 8: findings and recommendations, most severe first (the rows of `redundancy.csv`).

use super::markup::{esc, esc_code, p, section, table, td, td_html};
use super::numbers::td_share;
use super::page::Ctx;
use crate::analysis::values::Share;

/// The findings section.
pub(super) fn render(ctx: &Ctx) -> String {
    if ctx.r.findings.is_empty() {
        return section(
            "findings",
            "8. Findings and recommendations",
            &p("No findings."),
        );
    }
    let rows: Vec<Vec<String>> = ctx
        .r
        .findings
        .iter()
        .map(|f| {
            let name = f.severity.name();
            let what = if f.entity.is_empty() {
                f.entity_kind.to_string()
            } else {
                format!("{} {}", f.entity_kind, f.entity)
            };
            vec![
                td_html(&format!(
                    "<span class=\"sev sev-{name}\" data-value=\"{name}\">{name}</span>"
                )),
                td_html(&format!(
                    "{}<div class=\"sub\">{}</div>",
                    esc(&what),
                    esc(&f.kind.replace('_', " "))
                )),
                td(&f.case),
                f.impact.map_or_else(|| td(""), |x| td_share(Share::of(x))),
                format!("<td class=\"detail\">{}</td>", esc_code(&f.detail)),
                format!("<td class=\"detail\">{}</td>", esc_code(&f.recommendation)),
            ]
        })
        .collect();
    let s = table(
        "findings",
        "Findings, most severe first (redundancy.csv)",
        &[
            "severity",
            "about",
            "case",
            "#impact",
            "finding",
            "recommendation",
        ],
        &rows,
    );
    section("findings", "8. Findings and recommendations", &s)
}
