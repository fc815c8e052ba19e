//! A worker's accumulator of requests: one row per (case, population, egress slot, policy slot,
//! destination), each with the counters of a [`Cell`] and a compact RTT histogram.
//!
//! The three tables of [`Metrics`] (per population × slot, per policy, per slot × destination) are
//! sums of these rows, so a request costs one histogram increment instead of three, and the counters
//! are added once per user and route (`n` requests at a time) instead of once per request. A worker
//! looks a row up once per user and route; [`Tally::flush_into`] adds the rows into the tables.
//!
//! Failure cases hold differences from the baseline (see `metrics`): their rows' histograms are
//! [`DeltaHistogram`]s whose 32-bit counts are exact as long as fewer than 2³¹ requests are recorded
//! between two flushes, which [`Tally::needs_flush`] tells the caller.

use crate::engine::metrics::{Cell, Metrics};
use crate::engine::route::Route;
use crate::histogram::DeltaHistogram;
use crate::matching::matcher::UNMATCHED;

/// Requests recorded between flushes at most, so every 32-bit difference fits in an `i32`.
const FLUSH_AFTER: u64 = i32::MAX as u64;

/// No row (an empty slot).
const EMPTY: u32 = u32::MAX;

/// Key spaces up to this size get a direct table (4 bytes per possible key) instead of hashing.
const DIRECT_MAX: u64 = 1 << 18;

/// One row's accumulators and where they go in [`Metrics`].
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// Counters (`users` and `rtt` stay empty).
    pub(crate) cell: Cell,
    /// RTT of delivered requests.
    pub(crate) rtt: DeltaHistogram,
    /// Indexes into `Metrics::cells`, `policy_cells` and `resource_cells`.
    targets: [usize; 3],
}

/// The rows of one worker, found by key: through a direct table when the key space is small (the
/// usual case), else an open-addressing hash table.
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    rows: Vec<Row>,
    /// Packed key of each row.
    keys: Vec<u64>,
    /// Row index per key (direct) or per hash slot (`EMPTY` when free; a power of two long).
    slots: Vec<u32>,
    /// `slots` is indexed by key.
    direct: bool,
    /// Sizes the key packs: populations, egress slots, policy slots, destinations.
    shape: [u64; 4],
    /// Requests recorded since the last flush.
    recorded: u64,
}

impl Tally {
    /// An empty tally for accumulators shaped like `m`. `None` when the key space does not fit in 64
    /// bits (far beyond any scenario the compiler accepts).
    pub(crate) fn new(m: &Metrics) -> Option<Self> {
        let shape = [m.populations, m.slots, m.policy_slots, m.resources].map(|x| x as u64);
        let keys = shape
            .iter()
            .try_fold(m.cases as u64, |a, &b| a.checked_mul(b))?;
        let direct = keys <= DIRECT_MAX;
        Some(Self {
            rows: Vec::new(),
            keys: Vec::new(),
            slots: vec![EMPTY; if direct { keys as usize } else { 256 }],
            direct,
            shape,
            recorded: 0,
        })
    }

    /// The row of `route`'s requests to `resource` from population `population` in case `case`.
    #[inline]
    pub(crate) fn row(
        &mut self,
        m: &Metrics,
        case: usize,
        population: usize,
        resource: usize,
        route: &Route,
    ) -> u32 {
        let slot = route.slot as usize;
        let policy = if route.policy == UNMATCHED {
            m.policy_slots - 1
        } else {
            route.policy as usize
        };
        let [pops, slots, policies, resources] = self.shape;
        let key = (((case as u64 * pops + population as u64) * slots + slot as u64) * policies
            + policy as u64)
            * resources
            + resource as u64;
        if self.direct {
            let r = self.slots[key as usize];
            if r != EMPTY {
                return r;
            }
            return self.insert(
                key as usize,
                key,
                m,
                [case, population, slot, policy, resource],
            );
        }
        let mask = self.slots.len() - 1;
        let mut h = hash(key) & mask;
        loop {
            let r = self.slots[h];
            if r == EMPTY {
                break;
            }
            if self.keys[r as usize] == key {
                return r;
            }
            h = (h + 1) & mask;
        }
        self.insert(h, key, m, [case, population, slot, policy, resource])
    }

    #[cold]
    fn insert(&mut self, h: usize, key: u64, m: &Metrics, parts: [usize; 5]) -> u32 {
        let [case, population, slot, policy, resource] = parts;
        let r = self.rows.len() as u32;
        self.rows.push(Row {
            cell: Cell::default(),
            rtt: DeltaHistogram::default(),
            targets: [
                m.cell_index(case, population, slot),
                m.policy_index(case, policy),
                m.resource_index(case, slot, resource),
            ],
        });
        self.keys.push(key);
        self.slots[h] = r;
        if !self.direct && self.rows.len() * 2 > self.slots.len() {
            self.rehash();
        }
        r
    }

