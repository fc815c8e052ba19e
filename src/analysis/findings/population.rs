//! Per-population and per-declared-failure findings: the failure that hurts each population most,
//! and declared failures that lose, refuse or misplace traffic.

use std::collections::BTreeSet;

use super::{pct, Finding, Inputs, Severity};
use crate::analysis::human;
use crate::analysis::impact::Impact;
use crate::analysis::ranking::{self, Candidate, Harm};
use crate::analysis::values::Ms;
use crate::world::{CaseOrigin, DcId, World};

/// Failure cases preferred for "worst single failure": one data center or one egress IP down
/// ([`ranking::is_single_failure`]); all failure cases when there are none of those. The flag says
/// which, so the text never calls a multi-site case a single failure.
fn single_failure_cases(world: &World) -> (Vec<usize>, bool) {
    let singles: Vec<usize> = (1..world.cases.len())
        .filter(|&c| ranking::is_single_failure(&world.cases[c]))
        .collect();
    if singles.is_empty() {
        ((1..world.cases.len()).collect(), false)
    } else {
        (singles, true)
    }
}

/// Each population's worst single failure.
pub(super) fn worst_failures(i: &Inputs, out: &mut Vec<Finding>) {
    let world = i.world;
    if world.cases.len() < 2 {
        return;
    }
    let (candidates, single) = single_failure_cases(world);
    for (pi, pop) in world.populations.iter().enumerate() {
        let ranked = ranking::rank(
            candidates
                .iter()
                .map(|&case| Candidate {
                    case,
                    harm: Harm::of_population(&i.cases[case].populations[pi]),
                    moved: i.cases[case].moved,
                })
                .collect(),
        );
        let Some(&c) = ranked.first() else { continue };
        let imp = i.cases[c].populations[pi];
        let (severity, detail, recommendation) = worst_failure_text(world, pi, (c, single), &imp);
        out.push(Finding {
            severity,
            kind: "worst_failure",
            entity_kind: "population",
            entity: pop.name.clone(),
            case: world.cases[c].name.clone(),
            impact: Some(imp.harmed_share()),
            detail,
            recommendation,
        });
    }
}

/// Severity, detail and recommendation of population `pi`'s worst failure `c`.
fn worst_failure_text(
    world: &World,
    pi: usize,
    (c, single): (usize, bool),
    imp: &Impact,
) -> (Severity, String, String) {
    let (pop, case) = (&world.populations[pi].name, &world.cases[c].name);
    let worst = if single {
        "worst single failure"
    } else {
        "worst failure case"
    };
    let change = imp.p95_change_ms().unwrap_or(0.0);
    let latency = format!(
        "p95 RTT {} → {} ({})",
        Ms(imp.p95.0),
        Ms(imp.p95.1),
        human::ms_change(Ms(imp.p95_change_ms()).rounded())
    );
    // Lost, misplaced or refused traffic first, in that order.
    let harm: Option<(Severity, String, &str)> = if imp.dropped > 0 {
        Some((
            Severity::High,
            format!(
                "{worst} is `{case}`, which drops {} of its requests",
                pct(imp.dropped_share())
            ),
            "give the policies these users match an `ipv4_fallback` in another data center",
        ))
    } else if imp.extra_violation_share() > 0.0 {
        Some((
            Severity::High,
            format!(
                "in `{case}` {} of its requests egress outside the required geography",
                pct(imp.extra_violation_share())
            ),
            "add an egress IP in a second data center inside the required geography",
        ))
    } else if imp.extra_blocked_share() > 0.0 {
        Some((
            Severity::Medium,
            format!(
                "in `{case}` allowlists refuse {} more of its requests",
                pct(imp.extra_blocked_share())
            ),
            "add the fallback egress IPs to the destinations' allowlists",
        ))
    } else {
        None
    };
    if let Some((severity, what, recommendation)) = harm {
        return (
            severity,
            format!("population `{pop}`: {what}; {latency}"),
            recommendation.to_string(),
        );
    }
    let severity = if change > 50.0 {
        Severity::Medium
    } else if change > 10.0 {
        Severity::Low
    } else {
        Severity::Info
    };
    let recommendation = if severity == Severity::Info {
        String::new()
    } else {
        format!(
            "reserve a dedicated egress IP in another data center near these users{}",
            nearest_spare_datacenter(world, pi)
                .map(|d| format!(", e.g. {d}"))
                .unwrap_or_default()
        )
    };
    (
        severity,
        format!("population `{pop}`: {worst} is `{case}`; {latency}"),
        recommendation,
    )
}

/// The data center hosting none of the scenario's egress IPs that is nearest to most of a population's
/// users (a sample of up to 400 of them), as `CODE (City)`.
fn nearest_spare_datacenter(world: &World, population: usize) -> Option<String> {
    let pop = &world.populations[population];
    let used: BTreeSet<DcId> = world.egress.iter().map(|e| e.datacenter).collect();
    let spare: Vec<usize> = (0..world.datacenters.len())
        .filter(|i| !used.contains(&(*i as DcId)))
        .collect();
    let countries = crate::country_index::CountryIndex::embedded();
    let step = (pop.users / 400).max(1);
    let mut votes = vec![0u32; world.datacenters.len()];
    let mut i = 0;
    while i < pop.users {
        let (u, _) = crate::users::generate(
            world.seed,
            pop.first_user + i,
            population as u16,
            pop,
            countries,
        );
        if let Some(&d) = spare.iter().min_by(|&&a, &&b| {
            u.location
                .distance_km(world.datacenters[a].location)
                .total_cmp(&u.location.distance_km(world.datacenters[b].location))
        }) {
            votes[d] += 1;
        }
        i += step;
    }
    let (d, n) = votes
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
    (*n > 0).then(|| {
        let dc = &world.datacenters[d];
        format!("{} ({})", dc.code, dc.city)
    })
}

/// Declared failures (`[[failure]]`) that lose, refuse or misplace traffic.
pub(super) fn declared_failures(i: &Inputs, out: &mut Vec<Finding>) {
    for (c, case) in i.world.cases.iter().enumerate().skip(1) {
        if case.origin != CaseOrigin::Declared {
            continue;
        }
        let imp = i.cases[c].impact;
        let mut parts = Vec::new();
        if imp.dropped > 0 {
            parts.push(format!("drops {}", pct(imp.dropped_share())));
        }
        if imp.extra_blocked_share() > 0.0 {
            parts.push(format!(
                "has allowlists refuse {} more",
                pct(imp.extra_blocked_share())
            ));
        }
        if imp.extra_violation_share() > 0.0 {
            parts.push(format!(
                "sends {} outside required geographies",
                pct(imp.extra_violation_share())
            ));
        }
        if parts.is_empty() {
            continue;
        }
        let severity = if imp.dropped > 0 || imp.extra_violation_share() > 0.0 {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(Finding {
            severity,
            kind: "failure_harms_traffic",
            entity_kind: "case",
            entity: case.name.clone(),
            case: case.name.clone(),
            impact: Some(imp.harmed_share()),
            detail: format!(
                "failure `{}` {} of all requests; p95 RTT changes by {}",
                case.name,
                parts.join(", "),
                human::ms_change(Ms(imp.p95_change_ms()).rounded())
            ),
            recommendation: "reserve a dedicated egress IP outside the failed area, use it as a policy fallback and add it to the allowlists of the affected destinations".into(),
        });
    }
}
