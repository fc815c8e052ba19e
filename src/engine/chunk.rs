//! One chunk of users through every case: the engine's hot loop.
//!
//! Per user: the route of every (destination, IP version) the user can send to, once per case that can
//! change anything for the user; then the user's requests, drawn in blocks. A request only draws,
//! counts itself on its route entry, and increments one histogram bucket per case that moves it; the
//! counters (requests, outcomes, RTT sum, geolocation, allowlist) are added once per user and entry
//! (`n` requests at a time). Failure cases record their difference from the baseline (see
//! `metrics`), so an unaffected user costs a case nothing.

use crate::engine::metrics::{Metrics, SamplePoint};
use crate::engine::requests::Request;
use crate::engine::route::{self, Entry, Route, UserCase, UserGeo, UserInCase};
use crate::engine::tally::Tally;
use crate::engine::{Outcome, Prepared, RowSink, UserRow};
use crate::histogram::bucket_of;
use crate::matching::facts::FactsBuilder;
use crate::matching::matcher::{Scratch, UNMATCHED};
use crate::users::User;

/// Requests drawn and recorded together: enough to amortise the per-block passes, few enough to
/// stay in the first-level cache.
const BLOCK: usize = 256;

/// No case position / no row yet.
const NONE: u32 = u32::MAX;

/// What one user's requests on one route entry add up to.
#[derive(Debug, Clone, Copy, Default)]
struct EntryTally {
    /// Requests.
    n: u32,
    /// Sum of the requests' `extra_us`.
    extra_sum: u64,
    /// The baseline route's `base_us`.
    us: u32,
    /// The baseline route's tally row.
    row: u32,
    /// Requests in the current block.
    in_block: u32,
    /// End of the entry's requests in the block's grouped arrays (`extras`, `buckets`).
    end: u32,
}

/// What an affected failure case does to one route entry of the user.
#[derive(Debug, Clone, Copy, Default)]
struct CaseEntry {
    /// The route in the case.
    route: Route,
    /// `route.base_us()`.
    us: u32,
    /// The route was decided again for the case (it can differ from the baseline's).
    changed: bool,
    /// In this case's rows: where the baseline route's requests are taken back, and where the
    /// case's route records them (only for changed entries with requests).
    base_row: u32,
    row: u32,
}

/// A failure case that can change something for the current user.
#[derive(Debug, Clone, Copy, Default)]
struct Affected {
    case: u16,
    uc: UserCase,
    summary: UserSummary,
}

/// One user in one case, summed over its requests: what the user counts, the map and `users.csv`
/// need.
#[derive(Debug, Clone, Copy, Default)]
struct UserSummary {
    /// Egress slots with at least one request (bit per slot).
    slots_used: u64,
    /// Policy slots with at least one request.
    policies_used: [u64; 4],
    /// RTT of delivered requests, summed, µs.
    rtt_sum_us: u64,
    /// Delivered requests.
    delivered: u64,
    /// Egress slot of the first request.
    first_slot: u8,
    /// Requests leaving through another egress slot than in the baseline.
    rerouted: u64,
}

/// Everything one worker needs for a chunk; scratch tables are allocated once per chunk, never per
/// user or request.
pub(super) struct ChunkRun<'a, 'w> {
    p: &'a Prepared<'w>,
    m: &'a mut Metrics,
    tally: &'a mut Tally,
    /// Map sample stride (every `stride`-th user).
    stride: u64,
    facts: FactsBuilder<'w>,
    class_cache: Scratch,
    /// Per entry (`resource * 2 + ipv6`): the first matching policy.
    matches: Vec<u16>,
    /// The entries the current user can send to.
    possible: Vec<u32>,
    /// Per entry: the baseline route.
    routes: Vec<Route>,
    /// Per entry: the current user's requests on it.
    entries: Vec<EntryTally>,
    /// Entries with requests, in order of first use.
    used: Vec<u32>,
    /// Failure cases affecting the current user.
    affected: Vec<Affected>,
    /// Case ids returned by `find_affected`.
    affected_ids: Vec<u16>,
    /// Per case: its position in `affected`, or `NONE`.
    position: Vec<u32>,
    /// Per affected position and entry (`position * entries + entry`).
    case_entries: Vec<CaseEntry>,
    /// The current block of requests.
    block: Box<[Request]>,
    /// The block's `extra_us`, grouped by entry (in the order of `used`), and the baseline bucket of
    /// each.
    extras: Box<[u32]>,
    buckets: Box<[u32]>,
}

