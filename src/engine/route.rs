//! Where one user's traffic goes in one case: ingress, balanced egress, and per-destination decisions.
//!
//! Decisions depend on the user, the case, the destination and the IP version, never on the individual
//! request, so the simulator computes them once per user into a small table and every request is a
//! table lookup plus its own random jitter.

use crate::catalog::CountryId;
use crate::engine::metrics::Outcome;
use crate::engine::Prepared;
use crate::geodesy::unit_vector_distance_km;
use crate::ingress;
use crate::latency::Network;
use crate::matching::matcher::UNMATCHED;
use crate::nearest::Neighbor;
use crate::policy::{Action, Fallback};
use crate::users::{user_hash, User};
use crate::world::{BalancingMode, DcId, EgressId};
use std::net::Ipv4Addr;

// Hash purpose tags; 1 is the anycast rank (`crate::ingress`).
const HASH_SITE: u64 = 2;
const HASH_EGRESS: u64 = 3;

/// A user's connection to Cloudflare in one case.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UserCase {
    /// Ingress data center; `None` when every data center is down.
    pub ingress: Option<DcId>,
    /// Distance user → ingress, km.
    pub ingress_km: f32,
    /// Internet RTT user → ingress, ms.
    pub ingress_ms: f32,
    /// The nearest available dedicated location's egress IP, if any is up: where unmatched traffic
    /// goes in `nearest` balancing (in `fastest` mode each destination's choice is made by `decide`).
    pub balanced: Option<EgressId>,
    /// The data centers that decided the ingress: the nearest available ones up to the user's anycast
    /// rank (a failure of any of them moves the user).
    pub near: [DcId; 3],
    /// Number of valid entries in `near`.
    pub near_len: u8,
}

/// The decision for one (user, case, destination, IP version).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Route {
    /// RTT without access and jitter, ms.
    pub base_ms: f32,
    /// User → apparent location distance, metres.
    pub apparent_m: u32,
    /// Egress slot (egress index, default slot or dropped slot).
    pub slot: u8,
    /// [`Outcome`] as u8.
    pub outcome: u8,
    /// Refused by the destination's allowlist.
    pub blocked: bool,
    /// Apparent country differs from the user's.
    pub country_mismatch: bool,
    /// Apparent continent differs from the user's.
    pub continent_mismatch: bool,
    /// Physical egress data center.
    pub physical: DcId,
    /// Index of the policy that decided (into `World::policies`), or `UNMATCHED`.
    pub policy: u16,
    /// Broke a geography requirement (`require_egress_in`) of the policy or population.
    pub violation: bool,
}

impl Route {
    /// RTT without access and jitter, whole µs: a request's RTT is this plus its
    /// [`Request::extra_us`](super::requests::Request::extra_us).
    #[inline]
    pub fn base_us(&self) -> u32 {
        // Adding 0.5 and truncating rounds (the value is never negative) without a libm call.
        (self.base_ms.max(0.0) as f64 * 1000.0 + 0.5) as u32
    }
}

/// One user in one case: what every decision of that user in that case shares.
#[derive(Debug, Clone, Copy)]
pub struct UserInCase<'a> {
    /// The user.
    pub user: &'a User,
    /// The user's geometry.
    pub geo: &'a UserGeo,
    /// The user's ingress and balanced egress in `case`.
    pub uc: &'a UserCase,
    /// Case index.
    pub case: usize,
}

/// One entry of a user's route table: a destination, an IP version, and the policy that matched it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Destination (index into `World::resources`).
    pub resource: usize,
    /// Over IPv6.
    pub ipv6: bool,
    /// Index of the first matching policy (into `World::policies`), or `UNMATCHED`.
    pub policy: u16,
}

/// Geometry of one user computed once and shared by every case and destination.
#[derive(Debug, Clone, Copy)]
pub struct UserGeo {
    /// The user's unit vector.
    pub unit: [f64; 3],
    /// Great-circle distance to each dedicated site, km.
    pub site_km: [f64; 64],
}

