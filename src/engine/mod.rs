//! The simulator: users × requests × cases → [`Metrics`].
//!
//! It never prints and never writes files. Users are processed in fixed chunks in parallel; each
//! worker records into its own integer accumulators, and merging them is exact and order-independent,
//! so results do not depend on the thread count. Per-user rows, when asked for, go to a
//! caller-supplied sink in user order.

mod chunk;
pub mod metrics;
pub mod requests;
pub mod route;
mod tally;
pub mod trace;

use std::sync::Mutex;

use rayon::prelude::*;

use crate::catalog::{Catalog, Continent, CountryId};
use crate::country_index::CountryIndex;
use crate::error::{Error, Result};
use crate::geodesy::LatLon;
use crate::matching::matcher::Matcher;
use crate::nearest::{NearestIndex, Neighbor};
use crate::users::{self, User};
use crate::world::{DcId, EgressId, World};
pub use metrics::{Cell, Metrics, Outcome, SamplePoint};
pub use requests::{Request, RequestModel, Requests};
pub use route::UserGeo;
pub use route::{Route, UserCase};
use tally::Tally;

/// Users per chunk: big enough to amortise set-up, small enough to balance two to many cores.
pub(crate) const CHUNK_USERS: u64 = 8192;
/// Chunks per batch between progress reports and per-user flushes.
const BATCH_CHUNKS: u64 = 32;
/// Users drawn on the map at most.
pub const MAP_SAMPLE: u64 = 20_000;

/// A data center hosting at least one egress IP.
#[derive(Debug, Clone)]
pub struct Site {
    /// The data center.
    pub dc: DcId,
    /// Its location.
    pub location: LatLon,
    /// Its unit vector.
    pub unit: [f64; 3],
    /// Egress IPs bound to it.
    pub egress: Vec<EgressId>,
}

/// Engine-side tables derived from the world once per run.
pub struct Prepared<'w> {
    /// The world.
    pub world: &'w World,
    /// Point → country lookup.
    pub countries: &'static CountryIndex,
    /// Dedicated egress locations.
    pub sites: Vec<Site>,
    /// Site index of each egress IP.
    pub site_of_egress: Vec<usize>,
    /// Per case, per site: at least one of its egress IPs is up and the data center is up.
    pub site_up: Vec<Vec<bool>>,
    /// Per case, per egress IP: up (its IPv4 address can be used).
    pub egress_up: Vec<Vec<bool>>,
    /// First-match policy evaluation.
    pub matcher: Matcher,
    /// The random draws of each user's requests.
    pub requests: RequestModel,
    /// Continent of each catalog country.
    continents: Vec<Continent>,
    /// Slot of default egress.
    pub default_slot: u8,
    /// Slot of dropped requests.
    pub dropped_slot: u8,
    /// Per data center: the failure cases (index ≥ 1) that take it down.
    pub cases_by_dc: Vec<Vec<u16>>,
    /// Per egress IP: the failure cases (index ≥ 1) that take it down explicitly.
    pub cases_by_egress: Vec<Vec<u16>>,
    /// Per population: its geography requirement's allowed data centers.
    pop_requirement: Vec<Option<Vec<bool>>>,
    /// Per policy: its geography requirement's allowed data centers.
    policy_requirement: Vec<Option<Vec<bool>>>,
    /// Per case: an ingress index over only the data centers it leaves up, for cases that take down
    /// so many that searching the world's index would often fall back to a full scan (see
    /// [`Prepared::with_case_indexes`]).
    up_index: Vec<Option<UpIndex>>,
}

/// A nearest-data-center index over the data centers one case leaves up.
struct UpIndex {
    index: NearestIndex,
    /// Data center of each indexed point, ascending (so ties still break by lower data center).
    ids: Vec<DcId>,
}

/// A case taking down more data centers than this gets its own ingress index when a run is large
/// enough to repay building it.
const UP_INDEX_MIN_DOWN: usize = 3;
/// Users from which a run builds the per-case ingress indexes: building one costs about as much as
/// the full-scan searches of 40,000 moved users (callgrind, `scenarios/three-sites.toml`).
const UP_INDEX_MIN_USERS: u64 = 50_000;