impl<'a, 'w> ChunkRun<'a, 'w> {
    /// Prepares a chunk that records into `m` (per-user counters) and `tally` (per-route counters
    /// and histograms).
    pub(super) fn new(
        p: &'a Prepared<'w>,
        m: &'a mut Metrics,
        tally: &'a mut Tally,
        stride: u64,
    ) -> Self {
        let w = p.world;
        let per_user = w.resources.len() * 2;
        let block = (w.requests_per_user as usize).min(BLOCK);
        Self {
            p,
            m,
            tally,
            stride,
            facts: FactsBuilder::new(w),
            class_cache: Scratch::default(),
            matches: vec![UNMATCHED; per_user],
            possible: Vec::with_capacity(per_user),
            routes: vec![Route::default(); per_user],
            entries: vec![EntryTally::default(); per_user],
            used: Vec::with_capacity(per_user),
            affected: Vec::new(),
            affected_ids: Vec::new(),
            position: vec![NONE; w.cases.len()],
            case_entries: Vec::new(),
            block: vec![Request::default(); block].into_boxed_slice(),
            extras: vec![0; block].into_boxed_slice(),
            buckets: vec![0; block].into_boxed_slice(),
        }
    }

    /// Simulates user `index` in every case; appends its `users.csv` rows to `rows` when given.
    pub(super) fn user(&mut self, index: u64, rows: Option<&mut RowSink>) {
        let p = self.p;
        let (user, mut rng) = p.user(index);
        let geo = UserGeo::new(p, &user);
        if !p.matcher.is_empty() {
            self.facts.set_user(&user);
        }
        p.matcher.first_matches(
            p.world,
            &self.facts,
            &user,
            &mut self.class_cache,
            &mut self.matches,
        );
        let (base_uc, nearby) = route::baseline_case(p, &user, &geo);
        self.baseline_routes(&user, &geo, &base_uc);
        if p.world.cases.len() > 1 {
            self.failure_routes(&user, &geo, (&base_uc, &nearby));
        }
        self.add_connections(&user);
        let first = self.record_requests(&user, &mut rng);
        self.record_counters();
        let base = self.summarize_all(first);
        self.count_user(&user, &base_uc, &base);
        if index % self.stride == 0 && p.world.requests_per_user > 0 {
            self.m.samples.push(SamplePoint {
                user: index,
                lat: user.location.lat as f32,
                lon: user.location.lon as f32,
                slot: base.first_slot as u16,
                ingress: base_uc.ingress,
            });
        }
        if let Some(rows) = rows {
            self.user_rows(&user, &base_uc, &base, rows);
        }
        self.reset_user();
    }

    fn entry(&self, k: usize) -> Entry {
        Entry {
            resource: k / 2,
            ipv6: k % 2 == 1,
            policy: self.matches[k],
        }
    }

    /// The baseline route of every entry the user can send to.
    fn baseline_routes(&mut self, user: &User, geo: &UserGeo, uc: &UserCase) {
        let p = self.p;
        let at = UserInCase {
            user,
            geo,
            uc,
            case: 0,
        };
        self.possible.clear();
        for k in 0..self.routes.len() {
            if p.requests.possible(user.ipv6_capable, k) {
                self.possible.push(k as u32);
                self.routes[k] = route::decide(p, &at, self.entry(k));
            }
        }
    }