impl UserGeo {
    /// Computes the user's geometry against the prepared sites.
    pub fn new(p: &Prepared, user: &User) -> Self {
        let unit = user.location.to_unit_vector();
        let mut site_km = [0.0; 64];
        for (d, s) in site_km.iter_mut().zip(&p.sites) {
            *d = unit_vector_distance_km(unit, s.unit);
        }
        Self { unit, site_km }
    }
}

/// Ingress and balanced egress of `user` in `case`.
pub fn user_case(p: &Prepared, user: &User, geo: &UserGeo, case: usize) -> UserCase {
    let rank = ingress::anycast_rank(p.world, user.index);
    let mut near = [NO_NEIGHBOR; 3];
    let n = p.nearest_up(case, user.location, &geo.unit, &mut near[..=rank]);
    let balanced = balanced_site(p, user, geo, case, None);
    case_with(p, rank, &near[..n], balanced)
}

/// The ingress of `user` in the baseline, and the nearest data centers beyond it that a failure
/// case can move the user to without searching again.
#[derive(Debug, Clone, Copy)]
pub struct Nearby {
    /// The user's anycast rank (see `anycast_rank`).
    rank: usize,
    /// The nearest data centers, nearest first (ties by lower data center).
    near: [Neighbor; NEARBY],
    /// Valid entries of `near`.
    len: usize,
    /// `near` holds every data center (there are no more than asked for).
    all: bool,
}

/// Nearest data centers kept per user: the anycast rank (up to 2) plus two spares, within what the
/// world's index answers from its candidate lists.
const NEARBY: usize = 5;

const NO_NEIGHBOR: Neighbor = Neighbor {
    index: 0,
    distance_km: 0.0,
};

/// The baseline [`UserCase`] of `user`, and what [`failure_case`] needs to derive the others.
pub fn baseline_case(p: &Prepared, user: &User, geo: &UserGeo) -> (UserCase, Nearby) {
    let rank = ingress::anycast_rank(p.world, user.index);
    let mut near = [NO_NEIGHBOR; NEARBY];
    // Spares only help when there are failure cases to derive.
    let want = if p.world.cases.len() > 1 {
        rank + 3
    } else {
        rank + 1
    };
    let len = p.nearest_up(0, user.location, &geo.unit, &mut near[..want]);
    let balanced = balanced_site(p, user, geo, 0, None);
    let uc = case_with(p, rank, &near[..len.min(rank + 1)], balanced);
    let all = len < want;
    (
        uc,
        Nearby {
            rank,
            near,
            len,
            all,
        },
    )
}

/// [`user_case`] in failure case `case`, derived from the baseline's when possible: the nearest
/// data centers it leaves up are the baseline's nearest minus the ones it takes down, as long as
/// enough of them remain; and the balanced egress stays the baseline's while that is up
/// (rendezvous hashing: losing a location the user does not use moves nobody).
pub fn failure_case(
    p: &Prepared,
    user: &User,
    geo: &UserGeo,
    case: usize,
    base: (&UserCase, &Nearby),
) -> UserCase {
    let (base_uc, nearby) = base;
    let up = &p.egress_up[case];
    let balanced = match base_uc.balanced {
        Some(e) if up[e as usize] => Some(e),
        _ => balanced_site(p, user, geo, case, None),
    };
    let down = &p.world.cases[case].dc_down;
    let mut near = [NO_NEIGHBOR; NEARBY];
    let mut n = 0;
    for x in &nearby.near[..nearby.len] {
        if !down[x.index as usize] {
            near[n] = *x;
            n += 1;
        }
    }
    let rank = nearby.rank;
    if n > rank || nearby.all {
        return case_with(p, rank, &near[..n.min(rank + 1)], balanced);
    }
    let n = p.nearest_up(case, user.location, &geo.unit, &mut near[..=rank]);
    case_with(p, rank, &near[..n], balanced)
}

