//! The rows of `plan.csv` (one per search step) and `candidates.csv` (one per candidate).

use serde::{Deserialize, Serialize};

use super::{Evaluation, Figures, PlanResults, SiteRef};
use crate::analysis::values::{Figure, Ms, Share};

/// One step of the search: a greedy addition or an improving swap.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanRow {
    /// Step number, from 1.
    pub step: usize,
    /// Proposed sites after the step.
    pub k: usize,
    /// `add` or `swap`.
    pub action: String,
    /// Egress id of the site added or swapped in.
    pub site: String,
    /// Its data center.
    pub datacenter: String,
    /// Its city.
    pub city: String,
    /// Egress id of the site swapped out (swaps only).
    pub replaces: String,
    /// The objective, as given (`p95-rtt`, `p95-rtt=1,refused=500`).
    pub objective: String,
    /// `none`, `n-1` or `n-1:mean`.
    pub robust: String,
    /// The objective before the step.
    pub objective_before: Figure,
    /// The objective after the step.
    pub objective_after: Figure,
    /// Baseline mean RTT after the step.
    pub rtt_mean_ms: Ms,
    /// Baseline p95 RTT after the step.
    pub rtt_p95_ms: Ms,
    /// Baseline share of requests refused by allowlists.
    pub refused_share: Share,
    /// Baseline share of requests breaking a geography requirement.
    pub geography_violation_share: Share,
    /// Baseline peak connection utilisation.
    pub peak_utilization: Share,
    /// Baseline share of delivered requests with another apparent country.
    pub apparent_country_mismatch_share: Share,
    /// The failure case deciding the robust objective (`n-1`; empty otherwise).
    pub worst_case: String,
    /// Its p95 RTT.
    pub worst_rtt_p95_ms: Ms,
    /// Its p95 RTT minus the baseline's.
    pub worst_rtt_p95_change_ms: Ms,
}

/// One candidate's marginal value against the final plan.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CandidateRow {
    /// Egress id the candidate's IP has (or would have) in `plan.toml`.
    pub site: String,
    /// Data center.
    pub datacenter: String,
    /// City.
    pub city: String,
    /// ISO country code.
    pub country: String,
    /// In the final plan.
    pub chosen: bool,
    /// The final plan's objective.
    pub objective_plan: Figure,
    /// The objective with this candidate added to the final plan (not chosen; room left).
    pub objective_if_added: Figure,
    /// The objective without it (chosen).
    pub objective_if_removed: Figure,
    /// The chosen site whose swap for this candidate is best (not chosen).
    pub best_swap_out: String,
    /// The objective after that swap.
    pub objective_best_swap: Figure,
}

fn finite(v: f64) -> Figure {
    Figure(v.is_finite().then_some(v))
}

fn baseline_columns(row: &mut PlanRow, e: &Evaluation) {
    let f: &Figures = &e.baseline;
    row.rtt_mean_ms = Ms(f.rtt_mean_ms);
    row.rtt_p95_ms = Ms(f.rtt_p95_ms);
    row.refused_share = Share(f.refused_share);
    row.geography_violation_share = Share(f.violation_share);
    row.peak_utilization = Share::of(f.peak_utilization);
    row.apparent_country_mismatch_share = Share(f.country_mismatch_share);
    if let Some((name, w)) = e.worst.and_then(|i| e.cases.get(i)) {
        row.worst_case = name.clone();
        row.worst_rtt_p95_ms = Ms(w.rtt_p95_ms);
        row.worst_rtt_p95_change_ms = Ms(w.rtt_p95_ms.zip(f.rtt_p95_ms).map(|(a, b)| a - b));
    }
}

pub(super) fn plan_rows(r: &PlanResults) -> Vec<PlanRow> {
    r.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut row = PlanRow {
                step: i + 1,
                k: s.k,
                action: s.action.name().into(),
                site: s.site.id.clone(),
                datacenter: s.site.datacenter.clone(),
                city: s.site.city.clone(),
                replaces: s
                    .replaces
                    .as_ref()
                    .map_or_else(String::new, |x| x.id.clone()),
                objective: r.setup.objective.label(),
                robust: r.setup.robust.name().into(),
                objective_before: finite(s.before),
                objective_after: finite(s.after.value),
                ..PlanRow::default()
            };
            baseline_columns(&mut row, &s.after);
            row
        })
        .collect()
}

pub(super) fn candidate_rows(r: &PlanResults) -> Vec<CandidateRow> {
    let site = |s: &SiteRef| {
        (
            s.id.clone(),
            s.datacenter.clone(),
            s.city.clone(),
            s.country.clone(),
        )
    };
    r.marginals
        .iter()
        .map(|m| {
            let (id, dc, city, country) = site(&m.site);
            CandidateRow {
                site: id,
                datacenter: dc,
                city,
                country,
                chosen: m.chosen,
                objective_plan: finite(r.fin.value),
                objective_if_added: Figure(m.if_added.filter(|v| v.is_finite())),
                objective_if_removed: Figure(m.if_removed.filter(|v| v.is_finite())),
                best_swap_out: m
                    .best_swap
                    .as_ref()
                    .map_or_else(String::new, |(i, _)| i.clone()),
                objective_best_swap: Figure(
                    m.best_swap
                        .as_ref()
                        .map(|(_, v)| *v)
                        .filter(|v| v.is_finite()),
                ),
            }
        })
        .collect()
}
