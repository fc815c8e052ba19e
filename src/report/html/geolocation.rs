//! Section 5: where users appear to be (the egress location's geolocation) against where they are.

use super::super::tables::share;
use super::markup::td_num;
use super::markup::{p, section, table, td};
use super::numbers::{share_shown, td_count, td_share};
use super::page::Ctx;
use crate::engine::Cell;

/// Mean user → apparent location distance, km, formatted as the CSV files do.
fn km_mean(c: &Cell) -> String {
    let n = c.delivered();
    if n == 0 {
        String::new()
    } else {
        format!("{:.1}", c.apparent_distance_m as f64 / n as f64 / 1000.0)
    }
}

fn row(name: &str, c: &Cell) -> Vec<String> {
    let km = km_mean(c);
    let shown = km
        .parse::<f64>()
        .map_or("–".into(), |x| format!("{x:.0} km"));
    vec![
        td(name),
        td_count(c.delivered()),
        td_share(&share(c.country_mismatch, c.delivered())),
        td_share(&share(c.continent_mismatch, c.delivered())),
        td_num(&shown, &km),
    ]
}

/// The geolocation section.
pub(super) fn render(ctx: &Ctx) -> String {
    let (w, m) = (ctx.world, ctx.m);
    let mut rows: Vec<Vec<String>> = w
        .populations
        .iter()
        .enumerate()
        .map(|(pi, pop)| row(&pop.name, &m.total(0, Some(pi), None)))
        .collect();
    let all = m.total(0, None, None);
    let mut last = row("all users", &all);
    last[0] = "<td><b>all users</b></td>".into();
    rows.push(last);
    let mut s = p(&format!(
        "Destinations geolocate a request by its source IP, that is by the egress location, not by the user. In the baseline {} of delivered requests appear to come from another country than the user's, and {} from another continent.",
        share_shown(&share(all.country_mismatch, all.delivered())),
        share_shown(&share(all.continent_mismatch, all.delivered())),
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