/// The [`UserCase`] of `user` when its ingress candidates are `c` (from `ingress::candidates`,
/// for example with one more data center down than the world's cases take down) and its unmatched
/// traffic goes to `balanced`.
pub(crate) fn user_case_from(
    p: &Prepared,
    c: &ingress::Candidates,
    balanced: Option<EgressId>,
) -> UserCase {
    case_with(p, c.len.saturating_sub(1), &c.near[..c.len], balanced)
}

/// A [`UserCase`] from the nearest available data centers (nearest first, at most `rank + 1`).
fn case_with(p: &Prepared, rank: usize, near: &[Neighbor], balanced: Option<EgressId>) -> UserCase {
    let w = p.world;
    let n = near.len();
    let ingress = (n > 0).then(|| near[rank.min(n - 1)]);
    let mut near_ids = [0 as DcId; 3];
    for (d, x) in near_ids.iter_mut().zip(near) {
        *d = x.index as DcId;
    }
    UserCase {
        near: near_ids,
        near_len: n as u8,
        ingress: ingress.map(|x| x.index as DcId),
        ingress_km: ingress.map_or(0.0, |x| x.distance_km as f32),
        ingress_ms: ingress.map_or(0.0, |x| {
            w.latency.segment_rtt_ms(x.distance_km, Network::Internet) as f32
        }),
        balanced,
    }
}

/// What a balanced site is chosen for in `fastest` mode: the user's ingress in the case and one
/// destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toward {
    /// The user's ingress data center in the case.
    pub ingress: DcId,
    /// Destination (index into `World::resources`).
    pub resource: usize,
}

/// The one site choice for unmatched traffic, for both balancing modes: the egress IP of the
/// available dedicated location that minimises the mode's cost.
///
/// - `nearest` (or no `toward`): great-circle distance user → site; sites within the tie tolerance
///   count as tied. Without `toward` this is the nearest location whatever the mode (a user's
///   [`UserCase::balanced`]).
/// - `fastest` with `toward`: [`site_path_ms`] to that destination; only equal costs tie.
///
/// Ties, and several IPs in one data center, are split by rendezvous hashing on the user, so each
/// user keeps its choice and a failure moves only the users of the failed location. The result
/// depends on the user, the case and `toward` alone: a choice is sticky per user and destination.
pub fn balanced_site(
    p: &Prepared,
    user: &User,
    geo: &UserGeo,
    case: usize,
    toward: Option<Toward>,
) -> Option<EgressId> {
    match (p.world.balancing.mode, toward) {
        (BalancingMode::Fastest, Some(t)) => fastest_site(p, user, case, t),
        _ => nearest_site_of(p, user, geo, case),
    }
}

/// `fastest` mode: the available site with the lowest [`site_path_ms`]; only equal costs tie (split
/// by rendezvous hashing, hashing only on a tie). One pass, as it runs for every destination of every
/// user.
#[inline]
fn fastest_site(p: &Prepared, user: &User, case: usize, t: Toward) -> Option<EgressId> {
    let seed = p.world.seed;
    let site_hash =
        |s: usize| user_hash(seed, user.index, HASH_SITE ^ ((p.sites[s].dc as u64) << 8));
    let mut best = f32::INFINITY;
    // The best site so far, and its hash once a tie needed it.
    let mut chosen: Option<(usize, Option<u64>)> = None;
    for s in 0..p.sites.len() {
        if !p.site_up[case][s] {
            continue;
        }
        let ms = site_path_ms(p, s, t);
        if ms < best {
            best = ms;
            chosen = Some((s, None));
        } else if ms == best {
            if let Some((b, bh)) = chosen {
                let bh = bh.unwrap_or_else(|| site_hash(b));
                let h = site_hash(s);
                chosen = Some(if h > bh { (s, Some(h)) } else { (b, Some(bh)) });
            }
        }
    }
    site_egress(p, user, case, chosen?.0)
}

