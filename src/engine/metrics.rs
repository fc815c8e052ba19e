//! Mergeable accumulators: what the simulator counts, per case × population × egress slot.
//!
//! Every field is an integer (times in microseconds, distances in metres, connections in millionths), so
//! merging is exact and order-independent: results are byte-identical whatever the thread count.
//!
//! Failure cases are stored as *differences* from the baseline while simulating: a user whose routes a
//! case does not change contributes nothing to it, and an affected user takes back its baseline requests
//! and adds its case requests. Integer arithmetic wraps, so a difference may be "negative" until
//! `Metrics::finish` (inside the engine) adds the baseline back; the result equals evaluating every
//! user in every case, and `simulate` returns only such finished results.

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
    /// To a destination on a private network (Cloudflare Tunnel or Magic WAN): always Cloudflare's
    /// shared addresses, never a dedicated egress IP.
    PrivateNetwork = 4,
}

impl Outcome {
    /// All outcomes, in column order.
    pub const ALL: [Outcome; 5] = [
        Outcome::Dedicated,
        Outcome::Fallback,
        Outcome::Default,
        Outcome::Dropped,
        Outcome::PrivateNetwork,
    ];

    /// Lower-case name used in CSV headers.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Dedicated => "dedicated",
            Outcome::Fallback => "fallback",
            Outcome::Default => "default",
            Outcome::Dropped => "dropped",
            Outcome::PrivateNetwork => "private_network",
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
    /// Requests that broke a geography requirement (egressed elsewhere, or dropped).
    pub violations: u64,
    /// Requests per [`Outcome`].
    pub outcomes: [u64; 5],
    /// RTT of delivered requests.
    pub rtt: Histogram,
}

impl Cell {
    /// Counts `n` requests routed by `route` whose round-trip times add up to `rtt_sum_us` (ignored
    /// when dropped). Wrapping, and every counter is `n` times a property of the route, so passing
    /// `n.wrapping_neg()` and `rtt_sum_us.wrapping_neg()` takes the same requests back: a failure
    /// case's cell may hold a difference that is "negative" for a while (see the module notes).
    #[inline]
    pub(crate) fn add_requests(&mut self, route: &crate::engine::Route, n: u64, rtt_sum_us: u64) {
        let add = |x: &mut u64, v: u64| *x = x.wrapping_add(v);
        add(&mut self.requests, n);
        add(&mut self.outcomes[route.outcome as usize], n);
        add(&mut self.violations, n.wrapping_mul(route.violation as u64));
        if route.outcome == Outcome::Dropped as u8 {
            return;
        }
        add(&mut self.blocked, n.wrapping_mul(route.blocked as u64));
        add(&mut self.rtt_sum_us, rtt_sum_us);
        add(
            &mut self.country_mismatch,
            n.wrapping_mul(route.country_mismatch as u64),
        );
        add(
            &mut self.continent_mismatch,
            n.wrapping_mul(route.continent_mismatch as u64),
        );
        add(
            &mut self.apparent_distance_m,
            n.wrapping_mul(route.apparent_m as u64),
        );
    }

    /// Adds another cell's counts (wrapping, so differences merge too).
    pub fn merge(&mut self, o: &Cell) {
        let add = |x: &mut u64, v: u64| *x = x.wrapping_add(v);
        add(&mut self.users, o.users);
        add(&mut self.requests, o.requests);
        add(&mut self.rtt_sum_us, o.rtt_sum_us);
        add(&mut self.country_mismatch, o.country_mismatch);
        add(&mut self.continent_mismatch, o.continent_mismatch);
        add(&mut self.apparent_distance_m, o.apparent_distance_m);
        add(&mut self.blocked, o.blocked);
        add(&mut self.violations, o.violations);
        for (x, v) in self.outcomes.iter_mut().zip(o.outcomes) {
            add(x, v);
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
    /// Ingress data center in the baseline case (`None` when every data center is down).
    pub ingress: Option<crate::world::DcId>,
}

/// How a failure case moved one population's users, against the baseline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shift {
    /// Users whose ingress data center changed.
    pub users_ingress_moved: u64,
    /// Users with at least one request leaving through a different egress slot.
    pub users_egress_changed: u64,
    /// Requests leaving through a different egress slot (another IP, default egress, or dropped).
    pub requests_rerouted: u64,
}

impl Shift {
    fn merge(&mut self, o: &Shift) {
        self.users_ingress_moved += o.users_ingress_moved;
        self.users_egress_changed += o.users_egress_changed;
        self.requests_rerouted += o.requests_rerouted;
    }
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
    /// Per (case, population): what the case moved (`case * populations + population`).
    pub shifts: Vec<Shift>,
    /// Map sample, sorted by user index.
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
            shifts: vec![Shift::default(); cases * populations],
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
    pub(crate) fn merge(&mut self, o: &Metrics) {
        for (a, b) in self.cells.iter_mut().zip(&o.cells) {
            a.merge(b);
        }
        for (a, b) in self.policy_cells.iter_mut().zip(&o.policy_cells) {
            a.merge(b);
        }
        for (a, b) in self.resource_cells.iter_mut().zip(&o.resource_cells) {
            a.merge(b);
        }
        let add = |a: &mut Vec<u64>, b: &Vec<u64>| {
            a.iter_mut()
                .zip(b)
                .for_each(|(x, y)| *x = x.wrapping_add(*y))
        };
        add(&mut self.connections_v4_micro, &o.connections_v4_micro);
        add(&mut self.connections_v6_micro, &o.connections_v6_micro);
        for (a, b) in self.shifts.iter_mut().zip(&o.shifts) {
            a.merge(b);
        }
        self.samples.extend_from_slice(&o.samples);
    }

    /// Turns each failure case's difference into a total by adding the baseline (case 0), and puts
    /// order-dependent parts (the map sample) into a canonical order. The engine calls it once, after
    /// every merge; what `simulate` returns is always finished.
    pub(crate) fn finish(&mut self) {
        self.samples.sort_by_key(|s| s.user);
        let per_case = self.populations * self.slots;
        let (base, rest) = self.cells.split_at_mut(per_case);
        for chunk in rest.chunks_mut(per_case.max(1)) {
            for (a, b) in chunk.iter_mut().zip(base.iter()) {
                a.merge(b);
            }
        }
        let per_case = self.policy_slots;
        let (base, rest) = self.policy_cells.split_at_mut(per_case);
        for chunk in rest.chunks_mut(per_case.max(1)) {
            for (a, b) in chunk.iter_mut().zip(base.iter()) {
                a.merge(b);
            }
        }
        let per_case = self.slots * self.resources;
        let (base, rest) = self.resource_cells.split_at_mut(per_case);
        for chunk in rest.chunks_mut(per_case.max(1)) {
            for (a, b) in chunk.iter_mut().zip(base.iter()) {
                a.merge(b);
            }
        }
        let per_case = (self.slots - 2) * self.resources;
        for v in [
            &mut self.connections_v4_micro,
            &mut self.connections_v6_micro,
        ] {
            let (base, rest) = v.split_at_mut(per_case);
            for chunk in rest.chunks_mut(per_case.max(1)) {
                for (a, b) in chunk.iter_mut().zip(base.iter()) {
                    *a = a.wrapping_add(*b);
                }
            }
        }
    }

    /// What case `case` moved for population `population`.
    pub fn shift(&self, case: usize, population: usize) -> &Shift {
        &self.shifts[case * self.populations + population]
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
