//! The simulator: users × requests × cases → [`Metrics`].
//!
//! It never prints and never writes files. Users are processed in fixed chunks in parallel; each chunk
//! fills its own integer accumulators, merged in chunk order, so results do not depend on the thread
//! count. Per-user rows, when asked for, go to a caller-supplied sink in user order.

pub mod metrics;
pub mod route;
pub mod trace;

use rand::Rng;
use rand_distr::{Distribution, Exp1};
use rayon::prelude::*;

use crate::catalog::{Catalog, Continent, CountryId};
use crate::country_index::CountryIndex;
use crate::error::{Error, Result};
use crate::geodesy::LatLon;
use crate::matching::facts::FactsBuilder;
use crate::matching::matcher::{Matcher, Scratch, UNMATCHED};
use crate::users::{self, User};
use crate::world::{DcId, EgressId, World};
pub use metrics::{Cell, Metrics, Outcome, SamplePoint};
pub use route::UserGeo;
pub use route::{Route, UserCase};

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
        let chunk_range = |c: u64| {
            let first = c * CHUNK_USERS;
            first..(first + CHUNK_USERS).min(world.users)
        };
        if options.per_user {
            // Per-user rows must reach the sink in user order: keep each chunk's results apart.
            let results: Vec<(Metrics, Vec<UserRow>)> = pool.install(|| {
                (batch_start..batch_end)
                    .into_par_iter()
                    .map(|c| {
                        let mut m = Metrics::new(world);
                        let mut rows = Vec::new();
                        run_chunk(&prepared, chunk_range(c), stride, &mut m, Some(&mut rows));
                        (m, rows)
                    })
                    .collect()
            });
            for (m, rows) in &results {
                total.merge(m);
                sink(rows)?;
            }
        } else {
            // Merging is exact and order-independent (integer sums; the map sample is sorted at the
            // end), so each worker folds its chunks into one accumulator: memory stays at a few
            // accumulators however many cases a sweep adds.
            let m = pool.install(|| {
                (batch_start..batch_end)
                    .into_par_iter()
                    .fold(
                        || Metrics::new(world),
                        |mut m, c| {
                            run_chunk(&prepared, chunk_range(c), stride, &mut m, None);
                            m
                        },
                    )
                    .reduce_with(|mut a, b| {
                        a.merge(&b);
                        a
                    })
            });
            if let Some(m) = m {
                total.merge(&m);
            }
        }
        batch_start = batch_end;
        progress((batch_end * CHUNK_USERS).min(world.users));
    }
    total.finish();
    Ok(total)
}