/// `nearest` mode: the available site nearest to the user; sites within the tie tolerance of the
/// nearest are tied and split by rendezvous hashing ([`nearest_site`], which the planner shares).
#[inline]
fn nearest_site_of(p: &Prepared, user: &User, geo: &UserGeo, case: usize) -> Option<EgressId> {
    let up = &p.site_up[case];
    let sites = p
        .sites
        .iter()
        .enumerate()
        .filter(|&(s, _)| up[s])
        .map(|(s, site)| (s, site.dc, geo.site_km[s]));
    site_egress(p, user, case, nearest_site(p.world, user.index, sites)?)
}

/// One of site `s`'s available egress IPs, by rendezvous hashing on the user and the IPv4 address
/// ([`site_ip`]).
#[inline]
fn site_egress(p: &Prepared, user: &User, case: usize, s: usize) -> Option<EgressId> {
    let w = p.world;
    let ips = p.sites[s]
        .egress
        .iter()
        .filter(|&&e| p.egress_up[case][e as usize])
        .map(|&e| (e, w.egress[e as usize].ipv4));
    site_ip(w.seed, user.index, ips)
}

/// The balancing rule `nearest` for unmatched traffic: among the available dedicated locations
/// `sites` (an identifier, the data center, its distance from the user in km), the nearest;
/// locations within the world's tie tolerance of the nearest are split by rendezvous hashing on
/// (user, data center), so a user keeps its choice. The engine and the planner (`crate::plan`) both
/// choose through here.
pub fn nearest_site<T: Copy>(
    world: &crate::world::World,
    user_index: u64,
    sites: impl Iterator<Item = (T, DcId, f64)> + Clone,
) -> Option<T> {
    let tol = world.balancing.tie_tolerance_km;
    let best_km = sites
        .clone()
        .map(|(_, _, km)| km)
        .fold(f64::INFINITY, f64::min);
    if !best_km.is_finite() {
        return None;
    }
    let mut chosen: Option<(u64, T)> = None;
    for (t, dc, km) in sites {
        if km <= best_km + tol {
            let h = user_hash(world.seed, user_index, HASH_SITE ^ ((dc as u64) << 8));
            if chosen.is_none_or(|(bh, _)| h > bh) {
                chosen = Some((h, t));
            }
        }
    }
    chosen.map(|(_, t)| t)
}

/// Which of a location's available egress IPs (`ips`: an identifier and the IPv4 address) a user's
/// unmatched traffic uses: rendezvous hashing on (user, IPv4 address). Keyed on the address rather
/// than the IP's position in the file, so reordering or appending `[[egress]]` entries moves nobody
/// (the planner relies on it to know who a new IP at an existing location takes over).
pub fn site_ip<T>(
    seed: u64,
    user_index: u64,
    ips: impl Iterator<Item = (T, Ipv4Addr)>,
) -> Option<T> {
    ips.max_by_key(|&(_, a)| {
        user_hash(
            seed,
            user_index,
            HASH_EGRESS ^ (u64::from(u32::from(a)) << 8),
        )
    })
    .map(|(t, _)| t)
}

/// Which destinations' allowlists accept an egress IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// As the world's allowlists say for this egress IP.
    Egress(EgressId),
    /// Every allowlist (a planned IP registered with every vendor).
    Everywhere,
    /// No allowlist (a planned IP nobody has registered yet).
    Nowhere,
}

/// A dedicated egress IP as a route uses it: where it is, as seen from one user and ingress, and who
/// accepts it. [`decide_via`] routes through one, so the planner can route through an IP it is only
/// considering exactly as the engine would once the IP is in the scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EgressPoint {
    /// Egress slot the route records (the IP's index in its world).
    pub slot: u8,
    /// Data center the IP is bound to.
    pub dc: DcId,
    /// Great-circle distance user → `dc`, km (as [`UserGeo`] computes it).
    pub user_km: f64,
    /// Backbone RTT from the user's ingress to `dc`, ms (`World::backbone_ms`).
    pub backbone_ms: f32,
    /// Which allowlists accept it.
    pub listed: Listed,
}

