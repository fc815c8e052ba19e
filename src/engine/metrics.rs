//! Mergeable accumulators: what the simulator counts, per case × population × egress slot.
//!
//! Every field is an integer (times in microseconds, distances in metres, connections in millionths), so
//! merging is exact and order-independent: results are byte-identical whatever the thread count.

use crate::histogram::Histogram;
use crate::world::World;

/// How a request left Cloudflare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// Through the dedicated egress IP the policy (or balancing) chose first.
    Dedicated = 0,
    /// Through a policy's `ipv4_fallback`.
    Fallback = 1,
    /// Through Cloudflare's shared default egress.
    Default = 2,
    /// Not delivered: no usable egress.
    Dropped = 3,
}

impl Outcome {
    /// All outcomes, in column order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Dedicated,
        Outcome::Fallback,
        Outcome::Default,
        Outcome::Dropped,
    ];

    /// Lower-case name used in CSV headers.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Dedicated => "dedicated",
            Outcome::Fallback => "fallback",
            Outcome::Default => "default",
            Outcome::Dropped => "dropped",
        }
    }
}

/// Counters for one (case, population, egress slot).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Users with at least one request in this slot.
    pub users: u64,
    /// Requests.
    pub requests: u64,
    /// Sum of delivered requests' RTT, µs.
    pub rtt_sum_us: u64,
    /// Delivered requests whose apparent country differs from the user's.
    pub country_mismatch: u64,
    /// Delivered requests whose apparent continent differs from the user's.
    pub continent_mismatch: u64,
    /// Sum over delivered requests of user → apparent location distance, metres.
    pub apparent_distance_m: u64,
    /// Requests refused by the destination's allowlist.
    pub blocked: u64,
    /// Requests per [`Outcome`].
    pub outcomes: [u64; 4],
    /// RTT of delivered requests.
    pub rtt: Histogram,
}

impl Cell {
    /// Counts one request routed by `route` with round-trip time `us` (ignored when dropped).
    #[inline]
    pub fn record(&mut self, route: &crate::engine::Route, us: u64) {
        self.requests += 1;
        self.outcomes[route.outcome as usize] += 1;
        if route.outcome == Outcome::Dropped as u8 {
            return;
        }
        self.blocked += route.blocked as u64;
        self.rtt_sum_us += us;
        self.rtt.record_us(us);
        self.country_mismatch += route.country_mismatch as u64;
        self.continent_mismatch += route.continent_mismatch as u64;
        self.apparent_distance_m += route.apparent_m as u64;
    }

    /// Adds another cell's counts.
    pub fn merge(&mut self, o: &Cell) {
        self.users += o.users;
        self.requests += o.requests;
        self.rtt_sum_us += o.rtt_sum_us;
        self.country_mismatch += o.country_mismatch;
        self.continent_mismatch += o.continent_mismatch;
        self.apparent_distance_m += o.apparent_distance_m;
        self.blocked += o.blocked;
        for i in 0..4 {
            self.outcomes[i] += o.outcomes[i];
        }
        self.rtt.merge(&o.rtt);
    }

    /// Delivered (not dropped) requests.
    pub fn delivered(&self) -> u64 {
        self.requests - self.outcomes[Outcome::Dropped as usize]
    }

    /// Mean RTT of delivered requests, ms.
    pub fn rtt_mean_ms(&self) -> Option<f64> {
        let n = self.delivered();
        (n > 0).then(|| self.rtt_sum_us as f64 / n as f64 / 1000.0)
    }
}

/// A user drawn on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePoint {
    /// Global user index (sort key).
    pub user: u64,
    /// Latitude.
    pub lat: f32,
    /// Longitude.
    pub lon: f32,
    /// Egress slot of the user's first request in the baseline case.
    pub slot: u16,
}

