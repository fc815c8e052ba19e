//! Steady-state allowlist refusals: the requests a destination's allowlist refuses in the
//! baseline, per (destination, egress slot). Not a failure's doing but how the scenario is set up
//! every day (an egress IP missing from a vendor's allowlist, or traffic on default egress), so it
//! gets its own finding, a headline card and a line in the terminal summary.

use crate::engine::Metrics;
use crate::world::World;

/// Requests one destination refuses through one egress slot in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Destination (index into `World::resources`).
    pub resource: usize,
    /// Egress slot: an egress IP index, or `World::egress.len()` for default egress.
    pub slot: usize,
    /// Requests refused.
    pub refused: u64,
    /// The destination's requests in the baseline (all slots).
    pub destination_requests: u64,
    /// Every request of the baseline.
    pub all_requests: u64,
}

impl Refusal {
    /// Share of the destination's requests refused through this slot.
    pub fn destination_share(&self) -> f64 {
        super::impact::ratio(self.refused, self.destination_requests)
    }

    /// Share of all requests refused through this slot.
    pub fn all_share(&self) -> f64 {
        super::impact::ratio(self.refused, self.all_requests)
    }

    /// The egress IP refused, or `None` for default egress.
    pub fn egress(&self, world: &World) -> Option<usize> {
        (self.slot < world.egress.len()).then_some(self.slot)
    }
}

/// Every (destination, slot) with requests refused in the baseline, most refused first (ties in
/// destination, then slot order).
pub(crate) fn baseline_refusals(world: &World, m: &Metrics) -> Vec<Refusal> {
    let all_requests = m.total(0, None, None).requests;
    let mut out = Vec::new();
    for resource in 0..world.resources.len() {
        let cells = (0..m.slots).map(|s| &m.resource_cells[m.resource_index(0, s, resource)]);
        let destination_requests = cells.clone().map(|c| c.requests).sum();
        for (slot, c) in cells.enumerate().filter(|(_, c)| c.blocked > 0) {
            out.push(Refusal {
                resource,
                slot,
                refused: c.blocked,
                destination_requests,
                all_requests,
            });
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.refused));
    out
}