    fn rehash(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        for (r, &key) in self.keys.iter().enumerate() {
            let mut h = hash(key) & (size - 1);
            while self.slots[h] != EMPTY {
                h = (h + 1) & (size - 1);
            }
            self.slots[h] = r as u32;
        }
    }

    /// A row's accumulators.
    #[inline(always)]
    pub(crate) fn get(&mut self, row: u32) -> &mut Row {
        &mut self.rows[row as usize]
    }

    /// Notes that `n` more requests will be recorded.
    #[inline]
    pub(crate) fn count_requests(&mut self, n: u64) {
        self.recorded += n;
    }

    /// True when recording `next` more requests could overflow a 32-bit difference: flush first.
    pub(crate) fn needs_flush(&self, next: u64) -> bool {
        self.recorded + next > FLUSH_AFTER
    }

    /// Adds every row into `m`'s tables and empties the rows (keeping their keys and memory).
    pub(crate) fn flush_into(&mut self, m: &mut Metrics) {
        for row in &mut self.rows {
            let [c, p, r] = row.targets;
            for cell in [
                &mut m.cells[c],
                &mut m.policy_cells[p],
                &mut m.resource_cells[r],
            ] {
                cell.merge(&row.cell);
                cell.rtt.add_delta(&row.rtt);
            }
            row.cell = Cell::default();
            row.rtt.clear();
        }
        self.recorded = 0;
    }
}

/// Fibonacci hashing: the multiply spreads dense keys over the whole word; the table takes low bits
/// after folding the high half in.
#[inline(always)]
fn hash(key: u64) -> usize {
    let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h ^ (h >> 32)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::bucket_of;

    fn metrics(cases: usize, populations: usize, slots: usize, resources: usize) -> Metrics {
        Metrics {
            cases,
            populations,
            slots,
            resources,
            cells: vec![Cell::default(); cases * populations * slots],
            policy_slots: 1,
            policy_cells: vec![Cell::default(); cases],
            resource_cells: vec![Cell::default(); cases * slots * resources],
            connections_v4_micro: Vec::new(),
            connections_v6_micro: Vec::new(),
            shifts: Vec::new(),
            samples: Vec::new(),
        }
    }

    #[test]
    fn rows_are_found_again_and_flush_into_all_three_tables() {
        let mut m = metrics(3, 2, 4, 5);
        let mut t = Tally::new(&m).unwrap();
        let route = |slot: u8| Route {
            slot,
            policy: UNMATCHED,
            base_ms: 10.0,
            ..Route::default()
        };
        // Enough keys to rehash several times.
        let mut ids = Vec::new();
        for c in 0..3 {
            for p in 0..2 {
                for s in 0..4 {
                    for r in 0..5 {
                        ids.push(((c, p, s, r), t.row(&m, c, p, r, &route(s as u8))));
                    }
                }
            }
        }
        for &((c, p, s, r), id) in &ids {
            assert_eq!(t.row(&m, c, p, r, &route(s as u8)), id);
        }
        let id = t.row(&m, 1, 1, 2, &route(3));
        t.get(id).cell.add_requests(&route(3), 4, 40_000);
        t.get(id).rtt.add(bucket_of(10_000));
        t.flush_into(&mut m);
        assert_eq!(m.cell(1, 1, 3).requests, 4);
        assert_eq!(m.policy_cells[m.policy_index(1, 0)].rtt_sum_us, 40_000);
        assert_eq!(m.resource_cells[m.resource_index(1, 3, 2)].rtt.total(), 1);
        assert_eq!(m.cell(0, 1, 3).requests, 0);
        // Flushed rows are empty: flushing again adds nothing.
        t.flush_into(&mut m);
        assert_eq!(m.cell(1, 1, 3).requests, 4);
    }

    #[test]
    fn large_key_spaces_are_hashed() {
        let m = metrics(300, 30, 3, 10);
        let mut t = Tally::new(&m).unwrap();
        assert!(!t.direct);
        let route = |slot: u8| Route {
            slot,
            policy: UNMATCHED,
            ..Route::default()
        };
        let mut ids = Vec::new();
        for c in (0..300).step_by(7) {
            for p in (0..30).step_by(3) {
                ids.push(((c, p), t.row(&m, c, p, 9, &route(2))));
            }
        }
        for &((c, p), id) in &ids {
            assert_eq!(t.row(&m, c, p, 9, &route(2)), id);
        }
        let mut distinct: Vec<u32> = ids.iter().map(|x| x.1).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn flush_is_due_before_a_difference_could_overflow() {
        let m = metrics(1, 1, 1, 1);
        let mut t = Tally::new(&m).unwrap();
        assert!(!t.needs_flush(1 << 30));
        t.count_requests(1 << 30);
        assert!(t.needs_flush(1 << 30));
    }
}
