//! The "Plan" section, when the run is the final world of `egress-sim plan`: what was searched,
//! each step (the rows of `plan.csv`), the curve and the map of the plan, and the runner-up sites
//! (the best rows of `candidates.csv`).

use super::markup::{figure, p, section, table, td, td_num};
use super::numbers::{td_ms, td_share};
use super::page::Ctx;
use crate::analysis::plan::{Allowlists, CandidateRow, PlanResults, PlanRow, Robust};
use crate::analysis::values::Figure;

/// Runner-up candidates shown (the whole list is in `candidates.csv`).
const RUNNERS_UP: usize = 10;

fn td_figure(v: Figure) -> String {
    let shown = v
        .rounded()
        .map_or_else(|| "–".to_string(), |x| format!("{x:.3}"));
    td_num(&shown, &v.csv())
}

fn steps_table(rows: &[PlanRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                td_num(&r.k.to_string(), &r.k.to_string()),
                td(&r.action),
                td(&format!("{} ({}, {})", r.site, r.datacenter, r.city)),
                td(&r.replaces),
                td_figure(r.objective_before),
                td_figure(r.objective_after),
                td_ms(r.rtt_mean_ms),
                td_ms(r.rtt_p95_ms),
                td_share(r.refused_share),
                td_share(r.geography_violation_share),
                td_share(r.peak_utilization),
                td(&r.worst_case),
                td_ms(r.worst_rtt_p95_ms),
            ]
        })
        .collect();
    table(
        "plan",
        "Search steps (plan.csv): the objective before and after each step, and the plan world's baseline figures after it",
        &[
            "#sites",
            "step",
            "site",
            "replaces",
            "#objective before",
            "#objective after",
            "#RTT mean",
            "#RTT p95",
            "#refused",
            "#geography violations",
            "#peak utilisation",
            "worst single failure",
            "#its p95",
        ],
        &cells,
    )
}

fn runners_up(rows: &[CandidateRow]) -> String {
    let mut best: Vec<&CandidateRow> = rows
        .iter()
        .filter(|r| !r.chosen && r.objective_best_swap.0.is_some())
        .collect();
    // Stable sort: ties keep candidate order, as the search does.
    best.sort_by(|a, b| {
        a.objective_best_swap
            .0
            .partial_cmp(&b.objective_best_swap.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let cells: Vec<Vec<String>> = best
        .iter()
        .take(RUNNERS_UP)
        .map(|r| {
            vec![
                td(&format!("{} ({}, {})", r.datacenter, r.city, r.country)),
                td(&r.best_swap_out),
                td_figure(r.objective_best_swap),
                td_figure(r.objective_if_added),
            ]
        })
        .collect();
    table(
        "candidates",
        "Runner-up sites (candidates.csv): the objective if the site replaced its best swap partner, or were added",
        &["data center", "instead of", "#objective after swap", "#objective if added"],
        &cells,
    )
}

fn intro(plan: &PlanResults) -> String {
    let s = &plan.setup;
    let chosen: Vec<String> = plan
        .chosen
        .iter()
        .map(|c| format!("{} in {} ({}, {})", c.id, c.datacenter, c.city, c.country))
        .collect();
    let mut text = format!(
        "This run is the plan world of `egress-sim plan`: the scenario {} plus {} — chosen from {} candidate data centers ({}) to minimise {}{}, over the same {} users and requests as this run; {} plans evaluated{}. New IPs {} destination allowlists. plan.toml holds this world.",
        if s.from_scratch { "without its egress IPs" } else { "with its egress IPs" },
        if chosen.is_empty() { "no new IP".to_string() } else { chosen.join(", ") },
        s.candidates,
        s.candidates_label,
        s.objective.label(),
        match s.robust {
            Robust::None => "",
            Robust::Worst => " in the worst single failure",
            Robust::Mean => " over the single failures (mean)",
        },
        crate::analysis::human::count(s.users),
        crate::analysis::human::count(plan.evaluations),
        if s.exhaustive { " (every set)" } else { " (greedy additions, then improving swaps)" },
        if s.allowlists == Allowlists::Add { "join every" } else { "are not added to" },
    );
    if let Some(why) = &plan.stopped_early {
        text.push_str(&format!(" The search {why}."));
    }
    p(&text)
}

/// The plan section (empty when the run does not come from a plan).
pub(super) fn render(ctx: &Ctx) -> String {
    let (Some(plan), Some((curve, map))) = (&ctx.r.plan, &ctx.plan_charts) else {
        return String::new();
    };
    let mut s = intro(plan);
    s.push_str(&figure(
        curve,
        "The objective against the number of proposed sites along the greedy additions (dashed: the same objective with nothing down, when the plan is judged by failures).",
    ));
    s.push_str(&steps_table(&plan.plan_rows()));
    s.push_str(&figure(
        map,
        "Users coloured by the egress IP that serves them in the plan world (a thinned sample); proposed sites are marked new.",
    ));
    s.push_str(&runners_up(&plan.candidate_rows()));
    section(
        "plan",
        &format!("Plan: {}", plan.setup.objective.label()),
        &s,
    )
}
