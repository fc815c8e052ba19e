//! Redundancy findings: what the failure cases reveal, as severity-ranked rows with plain-language
//! recommendations. Reads a finished [`Metrics`]; never simulates.
//!
//! Three kinds of finding:
//! - per policy: where its traffic can egress (data centers, cities, countries across primary and
//!   fallback), its single points of failure, and whether it survives every simulated single
//!   data-center failure without drops, allowlist blocks or geography violations;
//! - per population: the failure that hurts it most (any drops first, then the largest p95 increase);
//! - account level: Cloudflare's resilience advice (two cities at least; several IPs in one city in
//!   different data centers) and connection capacity against the per-origin limit.

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::engine::{Metrics, Outcome};
use crate::policy::{Action, Fallback};
use crate::world::{DcId, World};

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Traffic is lost, refused or leaves the required geography in a failure.
    High,
    /// A single point of failure or a large slowdown.
    Medium,
    /// Worth knowing: a small slowdown, a near-limit capacity, advice not followed.
    Low,
    /// A description, no action needed.
    Info,
}

impl Severity {
    /// Lower-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// One row of `redundancy.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// How urgent.
    pub severity: Severity,
    /// Machine-readable kind (`no_fallback`, `worst_failure`, ...).
    pub kind: &'static str,
    /// `policy`, `population`, `case`, `account` or `egress`.
    pub entity_kind: &'static str,
    /// Name of the policy, population or egress IP (empty for the account).
    pub entity: String,
    /// The case that shows the problem (empty when it is structural).
    pub case: String,
    /// Share of the entity's requests affected in that case (dropped, refused or off-geography), or the
    /// utilisation for capacity findings.
    pub impact: Option<f64>,
    /// What was found.
    pub detail: String,
    /// What to do about it.
    pub recommendation: String,
}

/// What one case did to a set of requests (a population, a policy, or everything), against the
/// baseline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impact {
    /// Requests (the same in every case).
    pub requests: u64,
    /// Dropped in the case.
    pub dropped: u64,
    /// Fallback in the case.
    pub fallback: u64,
    /// Default egress in the case.
    pub default: u64,
    /// Refused by allowlists in the case.
    pub blocked: u64,
    /// Refused by allowlists in the baseline.
    pub blocked_before: u64,
    /// Geography violations in the case.
    pub violations: u64,
    /// Geography violations in the baseline.
    pub violations_before: u64,
    /// p50 RTT in the baseline and the case, ms.
    pub p50: (Option<f64>, Option<f64>),
    /// p95 RTT in the baseline and the case, ms.
    pub p95: (Option<f64>, Option<f64>),
}

impl Impact {
    /// Impact of `case` on population `population` (all populations when `None`).
    pub fn of_population(m: &Metrics, case: usize, population: Option<usize>) -> Self {
        Self::from_cells(
            &m.total(0, population, None),
            &m.total(case, population, None),
        )
    }

    /// Impact of `case` on the traffic decided by policy slot `slot` (`policies.len()` = unmatched).
    pub fn of_policy(m: &Metrics, case: usize, slot: usize) -> Self {
        Self::from_cells(
            &m.policy_cells[m.policy_index(0, slot)],
            &m.policy_cells[m.policy_index(case, slot)],
        )
    }

    fn from_cells(base: &crate::engine::Cell, now: &crate::engine::Cell) -> Self {
        Self {
            requests: now.requests,
            dropped: now.outcomes[Outcome::Dropped as usize],
            fallback: now.outcomes[Outcome::Fallback as usize],
            default: now.outcomes[Outcome::Default as usize],
            blocked: now.blocked,
            blocked_before: base.blocked,
            violations: now.violations,
            violations_before: base.violations,
            p50: (base.rtt.quantile_ms(0.5), now.rtt.quantile_ms(0.5)),
            p95: (base.rtt.quantile_ms(0.95), now.rtt.quantile_ms(0.95)),
        }
    }

    /// p95 after minus before, ms.
    pub fn p95_change_ms(&self) -> Option<f64> {
        Some(self.p95.1? - self.p95.0?)
    }

    /// Share of requests dropped.
    pub fn dropped_share(&self) -> f64 {
        ratio(self.dropped, self.requests)
    }

    /// Share of requests newly refused by allowlists (beyond the baseline's refusals).
    pub fn extra_blocked_share(&self) -> f64 {
        ratio(
            self.blocked.saturating_sub(self.blocked_before),
            self.requests,
        )
    }