    /// The failure cases that can change anything for the user, and their routes.
    fn failure_routes(&mut self, user: &User, geo: &UserGeo, base: (&UserCase, &route::Nearby)) {
        let p = self.p;
        let base_uc = base.0;
        let w = p.world;
        find_affected(
            p,
            base_uc,
            &self.routes,
            &self.possible,
            &mut self.affected_ids,
        );
        let per_user = self.routes.len();
        let need = self.affected_ids.len() * per_user;
        if self.case_entries.len() < need {
            self.case_entries.resize(need, CaseEntry::default());
        }
        for (j, &c) in self.affected_ids.iter().enumerate() {
            let c = c as usize;
            self.position[c] = j as u32;
            let down = &w.cases[c].dc_down;
            let ingress_kept = !base_uc.near[..base_uc.near_len as usize]
                .iter()
                .any(|&d| down[d as usize]);
            // Same ingress: a route can only change if its egress IP is down in this case, or if it
            // is unmatched traffic whose balanced egress moved; most decisions are kept.
            let uc = route::failure_case(p, user, geo, c, base);
            let at = UserInCase {
                user,
                geo,
                uc: &uc,
                case: c,
            };
            for &k in &self.possible {
                let k = k as usize;
                let base = self.routes[k];
                let slot = base.slot as usize;
                let stale = !ingress_kept
                    || (slot < w.egress.len() && !p.egress_up[c][slot])
                    || (base.policy == UNMATCHED && uc.balanced != base_uc.balanced);
                let route = if stale {
                    route::decide(p, &at, self.entry(k))
                } else {
                    base
                };
                // A re-decided route is treated as changed even in the rare event that it comes out
                // equal: taking its requests back and adding them again nets to zero, and skipping
                // the comparison saves more than the rare extra work costs.
                self.case_entries[j * per_user + k] = CaseEntry {
                    route,
                    us: route.base_us(),
                    changed: stale,
                    base_row: NONE,
                    row: NONE,
                };
            }
            self.affected.push(Affected {
                case: c as u16,
                uc,
                summary: UserSummary::default(),
            });
        }
    }

    /// Concurrent connections: the user's pool split across destinations by weight, then by IP
    /// version, in the baseline and (as a difference) in every case that moves them.
    fn add_connections(&mut self, user: &User) {
        let w = self.p.world;
        let total_weight: f64 = w.resources.iter().map(|r| r.weight).sum();
        let per_user = self.routes.len();
        let n_egress = w.egress.len();
        for &k in &self.possible {
            let k = k as usize;
            let (r, v6) = (k / 2, k % 2 == 1);
            let micro = super::connections_micro(w, user, total_weight, k);
            let base_slot = self.routes[k].slot as usize;
            if base_slot < n_egress {
                let i = self.m.connection_index(0, base_slot, r);
                add_connections(self.m, v6, i, micro);
            }
            for (j, a) in self.affected.iter().enumerate() {
                let c = a.case as usize;
                let slot = self.case_entries[j * per_user + k].route.slot as usize;
                if slot == base_slot {
                    continue;
                }
                if base_slot < n_egress {
                    let i = self.m.connection_index(c, base_slot, r);
                    add_connections(self.m, v6, i, micro.wrapping_neg());
                }
                if slot < n_egress {
                    let i = self.m.connection_index(c, slot, r);
                    add_connections(self.m, v6, i, micro);
                }
            }
        }
    }

    /// Draws the user's requests block by block and records each one's RTT bucket in the baseline
    /// and in every case that changes its route. Returns the entry of the first request.
    fn record_requests(&mut self, user: &User, rng: &mut crate::users::UserRng) -> Option<usize> {
        let pop = user.population as usize;
        let mut requests = self.p.requests.requests(user, rng);
        let mut first = None;
        loop {
            let n = requests.fill(&mut self.block);
            let Some(q) = self.block[..n].first() else {
                return first;
            };
            first = first.or(Some(q.entry()));
            let known = self.used.len();
            self.count_block(n);
            for i in known..self.used.len() {
                self.resolve_rows(pop, self.used[i] as usize);
            }
            self.group_block(n);
            self.record_baseline_block();
            for j in 0..self.affected.len() {
                self.record_case_block(j);
            }
            for &k in &self.used {
                self.entries[k as usize].in_block = 0;
            }
        }
    }

    /// Counts the block's requests per entry (noting entries used for the first time).
    fn count_block(&mut self, n: usize) {
        for q in &self.block[..n] {
            let e = &mut self.entries[q.entry()];
            if e.n == 0 {
                self.used.push(q.entry() as u32);
            }
            e.n += 1;
            e.in_block += 1;
            e.extra_sum += q.extra_us as u64;
        }
    }

    /// Puts the block's extra times in entry order (a counting sort over the used entries), so that
    /// each entry's requests are recorded together, with its rows and route at hand.
    fn group_block(&mut self, n: usize) {
        let mut at = 0;
        for &k in &self.used {
            let e = &mut self.entries[k as usize];
            e.end = at;
            at += e.in_block;
        }
        for q in &self.block[..n] {
            let e = &mut self.entries[q.entry()];
            self.extras[e.end as usize] = q.extra_us;
            e.end += 1;
        }
    }

