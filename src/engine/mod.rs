//! The simulator: users × requests × cases → [`Metrics`].
//!
//! It never prints and never writes files. Users are processed in fixed chunks in parallel; each chunk
//! fills its own integer accumulators, merged in chunk order, so results do not depend on the thread
//! count. Per-user rows, when asked for, go to a caller-supplied sink in user order.

pub mod metrics;
pub mod route;

use rand::Rng;
use rand_distr::{Distribution, Exp1};
use rayon::prelude::*;

use crate::catalog::{Catalog, Continent, CountryId};
use crate::country_index::CountryIndex;
use crate::error::{Error, Result};
use crate::geodesy::LatLon;
use crate::policy::facts::FactsBuilder;
use crate::policy::matcher::{Matcher, Scratch, UNMATCHED};
use crate::users::{self, User};
use crate::world::{DcId, EgressId, World};
pub use metrics::{Cell, Metrics, Outcome, SamplePoint};
pub use route::UserGeo;
pub use route::{Route, UserCase};

/// Users per chunk: big enough to amortise set-up, small enough to balance two to many cores.
const CHUNK_USERS: u64 = 8192;
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
    /// Per case, per egress IP: its IPv6 range can be used (only an explicit egress failure stops it,
    /// since IPv6 egresses from the ingress data center).
    pub egress_v6_up: Vec<Vec<bool>>,
    /// First-match policy evaluation.
    pub matcher: Matcher,
    /// Continent of each catalog country.
    continents: Vec<Continent>,
    /// Slot of default egress.
    pub default_slot: u8,
    /// Slot of dropped requests.
    pub dropped_slot: u8,
}

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
        let egress_v6_up = world
            .cases
            .iter()
            .map(|c| c.egress_down.iter().map(|d| !d).collect())
            .collect();
        Self {
            world,
            egress_v6_up,
            matcher: Matcher::new(world),
            countries: CountryIndex::embedded(),
            sites,
            site_of_egress,
            site_up,
            egress_up,
            continents: catalog.countries.iter().map(|c| c.continent).collect(),
            default_slot: world.egress.len() as u8,
            dropped_slot: world.egress.len() as u8 + 1,
        }
    }

    /// Continent of a country.
    #[inline]
    pub fn continent_of(&self, c: CountryId) -> Continent {
        self.continents[c.0 as usize]
    }

    /// Generates user `index` (its population found by position).
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
    let prepared = Prepared::new(world);
    let chunks = world.users.div_ceil(CHUNK_USERS);
    let stride = world.users.div_ceil(MAP_SAMPLE).max(1);
    let mut total = Metrics::new(world);
    let mut batch_start = 0;
    while batch_start < chunks {
        let batch_end = (batch_start + BATCH_CHUNKS).min(chunks);
        let results: Vec<(Metrics, Vec<UserRow>)> = pool.install(|| {
            (batch_start..batch_end)
                .into_par_iter()
                .map(|c| {
                    let first = c * CHUNK_USERS;
                    let last = (first + CHUNK_USERS).min(world.users);
                    let mut m = Metrics::new(world);
                    let mut rows = Vec::new();
                    run_chunk(
                        &prepared,
                        first..last,
                        stride,
                        &mut m,
                        options.per_user.then_some(&mut rows),
                    );
                    (m, rows)
                })
                .collect()
        });
        for (m, rows) in &results {
            total.merge(m);
            if options.per_user {
                sink(rows)?;
            }
        }
        batch_start = batch_end;
        progress((batch_end * CHUNK_USERS).min(world.users));
    }
    total.finish();
    Ok(total)
}

