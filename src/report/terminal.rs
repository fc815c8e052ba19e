//! The short summary table printed at the end of a run.

use std::fmt::Write;
use std::time::Duration;

use crate::engine::Metrics;
use crate::redundancy::{self, Impact, Severity};
use crate::report::tables::slot_name;
use crate::world::World;

/// Wall-clock time of each phase of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Loading and compiling the scenario.
    pub load: Duration,
    /// Generating users and simulating requests (generation is interleaved with simulation).
    pub simulate: Duration,
    /// Writing tables and charts.
    pub output: Duration,
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.1}"))
}

/// Failure cases listed in the terminal at most (all are in `summary.csv` and `failover.csv`).
const MAX_CASES_SHOWN: usize = 15;
/// Findings printed at most (all are in `redundancy.csv`).
const MAX_FINDINGS_SHOWN: usize = 12;

/// Renders the end-of-run summary: the baseline with a row per egress slot, the failure cases (most
/// harmful first) and the redundancy findings (most severe first).
pub fn summary(world: &World, m: &Metrics, t: &Timings, out_dir: &str) -> String {
    let mut s = String::new();
    let requests = world.users * world.requests_per_user as u64;
    let secs = t.simulate.as_secs_f64().max(1e-9);
    let _ = writeln!(
        s,
        "{}: {} users × {} requests = {} requests, {} case{}, simulated in {:.2} s ({:.1} M requests/s)",
        world.name,
        thousands(world.users),
        world.requests_per_user,
        thousands(requests),
        world.cases.len(),
        if world.cases.len() == 1 { "" } else { "s" },
        secs,
        requests as f64 / secs / 1e6,
    );
    for (ci, case) in world.cases.iter().enumerate().take(1) {
        let all = m.total(ci, None, None);
        let _ = writeln!(s, "\ncase {}", case.name);
        let _ = writeln!(
            s,
            "  {:<14} {:>5} {:>11} {:>12} {:>7} {:>8} {:>8} {:>8} {:>10}",
            "egress", "dc", "users", "requests", "share", "p50 ms", "p95 ms", "p99 ms", "peak conn"
        );
        for slot in 0..m.slots {
            let c = m.total(ci, None, Some(slot));
            if c.requests == 0 && slot >= world.egress.len() {
                continue;
            }
            let (dc, peak) = match world.egress.get(slot) {
                Some(e) => {
                    let peak = (0..m.resources)
                        .map(|r| m.connections_v4_micro[m.connection_index(ci, slot, r)])
                        .max()
                        .unwrap_or(0);
                    (
                        world.datacenters[e.datacenter as usize].code.clone(),
                        format!(
                            "{:.1}%",
                            peak as f64 / 1e6 / e.connection_limit as f64 * 100.0
                        ),
                    )
                }
                None => ("-".into(), "-".into()),
            };
            let _ = writeln!(
                s,
                "  {:<14} {:>5} {:>11} {:>12} {:>6.1}% {:>8} {:>8} {:>8} {:>10}",
                slot_name(world, slot),
                dc,
                thousands(c.users),
                thousands(c.requests),
                c.requests as f64 / all.requests.max(1) as f64 * 100.0,
                opt_ms(c.rtt.quantile_ms(0.5)),
                opt_ms(c.rtt.quantile_ms(0.95)),
                opt_ms(c.rtt.quantile_ms(0.99)),
                peak
            );
        }
        let delivered = all.delivered().max(1) as f64;
        let _ = writeln!(
            s,
            "  {:<14} {:>5} {:>11} {:>12} {:>7} {:>8} {:>8} {:>8}",
            "all",
            "",
            thousands(world.users),
            thousands(all.requests),
            "100.0%",
            opt_ms(all.rtt.quantile_ms(0.5)),
            opt_ms(all.rtt.quantile_ms(0.95)),
            opt_ms(all.rtt.quantile_ms(0.99)),
        );
        let _ = writeln!(
            s,
            "  apparent location: other country for {:.1}% of requests, other continent for {:.1}%, {:.0} km from the user on average",
            all.country_mismatch as f64 / delivered * 100.0,
            all.continent_mismatch as f64 / delivered * 100.0,
            all.apparent_distance_m as f64 / delivered / 1000.0,
        );
        if !world.policies.is_empty() || all.outcomes[1..].iter().any(|&n| n > 0) {
            let shares: Vec<String> = crate::engine::Outcome::ALL
                .iter()
                .filter(|o| all.outcomes[**o as usize] > 0)
                .map(|o| {
                    format!(
                        "{} {:.1}%",
                        o.name(),
                        all.outcomes[*o as usize] as f64 / all.requests.max(1) as f64 * 100.0
                    )
                })
                .collect();
            let _ = writeln!(s, "  outcomes: {}", shares.join(", "));
        }
        if all.blocked > 0 {
            let _ = writeln!(
                s,
                "  allowlists refused {:.2}% of requests",
                all.blocked as f64 / all.requests.max(1) as f64 * 100.0
            );
        }
    }
    cases(&mut s, world, m);
    findings(&mut s, world, m);
    let _ = writeln!(
        s,
        "\ntime: load {:.2} s, simulate {:.2} s, write {:.2} s\nresults: {out_dir}",
        t.load.as_secs_f64(),
        t.simulate.as_secs_f64(),
        t.output.as_secs_f64()
    );
    s
}

/// The failure cases as one compact table, most harmful first.
fn cases(s: &mut String, world: &World, m: &Metrics) {
    if world.cases.len() < 2 {
        return;
    }
    let mut rows: Vec<(usize, Impact)> = (1..world.cases.len())
        .map(|c| (c, Impact::of_population(m, c, None)))
        .collect();
    let moved = |c: usize| {
        (0..m.populations).fold((0u64, 0u64, 0u64), |(i, e, r), p| {
            let s = m.shift(c, p);
            (
                i + s.users_ingress_moved,
                e + s.users_egress_changed,
                r + s.requests_rerouted,
            )
        })
    };
    rows.sort_by(|a, b| {
        b.1.harm_score()
            .total_cmp(&a.1.harm_score())
            .then(moved(b.0).2.cmp(&moved(a.0).2))
            .then(moved(b.0).0.cmp(&moved(a.0).0))
            .then(a.0.cmp(&b.0))
    });
    let _ = writeln!(
        s,
        "\n{} failure case{}, most harmful first (users whose ingress moved / whose egress changed; shares of all requests):",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    let width = rows
        .iter()
        .take(MAX_CASES_SHOWN)
        .map(|(c, _)| world.cases[*c].name.chars().count())
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
    for (c, imp) in rows.iter().take(MAX_CASES_SHOWN) {
        let (ingress_moved, egress_changed, rerouted) = moved(*c);
        let pct = |n: u64| format!("{:.1}%", n as f64 / imp.requests.max(1) as f64 * 100.0);
        let name: String = world.cases[*c].name.chars().take(width).collect();
        let _ = writeln!(
            s,
            "  {:<width$} {:>10} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
            name,
            thousands(ingress_moved),
            thousands(egress_changed),
            pct(rerouted),
            pct(imp.dropped),
            pct(imp.blocked),
            pct(imp.violations),
            opt_ms(imp.p95.1),
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

/// The redundancy findings that need attention, most severe first.
fn findings(s: &mut String, world: &World, m: &Metrics) {
    let all = redundancy::findings(world, m);
    let shown: Vec<_> = all
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    if shown.is_empty() {
        if world.cases.len() > 1 {
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

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(1234), "1,234");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
    }
}