    /// Finds the tally rows of an entry that just got its first request.
    fn resolve_rows(&mut self, pop: usize, k: usize) {
        let route = self.routes[k];
        let e = &mut self.entries[k];
        e.us = route.base_us();
        e.row = self.tally.row(self.m, 0, pop, k / 2, &route);
        let per_user = self.routes.len();
        for (j, a) in self.affected.iter().enumerate() {
            let ce = &mut self.case_entries[j * per_user + k];
            if ce.changed {
                let c = a.case as usize;
                ce.base_row = self.tally.row(self.m, c, pop, k / 2, &route);
                ce.row = self.tally.row(self.m, c, pop, k / 2, &ce.route);
            }
        }
    }

    /// The block's requests in the baseline: one histogram bucket each (dropped requests have no
    /// RTT), kept for the failure cases to take back.
    fn record_baseline_block(&mut self) {
        for &k in &self.used {
            let k = k as usize;
            let e = self.entries[k];
            if e.in_block == 0 || self.routes[k].outcome == Outcome::Dropped as u8 {
                continue;
            }
            let range = (e.end - e.in_block) as usize..e.end as usize;
            let rtt = &mut self.tally.get(e.row).rtt;
            for (&x, b) in self.extras[range.clone()]
                .iter()
                .zip(&mut self.buckets[range])
            {
                let bucket = bucket_of(e.us as u64 + x as u64);
                rtt.add(bucket);
                *b = bucket as u32;
            }
        }
    }

    /// The block's requests in affected case `j`: the requests of each entry whose route the case
    /// changes leave their baseline buckets and join their case buckets.
    fn record_case_block(&mut self, j: usize) {
        let per_user = self.routes.len();
        for &k in &self.used {
            let k = k as usize;
            let e = self.entries[k];
            let ce = self.case_entries[j * per_user + k];
            if e.in_block == 0 || !ce.changed {
                continue;
            }
            let range = (e.end - e.in_block) as usize..e.end as usize;
            if self.routes[k].outcome != Outcome::Dropped as u8 {
                let rtt = &mut self.tally.get(ce.base_row).rtt;
                for &b in &self.buckets[range.clone()] {
                    rtt.take_back(b as usize);
                }
            }
            if ce.route.outcome != Outcome::Dropped as u8 {
                let rtt = &mut self.tally.get(ce.row).rtt;
                for &x in &self.extras[range] {
                    rtt.add(bucket_of(ce.us as u64 + x as u64));
                }
            }
        }
    }

    /// The per-route counters, once per entry with requests: `n` requests at a time.
    fn record_counters(&mut self) {
        let per_user = self.routes.len();
        for &k in &self.used {
            let k = k as usize;
            let e = self.entries[k];
            let n = e.n as u64;
            let base = &self.routes[k];
            let base_sum = n * e.us as u64 + e.extra_sum;
            self.tally.get(e.row).cell.add_requests(base, n, base_sum);
            for j in 0..self.affected.len() {
                let ce = &self.case_entries[j * per_user + k];
                if !ce.changed {
                    continue;
                }
                let sum = n * ce.us as u64 + e.extra_sum;
                self.tally.get(ce.base_row).cell.add_requests(
                    base,
                    n.wrapping_neg(),
                    base_sum.wrapping_neg(),
                );
                self.tally.get(ce.row).cell.add_requests(&ce.route, n, sum);
            }
        }
    }

    /// The baseline summary of the user (returned) and each affected case's (stored with the case).
    fn summarize_all(&mut self, first: Option<usize>) -> UserSummary {
        let per_user = self.routes.len();
        let unmatched = self.m.policy_slots - 1;
        let mut base = UserSummary::default();
        let mut cases = std::mem::take(&mut self.affected);
        for &k in &self.used {
            let k = k as usize;
            let e = self.entries[k];
            let route = &self.routes[k];
            add_to_summary(&mut base, route, e, e.us, unmatched);
            for (j, a) in cases.iter_mut().enumerate() {
                let ce = &self.case_entries[j * per_user + k];
                add_to_summary(&mut a.summary, &ce.route, e, ce.us, unmatched);
                if ce.route.slot != route.slot {
                    a.summary.rerouted += e.n as u64;
                }
            }
        }
        if let Some(k) = first {
            base.first_slot = self.routes[k].slot;
            for (j, a) in cases.iter_mut().enumerate() {
                a.summary.first_slot = self.case_entries[j * per_user + k].route.slot;
            }
        }
        self.affected = cases;
        base
    }