/// All accumulators of one simulation.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Number of cases.
    pub cases: usize,
    /// Number of populations.
    pub populations: usize,
    /// Egress slots: one per egress IP, then default egress, then dropped.
    pub slots: usize,
    /// Number of resources.
    pub resources: usize,
    /// Cells indexed `(case * populations + population) * slots + slot`.
    pub cells: Vec<Cell>,
    /// Number of policy slots: one per policy, then `unmatched`.
    pub policy_slots: usize,
    /// Per (case, policy slot): `case * policy_slots + policy`.
    pub policy_cells: Vec<Cell>,
    /// Per (case, egress slot, resource): `(case * slots + slot) * resources + resource`.
    pub resource_cells: Vec<Cell>,
    /// Per (case, egress IP, resource): concurrent IPv4 connections × 10⁶.
    pub connections_v4_micro: Vec<u64>,
    /// Per (case, egress IP, resource): concurrent IPv6 connections × 10⁶.
    pub connections_v6_micro: Vec<u64>,
    /// Map sample, sorted by user index after merging.
    pub samples: Vec<SamplePoint>,
}

impl Metrics {
    /// Empty accumulators shaped for `world`.
    pub fn new(world: &World) -> Self {
        let cases = world.cases.len();
        let populations = world.populations.len();
        let slots = world.egress.len() + 2;
        let resources = world.resources.len();
        let policy_slots = world.policies.len() + 1;
        Self {
            cases,
            populations,
            slots,
            resources,
            cells: vec![Cell::default(); cases * populations * slots],
            policy_slots,
            policy_cells: vec![Cell::default(); cases * policy_slots],
            resource_cells: vec![Cell::default(); cases * slots * resources],
            connections_v4_micro: vec![0; cases * (slots - 2) * resources],
            connections_v6_micro: vec![0; cases * (slots - 2) * resources],
            samples: Vec::new(),
        }
    }

    /// Slot of default egress.
    pub fn default_slot(&self) -> usize {
        self.slots - 2
    }

    /// Slot of dropped requests.
    pub fn dropped_slot(&self) -> usize {
        self.slots - 1
    }

    /// Index of a cell.
    #[inline]
    pub fn cell_index(&self, case: usize, population: usize, slot: usize) -> usize {
        (case * self.populations + population) * self.slots + slot
    }

    /// The cell of (case, population, slot).
    pub fn cell(&self, case: usize, population: usize, slot: usize) -> &Cell {
        &self.cells[self.cell_index(case, population, slot)]
    }

    /// Index into `policy_cells`.
    #[inline]
    pub fn policy_index(&self, case: usize, policy_slot: usize) -> usize {
        case * self.policy_slots + policy_slot
    }

    /// Index into `resource_cells`.
    #[inline]
    pub fn resource_index(&self, case: usize, slot: usize, resource: usize) -> usize {
        (case * self.slots + slot) * self.resources + resource
    }

    /// Index into the per-(case, egress, resource) connection tables.
    #[inline]
    pub fn connection_index(&self, case: usize, egress: usize, resource: usize) -> usize {
        (case * (self.slots - 2) + egress) * self.resources + resource
    }

    /// Adds another accumulator (same shape).
    pub fn merge(&mut self, o: &Metrics) {
        for (a, b) in self.cells.iter_mut().zip(&o.cells) {
            a.merge(b);
        }
        for (a, b) in self.policy_cells.iter_mut().zip(&o.policy_cells) {
            a.merge(b);
        }
        for (a, b) in self.resource_cells.iter_mut().zip(&o.resource_cells) {
            a.merge(b);
        }
        let add = |a: &mut Vec<u64>, b: &Vec<u64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += *y);
        add(&mut self.connections_v4_micro, &o.connections_v4_micro);
        add(&mut self.connections_v6_micro, &o.connections_v6_micro);
        self.samples.extend_from_slice(&o.samples);
    }

    /// Puts order-dependent parts (the map sample) into a canonical order.
    pub fn finish(&mut self) {
        self.samples.sort_by_key(|s| s.user);
    }

    /// Sum of cells over populations and/or slots for one case.
    pub fn total(&self, case: usize, population: Option<usize>, slot: Option<usize>) -> Cell {
        let mut out = Cell::default();
        for p in 0..self.populations {
            if population.is_some_and(|x| x != p) {
                continue;
            }
            for s in 0..self.slots {
                if slot.is_some_and(|x| x != s) {
                    continue;
                }
                out.merge(self.cell(case, p, s));
            }
        }
        out
    }
}