impl<'w> Prepared<'w> {
    /// Derives the engine tables for `world`.
    pub fn new(world: &'w World) -> Self {
        let catalog = Catalog::embedded();
        let mut sites: Vec<Site> = Vec::new();
        let mut site_of_egress = Vec::with_capacity(world.egress.len());
        for (i, e) in world.egress.iter().enumerate() {
            let s = match sites.iter().position(|s| s.dc == e.datacenter) {
                Some(s) => s,
                None => {
                    sites.push(Site {
                        dc: e.datacenter,
                        location: world.datacenters[e.datacenter as usize].location,
                        unit: world.datacenters[e.datacenter as usize]
                            .location
                            .to_unit_vector(),
                        egress: Vec::new(),
                    });
                    sites.len() - 1
                }
            };
            sites[s].egress.push(i as EgressId);
            site_of_egress.push(s);
        }
        let egress_up: Vec<Vec<bool>> = world
            .cases
            .iter()
            .map(|c| {
                world
                    .egress
                    .iter()
                    .enumerate()
                    .map(|(i, e)| !c.egress_down[i] && !c.dc_down[e.datacenter as usize])
                    .collect()
            })
            .collect();
        let site_up = egress_up
            .iter()
            .map(|up| {
                sites
                    .iter()
                    .map(|s| s.egress.iter().any(|&e| up[e as usize]))
                    .collect()
            })
            .collect();

        let mut cases_by_dc = vec![Vec::new(); world.datacenters.len()];
        let mut cases_by_egress = vec![Vec::new(); world.egress.len()];
        for (c, case) in world.cases.iter().enumerate().skip(1) {
            for (d, _) in case.dc_down.iter().enumerate().filter(|(_, &x)| x) {
                cases_by_dc[d].push(c as u16);
            }
            for (e, _) in case.egress_down.iter().enumerate().filter(|(_, &x)| x) {
                cases_by_egress[e].push(c as u16);
            }
        }
        let requirement =
            |r: Option<u16>| r.map(|i| world.requirements[i as usize].allowed.clone());
        Self {
            world,
            cases_by_dc,
            cases_by_egress,
            pop_requirement: world
                .populations
                .iter()
                .map(|p| requirement(p.require_egress_in))
                .collect(),
            policy_requirement: world
                .policies
                .iter()
                .map(|p| requirement(p.require_egress_in))
                .collect(),
            matcher: Matcher::new(world),
            requests: RequestModel::new(world),
            countries: CountryIndex::embedded(),
            sites,
            site_of_egress,
            site_up,
            egress_up,
            continents: catalog.countries.iter().map(|c| c.continent).collect(),
            default_slot: world.egress.len() as u8,
            dropped_slot: world.egress.len() as u8 + 1,
            up_index: world.cases.iter().map(|_| None).collect(),
        }
    }

    /// Builds an ingress index over the data centers left up by each case that takes many down
    /// (regions, countries), when the run has enough users to repay it. Results are the same with or
    /// without: both searches are exact and break ties by lower data center.
    pub fn with_case_indexes(self) -> Self {
        if self.world.users < UP_INDEX_MIN_USERS {
            return self;
        }
        self.build_case_indexes()
    }

    /// [`Prepared::with_case_indexes`] whatever the number of users.
    pub(crate) fn build_case_indexes(mut self) -> Self {
        let w = self.world;
        self.up_index = w
            .cases
            .par_iter()
            .map(|c| {
                if c.dc_down.iter().filter(|&&d| d).count() <= UP_INDEX_MIN_DOWN {
                    return None;
                }
                let ids: Vec<DcId> = (0..w.datacenters.len())
                    .filter(|&d| !c.dc_down[d])
                    .map(|d| d as DcId)
                    .collect();
                let points: Vec<LatLon> = ids
                    .iter()
                    .map(|&d| w.datacenters[d as usize].location)
                    .collect();
                Some(UpIndex {
                    index: NearestIndex::new(&points),
                    ids,
                })
            })
            .collect();
        self
    }

    /// Fills `out` with the nearest data centers to a point (`unit` its unit vector) that are up in
    /// `case`, nearest first (ties by lower data center); returns how many were found.
    #[inline]
    pub fn nearest_up(
        &self,
        case: usize,
        at: LatLon,
        unit: &[f64; 3],
        out: &mut [Neighbor],
    ) -> usize {
        match &self.up_index[case] {
            Some(up) => {
                let n = up.index.nearest_unit(at, unit, |_| true, out);
                for x in &mut out[..n] {
                    x.index = up.ids[x.index as usize] as u32;
                }
                n
            }
            None => {
                let down = &self.world.cases[case].dc_down;
                self.world
                    .dc_index
                    .nearest_unit(at, unit, |i| !down[i as usize], out)
            }
        }
    }

