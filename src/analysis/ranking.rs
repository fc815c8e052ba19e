//! Failure cases, most harmful first: the one order every output shows (the terminal's case
//! list, the heatmap, the failover CDF, the report's table and headline) and that the findings
//! use to pick a population's worst failure.
//!
//! A case's [`Harm`] compares, in this order: the share of all requests it loses, refuses or sends
//! off-geography plus its p95 increase ([`Impact::harm_score`]); then the same score of the
//! population it hurts most (so a case that slows one population down ranks above one that
//! changes nothing); then the traffic it moved (rerouted requests, then users whose ingress
//! moved: among equally harmful cases, the one that moved more is the one worth reading); then
//! scenario order, so the ranking is deterministic.
//!
//! [`Impact::harm_score`]: super::impact::Impact::harm_score

use super::cases::CaseFigures;
use super::impact::{Impact, Moved};
use crate::world::Case;

/// How much harm one case does (higher is worse), compared field by field.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Harm {
    /// Harm score of the requests considered (all requests, or one population's).
    pub overall: f64,
    /// The highest harm score of any one population.
    pub worst_population: f64,
}

impl Harm {
    /// The harm of a case to all requests, and to the population it hurts most.
    pub fn of_case(figures: &CaseFigures) -> Self {
        Self {
            overall: figures.impact.harm_score(),
            worst_population: figures
                .populations
                .iter()
                .map(Impact::harm_score)
                .fold(0.0, f64::max),
        }
    }

    /// The harm of a case to one population's requests.
    pub fn of_population(impact: &Impact) -> Self {
        let score = impact.harm_score();
        Self {
            overall: score,
            worst_population: score,
        }
    }
}

/// One case to rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Case index.
    pub case: usize,
    /// Its harm.
    pub harm: Harm,
    /// What the case moved.
    pub moved: Moved,
}

/// The cases of `candidates`, most harmful first.
pub fn rank(mut candidates: Vec<Candidate>) -> Vec<usize> {
    candidates.sort_by(|a, b| {
        b.harm
            .overall
            .total_cmp(&a.harm.overall)
            .then(b.harm.worst_population.total_cmp(&a.harm.worst_population))
            .then(b.moved.requests_rerouted.cmp(&a.moved.requests_rerouted))
            .then(
                b.moved
                    .users_ingress_moved
                    .cmp(&a.moved.users_ingress_moved),
            )
            .then(a.case.cmp(&b.case))
    });
    candidates.into_iter().map(|c| c.case).collect()
}

/// Whether a case is a single failure: exactly one data center down, or exactly one egress IP
/// down while every data center is up (what "worst single failure" may name).
pub fn is_single_failure(case: &Case) -> bool {
    case.single_datacenter().is_some()
        || (!case.dc_down.iter().any(|&d| d)
            && case.egress_down.iter().filter(|&&d| d).count() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(case: usize, overall: f64, worst_population: f64, rerouted: u64) -> Candidate {
        Candidate {
            case,
            harm: Harm {
                overall,
                worst_population,
            },
            moved: Moved {
                requests_rerouted: rerouted,
                ..Moved::default()
            },
        }
    }

    #[test]
    fn harm_then_the_worst_population_then_traffic_moved_then_case_order() {
        let cases = vec![
            candidate(1, 0.0, 0.0, 5),
            candidate(2, 3.0, 3.0, 0),
            candidate(3, 0.0, 0.0, 9),
            candidate(4, 3.0, 3.0, 0),
            // Nothing overall, but one population is 4.1 ms slower: above the cases that
            // change nothing, whatever they moved.
            candidate(5, 0.0, 4.1, 0),
        ];
        assert_eq!(rank(cases), [2, 4, 5, 3, 1]);
    }

    #[test]
    fn single_failures_are_one_data_center_or_one_egress_ip() {
        let mut case = Case::baseline(3, 2);
        assert!(!is_single_failure(&case));
        case.dc_down[1] = true;
        assert!(is_single_failure(&case));
        case.dc_down[2] = true;
        assert!(!is_single_failure(&case), "two data centers");
        let mut ip = Case::baseline(3, 2);
        ip.egress_down[0] = true;
        assert!(is_single_failure(&ip));
        ip.egress_down[1] = true;
        assert!(!is_single_failure(&ip), "two egress IPs");
    }
}
