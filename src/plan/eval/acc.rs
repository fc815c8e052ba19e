//! The planner's accumulator: the engine's counters ([`Cell`], added as the engine adds them), a
//! dense RTT histogram and IPv4 connections per (egress IP, destination), all wrapping so that a
//! difference (take a user's routes back, add its new ones) is exact.

use crate::analysis::plan::Figures;
use crate::engine::{Cell, Outcome, Route};
use crate::histogram::{bucket_of, quantile_ms_of, BUCKETS};

/// Counters, histogram and connections of a set of routes (or a difference of two sets).
#[derive(Debug, Clone, Default)]
pub(crate) struct Acc {
    /// Requests, outcomes, RTT sum, allowlist, geography, mismatch counters (`rtt` unused).
    pub(crate) cell: Cell,
    /// RTT of delivered requests, one count per bucket of [`crate::histogram`] (empty until used).
    hist: Vec<i64>,
    /// IPv4 connections × 10⁶ per (pick, destination): `pick * resources + resource`.
    conns: Vec<i64>,
    resources: usize,
}

/// What one route entry of one user adds: its requests and their extra times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryLoad<'a> {
    /// Destination.
    pub(crate) resource: usize,
    /// Over IPv6.
    pub(crate) ipv6: bool,
    /// Requests.
    pub(crate) n: u64,
    /// Sum of the requests' extra times, µs.
    pub(crate) extra_sum: u64,
    /// Each request's extra time, µs.
    pub(crate) extras: &'a [u32],
    /// The user's concurrent connections on the entry, × 10⁶.
    pub(crate) micro: u64,
}

impl Acc {
    /// An empty accumulator for `picks` egress IPs and `resources` destinations.
    pub(crate) fn new(picks: usize, resources: usize) -> Self {
        Self {
            cell: Cell::default(),
            hist: Vec::new(),
            conns: vec![0; picks * resources],
            resources,
        }
    }

    /// Sets everything to zero, keeping the allocations.
    pub(crate) fn clear(&mut self) {
        self.cell = Cell::default();
        self.hist.fill(0);
        self.conns.fill(0);
    }

    /// Adds (`sign` 1) or takes back (`sign` -1) the requests of `load` routed by `route`; their
    /// IPv4 connections count on `pick` (the egress IP the route leaves through, if any), as the
    /// engine counts them on the route's egress slot.
    #[inline]
    pub(crate) fn add(&mut self, route: &Route, load: &EntryLoad, pick: Option<usize>, sign: i64) {
        let us = route.base_us() as u64;
        let (n, sum) = (load.n, load.n * us + load.extra_sum);
        if sign > 0 {
            self.cell.add_requests(route, n, sum);
        } else {
            self.cell
                .add_requests(route, n.wrapping_neg(), sum.wrapping_neg());
        }
        if route.outcome == Outcome::Dropped as u8 {
            return;
        }
        if !load.extras.is_empty() {
            if self.hist.is_empty() {
                self.hist = vec![0; BUCKETS];
            }
            for &x in load.extras {
                self.hist[bucket_of(us + x as u64)] += sign;
            }
        }
        // As `analysis::capacity`: only IPv4 connections the destination accepts, and none to a
        // private network (which never uses a dedicated IP).
        let counted =
            !load.ipv6 && !route.blocked && route.outcome != Outcome::PrivateNetwork as u8;
        if let (Some(p), true) = (pick, counted) {
            self.conns[p * self.resources + load.resource] += sign * load.micro as i64;
        }
    }

    /// Adds another accumulator of the same shape.
    pub(crate) fn merge(&mut self, o: &Acc) {
        self.cell.merge(&o.cell);
        if !o.hist.is_empty() {
            if self.hist.is_empty() {
                self.hist = vec![0; BUCKETS];
            }
            for (a, b) in self.hist.iter_mut().zip(&o.hist) {
                *a += b;
            }
        }
        for (a, b) in self.conns.iter_mut().zip(&o.conns) {
            *a += b;
        }
    }
}

/// What the peak utilisation is judged against, as `analysis::capacity` judges it: each pick's
/// connection limit, per origin (destination IPv4 address, port, protocol; destinations sharing
/// one are summed).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    per_pick: Vec<u32>,
    origin_of: Vec<Option<usize>>,
    origins: usize,
}

impl Limits {
    /// `per_pick` limits and the origins of `world`'s destinations.
    pub(crate) fn new(per_pick: Vec<u32>, world: &crate::world::World) -> Self {
        let (origins, origin_of) = crate::analysis::capacity::origins(world);
        Self {
            per_pick,
            origin_of,
            origins: origins.len(),
        }
    }
}

/// The figures of the sum of `parts` (a state's accumulator plus differences), computed as
/// `summary.csv` and `capacity.csv` compute them; `limits` holds each pick's connection limit.
pub(crate) fn figures(parts: &[&Acc], limits: &Limits) -> Figures {
    let mut cell = Cell::default();
    for p in parts {
        cell.merge(&p.cell);
    }
    let hists: Vec<&[i64]> = parts
        .iter()
        .filter(|p| !p.hist.is_empty())
        .map(|p| p.hist.as_slice())
        .collect();
    let count = |b: usize| hists.iter().map(|h| h[b]).sum::<i64>() as u64;
    let total: u64 = (0..BUCKETS).map(count).sum();
    let buckets = (0..BUCKETS).map(|b| (b, count(b))).filter(|&(_, c)| c != 0);
    let p95 = quantile_ms_of(buckets, total, 0.95);
    let resources = parts.first().map_or(1, |p| p.resources.max(1));
    let mut peak = 0f64;
    let mut per_origin = vec![0i64; limits.origins];
    for (i, &limit) in limits.per_pick.iter().enumerate() {
        per_origin.fill(0);
        for r in 0..resources {
            if let Some(o) = limits.origin_of.get(r).copied().flatten() {
                per_origin[o] += parts
                    .iter()
                    .map(|p| p.conns[i * resources + r])
                    .sum::<i64>();
            }
        }
        for &micro in &per_origin {
            // As `analysis::capacity`: connections, then over the limit.
            let v4 = micro as u64 as f64 / 1e6;
            peak = peak.max(v4 / f64::from(limit));
        }
    }
    let ratio = |n: u64, d: u64| (d != 0).then(|| n as f64 / d as f64);
    let delivered = cell.delivered();
    Figures {
        rtt_mean_ms: cell.rtt_mean_ms(),
        rtt_p95_ms: p95,
        refused_share: ratio(cell.blocked, cell.requests),
        violation_share: ratio(cell.violations, cell.requests),
        peak_utilization: peak,
        country_mismatch_share: ratio(cell.country_mismatch, delivered),
    }
}