/// Simulates users `range` into `m`. Allocates its scratch tables once per chunk, never per request.
///
/// The baseline is evaluated for every user. A failure case is evaluated only for the users it can
/// affect (those whose ingress candidates or used egress IPs it takes down); for them the case's cells
/// receive the difference against the baseline, and [`Metrics::finish`] adds the baseline back. A sweep
/// of many cases therefore costs in proportion to the users each case moves, not to the case count.
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
    let per_case = nres * 2;
    let mut ucs = vec![UserCase::default(); cases];
    // routes[case * per_case + resource * 2 + ipv6]; only the baseline and affected cases are filled.
    let mut routes = vec![Route::default(); cases * per_case];
    // Per case: bit k set when the route of entry k differs from the baseline's.
    let mut changed = vec![0u64; cases];
    let mut affected: Vec<u16> = Vec::with_capacity(cases);
    let mut is_affected = vec![false; cases];
    let mut matches = vec![UNMATCHED; per_case];
    let mut facts = FactsBuilder::new(w);
    let mut class_cache = Scratch::default();
    let mut slots_used = vec![0u64; cases];
    let mut policies_used = vec![[0u64; 4]; cases];
    let mut rtt_sum = vec![0u64; cases];
    let mut delivered = vec![0u64; cases];
    let mut first_slot = vec![0u8; cases];
    let mut rerouted = vec![0u64; cases];
    let total_weight: f64 = w.resources.iter().map(|r| r.weight).sum();
    let pref = w.balancing.ipv6_preference;
    let jitter = w.latency.jitter_mean_ms;
    let unmatched_slot = m.policy_slots - 1;
    let policy_slot = |route: &Route| {
        if route.policy == UNMATCHED {
            unmatched_slot
        } else {
            route.policy as usize
        }
    };

    for index in range {
        let (user, mut rng) = p.user(index);
        let pop_i = user.population as usize;
        let pop = &w.populations[pop_i];
        if !p.matcher.is_empty() {
            facts.set_user(&user);
        }
        p.matcher
            .first_matches(w, &facts, &user, &mut class_cache, &mut matches);
        let geo = route::UserGeo::new(p, &user);
        ucs[0] = route::user_case(p, &user, &geo, 0);
        for k in 0..per_case {
            routes[k] = route::decide(p, &user, &geo, &ucs[0], 0, k / 2, k % 2 == 1, matches[k]);
        }
        if cases > 1 {
            find_affected(p, &ucs[0], &routes[..per_case], &mut affected);
            for &c in &affected {
                let c = c as usize;
                is_affected[c] = true;
                let down = &w.cases[c].dc_down;
                let ingress_kept = !ucs[0].near[..ucs[0].near_len as usize]
                    .iter()
                    .any(|&d| down[d as usize]);
                if ingress_kept {
                    // Same ingress: a route can only change if its egress IP is down in this case, or
                    // if it is unmatched traffic whose balanced egress moved. Skips the ingress search
                    // and most decisions for the typical egress failure.
                    let balanced = route::balanced_egress(p, &user, &geo, c);
                    ucs[c] = UserCase { balanced, ..ucs[0] };
                } else {
                    ucs[c] = route::user_case(p, &user, &geo, c);
                }
                let mut bits = 0u64;
                for k in 0..per_case {
                    let base = routes[k];
                    let slot = base.slot as usize;
                    let stale = !ingress_kept
                        || (slot < w.egress.len() && !p.egress_up[c][slot])
                        || (base.policy == UNMATCHED && ucs[c].balanced != ucs[0].balanced);
                    let r = if stale {
                        route::decide(p, &user, &geo, &ucs[c], c, k / 2, k % 2 == 1, matches[k])
                    } else {
                        base
                    };
                    bits |= ((r != base) as u64) << k;
                    routes[c * per_case + k] = r;
                }
                changed[c] = bits;
            }
        }
        // Concurrent connections: the user's pool split across destinations by weight, then by IP version.
        for (r, res) in w.resources.iter().enumerate() {
            let conns = pop.connections_of(user.index) * res.weight / total_weight;
            let v6_share = ipv6_share(
                user.ipv6_capable,
                res.ipv4.is_some(),
                res.ipv6.is_some(),
                pref,
            );
            for (v6, share) in [(false, 1.0 - v6_share), (true, v6_share)] {
                if share <= 0.0 {
                    continue;
                }
                let micro = (conns * share * 1e6).round() as u64;
                let k = r * 2 + v6 as usize;
                let base_slot = routes[k].slot as usize;
                if base_slot < w.egress.len() {
                    let i = m.connection_index(0, base_slot, r);
                    add_connections(m, v6, i, micro, true);
                }
                for &c in &affected {
                    let c = c as usize;
                    let slot = routes[c * per_case + k].slot as usize;
                    if slot == base_slot {
                        continue;
                    }
                    if base_slot < w.egress.len() {
                        let i = m.connection_index(c, base_slot, r);
                        add_connections(m, v6, i, micro, false);
                    }
                    if slot < w.egress.len() {
                        let i = m.connection_index(c, slot, r);
                        add_connections(m, v6, i, micro, true);
                    }
                }
            }
        }
        for &c in std::iter::once(&0u16).chain(&affected) {
            let c = c as usize;
            slots_used[c] = 0;
            policies_used[c] = [0; 4];
            rtt_sum[c] = 0;
            delivered[c] = 0;
            rerouted[c] = 0;
        }
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
            let k = r * 2 + v6 as usize;
            let base = &routes[k];
            // Truncating after adding 0.5 rounds (the sum is never negative) without a libm call.
            let base_us = ((base.base_ms + extra) * 1000.0 + 0.5) as u64;
            let base_ps = policy_slot(base);
            record(m, 0, pop_i, r, base, base_ps, base_us, true);
            if q == 0 {
                first_slot[0] = base.slot;
            }
            slots_used[0] |= 1 << base.slot;
            policies_used[0][base_ps / 64] |= 1 << (base_ps % 64);
            if base.outcome != Outcome::Dropped as u8 {
                rtt_sum[0] += base_us;
                delivered[0] += 1;
            }
            for &c in &affected {
                let c = c as usize;
                let route = &routes[c * per_case + k];
                let ps = policy_slot(route);
                let us = ((route.base_ms + extra) * 1000.0 + 0.5) as u64;
                if q == 0 {
                    first_slot[c] = route.slot;
                }
                slots_used[c] |= 1 << route.slot;
                policies_used[c][ps / 64] |= 1 << (ps % 64);
                if route.outcome != Outcome::Dropped as u8 {
                    rtt_sum[c] += us;
                    delivered[c] += 1;
                }
                if changed[c] >> k & 1 == 1 {
                    record(m, c, pop_i, r, base, base_ps, base_us, false);
                    record(m, c, pop_i, r, route, ps, us, true);
                    rerouted[c] += (route.slot != base.slot) as u64;
                }
            }
        }
        for_each_bit(&[slots_used[0]], |s| {
            let ci = m.cell_index(0, pop_i, s);
            m.cells[ci].users += 1;
        });
        for_each_bit(&policies_used[0], |ps| {
            let pi = m.policy_index(0, ps);
            m.policy_cells[pi].users += 1;
        });
        for &c in &affected {
            let c = c as usize;
            // Users per slot and per policy as a difference: leave the baseline's sets, join the case's.
            for_each_bit(&[slots_used[0]], |s| {
                let ci = m.cell_index(c, pop_i, s);
                m.cells[ci].users = m.cells[ci].users.wrapping_sub(1);
            });
            for_each_bit(&[slots_used[c]], |s| {
                let ci = m.cell_index(c, pop_i, s);
                m.cells[ci].users = m.cells[ci].users.wrapping_add(1);
            });
            for_each_bit(&policies_used[0], |ps| {
                let pi = m.policy_index(c, ps);
                m.policy_cells[pi].users = m.policy_cells[pi].users.wrapping_sub(1);
            });
            for_each_bit(&policies_used[c], |ps| {
                let pi = m.policy_index(c, ps);
                m.policy_cells[pi].users = m.policy_cells[pi].users.wrapping_add(1);
            });
            let shift = &mut m.shifts[c * m.populations + pop_i];
            shift.users_ingress_moved += (ucs[c].ingress != ucs[0].ingress) as u64;
            shift.users_egress_changed += (rerouted[c] > 0) as u64;
            shift.requests_rerouted += rerouted[c];
        }
        if index % stride == 0 && w.requests_per_user > 0 {
            m.samples.push(SamplePoint {
                user: index,
                lat: user.location.lat as f32,
                lon: user.location.lon as f32,
                slot: first_slot[0] as u16,
                ingress: ucs[0].ingress,
            });
        }
        if let Some(rows) = rows.as_deref_mut() {
            for (c, &hit) in is_affected.iter().enumerate() {
                // Unaffected cases repeat the baseline.
                let s = if hit { c } else { 0 };
                rows.push(UserRow {
                    user: index,
                    population: user.population,
                    lat: user.location.lat,
                    lon: user.location.lon,
                    country: user.country,
                    case: c as u16,
                    ingress: ucs[s].ingress,
                    slot: first_slot[s],
                    rtt_mean_ms: (delivered[s] > 0)
                        .then(|| rtt_sum[s] as f64 / delivered[s] as f64 / 1000.0),
                });
            }
        }
        for &c in &affected {
            is_affected[c as usize] = false;
        }
    }
}

