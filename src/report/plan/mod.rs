//! The outputs of a plan (`egress-sim plan`), written with the final plan world's run outputs when
//! [`Results::plan`] holds one: `plan.csv`, `candidates.csv`, `plan.toml` (this file), the plan
//! charts (`charts/plan.rs`), the report's "Plan" section (`html/plan.rs`) and the terminal
//! summary (`terminal.rs`).

mod terminal;

pub use terminal::terminal;

use super::csv::write_rows;
use super::{Destination, Output};
use crate::analysis::Results;
use crate::error::{Error, Result};

/// `plan.csv`, `candidates.csv` and `plan.toml`.
#[derive(Debug, Clone, Copy)]
pub struct PlanFiles;

impl Output<Results<'_>> for PlanFiles {
    fn write(&self, r: &Results, to: &mut Destination) -> Result<()> {
        let Some(plan) = &r.plan else {
            return Ok(());
        };
        write_rows(&to.file("plan.csv"), &plan.plan_rows())?;
        write_rows(&to.file("candidates.csv"), &plan.candidate_rows())?;
        let path = to.file("plan.toml");
        std::fs::write(&path, &plan.plan_toml)
            .map_err(|e| Error::io(format!("cannot write `{}`", path.display()), e))?;
        Ok(())
    }
}
