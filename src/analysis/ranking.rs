//! Failure cases, most harmful first: the one ranking every output shows (terminal, heatmap,
//! failover CDF, report), and the "worst single failure" of the findings.
//!
//! Harm is [`Impact::harm_score`](super::impact::Impact::harm_score): requests lost, refused or
//! off-geography first, then the p95 increase. Ties are broken by a [`TieBreak`] and finally by
//! case order, so the ranking is deterministic.

use std::cmp::Ordering;

use super::impact::Moved;

/// How cases with the same harm are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TieBreak {
    /// Scenario order (the report, the charts and the findings).
    CaseOrder,
    /// The case that moved more traffic first (rerouted requests, then users whose ingress moved),
    /// then scenario order (the terminal, where the harmless tail is long under a sweep).
    TrafficMoved,
}

/// One case to rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Case index.
    pub case: usize,
    /// Harm score (higher is worse).
    pub harm: f64,
    /// What the case moved (only read by [`TieBreak::TrafficMoved`]).
    pub moved: Moved,
}

/// The cases of `candidates`, most harmful first.
pub fn rank(mut candidates: Vec<Candidate>, ties: TieBreak) -> Vec<usize> {
    candidates.sort_by(|a, b| {
        b.harm
            .total_cmp(&a.harm)
            .then_with(|| match ties {
                TieBreak::CaseOrder => Ordering::Equal,
                TieBreak::TrafficMoved => b
                    .moved
                    .requests_rerouted
                    .cmp(&a.moved.requests_rerouted)
                    .then(
                        b.moved
                            .users_ingress_moved
                            .cmp(&a.moved.users_ingress_moved),
                    ),
            })
            .then(a.case.cmp(&b.case))
    });
    candidates.into_iter().map(|c| c.case).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(case: usize, harm: f64, rerouted: u64) -> Candidate {
        Candidate {
            case,
            harm,
            moved: Moved {
                requests_rerouted: rerouted,
                ..Moved::default()
            },
        }
    }

    #[test]
    fn harm_first_then_the_tie_break_then_case_order() {
        let cases = vec![
            candidate(1, 0.0, 5),
            candidate(2, 3.0, 0),
            candidate(3, 0.0, 9),
            candidate(4, 3.0, 0),
        ];
        assert_eq!(rank(cases.clone(), TieBreak::CaseOrder), [2, 4, 1, 3]);
        assert_eq!(rank(cases, TieBreak::TrafficMoved), [2, 4, 3, 1]);
    }
}
