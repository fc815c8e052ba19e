//! The round trip of a typical user of each population, part by part, from the engine's own
//! [`trace`](crate::engine::trace) (the same one `egress-sim explain` prints).
//!
//! The representative is the population's first user (`first_user`): deterministic, and the user
//! `egress-sim explain --user N` shows in full. The destination is the most requested one (highest
//! weight, first on ties), over IPv4, in the baseline.

use super::tables::slot_name;
use super::values::Ms;
use crate::engine::trace::Tracer;
use crate::latency::PartKind;
use crate::world::World;

/// One population's typical round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct TypicalTrip {
    /// Population name.
    pub population: String,
    /// Global user index.
    pub user: u64,
    /// Ingress data center code and city.
    pub ingress: String,
    /// Egress used (egress id or `default`).
    pub egress: String,
    /// Destination name.
    pub destination: String,
    /// Access, user → ingress, backbone, egress → destination, processing, jitter.
    pub parts: [Ms; 6],
    /// Sum of the parts.
    pub total: Ms,
}

/// Where each kind of part goes in [`TypicalTrip::parts`].
fn column(kind: PartKind) -> usize {
    match kind {
        PartKind::Access => 0,
        PartKind::UserToIngress => 1,
        PartKind::Backbone => 2,
        PartKind::EgressToDestination => 3,
        PartKind::Processing => 4,
        PartKind::Jitter => 5,
    }
}

/// Index of the most requested destination.
fn main_resource(world: &World) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in world.resources.iter().enumerate() {
        if best.is_none_or(|b| r.weight > world.resources[b].weight) {
            best = Some(i);
        }
    }
    best
}

/// One trip per population (`None` for a population without users, or whose user is dropped or has
/// no ingress); empty when the scenario has no destination.
pub(crate) fn trips(world: &World) -> Vec<Option<TypicalTrip>> {
    let Some(r) = main_resource(world) else {
        return Vec::new();
    };
    let tracer = Tracer::new(world);
    world
        .populations
        .iter()
        .map(|pop| {
            if pop.users == 0 {
                return None;
            }
            let trace = tracer.trace(pop.first_user, 0);
            let d = trace.destination(r, false)?;
            let (path, rtt) = (d.path?, d.rtt.as_ref()?);
            let mut parts = [0.0; 6];
            for part in &rtt.parts {
                parts[column(part.kind)] += part.rtt_ms;
            }
            let ing = &world.datacenters[path.ingress as usize];
            Some(TypicalTrip {
                population: pop.name.clone(),
                user: pop.first_user,
                ingress: format!("{} ({})", ing.code, ing.city),
                egress: slot_name(world, d.route.slot as usize),
                destination: world.resources[r].name.clone(),
                parts: parts.map(Ms::of),
                total: Ms::of(rtt.total_ms()),
            })
        })
        .collect()
}
