//! The short summary printed at the end of a run: the baseline per egress slot, the failure cases
//! (most harmful first) and the findings that need attention (most severe first).

use std::fmt::Write;
use std::time::Duration;

use super::{Destination, Output};
use crate::analysis::human::{count, ms_column};
use crate::analysis::tables::{EgressLoadRow, SummaryRow};
use crate::analysis::Results;
use crate::error::Result;

/// Wall-clock time of each phase of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Loading and compiling the scenario.
    pub load: Duration,
    /// Generating users and simulating requests (generation is interleaved with simulation).
    pub simulate: Duration,
    /// Analysing the results and writing tables and charts.
    pub output: Duration,
}

/// Failure cases listed in the terminal at most (all are in `summary.csv` and `failover.csv`).
const MAX_CASES_SHOWN: usize = 15;
/// Findings printed at most (all are in `redundancy.csv`).
const MAX_FINDINGS_SHOWN: usize = 12;

/// The end-of-run summary, once the results are in their folder.
#[derive(Debug, Clone)]
pub struct Summary {
    /// How long each phase took.
    pub timings: Timings,
    /// Where the results are.
    pub dir: String,
}

impl Output<Results<'_>> for Summary {
    fn write(&self, r: &Results, to: &mut Destination) -> Result<()> {
        to.print(&self.render(r));
        Ok(())
    }
}