    /// Users per slot and per policy, and what each case moved: in the baseline, and as a
    /// difference in each affected case (leave the baseline's sets, join the case's).
    fn count_user(&mut self, user: &User, base_uc: &UserCase, base: &UserSummary) {
        let m = &mut *self.m;
        let pop = user.population as usize;
        add_users(m, 0, pop, base, 1);
        for a in &self.affected {
            let c = a.case as usize;
            add_users(m, c, pop, base, u64::MAX);
            add_users(m, c, pop, &a.summary, 1);
            let shift = &mut m.shifts[c * m.populations + pop];
            shift.users_ingress_moved += (a.uc.ingress != base_uc.ingress) as u64;
            shift.users_egress_changed += (a.summary.rerouted > 0) as u64;
            shift.requests_rerouted += a.summary.rerouted;
        }
    }

    /// The user's `users.csv` rows: one per case (unaffected cases repeat the baseline).
    fn user_rows(&self, user: &User, base_uc: &UserCase, base: &UserSummary, sink: &mut RowSink) {
        for (c, &pos) in self.position.iter().enumerate() {
            if !sink.cases.get(c).copied().unwrap_or(true) {
                continue;
            }
            let (uc, s) = match self.affected.get(pos as usize) {
                Some(a) if pos != NONE => (&a.uc, &a.summary),
                _ => (base_uc, base),
            };
            sink.rows.push(UserRow {
                user: user.index,
                population: user.population,
                lat: user.location.lat,
                lon: user.location.lon,
                country: user.country,
                case: c as u16,
                ingress: uc.ingress,
                slot: s.first_slot,
                rtt_mean_ms: (s.delivered > 0)
                    .then(|| s.rtt_sum_us as f64 / s.delivered as f64 / 1000.0),
            });
        }
    }

    fn reset_user(&mut self) {
        for &k in &self.used {
            self.entries[k as usize] = EntryTally::default();
        }
        self.used.clear();
        for a in &self.affected {
            self.position[a.case as usize] = NONE;
        }
        self.affected.clear();
    }
}

/// Adds one entry's requests (on `route`, whose `base_us` is `us`) to a user summary.
fn add_to_summary(s: &mut UserSummary, route: &Route, e: EntryTally, us: u32, unmatched: usize) {
    let ps = if route.policy == UNMATCHED {
        unmatched
    } else {
        route.policy as usize
    };
    s.policies_used[ps / 64] |= 1 << (ps % 64);
    s.slots_used |= 1 << route.slot;
    if route.outcome != Outcome::Dropped as u8 {
        s.rtt_sum_us += e.n as u64 * us as u64 + e.extra_sum;
        s.delivered += e.n as u64;
    }
}

/// Adds `by` (1, or `u64::MAX` to take one back) to the users of every egress slot and policy slot
/// the summary used, in case `c`.
fn add_users(m: &mut Metrics, c: usize, pop: usize, s: &UserSummary, by: u64) {
    for_each_bit(&[s.slots_used], |slot| {
        let i = m.cell_index(c, pop, slot);
        m.cells[i].users = m.cells[i].users.wrapping_add(by);
    });
    for_each_bit(&s.policies_used, |ps| {
        let i = m.policy_index(c, ps);
        m.policy_cells[i].users = m.policy_cells[i].users.wrapping_add(by);
    });
}

/// Adds (or, with a negated `micro`, takes back) one user's connections in one table entry.
#[inline]
fn add_connections(m: &mut Metrics, v6: bool, i: usize, micro: u64) {
    let x = if v6 {
        &mut m.connections_v6_micro[i]
    } else {
        &mut m.connections_v4_micro[i]
    };
    *x = x.wrapping_add(micro);
}

/// The failure cases that can change anything for a user: those taking down a data center among the
/// user's ingress candidates or a data center / egress IP that one of the user's baseline routes uses.
/// A case that touches none of them leaves every route of the user exactly as in the baseline
/// (balancing uses rendezvous hashing, so losing a location the user does not use moves nobody).
fn find_affected(
    p: &Prepared,
    base: &UserCase,
    routes: &[Route],
    possible: &[u32],
    out: &mut Vec<u16>,
) {
    out.clear();
    for &d in &base.near[..base.near_len as usize] {
        out.extend_from_slice(&p.cases_by_dc[d as usize]);
    }
    let n_egress = p.world.egress.len();
    let mut seen = 0u64;
    for &k in possible {
        let s = routes[k as usize].slot as usize;
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
