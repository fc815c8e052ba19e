//! `egress-sim explain`: one user's attributes, ingress, policy evaluation, decision, physical path and
//! round-trip time, part by part, printed from the engine's own [`trace`](crate::engine::trace), so
//! what it prints is exactly what the simulation does for that user. `path.rs` explains the latency
//! model between two places (`egress-sim latency`).

mod path;
mod user;
mod user_text;

pub use path::{explain_path, ModelSettings, PathExplanation, PathQuery, PlaceInfo};
pub use user::{explain, explanation, ExplainOptions, UserExplanation};

use crate::policy::expr::{self, Expr, Universe};
use crate::policy::{Condition, FilterKind, Policy};

/// Why a policy did or did not decide.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every present filter matched.
    Match,
    /// Disabled policies are skipped.
    Disabled,
    /// A filter did not match; the first failing top-level condition.
    NoMatch {
        /// Which filter.
        filter: FilterKind,
        /// Text of the first failing condition.
        condition: String,
    },
}

/// Evaluates `policy` for `facts`, naming the first failing condition.
pub fn verdict(policy: &Policy, facts: &expr::Facts<'_>, universe: &Universe) -> Verdict {
    if !policy.enabled {
        return Verdict::Disabled;
    }
    for kind in FilterKind::ALL {
        let Some(cond) = policy.filter(kind) else {
            continue;
        };
        if !cond.compiled.eval(facts) {
            return Verdict::NoMatch {
                filter: kind,
                condition: first_failing(cond, facts, universe),
            };
        }
    }
    Verdict::Match
}

/// The first top-level conjunct of a failing filter that is false on its own (the whole filter when
/// it is not a conjunction).
fn first_failing(cond: &Condition, facts: &expr::Facts<'_>, universe: &Universe) -> String {
    if let Expr::And { operands, .. } = &cond.expr {
        for op in operands {
            if let Ok((c, _)) = expr::compile(op, universe) {
                if !c.eval(facts) {
                    return op.to_string();
                }
            }
        }
    }
    cond.text.clone()
}
