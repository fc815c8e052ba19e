//! The planner's guard: the figures it computed incrementally for the final plan must equal, to the
//! last digit, what the run of `plan.toml` reports (`summary.csv`, `capacity.csv`).

use super::{Figures, Metric, PlanResults};
use crate::analysis::Results;
use crate::error::{Error, Result};

/// The figures of case `case` of a finished run, computed as `summary.csv` and `capacity.csv` do.
pub fn run_figures(r: &Results, case: usize) -> Figures {
    let s = &r.tables.summary[case];
    let world = r.world;
    let mut peak = 0f64;
    for e in 0..world.egress.len() {
        for res in 0..world.resources.len() {
            peak = peak.max(r.capacity.utilization(case, e, res));
        }
    }
    Figures {
        rtt_mean_ms: s.rtt_mean_ms.0,
        rtt_p95_ms: s.rtt_p95_ms.0,
        refused_share: s.blocked_share.0,
        violation_share: s.geography_violation_share.0,
        peak_utilization: peak,
        country_mismatch_share: s.apparent_country_mismatch_share.0,
    }
}

impl PlanResults {
    /// Checks that the final plan's figures equal the run's, case by case; an internal error naming
    /// every difference otherwise (the planner's incremental evaluation and the engine disagree).
    pub fn verify(&self, r: &Results) -> Result<()> {
        let mut wrong = Vec::new();
        let mut check = |name: &str, planned: &Figures| {
            let Some(case) = r.world.cases.iter().position(|c| c.name == name) else {
                wrong.push(format!("case `{name}` is missing from the run"));
                return;
            };
            let run = run_figures(r, case);
            for m in Metric::ALL {
                let (a, b) = (m.of(planned), m.of(&run));
                if a != b {
                    wrong.push(format!(
                        "{} in `{name}`: planner {a:?}, run {b:?}",
                        m.name()
                    ));
                }
            }
        };
        check("baseline", &self.fin.baseline);
        for (name, f) in &self.fin.cases {
            check(name, f);
        }
        if wrong.is_empty() {
            return Ok(());
        }
        Err(Error::Internal(format!(
            "the planner's figures for the final plan differ from the run of plan.toml ({}); \
             this is a bug, please report it with the scenario",
            wrong.join("; ")
        )))
    }
}
