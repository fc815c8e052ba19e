//! The round trip of a typical user of each population, part by part, from the engine's own
//! [`trace`](crate::engine::trace) (the same one `egress-sim explain` prints).
//!
//! The destination is the most requested one (highest weight, first on ties), over IPv4, in the
//! baseline. The representative is the population's median user for that trip: of up to
//! [`SAMPLE`] users spread evenly over the population (user `first + k·n/SAMPLE`), each traced,
//! the one whose round trip to that destination is the median of theirs (ordered by round trip,
//! ties by user index; the lower middle of an even count). Deterministic, cheap (a hundred
//! traces per population, no simulation), and `egress-sim explain --user N` shows the same user
//! in full.
//!
//! Why the median of the trips to that one destination rather than the user nearest the
//! population's median over all destinations: that median mixes destinations the trip does not
//! go to, so the user nearest it can be the population's least typical one for this trip (for
//! users near the main destination, the one farthest from it).

use super::tables::slot_name;
use super::values::Ms;
use crate::engine::trace::Tracer;
use crate::latency::PartKind;
use crate::world::World;

/// Users traced per population at most to find its typical user.
pub const SAMPLE: u64 = 101;

/// One population's typical round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct TypicalTrip {
    /// Population name.
    pub population: String,
    /// Global user index.
    pub user: u64,
    /// Users traced to choose it.
    pub sampled: u64,
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

/// One trip per population (`None` for a population without users, or none of whose sampled
/// users is delivered); empty when the scenario has no destination.
pub(crate) fn trips(world: &World) -> Vec<Option<TypicalTrip>> {
    let Some(r) = main_resource(world) else {
        return Vec::new();
    };
    let tracer = Tracer::new(world);
    world
        .populations
        .iter()
        .map(|pop| {
            let n = pop.users.min(SAMPLE);
            let mut trips: Vec<TypicalTrip> = (0..n)
                .filter_map(|k| trip(world, &tracer, pop.first_user + k * pop.users / n, r))
                .collect();
            trips.sort_by(|a, b| {
                let total = |t: &TypicalTrip| t.total.0.unwrap_or(0.0);
                total(a).total_cmp(&total(b)).then(a.user.cmp(&b.user))
            });
            let middle = trips.len().checked_sub(1)? / 2;
            Some(TypicalTrip {
                population: pop.name.clone(),
                sampled: n,
                ..trips.swap_remove(middle)
            })
        })
        .collect()
}

/// User `user`'s baseline round trip to destination `r` over IPv4, `None` when it is dropped or
/// has no ingress.
fn trip(world: &World, tracer: &Tracer, user: u64, r: usize) -> Option<TypicalTrip> {
    let trace = tracer.trace(user, 0);
    let d = trace.destination(r, false)?;
    let (path, rtt) = (d.path?, d.rtt.as_ref()?);
    let mut parts = [0.0; 6];
    for part in &rtt.parts {
        parts[column(part.kind)] += part.rtt_ms;
    }
    let ing = &world.datacenters[path.ingress as usize];
    Some(TypicalTrip {
        population: String::new(),
        user,
        sampled: 0,
        ingress: format!("{} ({})", ing.code, ing.city),
        egress: slot_name(world, d.route.slot as usize),
        destination: world.resources[r].name.clone(),
        parts: parts.map(Ms::of),
        total: Ms::of(rtt.total_ms()),
    })
}
