//! Account-level findings: Cloudflare's resilience advice for where dedicated egress IPs are, and
//! connection capacity against the per-origin limit.

use std::collections::BTreeSet;

use super::{Finding, Severity};
use crate::analysis::capacity::Capacity;
use crate::analysis::human;
use crate::analysis::values::{Conns, Share};
use crate::world::{DcId, Egress, World};

/// Two cities at least; several IPs in one city in different data centers.
pub(super) fn resilience(world: &World, out: &mut Vec<Finding>) {
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
        let ips: Vec<&Egress> = world
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

/// Egress IPs near or over their per-origin limit, in the baseline or in a failure: accepted IPv4
/// connections to one origin (destination address, port, protocol), summed over the destinations
/// that share it.
pub(super) fn capacity(world: &World, cap: &Capacity, out: &mut Vec<Finding>) {
    for (e, eg) in world.egress.iter().enumerate() {
        let limit = cap.limit(e);
        let mut push = |severity, c: usize, o: usize, v: f64| {
            let origin = &cap.origins()[o];
            let what = if origin.resources.len() > 1 {
                format!(
                    "`{}` ({}, shared by {})",
                    origin.address,
                    origin.names,
                    origin.resources.len()
                )
            } else {
                format!("`{}` ({})", origin.names, origin.address)
            };
            let needed = cap.ips_needed(e, v);
            let (needs, more) = if needed > 1 {
                (
                    format!("; carrying it within the limit takes {needed} egress IPs"),
                    format!(" ({needed} in all)"),
                )
            } else {
                (String::new(), String::new())
            };
            out.push(Finding {
                severity,
                kind: "capacity",
                entity_kind: "egress",
                entity: eg.id.clone(),
                case: world.cases[c].name.clone(),
                impact: Some(v / limit),
                detail: format!(
                    "`{}` holds {} accepted concurrent connections to {what} in `{}`: {} of its {} per-origin limit{needs}",
                    eg.id,
                    Conns::of(v),
                    world.cases[c].name,
                    Share::of(v / limit),
                    human::count(u64::from(eg.connection_limit))
                ),
                recommendation: format!(
                    "add egress IPs for `{}` traffic{more} and split it across them with policies, or raise `connection_limit` if Cloudflare confirms a higher limit",
                    origin.names
                ),
            });
        };
        let (base_r, base_v) = cap.peak(0, e);
        if base_v > limit {
            push(Severity::High, 0, base_r, base_v);
        } else if base_v > 0.8 * limit {
            push(Severity::Low, 0, base_r, base_v);
        }
        let (worst_c, worst_r, worst_v) = cap.worst_peak(e);
        if worst_c != 0 && worst_v > limit {
            push(Severity::Medium, worst_c, worst_r, worst_v);
        }
    }
}