impl EgressPoint {
    /// The world's egress IP `e` seen from `geo` and `ingress`.
    #[inline]
    pub fn of(p: &Prepared, geo: &UserGeo, ingress: DcId, e: EgressId) -> Self {
        Self {
            slot: e as u8,
            dc: p.world.egress[e as usize].datacenter,
            user_km: geo.site_km[p.site_of_egress[e as usize]],
            backbone_ms: p.world.backbone_ms(ingress, e),
            listed: Listed::Egress(e),
        }
    }
}

/// Modelled round trip ingress → site's data center (backbone) → destination (internet), plus the
/// destination's processing time, ms: the part of an IPv4 request's RTT to a non-proxied destination
/// that depends on the site (`finish` adds the same terms, so the pick matches the reported RTT).
#[inline(always)]
pub fn site_path_ms(p: &Prepared, site: usize, t: Toward) -> f32 {
    let w = p.world;
    let s = &p.sites[site];
    w.backbone_ms(t.ingress, s.egress[0])
        + w.resource_ms(s.dc, t.resource)
        + w.resources[t.resource].processing_ms as f32
}

/// Decides one (user, case, destination, IP version): the route of `entry` for `at.user` in
/// `at.case`.
pub fn decide(p: &Prepared, at: &UserInCase, entry: Entry) -> Route {
    decide_via(p, at, entry, |ingress| {
        balanced_for(p, at, ingress, entry.resource).map(|e| EgressPoint::of(p, at.geo, ingress, e))
    })
}

/// [`decide`] with unmatched traffic leaving through `balanced(ingress)` (`None`: no dedicated
/// location is up) instead of `at.uc.balanced`; everything else (policies, fallbacks, IP versions,
/// paths, allowlists, geography requirements) as the engine decides it.
pub fn decide_via(
    p: &Prepared,
    at: &UserInCase,
    entry: Entry,
    balanced: impl FnOnce(DcId) -> Option<EgressPoint>,
) -> Route {
    let (user, policy) = (at.user, entry.policy);
    let Some(ingress) = at.uc.ingress else {
        return dropped(p, user, policy);
    };
    if p.world.resources[entry.resource].is_private(entry.ipv6) {
        return private_network(p, at, ingress, entry);
    }
    let point = |e: EgressId| Some(EgressPoint::of(p, at.geo, ingress, e));
    let (outcome, egress) = match p.world.policies.get(policy as usize).map(|x| x.action) {
        None => match balanced(ingress) {
            Some(e) => (Outcome::Dedicated, Some(e)),
            // No dedicated location is up: unmatched traffic can only leave through default egress.
            None => (Outcome::Default, None),
        },
        Some(Action::DefaultEgress) => (Outcome::Default, None),
        Some(Action::Dedicated { ipv6: v6, .. }) if entry.ipv6 => {
            // IPv6 egresses from the ingress data center with the dedicated range, wherever that range
            // is bound, and needs no secondary (GATEWAY-REFERENCE.md): no failure of the range's data
            // center or of its IPv4 address stops it. An egress IP without a range sends IPv6 to default
            // egress (warned at load time).
            if p.world.egress[v6 as usize].ipv6.is_some() {
                (Outcome::Dedicated, point(v6))
            } else {
                (Outcome::Default, None)
            }
        }
        Some(Action::Dedicated { ipv4, fallback, .. }) => {
            let up = &p.egress_up[at.case];
            if up[ipv4 as usize] {
                (Outcome::Dedicated, point(ipv4))
            } else {
                match fallback {
                    Fallback::Egress(f) if up[f as usize] => (Outcome::Fallback, point(f)),
                    Fallback::DefaultEgress => (Outcome::Fallback, None),
                    _ => (Outcome::Dropped, None),
                }
            }
        }
    };
    if outcome == Outcome::Dropped {
        return dropped(p, user, policy);
    }
    let mut route = finish(p, at, ingress, entry.resource, entry.ipv6, egress);
    route.outcome = outcome as u8;
    route.policy = policy;
    let apparent_dc = egress.map_or(ingress, |e| e.dc);
    route.violation = !p.requirements_met(user.population, policy, Some(apparent_dc));
    route
}

