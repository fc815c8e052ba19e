//! Steady-state refusals: a finding per (destination, egress slot) whose requests the
//! destination's allowlist refuses in the baseline, with the two ways out: put the egress IP on
//! the allowlist, or send the destination's traffic to an egress IP it accepts with a policy.

use super::{pct, Finding, Severity};
use crate::analysis::human;
use crate::analysis::refusals::Refusal;
use crate::world::{Resource, World};

/// Severity by the share of the destination's requests refused: every day, users cannot reach it.
fn severity(destination_share: f64) -> Severity {
    if destination_share >= 0.10 {
        Severity::High
    } else if destination_share >= 0.01 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// One finding per refusal, in the order given.
pub(super) fn refusals(world: &World, refusals: &[Refusal], out: &mut Vec<Finding>) {
    for r in refusals {
        let res = &world.resources[r.resource];
        let through = match r.egress(world) {
            Some(e) => {
                let eg = &world.egress[e];
                format!(
                    "`{}` ({}), which is not on its allowlist",
                    eg.id, world.datacenters[eg.datacenter as usize].code
                )
            }
            None => {
                "default egress, whose shared Cloudflare addresses no allowlist accepts".to_string()
            }
        };
        out.push(Finding {
            severity: severity(r.destination_share()),
            kind: "allowlist_refuses",
            entity_kind: "resource",
            entity: res.name.clone(),
            case: world.cases[0].name.clone(),
            impact: Some(r.destination_share()),
            detail: format!(
                "in the baseline (no failure), `{}` refuses every request through {through}: {} requests, {} of its requests ({} of all)",
                res.name,
                human::count(r.refused),
                pct(r.destination_share()),
                pct(r.all_share()),
            ),
            recommendation: recommendation(world, r, res),
        });
    }
}

/// Add the refused IP to the allowlist, or route the destination to an IP it accepts (the one
/// nearest the refused IP's data center, or nearest the destination for default egress).
fn recommendation(world: &World, r: &Refusal, res: &Resource) -> String {
    let from = match r.egress(world) {
        Some(e) => world.datacenters[world.egress[e].datacenter as usize].location,
        None => res.location,
    };
    let accepted = world
        .egress
        .iter()
        .enumerate()
        .filter(|(i, _)| res.allowlist.as_ref().is_some_and(|a| a[*i]))
        .map(|(_, e)| e)
        .min_by(|a, b| {
            let d = |e: &crate::world::Egress| {
                from.distance_km(world.datacenters[e.datacenter as usize].location)
            };
            d(a).total_cmp(&d(b))
        });
    let selector = if res.host.is_empty() {
        res.ipv4
            .map_or_else(String::new, |ip| format!(" (`net.dst.ip == {ip}`)"))
    } else {
        format!(" (`net.fqdn.host == \"{}\"`)", res.host)
    };
    let route = match accepted {
        Some(a) => format!(
            "a policy, ahead of any that sends it elsewhere, that sends `{}` traffic{selector} to an egress IP it accepts, e.g. `{}` ({})",
            res.name,
            a.id,
            world.datacenters[a.datacenter as usize].code
        ),
        None => format!(
            "give `{}` an allowlist entry for one of your egress IPs and a policy that sends its traffic{selector} there",
            res.name
        ),
    };
    match r.egress(world) {
        Some(e) => {
            let eg = &world.egress[e];
            format!(
                "add `{}` ({}) to the allowlist of `{}`, or add {route}",
                eg.id, eg.ipv4, res.name
            )
        }
        None => format!("add {route}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_the_share_of_the_destination() {
        assert_eq!(severity(0.2), Severity::High);
        assert_eq!(severity(0.05), Severity::Medium);
        assert_eq!(severity(0.001), Severity::Low);
    }
}
