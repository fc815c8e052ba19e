//! Per-user precomputation, once per plan: each user generated and matched as the engine does, its
//! requests drawn (the replay contract of `engine::requests`), the routes no plan can change
//! (traffic a policy matches) added into base accumulators, and for the unmatched traffic the
//! entries with their requests' extra times and the locations the user could be balanced to.

use std::collections::BTreeMap;
use std::ops::Range;

use rayon::prelude::*;

use super::acc::{Acc, EntryLoad};
use super::model::{Down, Model};
use crate::engine::requests::Request;
use crate::engine::route::{self, Entry, Route, UserCase, UserGeo, UserInCase};
use crate::engine::{connections_micro, Outcome, CHUNK_USERS};
use crate::geodesy::unit_vector_distance_km;
use crate::ingress;
use crate::matching::facts::FactsBuilder;
use crate::matching::matcher::{Scratch, UNMATCHED};
use crate::users::User;
use crate::world::DcId;

/// One user's precomputed data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserData {
    pub(crate) user: User,
    /// The user's unit vector.
    pub(crate) unit: [f64; 3],
    /// Baseline ingress (its `balanced` is the evaluation world's and is never read).
    pub(crate) uc: UserCase,
    entries: (u32, u32),
    options: (u32, u32),
    alts: (u32, u32),
}

/// One unmatched route entry of a user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UEntry {
    /// `resource * 2 + ipv6`.
    pub(crate) k: u16,
    /// Requests.
    pub(crate) n: u32,
    /// First of its extra times in `Users::extras`.
    extras: u32,
    extra_sum: u64,
    micro: u64,
}

/// The user's connection to Cloudflare when one of its ingress candidates is down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Alt {
    dc: DcId,
    uc: UserCase,
}

/// Every user's precomputed data, and what no plan changes.
#[derive(Default)]
pub(crate) struct Users {
    pub(crate) users: Vec<UserData>,
    entries: Vec<UEntry>,
    extras: Vec<u32>,
    opt_site: Vec<u16>,
    opt_km: Vec<f64>,
    alts: Vec<Alt>,
    /// Policy-matched traffic in the baseline.
    pub(crate) base: Acc,
    /// Policy-matched traffic in each single failure, minus the baseline's.
    pub(crate) base_delta: BTreeMap<Down, Acc>,
    /// Per site: the users that have it among their options, and its position there.
    pub(crate) watch: Vec<Vec<(u32, u32)>>,
    /// Per data center: the users with it among their ingress candidates (robust only).
    pub(crate) near: Vec<Vec<u32>>,
}

/// What a chunk of users produced.
struct ChunkOut {
    users: Vec<UserData>,
    entries: Vec<UEntry>,
    extras: Vec<u32>,
    opt_site: Vec<u16>,
    opt_km: Vec<f64>,
    alts: Vec<Alt>,
    base: Acc,
    base_delta: BTreeMap<Down, Acc>,
}

impl Users {
    /// Precomputes every user of the model's world.
    pub(crate) fn prepare(m: &Model) -> Self {
        let w = m.p.world;
        let chunks = w.users.div_ceil(CHUNK_USERS);
        let outs: Vec<ChunkOut> = m.pool.install(|| {
            (0..chunks)
                .into_par_iter()
                .map(|c| {
                    let first = c * CHUNK_USERS;
                    prepare_chunk(m, first..(first + CHUNK_USERS).min(w.users))
                })
                .collect()
        });
        let mut all = Users {
            base: Acc::new(m.picks(), w.resources.len()),
            watch: vec![Vec::new(); m.sites.len()],
            near: vec![Vec::new(); if m.robust { w.datacenters.len() } else { 0 }],
            ..Users::default()
        };
        for o in outs {
            all.append(o);
        }
        for u in 0..all.users.len() {
            let (start, end) = all.users[u].options;
            for i in start..end {
                all.watch[all.opt_site[i as usize] as usize].push((u as u32, i));
            }
            if m.robust {
                let (start, end) = all.users[u].alts;
                for a in &all.alts[start as usize..end as usize] {
                    all.near[a.dc as usize].push(u as u32);
                }
            }
        }
        all
    }

