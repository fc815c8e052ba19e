//! The short summary printed at the end of a run: the baseline per egress slot, the failure cases
//! that change something (most harmful first) and the findings that need attention (most severe
//! first), in at most [`WIDTH`] columns with one number format (thousands separators, the
//! rounding of [`crate::analysis::human`]).

use std::fmt::Write;
use std::time::Duration;

use super::{Destination, Output};
use crate::analysis::human::{count, ms_change_column, ms_column, percent};
use crate::analysis::tables::{EgressLoadRow, SummaryRow};
use crate::analysis::values::Share;
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
/// Columns the summary keeps to (counted in characters): findings wrap at word boundaries with a
/// hanging indent, long names are cut with `…` (the full text is in the CSV files).
pub const WIDTH: usize = 100;

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

/// `text` wrapped at word boundaries to [`WIDTH`] columns: the first line after `first`, the
/// others after `indent` (a hanging indent). Columns are counted in characters; a word longer
/// than a line is cut.
pub(crate) fn wrap(s: &mut String, first: &str, indent: &str, text: &str) {
    let mut line = first.to_string();
    let mut fresh = true;
    for word in text.split_whitespace() {
        let used = line.chars().count();
        let room = WIDTH - used;
        let needed = word.chars().count() + usize::from(!fresh);
        if needed > room && !fresh {
            s.push_str(line.trim_end());
            s.push('\n');
            line = indent.to_string();
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        let mut rest: &str = word;
        // A word longer than a whole line: cut it across lines.
        while rest.chars().count() > WIDTH - line.chars().count() {
            let k = WIDTH - line.chars().count();
            let cut = rest.char_indices().nth(k).map_or(rest.len(), |(i, _)| i);
            line.push_str(&rest[..cut]);
            s.push_str(&line);
            s.push('\n');
            line = indent.to_string();
            rest = &rest[cut..];
        }
        line.push_str(rest);
        fresh = false;
    }
    s.push_str(line.trim_end());
    s.push('\n');
}

/// `text` cut to `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

fn headline(s: &mut String, r: &Results, t: &Timings) {
    let world = r.world;
    let requests = world.users * world.requests_per_user as u64;
    let secs = t.simulate.as_secs_f64().max(1e-9);
    let text = format!(
        "{}: {} users × {} requests = {} requests, {} case{}, simulated in {:.2} s ({:.1} M requests/s)",
        world.name,
        count(world.users),
        count(world.requests_per_user as u64),
        count(requests),
        count(world.cases.len() as u64),
        plural(world.cases.len()),
        secs,
        requests as f64 / secs / 1e6,
    );
    wrap(s, "", "  ", &text);
}

/// The baseline: a row per egress slot, everyone, apparent location, outcomes and refusals.
fn baseline(s: &mut String, r: &Results) {
    let world = r.world;
    let all = &r.tables.summary[0];
    let _ = writeln!(s, "\ncase {}", cut(&world.cases[0].name, WIDTH - 5));
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
        percent(Some(1.0)),
        ms_column(all.rtt_p50_ms.rounded()),
        ms_column(all.rtt_p95_ms.rounded()),
        ms_column(all.rtt_p99_ms.rounded()),
    );
    wrap(
        s,
        "  ",
        "    ",
        &format!(
            "apparent location: other country for {} of requests, other continent for {}, {} from the user on average",
            all.apparent_country_mismatch_share,
            all.apparent_continent_mismatch_share,
            all.apparent_distance_mean_km,
        ),
    );
    outcomes(s, r, all);
}

fn slot_row(s: &mut String, row: &EgressLoadRow, is_egress: bool) {
    let (dc, peak) = if is_egress {
        (
            row.datacenter.clone(),
            row.peak_origin_utilization.to_string(),
        )
    } else {
        ("-".into(), "-".into())
    };
    let _ = writeln!(
        s,
        "  {:<14} {:>5} {:>11} {:>12} {:>7} {:>8} {:>8} {:>8} {:>10}",
        cut(&row.egress, 14),
        cut(&dc, 5),
        count(row.users),
        count(row.requests),
        row.request_share.to_string(),
        ms_column(row.rtt_p50_ms.rounded()),
        ms_column(row.rtt_p95_ms.rounded()),
        ms_column(row.rtt_p99_ms.rounded()),
        peak
    );
}