    /// Share of requests newly breaking a geography requirement.
    pub fn extra_violation_share(&self) -> f64 {
        ratio(
            self.violations.saturating_sub(self.violations_before),
            self.requests,
        )
    }

    /// Share of requests lost, refused or off-geography beyond the baseline.
    pub fn harmed_share(&self) -> f64 {
        self.dropped_share() + self.extra_blocked_share() + self.extra_violation_share()
    }

    /// Ordering key: harmed requests first, then the p95 increase.
    pub fn harm_score(&self) -> f64 {
        self.harmed_share() * 1e6 + self.p95_change_ms().unwrap_or(0.0).max(0.0)
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

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

/// Per dedicated policy: diversity and survival of single data-center failures.
pub fn policy_redundancy(world: &World, m: &Metrics) -> Vec<PolicyRedundancy> {
    let catalog = Catalog::embedded();
    let singles = single_dc_cases(world);
    let mut out = Vec::new();
    for (pi, p) in world.policies.iter().enumerate() {
        let Action::Dedicated { ipv4, fallback, .. } = p.action else {
            continue;
        };
        if !p.enabled {
            continue;
        }
        let mut dcs: Vec<DcId> = vec![world.egress[ipv4 as usize].datacenter];
        if let Fallback::Egress(f) = fallback {
            let d = world.egress[f as usize].datacenter;
            if !dcs.contains(&d) {
                dcs.push(d);
            }
        }
        let cities: BTreeSet<String> = dcs
            .iter()
            .map(|&d| world.datacenters[d as usize].city.clone())
            .collect();
        let countries: BTreeSet<String> = dcs
            .iter()
            .map(|&d| {
                catalog
                    .country(world.datacenters[d as usize].country)
                    .iso2
                    .clone()
            })
            .collect();
        let mut checked = 0;
        let mut failing: Option<(String, f64)> = None;
        for &(c, d) in &singles {
            if !dcs.contains(&d) {
                continue;
            }
            checked += 1;
            let imp = Impact::of_policy(m, c, pi);
            let harmed = imp.harmed_share();
            if harmed > 0.0 && failing.as_ref().is_none_or(|(_, h)| harmed > *h) {
                failing = Some((world.cases[c].name.clone(), harmed));
            }
        }
        out.push(PolicyRedundancy {
            policy: p.name.clone(),
            datacenters: dcs
                .iter()
                .map(|&d| world.datacenters[d as usize].code.clone())
                .collect(),
            cities: cities.into_iter().collect(),
            countries: countries.into_iter().collect(),
            single_failures_checked: checked,
            failing,
        });
    }
    out
}

/// All findings, most severe first (ties: policies, populations, account, egress; then by name).
pub fn findings(world: &World, m: &Metrics) -> Vec<Finding> {
    let mut out = Vec::new();
    policy_findings(world, m, &mut out);
    population_findings(world, m, &mut out);
    declared_case_findings(world, m, &mut out);
    account_findings(world, &mut out);
    capacity_findings(world, m, &mut out);
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.impact.unwrap_or(0.0).total_cmp(&a.impact.unwrap_or(0.0)))
    });
    out
}