    fn append(&mut self, o: ChunkOut) {
        let shift = |r: (u32, u32), by: usize| (r.0 + by as u32, r.1 + by as u32);
        let (ne, no, na, nx) = (
            self.entries.len(),
            self.opt_site.len(),
            self.alts.len(),
            self.extras.len(),
        );
        for mut d in o.users {
            d.entries = shift(d.entries, ne);
            d.options = shift(d.options, no);
            d.alts = shift(d.alts, na);
            self.users.push(d);
        }
        self.entries.extend(o.entries.into_iter().map(|mut e| {
            e.extras += nx as u32;
            e
        }));
        self.extras.extend(o.extras);
        self.opt_site.extend(o.opt_site);
        self.opt_km.extend(o.opt_km);
        self.alts.extend(o.alts);
        self.base.merge(&o.base);
        for (k, a) in o.base_delta {
            match self.base_delta.get_mut(&k) {
                Some(x) => x.merge(&a),
                None => {
                    self.base_delta.insert(k, a);
                }
            }
        }
    }

    /// The unmatched entries of user `u`.
    pub(crate) fn entries(&self, u: usize) -> &[UEntry] {
        let (a, b) = self.users[u].entries;
        &self.entries[a as usize..b as usize]
    }

    /// What an entry adds.
    #[inline]
    pub(crate) fn load(&self, e: &UEntry) -> EntryLoad<'_> {
        EntryLoad {
            resource: e.k as usize / 2,
            ipv6: e.k % 2 == 1,
            n: e.n as u64,
            extra_sum: e.extra_sum,
            extras: &self.extras[e.extras as usize..e.extras as usize + e.n as usize],
            micro: e.micro,
        }
    }

    /// The user's options: (site, distance km), nearest first.
    #[inline]
    pub(crate) fn options(&self, u: usize) -> impl Iterator<Item = (usize, f64)> + Clone + '_ {
        let (a, b) = self.users[u].options;
        let r: Range<usize> = a as usize..b as usize;
        self.opt_site[r.clone()]
            .iter()
            .zip(&self.opt_km[r])
            .map(|(&s, &km)| (s as usize, km))
    }

    /// Distance of option `i` (a position from `watch`).
    #[inline]
    pub(crate) fn option_km(&self, i: u32) -> f64 {
        self.opt_km[i as usize]
    }

    /// The data centers among the user's ingress candidates whose failure the model looks at.
    pub(crate) fn alt_dcs(&self, u: usize) -> impl Iterator<Item = DcId> + '_ {
        let (a, b) = self.users[u].alts;
        self.alts[a as usize..b as usize].iter().map(|x| x.dc)
    }

    /// The user's connection to Cloudflare with data center `dc` down, when `dc` is one of its
    /// ingress candidates.
    pub(crate) fn alt(&self, u: usize, dc: DcId) -> Option<UserCase> {
        let (a, b) = self.users[u].alts;
        self.alts[a as usize..b as usize]
            .iter()
            .find(|x| x.dc == dc)
            .map(|x| x.uc)
    }
}

/// Scratch space of one chunk.
struct ChunkScratch<'w> {
    facts: FactsBuilder<'w>,
    cache: Scratch,
    matches: Vec<u16>,
    requests: Vec<Request>,
    /// Per entry: requests, sum of extras, and the extras grouped by entry.
    counts: Vec<u32>,
    sums: Vec<u64>,
    starts: Vec<u32>,
    grouped: Vec<u32>,
    routes: Vec<Route>,
}

fn prepare_chunk(m: &Model, range: Range<u64>) -> ChunkOut {
    let w = m.p.world;
    let per_user = w.resources.len() * 2;
    let mut s = ChunkScratch {
        facts: FactsBuilder::new(w),
        cache: Scratch::default(),
        matches: vec![UNMATCHED; per_user],
        requests: Vec::new(),
        counts: vec![0; per_user],
        sums: vec![0; per_user],
        starts: vec![0; per_user + 1],
        grouped: Vec::new(),
        routes: vec![Route::default(); per_user],
    };
    let mut out = ChunkOut {
        users: Vec::with_capacity((range.end - range.start) as usize),
        entries: Vec::new(),
        extras: Vec::new(),
        opt_site: Vec::new(),
        opt_km: Vec::new(),
        alts: Vec::new(),
        base: Acc::new(m.picks(), w.resources.len()),
        base_delta: BTreeMap::new(),
    };
    for index in range {
        prepare_user(m, index, &mut s, &mut out);
    }
    out
}