/// Outcome shares (when policies or failures make them interesting) and allowlist refusals.
fn outcomes(s: &mut String, r: &Results, all: &SummaryRow) {
    let shares = [
        ("dedicated", all.dedicated_share),
        ("fallback", all.fallback_share),
        ("default", all.default_share),
        ("dropped", all.dropped_share),
        ("private network", all.private_network_share),
    ];
    let used = |x: &Share| x.0.is_some_and(|v| v > 0.0);
    if !r.world.policies.is_empty() || shares[1..].iter().any(|(_, x)| used(x)) {
        let shown: Vec<String> = shares
            .iter()
            .filter(|(_, x)| used(x))
            .map(|(name, x)| format!("{name} {x}"))
            .collect();
        wrap(s, "  ", "    ", &format!("outcomes: {}", shown.join(", ")));
    }
    if used(&all.blocked_share) {
        let pairs: Vec<String> = r
            .refusals
            .iter()
            .map(|x| {
                let through = match x.egress(r.world) {
                    Some(e) => format!("`{}`", r.world.egress[e].id),
                    None => "default egress".to_string(),
                };
                format!(
                    "`{}` refuses {through} ({} requests)",
                    r.world.resources[x.resource].name,
                    count(x.refused)
                )
            })
            .collect();
        wrap(
            s,
            "  ",
            "    ",
            &format!(
                "allowlists refused {} of requests without any failure: {}",
                all.blocked_share,
                pairs.join(", ")
            ),
        );
    }
}

/// Width of the case names in the case table: the other columns take 80 characters.
const CASE_NAME_WIDTH: usize = WIDTH - 80;

/// The failure cases that change something as one compact table, most harmful first.
fn cases(s: &mut String, r: &Results) {
    let world = r.world;
    let rows = &r.with_effect;
    if r.ranked.is_empty() {
        return;
    }
    let unchanged = r.without_effect();
    let intro = format!(
        "{} failure case{}, most harmful first{} (ingress mv / egress chg: users whose ingress moved / whose egress changed; shares of all requests, +refused and +off-geo beyond the baseline's):",
        count(r.ranked.len() as u64),
        plural(r.ranked.len()),
        if unchanged > 0 {
            format!(
                "; {} change{} nothing and {} not listed",
                count(unchanged as u64),
                if unchanged == 1 { "s" } else { "" },
                if unchanged == 1 { "is" } else { "are" }
            )
        } else {
            String::new()
        }
    );
    s.push('\n');
    wrap(s, "", "  ", &intro);
    if rows.is_empty() {
        return;
    }
    let width = rows
        .iter()
        .take(MAX_CASES_SHOWN)
        .map(|c| world.cases[*c].name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, CASE_NAME_WIDTH);
    let _ = writeln!(
        s,
        "  {:<width$} {:>10} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "case",
        "ingress mv",
        "egress chg",
        "rerouted",
        "dropped",
        "+refused",
        "+off-geo",
        "p95 ms",
        "Δp95 ms"
    );
    for &c in rows.iter().take(MAX_CASES_SHOWN) {
        let (imp, moved) = (&r.cases[c].impact, &r.cases[c].moved);
        let pct = |n: u64| Share::ratio(n, imp.requests).to_string();
        let newly = |now: u64, before: u64| pct(now.saturating_sub(before));
        let change = r.tables.summary[c].rtt_p95_change_ms;
        let _ = writeln!(
            s,
            "  {:<width$} {:>10} {:>10} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9}",
            cut(&world.cases[c].name, width),
            count(moved.users_ingress_moved),
            count(moved.users_egress_changed),
            pct(moved.requests_rerouted),
            pct(imp.dropped),
            newly(imp.blocked, imp.blocked_before),
            newly(imp.violations, imp.violations_before),
            ms_column(r.tables.summary[c].rtt_p95_ms.rounded()),
            ms_change_column(change.rounded()),
        );
    }
    if rows.len() > MAX_CASES_SHOWN {
        let _ = writeln!(
            s,
            "  … {} more in summary.csv and failover.csv",
            count((rows.len() - MAX_CASES_SHOWN) as u64)
        );
    }
}

/// The findings that need attention, most severe first, wrapped with a hanging indent.
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
        wrap(s, &format!("  [{}] ", f.severity.name()), "    ", &f.detail);
        if !f.recommendation.is_empty() {
            wrap(s, "    → ", "      ", &f.recommendation);
        }
    }
    if shown.len() > MAX_FINDINGS_SHOWN {
        let _ = writeln!(
            s,
            "  … {} more in redundancy.csv",
            count((shown.len() - MAX_FINDINGS_SHOWN) as u64)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_to_the_width_with_a_hanging_indent() {
        let mut s = String::new();
        let text = "word ".repeat(60) + &"x".repeat(250);
        wrap(&mut s, "  [high] ", "    ", &text);
        assert!(s.lines().all(|l| l.chars().count() <= WIDTH), "{s}");
        assert!(s.starts_with("  [high] word word"));
        assert!(s.lines().skip(1).all(|l| l.starts_with("    ")));
        // Nothing lost but the spaces at the breaks.
        let words: String = s.split_whitespace().collect();
        assert_eq!(
            words,
            "[high]".to_string() + &"word".repeat(60) + &"x".repeat(250)
        );
        // Characters, not bytes: 99 arrows are 99 columns.
        let mut t = String::new();
        wrap(&mut t, "", "", &"→".repeat(99));
        assert_eq!(t.lines().count(), 1);
    }

    #[test]
    fn cut_marks_what_it_shortens() {
        assert_eq!(cut("ams-1", 14), "ams-1");
        assert_eq!(cut("a-very-long-egress-id", 8), "a-very-…");
    }
}
