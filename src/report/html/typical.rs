//! The round trip of a typical user of each population, part by part, computed by the engine's own
//! functions (`engine::route`, `LatencyModel::breakdown`), exactly as `egress-sim explain` does.
//!
//! The representative is the population's first user (`first_user`): deterministic, and the user
//! `egress-sim explain --user N` shows in full. The destination is the most requested one (highest
//! weight, first on ties), over IPv4, in the baseline.

use crate::engine::route::{self, UserGeo};
use crate::engine::{Outcome, Prepared};
use crate::latency::PathSpec;
use crate::policy::facts::FactsBuilder;
use crate::world::World;

/// One population's typical round trip.
pub(super) struct Trace {
    /// Population name.
    pub population: String,
    /// Global user index.
    pub user: u64,
    /// Ingress data center code and city.
    pub ingress: String,
    /// Egress used (egress id, `default` or `dropped`).
    pub egress: String,
    /// Destination name.
    pub destination: String,
    /// Access, user → ingress, backbone, egress → destination, processing, jitter: ms each.
    pub parts: [f64; 6],
    /// Sum of the parts, ms.
    pub total: f64,
}

/// Index of the most requested destination.
pub(super) fn main_resource(world: &World) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in world.resources.iter().enumerate() {
        if best.is_none_or(|b| r.weight > world.resources[b].weight) {
            best = Some(i);
        }
    }
    best
}

/// Traces every population with users (`None` for a population whose user is dropped or has no ingress).
pub(super) fn traces(world: &World) -> Vec<Option<Trace>> {
    let Some(r) = main_resource(world) else {
        return Vec::new();
    };
    let p = Prepared::new(world);
    let universe = world.universe();
    world
        .populations
        .iter()
        .map(|pop| {
            if pop.users == 0 {
                return None;
            }
            let (user, _) = p.user(pop.first_user);
            let geo = UserGeo::new(&p, &user);
            let uc = route::user_case(&p, &user, &geo, 0);
            let mut facts = FactsBuilder::new(world);
            facts.set_user(&user);
            let f = facts.facts(r, false);
            let matched = world.policies.iter().position(|pol| {
                crate::explain::verdict(pol, &f, &universe) == crate::explain::Verdict::Match
            });
            let policy = matched.map_or(crate::policy::matcher::UNMATCHED, |i| i as u16);
            let at = route::UserInCase {
                user: &user,
                geo: &geo,
                uc: &uc,
                case: 0,
            };
            let entry = route::Entry {
                resource: r,
                ipv6: false,
                policy,
            };
            let rt = route::decide(&p, &at, entry);
            let ingress = uc.ingress?;
            if rt.outcome == Outcome::Dropped as u8 {
                return None;
            }
            let res = &world.resources[r];
            let ing = &world.datacenters[ingress as usize];
            let phys = &world.datacenters[rt.physical as usize];
            let spec = PathSpec {
                user: user.location,
                ingress: (&ing.code, ing.location),
                egress: (rt.physical != ingress).then_some((phys.code.as_str(), phys.location)),
                destination: (&res.location_label, res.location),
                access_ms: Some(user.access_ms as f64),
                processing_ms: res.processing_ms,
            };
            let b = world.latency.breakdown(&spec);
            let mut parts = [0.0; 6];
            for part in &b.parts {
                let n = &part.name;
                let i = if n.starts_with("access") {
                    0
                } else if n.starts_with("user →") {
                    1
                } else if n.starts_with("backbone") {
                    2
                } else if n.contains("→ destination") {
                    3
                } else if n.starts_with("destination processing") {
                    4
                } else {
                    5
                };
                parts[i] += part.rtt_ms;
            }
            Some(Trace {
                population: pop.name.clone(),
                user: pop.first_user,
                ingress: format!("{} ({})", ing.code, ing.city),
                egress: super::super::tables::slot_name(world, rt.slot as usize),
                destination: res.name.clone(),
                parts,
                total: b.total_ms(),
            })
        })
        .collect()
}