/// Adds (or, with `add == false`, takes back) one user's connections in one table entry.
#[inline]
fn add_connections(m: &mut Metrics, v6: bool, i: usize, micro: u64, add: bool) {
    let x = if v6 {
        &mut m.connections_v6_micro[i]
    } else {
        &mut m.connections_v4_micro[i]
    };
    *x = if add {
        x.wrapping_add(micro)
    } else {
        x.wrapping_sub(micro)
    };
}

/// Records (or takes back) one request in the three cell tables of case `c`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn record(
    m: &mut Metrics,
    c: usize,
    pop: usize,
    r: usize,
    route: &Route,
    ps: usize,
    us: u64,
    add: bool,
) {
    let slot = route.slot as usize;
    let ci = m.cell_index(c, pop, slot);
    let pi = m.policy_index(c, ps);
    let ri = m.resource_index(c, slot, r);
    if add {
        m.cells[ci].record(route, us);
        m.policy_cells[pi].record(route, us);
        m.resource_cells[ri].record(route, us);
    } else {
        m.cells[ci].unrecord(route, us);
        m.policy_cells[pi].unrecord(route, us);
        m.resource_cells[ri].unrecord(route, us);
    }
}

/// The failure cases that can change anything for a user: those taking down a data center among the
/// user's ingress candidates or a data center / egress IP that one of the user's baseline routes uses.
/// A case that touches none of them leaves every route of the user exactly as in the baseline
/// (balancing uses rendezvous hashing, so losing a location the user does not use moves nobody).
fn find_affected(p: &Prepared, base: &UserCase, routes: &[Route], out: &mut Vec<u16>) {
    out.clear();
    for &d in &base.near[..base.near_len as usize] {
        out.extend_from_slice(&p.cases_by_dc[d as usize]);
    }
    let n_egress = p.world.egress.len();
    let mut seen = 0u64;
    for r in routes {
        let s = r.slot as usize;
        if s < n_egress && seen >> s & 1 == 0 {
            seen |= 1 << s;
            out.extend_from_slice(&p.cases_by_egress[s]);
            let dc = p.world.egress[s].datacenter as usize;
            out.extend_from_slice(&p.cases_by_dc[dc]);
        }
    }
    if out.len() > 1 {
        out.sort_unstable();
        out.dedup();
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
mod failover_tests;
#[cfg(test)]
mod tests;