/// Draws the user's requests and groups their extra times by entry.
fn draw_requests(m: &Model, user: &User, rng: &mut crate::users::UserRng, s: &mut ChunkScratch) {
    s.requests.clear();
    s.requests.extend(m.p.requests.requests(user, rng));
    s.counts.fill(0);
    s.sums.fill(0);
    for q in &s.requests {
        s.counts[q.entry()] += 1;
        s.sums[q.entry()] += q.extra_us as u64;
    }
    let mut at = 0;
    for k in 0..s.counts.len() {
        s.starts[k] = at;
        at += s.counts[k];
    }
    s.starts[s.counts.len()] = at;
    s.grouped.clear();
    s.grouped.resize(at as usize, 0);
    let mut fill = s.starts.clone();
    for q in &s.requests {
        let k = q.entry();
        s.grouped[fill[k] as usize] = q.extra_us;
        fill[k] += 1;
    }
}

fn prepare_user(m: &Model, index: u64, s: &mut ChunkScratch, out: &mut ChunkOut) {
    let p = &m.p;
    let w = p.world;
    let (user, mut rng) = p.user(index);
    let geo = UserGeo::new(p, &user);
    if !p.matcher.is_empty() {
        s.facts.set_user(&user);
    }
    p.matcher
        .first_matches(w, &s.facts, &user, &mut s.cache, &mut s.matches);
    let (uc, _) = route::baseline_case(p, &user, &geo);
    draw_requests(m, &user, &mut rng, s);
    let total_weight: f64 = w.resources.iter().map(|r| r.weight).sum();
    let at = UserInCase {
        user: &user,
        geo: &geo,
        uc: &uc,
        case: 0,
    };
    let entries_start = out.entries.len() as u32;
    let mut policy_entries: Vec<usize> = Vec::new();
    for k in 0..per_entry_count(w) {
        if !p.requests.possible(user.ipv6_capable, k) {
            continue;
        }
        let micro = connections_micro(w, &user, total_weight, k);
        let (a, b) = (s.starts[k] as usize, s.starts[k + 1] as usize);
        if s.matches[k] == UNMATCHED {
            out.entries.push(UEntry {
                k: k as u16,
                n: s.counts[k],
                extras: out.extras.len() as u32,
                extra_sum: s.sums[k],
                micro,
            });
            out.extras.extend_from_slice(&s.grouped[a..b]);
            continue;
        }
        let entry = Entry {
            resource: k / 2,
            ipv6: k % 2 == 1,
            policy: s.matches[k],
        };
        let r = route::decide(p, &at, entry);
        s.routes[k] = r;
        let load = entry_load(k, s, micro);
        out.base.add(&r, &load, kept_slot(m, &r), 1);
        policy_entries.push(k);
    }
    let alts_start = out.alts.len() as u32;
    if m.robust {
        robust_user(m, (&user, &geo, &uc), &policy_entries, s, out);
    }
    let options_start = out.opt_site.len() as u32;
    user_options(m, &geo, out);
    out.users.push(UserData {
        unit: geo.unit,
        user,
        uc,
        entries: (entries_start, out.entries.len() as u32),
        options: (options_start, out.opt_site.len() as u32),
        alts: (alts_start, out.alts.len() as u32),
    });
}

fn per_entry_count(w: &crate::world::World) -> usize {
    w.resources.len() * 2
}

fn entry_load<'a>(k: usize, s: &'a ChunkScratch, micro: u64) -> EntryLoad<'a> {
    let (a, b) = (s.starts[k] as usize, s.starts[k + 1] as usize);
    EntryLoad {
        resource: k / 2,
        ipv6: k % 2 == 1,
        n: s.counts[k] as u64,
        extra_sum: s.sums[k],
        extras: &s.grouped[a..b],
        micro,
    }
}