fn policy_findings(world: &World, m: &Metrics, out: &mut Vec<Finding>) {
    let reds = policy_redundancy(world, m);
    let has_allowlists = world.resources.iter().any(|r| r.allowlist.is_some());
    let mut red_iter = reds.iter();
    for (pi, p) in world.policies.iter().enumerate() {
        let Action::Dedicated { ipv4, fallback, .. } = p.action else {
            continue;
        };
        if !p.enabled {
            continue;
        }
        let Some(red) = red_iter.next() else { break };
        let primary = &world.egress[ipv4 as usize];
        let pdc = &world.datacenters[primary.datacenter as usize];
        // The simulated loss of the primary's data center, when there is one.
        let primary_case = world
            .cases
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, c)| c.single_datacenter() == Some(primary.datacenter))
            .map(|(i, _)| i);
        let impact_text = |what: &str| match primary_case {
            Some(c) => {
                let imp = Impact::of_policy(m, c, pi);
                (
                    format!(
                        "; today a loss of {} {} {} of `{}` requests",
                        pdc.code,
                        what,
                        pct(imp.harmed_share()),
                        p.name
                    ),
                    world.cases[c].name.clone(),
                    Some(imp.harmed_share()),
                )
            }
            None => (String::new(), String::new(), None),
        };
        let entity = p.name.clone();
        match fallback {
            Fallback::None => {
                let (t, case, impact) = impact_text("drops");
                out.push(Finding {
                    severity: Severity::High,
                    kind: "no_fallback",
                    entity_kind: "policy",
                    entity: entity.clone(),
                    case,
                    impact,
                    detail: format!(
                        "policy `{}` has no `ipv4_fallback`: its IPv4 traffic is dropped whenever {} ({}) is unavailable{t}",
                        p.name, pdc.code, pdc.city
                    ),
                    recommendation: format!(
                        "add `ipv4_fallback` with an egress IP in another data center{} for policy `{}`",
                        nearest_other_egress(world, primary.datacenter)
                            .map(|s| format!(" (the nearest is `{s}`)"))
                            .unwrap_or_default(),
                        p.name
                    ),
                });
            }
            Fallback::Egress(f) => {
                let fe = &world.egress[f as usize];
                let fdc = &world.datacenters[fe.datacenter as usize];
                if fe.datacenter == primary.datacenter {
                    let (t, case, impact) = impact_text("drops");
                    out.push(Finding {
                        severity: Severity::High,
                        kind: "fallback_same_datacenter",
                        entity_kind: "policy",
                        entity: entity.clone(),
                        case,
                        impact,
                        detail: format!(
                            "policy `{}`: primary `{}` and fallback `{}` are both in {} ({}), so one data-center failure takes both down{t}",
                            p.name, primary.id, fe.id, pdc.code, pdc.city
                        ),
                        recommendation: format!(
                            "move the fallback of policy `{}` to an egress IP in another data center",
                            p.name
                        ),
                    });
                } else if fdc.city == pdc.city && fdc.country == pdc.country {
                    out.push(Finding {
                        severity: Severity::Medium,
                        kind: "fallback_same_city",
                        entity_kind: "policy",
                        entity: entity.clone(),
                        case: String::new(),
                        impact: None,
                        detail: format!(
                            "policy `{}`: primary ({}) and fallback ({}) are both in {}; a city-wide outage takes both down",
                            p.name, pdc.code, fdc.code, pdc.city
                        ),
                        recommendation: format!(
                            "if `{}` may egress elsewhere, add a fallback in another city; if it must stay in {}, keep two data centers there (as now) and watch capacity",
                            p.name, pdc.city
                        ),
                    });
                }
            }
            Fallback::DefaultEgress if has_allowlists => {
                let (t, case, impact) = impact_text("has refused");
                let blocked = primary_case
                    .map(|c| Impact::of_policy(m, c, pi).extra_blocked_share() > 0.0)
                    .unwrap_or(true);
                if blocked {
                    out.push(Finding {
                        severity: if primary_case.is_some() {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        kind: "fallback_default_with_allowlist",
                        entity_kind: "policy",
                        entity: entity.clone(),
                        case,
                        impact,
                        detail: format!(
                            "policy `{}` falls back to default egress (`0.0.0.0`), whose shared addresses no allowlist accepts{t}",
                            p.name
                        ),
                        recommendation: format!(
                            "give policy `{}` a dedicated `ipv4_fallback` in another data center and add it to the destinations' allowlists",
                            p.name
                        ),
                    });
                }
            }
            Fallback::DefaultEgress => {}
        }
        if let Some((case, harmed)) = &red.failing {
            out.push(Finding {
                severity: Severity::High,
                kind: "single_failure_harms_policy",
                entity_kind: "policy",
                entity: entity.clone(),
                case: case.clone(),
                impact: Some(*harmed),
                detail: format!(
                    "policy `{}` does not survive `{case}`: {} of its requests are dropped, refused by an allowlist or leave the required geography",
                    p.name,
                    pct(*harmed)
                ),
                recommendation: match p.require_egress_in {
                    Some(r) => {
                        let req = &world.requirements[r as usize];
                        // An existing egress IP in another data center inside the geography, if any.
                        let spare = world.egress.iter().find(|e| {
                            e.datacenter != primary.datacenter && req.allowed[e.datacenter as usize]
                        });
                        match spare {
                            Some(e) => format!(
                                "make `{}` ({}, {}) the `ipv4_fallback` of policy `{}`: it is in a different data center inside {}",
                                e.id,
                                world.datacenters[e.datacenter as usize].code,
                                world.datacenters[e.datacenter as usize].city,
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
                },
            });
        }
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
        out.push(Finding {
            severity: Severity::Info,
            kind: "policy_diversity",
            entity_kind: "policy",
            entity,
            case: String::new(),
            impact: None,
            detail: format!(
                "policy `{}` egresses in {} data center{} ({}), {} cit{} and {} countr{}; {survival}",
                p.name,
                red.datacenters.len(),
                plural(red.datacenters.len()),
                red.datacenters.join(", "),
                red.cities.len(),
                if red.cities.len() == 1 { "y" } else { "ies" },
                red.countries.len(),
                if red.countries.len() == 1 { "y" } else { "ies" },
            ),
            recommendation: String::new(),
        });
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
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

/// Failure cases preferred for "worst single failure": one data center or one egress IP down; all
/// failure cases when there are none of those.
fn single_failure_cases(world: &World) -> Vec<usize> {
    let singles: Vec<usize> = world
        .cases
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, c)| {
            c.single_datacenter().is_some()
                || (!c.dc_down.iter().any(|&d| d)
                    && c.egress_down.iter().filter(|&&d| d).count() == 1)
        })
        .map(|(i, _)| i)
        .collect();
    if singles.is_empty() {
        (1..world.cases.len()).collect()
    } else {
        singles
    }
}

fn population_findings(world: &World, m: &Metrics, out: &mut Vec<Finding>) {
    if world.cases.len() < 2 {
        return;
    }
    let candidates = single_failure_cases(world);
    for (pi, pop) in world.populations.iter().enumerate() {
        let Some((c, imp)) = candidates
            .iter()
            .map(|&c| (c, Impact::of_population(m, c, Some(pi))))
            .max_by(|a, b| {
                a.1.harm_score()
                    .total_cmp(&b.1.harm_score())
                    .then(b.0.cmp(&a.0))
            })
        else {
            continue;
        };
        let case = world.cases[c].name.clone();
        let change = imp.p95_change_ms().unwrap_or(0.0);
        let p95 = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{v:.0} ms"));
        let latency = format!(
            "p95 RTT {} → {} ({:+.0} ms)",
            p95(imp.p95.0),
            p95(imp.p95.1),
            change
        );
        let (severity, detail, recommendation) = if imp.dropped > 0 {
            (
                Severity::High,
                format!(
                    "population `{}`: worst single failure is `{case}`, which drops {} of its requests; {latency}",
                    pop.name,
                    pct(imp.dropped_share())
                ),
                "give the policies these users match an `ipv4_fallback` in another data center".to_string(),
            )
        } else if imp.extra_violation_share() > 0.0 {
            (
                Severity::High,
                format!(
                    "population `{}`: in `{case}` {} of its requests egress outside the required geography; {latency}",
                    pop.name,
                    pct(imp.extra_violation_share())
                ),
                "add an egress IP in a second data center inside the required geography".to_string(),
            )
        } else if imp.extra_blocked_share() > 0.0 {
            (
                Severity::Medium,
                format!(
                    "population `{}`: in `{case}` allowlists refuse {} more of its requests; {latency}",
                    pop.name,
                    pct(imp.extra_blocked_share())
                ),
                "add the fallback egress IPs to the destinations' allowlists".to_string(),
            )
        } else {
            let severity = if change > 50.0 {
                Severity::Medium
            } else if change > 10.0 {
                Severity::Low
            } else {
                Severity::Info
            };
            let near = nearest_spare_datacenter(world, pi);
            (
                severity,
                format!(
                    "population `{}`: worst single failure is `{case}`; {latency}",
                    pop.name
                ),
                if severity == Severity::Info {
                    String::new()
                } else {
                    format!(
                        "reserve a dedicated egress IP in another data center near these users{}",
                        near.map(|d| format!(", e.g. {d}")).unwrap_or_default()
                    )
                },
            )
        };
        out.push(Finding {
            severity,
            kind: "worst_failure",
            entity_kind: "population",
            entity: pop.name.clone(),
            case,
            impact: Some(imp.harmed_share()),
            detail,
            recommendation,
        });
    }
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
fn declared_case_findings(world: &World, m: &Metrics, out: &mut Vec<Finding>) {
    for (c, case) in world.cases.iter().enumerate().skip(1) {
        if case.origin != crate::world::CaseOrigin::Declared {
            continue;
        }
        let imp = Impact::of_population(m, c, None);
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
                "failure `{}` {} of all requests; p95 RTT changes by {:+.0} ms",
                case.name,
                parts.join(", "),
                imp.p95_change_ms().unwrap_or(0.0)
            ),
            recommendation: "reserve a dedicated egress IP outside the failed area, use it as a policy fallback and add it to the allowlists of the affected destinations".into(),
        });
    }
}