/// Simulates users `range` into `m`. Allocates its scratch tables once per chunk, never per request.
fn run_chunk(
    p: &Prepared,
    range: std::ops::Range<u64>,
    stride: u64,
    m: &mut Metrics,
    mut rows: Option<&mut Vec<UserRow>>,
) {
    let w = p.world;
    let cases = w.cases.len();
    let nres = w.resources.len();
    let mut ucs = vec![UserCase::default(); cases];
    // routes[(case * nres + resource) * 2 + ipv6]
    let mut routes = vec![Route::default(); cases * nres * 2];
    let mut matches = vec![UNMATCHED; nres * 2];
    let mut facts = FactsBuilder::new(w);
    let mut class_cache = Scratch::default();
    let mut slots_used = vec![0u64; cases];
    let mut policies_used = vec![[0u64; 4]; cases];
    let mut rtt_sum = vec![0u64; cases];
    let mut delivered = vec![0u64; cases];
    let mut first_slot = vec![0u8; cases];
    let total_weight: f64 = w.resources.iter().map(|r| r.weight).sum();
    let pref = w.balancing.ipv6_preference;
    let jitter = w.latency.jitter_mean_ms;
    let unmatched_slot = m.policy_slots - 1;

    for index in range {
        let (user, mut rng) = p.user(index);
        let pop = &w.populations[user.population as usize];
        if !p.matcher.is_empty() {
            facts.set_user(&user);
        }
        p.matcher
            .first_matches(w, &facts, &user, &mut class_cache, &mut matches);
        let geo = route::UserGeo::new(p, &user);
        for (c, uc) in ucs.iter_mut().enumerate() {
            *uc = route::user_case(p, &user, &geo, c);
            for r in 0..nres {
                for v6 in [false, true] {
                    let policy = matches[r * 2 + v6 as usize];
                    routes[(c * nres + r) * 2 + v6 as usize] =
                        route::decide(p, &user, &geo, uc, c, r, v6, policy);
                }
            }
        }
        // Concurrent connections: the user's pool split across destinations by weight, then by IP version.
        for c in 0..cases {
            for (r, res) in w.resources.iter().enumerate() {
                let conns = pop.connections_of(user.index) * res.weight / total_weight;
                let v6_share = ipv6_share(
                    user.ipv6_capable,
                    res.ipv4.is_some(),
                    res.ipv6.is_some(),
                    pref,
                );
                for (v6, share) in [(false, 1.0 - v6_share), (true, v6_share)] {
                    let route = &routes[(c * nres + r) * 2 + v6 as usize];
                    if share > 0.0 && (route.slot as usize) < w.egress.len() {
                        let i = m.connection_index(c, route.slot as usize, r);
                        let micro = (conns * share * 1e6).round() as u64;
                        if v6 {
                            m.connections_v6_micro[i] += micro;
                        } else {
                            m.connections_v4_micro[i] += micro;
                        }
                    }
                }
            }
        }
        slots_used.fill(0);
        policies_used.fill([0; 4]);
        rtt_sum.fill(0);
        delivered.fill(0);
        for q in 0..w.requests_per_user {
            let r = w.resource_alias.sample(&mut rng);
            let res = &w.resources[r];
            let v6 = match (res.ipv4.is_some(), res.ipv6.is_some()) {
                (true, true) => user.ipv6_capable && (pref >= 1.0 || rng.random::<f64>() < pref),
                (false, true) => true,
                _ => false,
            };
            let extra = user.access_ms
                + if jitter > 0.0 {
                    (jitter * <Exp1 as Distribution<f64>>::sample(&Exp1, &mut rng)) as f32
                } else {
                    0.0
                };
            for c in 0..cases {
                let route = &routes[(c * nres + r) * 2 + v6 as usize];
                let slot = route.slot as usize;
                if q == 0 {
                    first_slot[c] = route.slot;
                }
                slots_used[c] |= 1 << slot;
                let ps = if route.policy == UNMATCHED {
                    unmatched_slot
                } else {
                    route.policy as usize
                };
                policies_used[c][ps / 64] |= 1 << (ps % 64);
                // Truncating after adding 0.5 rounds (the sum is never negative) without a libm call.
                let us = ((route.base_ms + extra) * 1000.0 + 0.5) as u64;
                let ci = m.cell_index(c, user.population as usize, slot);
                m.cells[ci].record(route, us);
                let pi = m.policy_index(c, ps);
                m.policy_cells[pi].record(route, us);
                let ri = m.resource_index(c, slot, r);
                m.resource_cells[ri].record(route, us);
                if route.outcome != Outcome::Dropped as u8 {
                    rtt_sum[c] += us;
                    delivered[c] += 1;
                }
            }
        }
        for c in 0..cases {
            for_each_bit(&[slots_used[c]], |s| {
                let ci = m.cell_index(c, user.population as usize, s);
                m.cells[ci].users += 1;
            });
            for_each_bit(&policies_used[c], |ps| {
                let pi = m.policy_index(c, ps);
                m.policy_cells[pi].users += 1;
            });
        }
        if index % stride == 0 && w.requests_per_user > 0 {
            m.samples.push(SamplePoint {
                user: index,
                lat: user.location.lat as f32,
                lon: user.location.lon as f32,
                slot: first_slot[0] as u16,
            });
        }
        if let Some(rows) = rows.as_deref_mut() {
            for c in 0..cases {
                rows.push(UserRow {
                    user: index,
                    population: user.population,
                    lat: user.location.lat,
                    lon: user.location.lon,
                    country: user.country,
                    case: c as u16,
                    ingress: ucs[c].ingress,
                    slot: first_slot[c],
                    rtt_mean_ms: (delivered[c] > 0)
                        .then(|| rtt_sum[c] as f64 / delivered[c] as f64 / 1000.0),
                });
            }
        }
    }
}

/// Calls `f` with the index of every set bit of a multi-word bit set.
#[inline]
fn for_each_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            f(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
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
mod tests;
