//! Per-policy findings: single points of failure of a dedicated policy's IPv4 egress, survival of
//! the simulated single data-center failures, and where the policy can egress.

use std::collections::BTreeSet;

use super::{pct, plural, Finding, Severity};
use crate::analysis::impact::Impact;
use crate::catalog::{Catalog, DataCenter};
use crate::engine::Metrics;
use crate::policy::{Action, Fallback, Policy};
use crate::world::{DcId, Egress, EgressId, World};

/// Where a dedicated policy's IPv4 traffic can egress, and what is known about its survival.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRedundancy {
    /// Policy name.
    pub policy: String,
    /// Data center codes of primary and fallback.
    pub datacenters: Vec<String>,
    /// Distinct cities.
    pub cities: Vec<String>,
    /// Distinct countries (ISO codes).
    pub countries: Vec<String>,
    /// Single data-center failures simulated that touch the policy's data centers.
    pub single_failures_checked: usize,
    /// The worst single data-center failure that harmed the policy's traffic, and the harmed share.
    pub failing: Option<(String, f64)>,
}

/// Cases taking down exactly one data center, with that data center.
fn single_dc_cases(world: &World) -> Vec<(usize, DcId)> {
    world
        .cases
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, c)| c.single_datacenter().map(|d| (i, d)))
        .collect()
}

/// The enabled dedicated policies with their index, primary IPv4 egress IP and fallback.
fn dedicated(world: &World) -> impl Iterator<Item = (usize, &Policy, EgressId, Fallback)> {
    world
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.enabled)
        .filter_map(|(pi, p)| match p.action {
            Action::Dedicated { ipv4, fallback, .. } => Some((pi, p, ipv4, fallback)),
            Action::DefaultEgress => None,
        })
}

/// Per enabled dedicated policy: diversity and survival of single data-center failures.
pub fn policy_redundancy(world: &World, m: &Metrics) -> Vec<PolicyRedundancy> {
    let catalog = Catalog::embedded();
    let singles = single_dc_cases(world);
    dedicated(world)
        .map(|(pi, p, ipv4, fallback)| {
            let mut dcs: Vec<DcId> = vec![world.egress[ipv4 as usize].datacenter];
            if let Fallback::Egress(f) = fallback {
                let d = world.egress[f as usize].datacenter;
                if !dcs.contains(&d) {
                    dcs.push(d);
                }
            }
            let dc = |d: &DcId| &world.datacenters[*d as usize];
            let cities: BTreeSet<String> = dcs.iter().map(|d| dc(d).city.clone()).collect();
            let countries: BTreeSet<String> = dcs
                .iter()
                .map(|d| catalog.country(dc(d).country).iso2.clone())
                .collect();
            let mut checked = 0;
            let mut failing: Option<(String, f64)> = None;
            for &(c, _) in singles.iter().filter(|(_, d)| dcs.contains(d)) {
                checked += 1;
                let harmed = Impact::of_policy(m, c, pi).harmed_share();
                if harmed > 0.0 && failing.as_ref().is_none_or(|(_, h)| harmed > *h) {
                    failing = Some((world.cases[c].name.clone(), harmed));
                }
            }
            PolicyRedundancy {
                policy: p.name.clone(),
                datacenters: dcs.iter().map(|d| dc(d).code.clone()).collect(),
                cities: cities.into_iter().collect(),
                countries: countries.into_iter().collect(),
                single_failures_checked: checked,
                failing,
            }
        })
        .collect()
}

/// One dedicated policy under review.
struct Reviewed<'a> {
    world: &'a World,
    m: &'a Metrics,
    index: usize,
    policy: &'a Policy,
    primary: &'a Egress,
    primary_dc: &'a DataCenter,
    /// The simulated loss of the primary's data center, when there is one.
    primary_case: Option<usize>,
    redundancy: &'a PolicyRedundancy,
}