    /// True when egressing at `dc` (`None`: dropped) meets the geography requirements of the
    /// population and of the policy that decided (`policy` may be `UNMATCHED`).
    #[inline]
    pub fn requirements_met(&self, population: u16, policy: u16, dc: Option<DcId>) -> bool {
        let ok = |r: &Option<Vec<bool>>| match (r, dc) {
            (None, _) => true,
            (Some(allowed), Some(d)) => allowed[d as usize],
            (Some(_), None) => false,
        };
        ok(&self.pop_requirement[population as usize])
            && self.policy_requirement.get(policy as usize).is_none_or(ok)
    }

    /// Continent of a country.
    #[inline]
    pub fn continent_of(&self, c: CountryId) -> Continent {
        self.continents[c.0 as usize]
    }

    /// Generates user `index` (its population found by position), with its random stream positioned
    /// at its first request (see [`requests`]).
    pub fn user(&self, index: u64) -> (User, users::UserRng) {
        let p = self.world.population_of(index);
        users::generate(
            self.world.seed,
            index,
            p as u16,
            &self.world.populations[p],
            self.countries,
        )
    }
}

/// One user's row in `users.csv` for one case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserRow {
    /// Global user index.
    pub user: u64,
    /// Population index.
    pub population: u16,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Country.
    pub country: CountryId,
    /// Case index.
    pub case: u16,
    /// Ingress data center (None when unreachable).
    pub ingress: Option<DcId>,
    /// Egress slot of the user's first request.
    pub slot: u8,
    /// Mean RTT over the user's delivered requests, ms (None when all dropped).
    pub rtt_mean_ms: Option<f64>,
}

/// How to run the simulation.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Produce per-user rows for the sink.
    pub per_user: bool,
    /// With `per_user`: per case, whether its rows are produced (empty: every case). Rows the caller
    /// does not want are never built, so memory follows the cases asked for.
    pub per_user_cases: Vec<bool>,
}

impl SimOptions {
    /// True when per-user rows of case `c` are wanted.
    #[inline]
    fn wants_rows(&self, c: usize) -> bool {
        self.per_user_cases.get(c).copied().unwrap_or(true)
    }
}

/// Per-user rows held in memory at most between two calls of the sink (about 50 bytes each): a batch
/// of chunks is cut short so its rows stay under this, whatever the number of cases.
const MAX_BATCH_ROWS: u64 = 2_000_000;

/// Where a chunk appends its per-user rows, and which cases' rows are wanted (empty: all).
pub(crate) struct RowSink<'a> {
    /// Rows of the chunk, in user order.
    pub(crate) rows: &'a mut Vec<UserRow>,
    /// Per case: rows wanted.
    pub(crate) cases: &'a [bool],
}

/// One worker's accumulators: per-user counters in `metrics`, per-route counters and histograms in
/// `tally` (flushed into `metrics` at the end, or earlier when its 32-bit differences could overflow).
struct Worker {
    metrics: Metrics,
    tally: Tally,
}

