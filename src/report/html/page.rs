//! Assembles the page: head with the stylesheet, then the nine sections in order.

use crate::analysis::Results;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::world::World;

use super::super::charts::{plan_svgs, report_svgs, ReportSvgs};
use super::markup::esc;
use super::style;

/// What every section reads: the results, plus the rendered charts.
pub(super) struct Ctx<'a> {
    /// The results.
    pub r: &'a Results<'a>,
    /// The simulated world (`r.world`).
    pub world: &'a World,
    /// Built-in reference data.
    pub catalog: &'static Catalog,
    /// Inline SVG charts.
    pub charts: ReportSvgs,
    /// The plan's curve and map (SVG), when the run is a plan's final world.
    pub plan_charts: Option<(String, String)>,
}

/// The whole page.
pub(super) fn render(r: &Results) -> Result<String> {
    let (world, run) = (r.world, &r.run);
    let ctx = Ctx {
        r,
        world,
        catalog: Catalog::embedded(),
        charts: report_svgs(r)?,
        plan_charts: plan_svgs(r)?,
    };
    let mut s = String::with_capacity(1 << 20);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.push_str(&format!(
        "<title>{} — egress-sim report</title>\n<style>\n{}\n</style>\n</head>\n<body>\n<main>\n",
        esc(&world.name),
        style::CSS
    ));
    s.push_str(&super::headline::render(&ctx));
    s.push_str(&contents(r.plan.is_some()));
    s.push_str(&super::plan::render(&ctx));
    s.push_str(&super::sites::render(&ctx));
    s.push_str(&super::latency::render(&ctx));
    s.push_str(&super::policies::render(&ctx));
    s.push_str(&super::geolocation::render(&ctx));
    s.push_str(&super::failover::render(&ctx));
    s.push_str(&super::capacity::render(&ctx));
    s.push_str(&super::findings::render(&ctx));
    s.push_str(&super::method::render(&ctx));
    s.push_str(&format!(
        "<footer>Made by egress-sim {} on {}. Every number here is also in the CSV files of the same output folder.</footer>\n",
        esc(&run.version),
        esc(&run.date)
    ));
    s.push_str("</main>\n</body>\n</html>\n");
    Ok(s)
}

/// In-page table of contents (fragment links only).
fn contents(plan: bool) -> String {
    let plan_item = plan.then_some(("plan", "Plan"));
    let items = plan_item.into_iter().chain([
        ("sites", "Sites"),
        ("latency", "Latency"),
        ("policies", "Policies"),
        ("geolocation", "Geolocation"),
        ("failover", "Failover"),
        ("capacity", "Capacity"),
        ("findings", "Findings"),
        ("method", "Method"),
    ]);
    let mut s = String::from("<nav class=\"toc\" aria-label=\"Contents\"><ol>");
    for (id, name) in items {
        s.push_str(&format!("<li><a href=\"#{id}\">{name}</a></li>"));
    }
    s.push_str("</ol></nav>\n");
    s
}