impl Reviewed<'_> {
    /// A finding about the policy.
    fn finding(&self, severity: Severity, kind: &'static str) -> Finding {
        Finding {
            severity,
            kind,
            entity_kind: "policy",
            entity: self.policy.name.clone(),
            case: String::new(),
            impact: None,
            detail: String::new(),
            recommendation: String::new(),
        }
    }

    /// What losing the primary's data center does, when it was simulated: the text to append to a
    /// finding's detail, and the finding's case and impact.
    fn primary_loss(&self, what: &str) -> (String, String, Option<f64>) {
        match self.primary_case {
            Some(c) => {
                let harmed = Impact::of_policy(self.m, c, self.index).harmed_share();
                (
                    format!(
                        "; today a loss of {} {} {} of `{}` requests",
                        self.primary_dc.code,
                        what,
                        pct(harmed),
                        self.policy.name
                    ),
                    self.world.cases[c].name.clone(),
                    Some(harmed),
                )
            }
            None => (String::new(), String::new(), None),
        }
    }

    /// A finding about losing the primary's data center.
    fn loss_finding(
        &self,
        severity: Severity,
        kind: &'static str,
        what: &str,
    ) -> (Finding, String) {
        let (text, case, impact) = self.primary_loss(what);
        let mut f = self.finding(severity, kind);
        f.case = case;
        f.impact = impact;
        (f, text)
    }
}

/// Per-policy findings, in policy order.
pub(super) fn findings(world: &World, m: &Metrics, out: &mut Vec<Finding>) {
    let reds = policy_redundancy(world, m);
    for ((index, policy, ipv4, fallback), redundancy) in dedicated(world).zip(&reds) {
        let primary = &world.egress[ipv4 as usize];
        let r = Reviewed {
            world,
            m,
            index,
            policy,
            primary,
            primary_dc: &world.datacenters[primary.datacenter as usize],
            primary_case: world
                .cases
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, c)| c.single_datacenter() == Some(primary.datacenter))
                .map(|(i, _)| i),
            redundancy,
        };
        out.extend(fallback_finding(&r, fallback));
        out.extend(failing_finding(&r));
        out.push(diversity_finding(&r));
    }
}

/// A fallback that does not protect the policy: none, in the same city, or default
/// egress where destinations have allowlists.
fn fallback_finding(r: &Reviewed, fallback: Fallback) -> Option<Finding> {
    let (w, p, pdc) = (r.world, r.policy, r.primary_dc);
    match fallback {
        Fallback::None => {
            let (mut f, t) = r.loss_finding(Severity::High, "no_fallback", "drops");
            f.detail = format!(
                "policy `{}` has no `ipv4_fallback`: its IPv4 traffic is dropped whenever {} ({}) is unavailable{t}",
                p.name, pdc.code, pdc.city
            );
            f.recommendation = format!(
                "add `ipv4_fallback` with an egress IP in another data center{} for policy `{}`",
                nearest_other_egress(w, r.primary.datacenter)
                    .map(|s| format!(" (the nearest is `{s}`)"))
                    .unwrap_or_default(),
                p.name
            );
            Some(f)
        }
        Fallback::Egress(e) => {
            let fe = &w.egress[e as usize];
            let fdc = &w.datacenters[fe.datacenter as usize];
            // The scenario compiler refuses a fallback in the primary's data center.
            if fdc.city == pdc.city && fdc.country == pdc.country {
                let mut f = r.finding(Severity::Medium, "fallback_same_city");
                f.detail = format!(
                    "policy `{}`: primary ({}) and fallback ({}) are both in {}; a city-wide outage takes both down",
                    p.name, pdc.code, fdc.code, pdc.city
                );
                f.recommendation = format!(
                    "if `{}` may egress elsewhere, add a fallback in another city; if it must stay in {}, keep two data centers there (as now) and watch capacity",
                    p.name, pdc.city
                );
                Some(f)
            } else {
                None
            }
        }
        Fallback::DefaultEgress => default_fallback_finding(r),
    }
}