/// Runs every case over the same generated users. `progress` receives the number of users done so far;
/// `sink` receives per-user rows in user order when `options.per_user` is set.
pub fn simulate(
    world: &World,
    options: &SimOptions,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn FnMut(&[UserRow]) -> Result<()>,
) -> Result<Metrics> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?;
    let prepared = pool.install(|| Prepared::new(world).with_case_indexes());
    let empty = Metrics::new(world);
    let tally = Tally::new(&empty).ok_or_else(|| {
        Error::Internal(
            "cases × populations × egress × policies × destinations is too large".into(),
        )
    })?;
    let chunks = world.users.div_ceil(CHUNK_USERS);
    let stride = world.users.div_ceil(MAP_SAMPLE).max(1);
    // One set of accumulators per concurrently running chunk (at most one per thread), reused from
    // chunk to chunk: memory stays at a few accumulators however many chunks and cases there are.
    let workers: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
    let run = |c: u64, rows: Option<RowSink>| {
        let taken = workers.lock().map(|mut w| w.pop()).unwrap_or(None);
        let mut worker = taken.unwrap_or_else(|| Worker {
            metrics: empty.clone(),
            tally: tally.clone(),
        });
        let first = c * CHUNK_USERS;
        let range = first..(first + CHUNK_USERS).min(world.users);
        run_chunk(&prepared, range, stride, &mut worker, rows);
        if let Ok(mut w) = workers.lock() {
            w.push(worker);
        }
    };
    let batch_chunks = if options.per_user {
        let cases = (0..world.cases.len())
            .filter(|&c| options.wants_rows(c))
            .count() as u64;
        (MAX_BATCH_ROWS / (CHUNK_USERS * cases.max(1)))
            .clamp(pool.current_num_threads() as u64, BATCH_CHUNKS)
    } else {
        BATCH_CHUNKS
    };
    let mut batch_start = 0;
    while batch_start < chunks {
        let batch_end = (batch_start + batch_chunks).min(chunks);
        if options.per_user {
            // Per-user rows must reach the sink in user order: keep each chunk's rows apart.
            let rows: Vec<Vec<UserRow>> = pool.install(|| {
                (batch_start..batch_end)
                    .into_par_iter()
                    .map(|c| {
                        let mut rows = Vec::new();
                        run(
                            c,
                            Some(RowSink {
                                rows: &mut rows,
                                cases: &options.per_user_cases,
                            }),
                        );
                        rows
                    })
                    .collect()
            });
            for r in &rows {
                sink(r)?;
            }
        } else {
            pool.install(|| {
                (batch_start..batch_end)
                    .into_par_iter()
                    .for_each(|c| run(c, None))
            });
        }
        batch_start = batch_end;
        progress((batch_end * CHUNK_USERS).min(world.users));
    }
    let workers = workers
        .into_inner()
        .map_err(|_| Error::Internal("a worker thread panicked".into()))?;
    let mut total = empty;
    for mut w in workers {
        w.tally.flush_into(&mut w.metrics);
        total.merge(&w.metrics);
    }
    total.finish();
    Ok(total)
}

/// Simulates users `range` into `worker`'s accumulators.
///
/// The baseline is evaluated for every user. A failure case is evaluated only for the users it can
/// affect (those whose ingress candidates or used egress IPs it takes down); for them the case's cells
/// receive the difference against the baseline, and [`Metrics::finish`] adds the baseline back. A sweep
/// of many cases therefore costs in proportion to the users each case moves, not to the case count.
#[inline(never)] // a profiling anchor: one symbol for the engine's per-chunk work
fn run_chunk(
    p: &Prepared,
    range: std::ops::Range<u64>,
    stride: u64,
    worker: &mut Worker,
    mut rows: Option<RowSink>,
) {
    let requests = (range.end - range.start) * p.world.requests_per_user as u64;
    if worker.tally.needs_flush(requests) {
        worker.tally.flush_into(&mut worker.metrics);
    }
    worker.tally.count_requests(requests);
    let mut run = chunk::ChunkRun::new(p, &mut worker.metrics, &mut worker.tally, stride);
    for index in range {
        run.user(index, rows.as_mut());
    }
}

/// A user's concurrent connections on route entry `k` (`resource * 2 + ipv6`), in millionths: the
/// user's pool split across destinations by weight (`total_weight` is the sum of the world's
/// destination weights), then by IP version. The engine counts them on the route's egress IP; the
/// planner does the same for the IPs it considers.
#[inline]
pub fn connections_micro(w: &World, user: &User, total_weight: f64, k: usize) -> u64 {
    let (r, v6) = (k / 2, k % 2 == 1);
    let res = &w.resources[r];
    let pop = &w.populations[user.population as usize];
    let conns = pop.connections_of(user.index) * res.weight / total_weight;
    let v6_share = ipv6_share(
        user.ipv6_capable,
        res.ipv4.is_some(),
        res.ipv6.is_some(),
        w.balancing.ipv6_preference,
    );
    let share = if v6 { v6_share } else { 1.0 - v6_share };
    // Adding 0.5 and truncating rounds (never negative) without a libm call.
    (conns * share * 1e6 + 0.5) as u64
}

/// Share of a user's requests to a destination that use IPv6 (DESIGN.md, "IP version").
pub fn ipv6_share(user_v6: bool, has_v4: bool, has_v6: bool, preference: f64) -> f64 {
    match (has_v4, has_v6) {
        (true, true) if user_v6 => preference,
        (false, true) => 1.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod balancing_tests;
#[cfg(test)]
mod failover_tests;
#[cfg(test)]
mod tests;