/// The balanced egress of unmatched traffic to `resource`: the user's nearest location (computed once
/// per user and case) in `nearest` mode, the fastest one to the destination in `fastest` mode.
#[inline]
fn balanced_for(p: &Prepared, at: &UserInCase, ingress: DcId, resource: usize) -> Option<EgressId> {
    match p.world.balancing.mode {
        BalancingMode::Nearest => at.uc.balanced,
        BalancingMode::Fastest => balanced_site(
            p,
            at.user,
            at.geo,
            at.case,
            Some(Toward { ingress, resource }),
        ),
    }
}

/// A request to a private network (behind Cloudflare Tunnel or Magic WAN): whatever policy matched,
/// it leaves the ingress data center on Cloudflare's shared addresses (GATEWAY-REFERENCE.md), so no
/// egress IP, failure of one, allowlist or egress geography requirement applies to it.
fn private_network(p: &Prepared, at: &UserInCase, ingress: DcId, entry: Entry) -> Route {
    Route {
        outcome: Outcome::PrivateNetwork as u8,
        policy: entry.policy,
        blocked: false,
        ..finish(p, at, ingress, entry.resource, entry.ipv6, None)
    }
}

fn dropped(p: &Prepared, user: &User, policy: u16) -> Route {
    Route {
        slot: p.dropped_slot,
        policy,
        outcome: Outcome::Dropped as u8,
        violation: !p.requirements_met(user.population, policy, None),
        ..Route::default()
    }
}

/// Physical path, RTT, geolocation and allowlist for a chosen egress (outcome and policy are left for
/// the caller to fill in).
fn finish(
    p: &Prepared,
    at: &UserInCase,
    ingress: DcId,
    resource: usize,
    ipv6: bool,
    egress: Option<EgressPoint>,
) -> Route {
    let (user, uc) = (at.user, at.uc);
    let w = p.world;
    let r = &w.resources[resource];
    // Only IPv4 to a destination outside Cloudflare crosses the backbone to the egress data center; every
    // other combination leaves from the ingress data center (GATEWAY-REFERENCE.md, "Where traffic egresses").
    let (physical, backbone_ms) = match egress {
        Some(e) if !ipv6 && !r.proxied => (e.dc, e.backbone_ms),
        _ => (ingress, 0.0),
    };
    let apparent_dc = egress.map_or(ingress, |e| e.dc);
    let apparent_country: CountryId = w.datacenters[apparent_dc as usize].country;
    let apparent_km = egress.map_or(uc.ingress_km as f64, |e| e.user_km);
    let blocked = match (&r.allowlist, egress) {
        (None, _) => false,
        (Some(allow), Some(e)) => match e.listed {
            Listed::Egress(e) => !allow[e as usize],
            Listed::Everywhere => false,
            Listed::Nowhere => true,
        },
        (Some(_), None) => true,
    };
    Route {
        base_ms: uc.ingress_ms
            + backbone_ms
            + w.resource_ms(physical, resource)
            + r.processing_ms as f32,
        // Adding 0.5 and truncating rounds (the value is never negative) without a libm call.
        apparent_m: (apparent_km * 1000.0 + 0.5) as u32,
        slot: egress.map_or(p.default_slot, |e| e.slot),
        outcome: Outcome::Dedicated as u8,
        blocked,
        country_mismatch: apparent_country != user.country,
        continent_mismatch: p.continent_of(apparent_country) != p.continent_of(user.country),
        physical,
        policy: UNMATCHED,
        violation: false,
    }
}
