//! Section 5: where users appear to be (the egress location's geolocation) against where they are.

use super::markup::{p, section, table, td, td_num};
use super::numbers::{td_count, td_share};
use super::page::Ctx;
use crate::analysis::cases::Traffic;

fn row(name: &str, t: &Traffic) -> Vec<String> {
    vec![
        td(name),
        td_count(t.delivered),
        td_share(t.country_mismatch),
        td_share(t.continent_mismatch),
        td_num(&t.apparent_distance.to_string(), &t.apparent_distance.csv()),
    ]
}

/// The geolocation section.
pub(super) fn render(ctx: &Ctx) -> String {
    let base = &ctx.r.baseline;
    let mut rows: Vec<Vec<String>> = ctx
        .world
        .populations
        .iter()
        .zip(&base.populations)
        .map(|(pop, t)| row(&pop.name, t))
        .collect();
    let mut last = row("all users", &base.all);
    last[0] = "<td><b>all users</b></td>".into();
    rows.push(last);
    let mut s = p(&format!(
        "Destinations geolocate a request by its source IP, that is by the egress location, not by the user. In the baseline {} of delivered requests appear to come from another country than the user's, and {} from another continent.",
        base.all.country_mismatch, base.all.continent_mismatch,
    ));
    s.push_str(&table(
        "geo",
        "Apparent location against real location, baseline (summary.csv, populations.csv)",
        &[
            "population",
            "#delivered requests",
            "#other country",
            "#other continent",
            "#mean distance to apparent location",
        ],
        &rows,
    ));
    section("geolocation", "5. Geolocation", &s)
}