/// Default egress as the fallback, where destinations have allowlists that refuse it.
fn default_fallback_finding(r: &Reviewed) -> Option<Finding> {
    if !r.world.resources.iter().any(|x| x.allowlist.is_some()) {
        return None;
    }
    let refused = r
        .primary_case
        .is_none_or(|c| Impact::of_policy(r.m, c, r.index).extra_blocked_share() > 0.0);
    if !refused {
        return None;
    }
    let severity = if r.primary_case.is_some() {
        Severity::High
    } else {
        Severity::Medium
    };
    let (mut f, t) = r.loss_finding(severity, "fallback_default_with_allowlist", "has refused");
    let name = &r.policy.name;
    f.detail = format!(
        "policy `{name}` falls back to default egress (`0.0.0.0`), whose shared addresses no allowlist accepts{t}"
    );
    f.recommendation = format!(
        "give policy `{name}` a dedicated `ipv4_fallback` in another data center and add it to the destinations' allowlists"
    );
    Some(f)
}

/// A simulated single data-center failure that harms the policy's traffic.
fn failing_finding(r: &Reviewed) -> Option<Finding> {
    let (case, harmed) = r.redundancy.failing.as_ref()?;
    let (w, p) = (r.world, r.policy);
    let mut f = r.finding(Severity::High, "single_failure_harms_policy");
    f.case = case.clone();
    f.impact = Some(*harmed);
    f.detail = format!(
        "policy `{}` does not survive `{case}`: {} of its requests are dropped, refused by an allowlist or leave the required geography",
        p.name,
        pct(*harmed)
    );
    f.recommendation = match p.require_egress_in {
        Some(req) => {
            let req = &w.requirements[req as usize];
            // An existing egress IP in another data center inside the geography, if any.
            let spare = w.egress.iter().find(|e| {
                e.datacenter != r.primary.datacenter && req.allowed[e.datacenter as usize]
            });
            match spare {
                Some(e) => format!(
                    "make `{}` ({}, {}) the `ipv4_fallback` of policy `{}`: it is in a different data center inside {}",
                    e.id,
                    w.datacenters[e.datacenter as usize].code,
                    w.datacenters[e.datacenter as usize].city,
                    p.name,
                    req.label
                ),
                None => format!(
                    "add a second data center inside {} for policy `{}` and use it as the fallback",
                    req.label, p.name
                ),
            }
        }
        None => format!(
            "give policy `{}` a fallback in another data center that its destinations accept",
            p.name
        ),
    };
    Some(f)
}

/// Where the policy can egress and whether it survives single data-center failures.
fn diversity_finding(r: &Reviewed) -> Finding {
    let red = r.redundancy;
    let survival = if red.single_failures_checked == 0 {
        "single data-center failures not simulated (run with `--sweep n-1`)".to_string()
    } else if red.failing.is_none() {
        format!(
            "survives every simulated single data-center failure ({} checked)",
            red.single_failures_checked
        )
    } else {
        "does not survive every single data-center failure".to_string()
    };
    let mut f = r.finding(Severity::Info, "policy_diversity");
    f.detail = format!(
        "policy `{}` egresses in {} data center{} ({}), {} cit{} and {} countr{}; {survival}",
        r.policy.name,
        red.datacenters.len(),
        plural(red.datacenters.len()),
        red.datacenters.join(", "),
        red.cities.len(),
        if red.cities.len() == 1 { "y" } else { "ies" },
        red.countries.len(),
        if red.countries.len() == 1 { "y" } else { "ies" },
    );
    f
}

/// The egress IP id in the data center nearest to `dc` other than `dc` itself.
fn nearest_other_egress(world: &World, dc: DcId) -> Option<String> {
    let here = world.datacenters[dc as usize].location;
    world
        .egress
        .iter()
        .filter(|e| e.datacenter != dc)
        .min_by(|a, b| {
            here.distance_km(world.datacenters[a.datacenter as usize].location)
                .total_cmp(&here.distance_km(world.datacenters[b.datacenter as usize].location))
        })
        .map(|e| e.id.clone())
}