impl Summary {
    /// The summary as text.
    pub fn render(&self, r: &Results) -> String {
        let mut s = String::new();
        headline(&mut s, r, &self.timings);
        baseline(&mut s, r);
        cases(&mut s, r);
        findings(&mut s, r);
        let t = &self.timings;
        let _ = writeln!(
            s,
            "\ntime: load {:.2} s, simulate {:.2} s, write {:.2} s\nresults: {}",
            t.load.as_secs_f64(),
            t.simulate.as_secs_f64(),
            t.output.as_secs_f64(),
            self.dir
        );
        s
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn headline(s: &mut String, r: &Results, t: &Timings) {
    let world = r.world;
    let requests = world.users * world.requests_per_user as u64;
    let secs = t.simulate.as_secs_f64().max(1e-9);
    let _ = writeln!(
        s,
        "{}: {} users × {} requests = {} requests, {} case{}, simulated in {:.2} s ({:.1} M requests/s)",
        world.name,
        count(world.users),
        world.requests_per_user,
        count(requests),
        world.cases.len(),
        plural(world.cases.len()),
        secs,
        requests as f64 / secs / 1e6,
    );
}

/// The baseline: a row per egress slot, everyone, apparent location, outcomes and refusals.
fn baseline(s: &mut String, r: &Results) {
    let world = r.world;
    let all = &r.tables.summary[0];
    let _ = writeln!(s, "\ncase {}", world.cases[0].name);
    let _ = writeln!(
        s,
        "  {:<14} {:>5} {:>11} {:>12} {:>7} {:>8} {:>8} {:>8} {:>10}",
        "egress", "dc", "users", "requests", "share", "p50 ms", "p95 ms", "p99 ms", "peak conn"
    );
    let per_case = r.tables.egress_load.len() / world.cases.len().max(1);
    for (slot, row) in r.tables.egress_load.iter().take(per_case).enumerate() {
        let is_egress = slot < world.egress.len();
        if is_egress || row.requests > 0 {
            slot_row(s, row, is_egress);
        }
    }
    let _ = writeln!(
        s,
        "  {:<14} {:>5} {:>11} {:>12} {:>7} {:>8} {:>8} {:>8}",
        "all",
        "",
        count(world.users),
        count(all.requests),
        "100.0%",
        ms_column(all.rtt_p50_ms.0),
        ms_column(all.rtt_p95_ms.0),
        ms_column(all.rtt_p99_ms.0),
    );
    let or_zero = |x: Option<f64>| x.unwrap_or(0.0);
    let _ = writeln!(
        s,
        "  apparent location: other country for {:.1}% of requests, other continent for {:.1}%, {:.0} km from the user on average",
        or_zero(all.apparent_country_mismatch_share.0) * 100.0,
        or_zero(all.apparent_continent_mismatch_share.0) * 100.0,
        or_zero(all.apparent_distance_mean_km.0),
    );
    outcomes(s, r, all);
}

fn slot_row(s: &mut String, row: &EgressLoadRow, is_egress: bool) {
    let (dc, peak) = if is_egress {
        (
            row.datacenter.clone(),
            format!(
                "{:.1}%",
                row.peak_origin_utilization.0.unwrap_or(0.0) * 100.0
            ),
        )
    } else {
        ("-".into(), "-".into())
    };
    let _ = writeln!(
        s,
        "  {:<14} {:>5} {:>11} {:>12} {:>6.1}% {:>8} {:>8} {:>8} {:>10}",
        row.egress,
        dc,
        count(row.users),
        count(row.requests),
        row.request_share.0.unwrap_or(0.0) * 100.0,
        ms_column(row.rtt_p50_ms.0),
        ms_column(row.rtt_p95_ms.0),
        ms_column(row.rtt_p99_ms.0),
        peak
    );
}

/// Outcome shares (when policies or failures make them interesting) and allowlist refusals.
fn outcomes(s: &mut String, r: &Results, all: &SummaryRow) {
    let shares = [
        ("dedicated", all.dedicated_share.0),
        ("fallback", all.fallback_share.0),
        ("default", all.default_share.0),
        ("dropped", all.dropped_share.0),
        ("private network", all.private_network_share.0),
    ];
    let used = |x: &Option<f64>| x.is_some_and(|v| v > 0.0);
    if !r.world.policies.is_empty() || shares[1..].iter().any(|(_, x)| used(x)) {
        let shown: Vec<String> = shares
            .iter()
            .filter(|(_, x)| used(x))
            .map(|(name, x)| format!("{name} {:.1}%", x.unwrap_or(0.0) * 100.0))
            .collect();
        let _ = writeln!(s, "  outcomes: {}", shown.join(", "));
    }
    if let Some(b) = all.blocked_share.0.filter(|b| *b > 0.0) {
        let _ = writeln!(s, "  allowlists refused {:.2}% of requests", b * 100.0);
    }
}

/// The failure cases as one compact table, most harmful first.
fn cases(s: &mut String, r: &Results) {
    let world = r.world;
    let rows = &r.ranked_by_movement;
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n{} failure case{}, most harmful first (users whose ingress moved / whose egress changed; shares of all requests):",
        rows.len(),
        plural(rows.len())
    );
    let width = rows
        .iter()
        .take(MAX_CASES_SHOWN)
        .map(|c| world.cases[*c].name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let _ = writeln!(
        s,
        "  {:<width$} {:>10} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "case",
        "ingress mv",
        "egress chg",
        "rerouted",
        "dropped",
        "refused",
        "off-geo",
        "p95 ms",
        "Δp95 ms"
    );
    for &c in rows.iter().take(MAX_CASES_SHOWN) {
        let (imp, moved) = (&r.cases[c].impact, &r.cases[c].moved);
        let pct = |n: u64| format!("{:.1}%", n as f64 / imp.requests.max(1) as f64 * 100.0);
        let name: String = world.cases[c].name.chars().take(width).collect();
        let _ = writeln!(
            s,
            "  {:<width$} {:>10} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
            name,
            count(moved.users_ingress_moved),
            count(moved.users_egress_changed),
            pct(moved.requests_rerouted),
            pct(imp.dropped),
            pct(imp.blocked),
            pct(imp.violations),
            ms_column(imp.p95.1),
            imp.p95_change_ms()
                .map_or_else(|| "-".into(), |d| format!("{d:+.1}")),
        );
    }
    if rows.len() > MAX_CASES_SHOWN {
        let _ = writeln!(
            s,
            "  … {} more in summary.csv and failover.csv",
            rows.len() - MAX_CASES_SHOWN
        );
    }
}

/// The findings that need attention, most severe first.
fn findings(s: &mut String, r: &Results) {
    use crate::analysis::findings::Severity;
    let shown: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    if shown.is_empty() {
        if r.world.cases.len() > 1 {
            let _ = writeln!(
                s,
                "\nfindings: none needing attention (details in redundancy.csv)"
            );
        }
        return;
    }
    let _ = writeln!(s, "\nfindings, most severe first:");
    for f in shown.iter().take(MAX_FINDINGS_SHOWN) {
        let _ = writeln!(s, "  [{}] {}", f.severity.name(), f.detail);
        if !f.recommendation.is_empty() {
            let _ = writeln!(s, "         → {}", f.recommendation);
        }
    }
    if shown.len() > MAX_FINDINGS_SHOWN {
        let _ = writeln!(
            s,
            "  … {} more in redundancy.csv",
            shown.len() - MAX_FINDINGS_SHOWN
        );
    }
}