/// The kept egress IP a policy route's connections count on (as the engine counts them on the
/// route's slot).
fn kept_slot(m: &Model, r: &Route) -> Option<usize> {
    ((r.slot as usize) < m.kept && r.outcome != Outcome::Dropped as u8).then_some(r.slot as usize)
}

/// The sites the user could be balanced to: every one within the distance of the nearest kept
/// site that any case leaves up (the nearest; the second nearest when one failure may take the
/// nearest down), plus the tie tolerance. Beyond that no plan and no single failure sends the user.
fn user_options(m: &Model, geo: &UserGeo, out: &mut ChunkOut) {
    let tol = m.p.world.balancing.tie_tolerance_km;
    let km: Vec<f64> = m
        .sites
        .iter()
        .map(|s| unit_vector_distance_km(geo.unit, s.unit))
        .collect();
    let mut kept: Vec<f64> = m
        .sites
        .iter()
        .zip(&km)
        .filter(|(s, _)| !s.kept.is_empty())
        .map(|(_, &k)| k)
        .collect();
    kept.sort_by(f64::total_cmp);
    let bound = kept
        .get(if m.robust { 1 } else { 0 })
        .map_or(f64::INFINITY, |&k| k + tol);
    let mut opts: Vec<(f64, usize)> = km
        .iter()
        .enumerate()
        .filter(|(_, &k)| k <= bound)
        .map(|(s, &k)| (k, s))
        .collect();
    opts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (k, s) in opts {
        out.opt_site.push(s as u16);
        out.opt_km.push(k);
    }
}

/// Robust only: the user's ingress with each relevant ingress candidate down, and the changes to
/// its policy routes in every single failure that touches them.
fn robust_user(
    m: &Model,
    who: (&User, &UserGeo, &UserCase),
    policy_entries: &[usize],
    s: &ChunkScratch,
    out: &mut ChunkOut,
) {
    let (user, geo, uc) = who;
    let p = &m.p;
    let w = p.world;
    let start = out.alts.len();
    let mut downs: Vec<Down> = Vec::new();
    for &d in &uc.near[..uc.near_len as usize] {
        if m.relevant_dc[d as usize] {
            let c = ingress::candidates(w, user, &geo.unit, |i| i != d as u32);
            out.alts.push(Alt {
                dc: d,
                uc: route::user_case_from(p, &c, None),
            });
            downs.push(Down::Dc(d));
        }
    }
    for &k in policy_entries {
        if let Some(e) = kept_slot(m, &s.routes[k]) {
            downs.push(Down::Kept(e as u16));
            downs.push(Down::Dc(w.egress[e].datacenter));
        }
    }
    downs.sort_unstable();
    downs.dedup();
    let total_weight: f64 = w.resources.iter().map(|r| r.weight).sum();
    for down in downs {
        let alt = match down {
            Down::Dc(d) => out.alts[start..].iter().find(|a| a.dc == d).map(|a| a.uc),
            _ => None,
        };
        let case = match down {
            Down::Dc(d) => m.dc_case[d as usize],
            Down::Kept(e) => m.kept_case[e as usize],
            _ => 0,
        };
        let ucd = alt.unwrap_or(*uc);
        let at = UserInCase {
            user,
            geo,
            uc: &ucd,
            case,
        };
        for &k in policy_entries {
            let entry = Entry {
                resource: k / 2,
                ipv6: k % 2 == 1,
                policy: s.matches[k],
            };
            let r = route::decide(p, &at, entry);
            let base = &s.routes[k];
            if r == *base {
                continue;
            }
            let load = entry_load(k, s, connections_micro(w, user, total_weight, k));
            let acc = out
                .base_delta
                .entry(down)
                .or_insert_with(|| Acc::new(m.picks(), w.resources.len()));
            acc.add(&r, &load, kept_slot(m, &r), 1);
            acc.add(base, &load, kept_slot(m, base), -1);
        }
    }
}