fn account_findings(world: &World, out: &mut Vec<Finding>) {
    let mut cities: Vec<(String, u16)> = Vec::new();
    for e in &world.egress {
        let d = &world.datacenters[e.datacenter as usize];
        let key = (d.city.clone(), d.country.0);
        if !cities.contains(&key) {
            cities.push(key);
        }
    }
    if cities.len() < 2 {
        out.push(Finding {
            severity: Severity::Medium,
            kind: "one_city",
            entity_kind: "account",
            entity: String::new(),
            case: String::new(),
            impact: None,
            detail: format!(
                "every dedicated egress IP is in {}; a city-wide outage leaves only default egress",
                cities.first().map_or("one city", |c| c.0.as_str())
            ),
            recommendation: "reserve dedicated egress IPs in at least two cities, as Cloudflare provisions by default".into(),
        });
    }
    for (city, country) in &cities {
        let ips: Vec<&crate::world::Egress> = world
            .egress
            .iter()
            .filter(|e| {
                let d = &world.datacenters[e.datacenter as usize];
                &d.city == city && d.country.0 == *country
            })
            .collect();
        let dcs: BTreeSet<DcId> = ips.iter().map(|e| e.datacenter).collect();
        if ips.len() > 1 && dcs.len() == 1 {
            let code = &world.datacenters[ips[0].datacenter as usize].code;
            out.push(Finding {
                severity: Severity::Low,
                kind: "one_datacenter_in_city",
                entity_kind: "account",
                entity: city.clone(),
                case: String::new(),
                impact: None,
                detail: format!(
                    "{} egress IPs in {city} ({}) are all in {code}",
                    ips.len(),
                    ips.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
                recommendation: format!(
                    "put the IPs in {city} in different data centers, as Cloudflare advises, so one facility failure does not take them all down"
                ),
            });
        }
    }
}

fn capacity_findings(world: &World, m: &Metrics, out: &mut Vec<Finding>) {
    for (e, eg) in world.egress.iter().enumerate() {
        let limit = eg.connection_limit as f64;
        let conns =
            |c: usize, r: usize| m.connections_v4_micro[m.connection_index(c, e, r)] as f64 / 1e6;
        // Peak per case over destinations: (destination, connections).
        let peak = |c: usize| {
            (0..m.resources).fold((0usize, 0.0f64), |best, r| {
                if conns(c, r) > best.1 {
                    (r, conns(c, r))
                } else {
                    best
                }
            })
        };
        let (base_r, base_v) = peak(0);
        let (worst_c, (worst_r, worst_v)) =
            (0..m.cases)
                .map(|c| (c, peak(c)))
                .fold((0, (base_r, base_v)), |best, x| {
                    if x.1 .1 > best.1 .1 {
                        x
                    } else {
                        best
                    }
                });
        let mut push = |severity, c: usize, r: usize, v: f64| {
            out.push(Finding {
                severity,
                kind: "capacity",
                entity_kind: "egress",
                entity: eg.id.clone(),
                case: world.cases[c].name.clone(),
                impact: Some(v / limit),
                detail: format!(
                    "`{}` carries {:.0} concurrent connections to `{}` in `{}`: {:.0}% of its {} per-origin limit",
                    eg.id,
                    v,
                    world.resources[r].name,
                    world.cases[c].name,
                    v / limit * 100.0,
                    eg.connection_limit
                ),
                recommendation: format!(
                    "add egress IPs for `{}` traffic (split it across IPs with policies) or raise `connection_limit` if Cloudflare confirms a higher limit",
                    world.resources[r].name
                ),
            });
        };
        if base_v > limit {
            push(Severity::High, 0, base_r, base_v);
        } else if base_v > 0.8 * limit {
            push(Severity::Low, 0, base_r, base_v);
        }
        if worst_c != 0 && worst_v > limit {
            push(Severity::Medium, worst_c, worst_r, worst_v);
        }
    }
}
