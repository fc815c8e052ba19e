//! The planning model: the dedicated locations a plan can use (the scenario's kept egress IPs and one
//! planned IP per candidate data center), and where unmatched traffic goes for a set of them in a
//! case, by the engine's own balancing rule ([`route::nearest_site`], [`route::site_ip`]) and routing
//! ([`route::decide_via`]).

use std::net::Ipv4Addr;

use crate::engine::route::{self, EgressPoint, Entry, Listed, UserCase, UserGeo, UserInCase};
use crate::engine::Prepared;
use crate::geodesy::unit_vector_distance_km;
use crate::matching::matcher::UNMATCHED;
use crate::world::{backbone_between_ms, DcId, EgressId, World, DEFAULT_CONNECTION_LIMIT};

use super::acc::{Acc, Limits};
use super::users::Users;

/// Where a user's unmatched traffic goes: kept egress IP `e` (`e < kept`), planned IP of candidate
/// `c` (`kept + c`), or [`NO_PICK`] (no dedicated location is up: default egress).
pub(crate) type Pick = u16;
/// No dedicated location is up.
pub(crate) const NO_PICK: Pick = u16::MAX;

/// A single failure the robust objective looks at (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Down {
    /// The baseline.
    None,
    /// A data center down (ingress moves, every IP there down).
    Dc(DcId),
    /// A kept egress IP down.
    Kept(EgressId),
    /// A planned IP down.
    Cand(u16),
}

/// A data center the plan can use: with kept IPs, a candidate, or both.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub(crate) dc: DcId,
    pub(crate) unit: [f64; 3],
    /// Kept egress IPs bound here.
    pub(crate) kept: Vec<EgressId>,
    /// The candidate whose planned IP would be bound here.
    pub(crate) cand: Option<u16>,
}

/// A planned IP the search may add.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub(crate) dc: DcId,
    pub(crate) ipv4: Ipv4Addr,
    pub(crate) site: usize,
}

/// A set of candidates, as a base set with at most one candidate added and one removed (a greedy
/// step or a swap being evaluated).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetView<'a> {
    pub(crate) base: &'a [bool],
    pub(crate) add: Option<u16>,
    pub(crate) remove: Option<u16>,
}

impl SetView<'_> {
    #[inline]
    pub(crate) fn contains(&self, c: u16) -> bool {
        self.add == Some(c) || (self.base[c as usize] && self.remove != Some(c))
    }
}

/// What the model is built from.
pub(crate) struct ModelInputs<'w> {
    /// The evaluation world: the scenario with only kept egress IPs (plus, with `--from-scratch`, a
    /// placeholder IP the model ignores), and with `--robust` the N-1 sweep's cases.
    pub(crate) world: &'w World,
    /// Kept egress IPs: the world's first `kept`.
    pub(crate) kept: usize,
    /// Candidate data centers and their planned IPv4 addresses, in candidate order.
    pub(crate) candidates: Vec<(DcId, Ipv4Addr)>,
    /// Which allowlists accept the planned IPs.
    pub(crate) listed: Listed,
    /// Prepare the single-failure cases.
    pub(crate) robust: bool,
    /// Worker threads (0: one per core).
    pub(crate) threads: usize,
}

/// The planning model of one scenario and candidate list.
pub(crate) struct Model<'w> {
    pub(crate) p: Prepared<'w>,
    pub(crate) kept: usize,
    pub(crate) cands: Vec<Candidate>,
    pub(crate) sites: Vec<Site>,
    pub(crate) site_of_kept: Vec<usize>,
    pub(crate) listed: Listed,
    /// Backbone RTT from each data center to each candidate's: `dc * candidates + c`.
    backbone: Vec<f32>,
    /// Connection limit per pick.
    pub(crate) limits: Limits,
    pub(crate) robust: bool,
    /// World case taking down exactly data center `d` (0 when the world has none).
    pub(crate) dc_case: Vec<usize>,
    /// World case taking down exactly kept IP `e`.
    pub(crate) kept_case: Vec<usize>,
    /// Data centers whose failure the robust objective can look at (hosting a kept IP or a
    /// candidate).
    pub(crate) relevant_dc: Vec<bool>,
    pub(crate) users: Users,
    pub(crate) pool: rayon::ThreadPool,
}

impl<'w> Model<'w> {
    /// Builds the model: sites, candidates, and every user's precomputed routes and requests.
    pub(crate) fn new(i: ModelInputs<'w>) -> crate::error::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(i.threads)
            .build()
            .map_err(|e| {
                crate::error::Error::Internal(format!("cannot start worker threads: {e}"))
            })?;
        let w = i.world;
        let mut sites: Vec<Site> = Vec::new();
        let site_at = |dc: DcId, sites: &mut Vec<Site>| match sites.iter().position(|s| s.dc == dc)
        {
            Some(s) => s,
            None => {
                sites.push(Site {
                    dc,
                    unit: w.datacenters[dc as usize].location.to_unit_vector(),
                    kept: Vec::new(),
                    cand: None,
                });
                sites.len() - 1
            }
        };
        let mut site_of_kept = Vec::new();
        for e in 0..i.kept {
            let s = site_at(w.egress[e].datacenter, &mut sites);
            sites[s].kept.push(e as EgressId);
            site_of_kept.push(s);
        }
        let mut cands = Vec::new();
        for (c, &(dc, ipv4)) in i.candidates.iter().enumerate() {
            let s = site_at(dc, &mut sites);
            sites[s].cand = Some(c as u16);
            cands.push(Candidate { dc, ipv4, site: s });
        }
        let n_dc = w.datacenters.len();
        let mut backbone = Vec::with_capacity(n_dc * cands.len());
        for d in 0..n_dc {
            for c in &cands {
                backbone.push(backbone_between_ms(
                    &w.latency,
                    &w.datacenters,
                    d,
                    c.dc as usize,
                ));
            }
        }
        let mut limits: Vec<u32> = w.egress[..i.kept]
            .iter()
            .map(|e| e.connection_limit)
            .collect();
        limits.extend(cands.iter().map(|_| DEFAULT_CONNECTION_LIMIT));
        let mut dc_case = vec![0; n_dc];
        let mut kept_case = vec![0; i.kept];
        for (ci, case) in w.cases.iter().enumerate().skip(1) {
            let dcs: Vec<usize> = (0..n_dc).filter(|&d| case.dc_down[d]).collect();
            let ips: Vec<usize> = (0..w.egress.len())
                .filter(|&e| case.egress_down[e])
                .collect();
            match (dcs.as_slice(), ips.as_slice()) {
                ([d], []) if dc_case[*d] == 0 => dc_case[*d] = ci,
                ([], [e]) if *e < i.kept && kept_case[*e] == 0 => kept_case[*e] = ci,
                _ => {}
            }
        }
        let mut relevant_dc = vec![false; n_dc];
        for s in &sites {
            relevant_dc[s.dc as usize] = true;
        }
        let p = pool.install(|| Prepared::new(w));
        let mut m = Self {
            p,
            kept: i.kept,
            cands,
            sites,
            site_of_kept,
            listed: i.listed,
            backbone,
            limits: Limits::new(limits, w),
            robust: i.robust,
            dc_case,
            kept_case,
            relevant_dc,
            users: Users::default(),
            pool,
        };
        if i.robust {
            for (e, &c) in m.kept_case.iter().enumerate() {
                let dc = w.egress[e].datacenter as usize;
                if c == 0 || m.dc_case[dc] == 0 {
                    return Err(crate::error::Error::Internal(format!(
                        "the planner's world lacks the single-failure case of `{}`",
                        w.egress[e].id
                    )));
                }
            }
        }
        m.users = Users::prepare(&m);
        Ok(m)
    }

    /// Picks: kept egress IPs then one per candidate.
    pub(crate) fn picks(&self) -> usize {
        self.kept + self.cands.len()
    }

    /// The site of a pick.
    #[inline]
    pub(crate) fn site_of(&self, pick: Pick) -> usize {
        let i = pick as usize;
        if i < self.kept {
            self.site_of_kept[i]
        } else {
            self.cands[i - self.kept].site
        }
    }

    /// Data center of a pick.
    pub(crate) fn dc_of(&self, pick: Pick) -> DcId {
        self.sites[self.site_of(pick)].dc
    }

    /// True when `pick` (not [`NO_PICK`]) is up with the candidates of `set` in case `down`.
    #[inline]
    pub(crate) fn pick_up(&self, pick: Pick, set: &SetView, down: Down) -> bool {
        let i = pick as usize;
        let dc = self.sites[self.site_of(pick)].dc;
        if down == Down::Dc(dc) {
            return false;
        }
        if i < self.kept {
            down != Down::Kept(pick)
        } else {
            let c = (i - self.kept) as u16;
            set.contains(c) && down != Down::Cand(c)
        }
    }

    /// The IPs of site `s` that are up, with their addresses.
    fn site_ips<'a>(
        &'a self,
        s: usize,
        set: &'a SetView<'a>,
        down: Down,
    ) -> impl Iterator<Item = (Pick, Ipv4Addr)> + 'a {
        let site = &self.sites[s];
        let w = self.p.world;
        let kept = site
            .kept
            .iter()
            .map(move |&e| (e as Pick, w.egress[e as usize].ipv4));
        let cand = site.cand.map(|c| {
            (
                (self.kept + c as usize) as Pick,
                self.cands[c as usize].ipv4,
            )
        });
        kept.chain(cand)
            .filter(move |&(pick, _)| self.pick_up(pick, set, down))
    }

    /// Where user `u`'s unmatched traffic goes with the candidates of `set` in case `down`, chosen
    /// from scratch (the engine's `balanced_egress`): the nearest available location among the
    /// user's options, then the IP by rendezvous.
    pub(crate) fn choose(&self, u: usize, set: &SetView, down: Down) -> Pick {
        let users = &self.users;
        let opts = users.options(u);
        let index = users.users[u].user.index;
        let available = opts
            .clone()
            .filter(|&(s, _)| self.site_ips(s, set, down).next().is_some())
            .map(|(s, km)| (s, self.sites[s].dc, km));
        let Some(s) = route::nearest_site(self.p.world, index, available) else {
            return NO_PICK;
        };
        route::site_ip(self.p.world.seed, index, self.site_ips(s, set, down)).unwrap_or(NO_PICK)
    }

    /// The engine's failure semantics: a user keeps its baseline pick while that is up, else
    /// chooses again among what is up.
    #[inline]
    pub(crate) fn pick_in(&self, u: usize, base: Pick, set: &SetView, down: Down) -> Pick {
        if base != NO_PICK && self.pick_up(base, set, down) {
            base
        } else {
            self.choose(u, set, down)
        }
    }

    /// The route point of a pick for a user entering at `ingress`.
    #[inline]
    fn point(&self, pick: Pick, geo: &UserGeo, ingress: DcId) -> Option<EgressPoint> {
        let i = pick as usize;
        if pick == NO_PICK {
            None
        } else if i < self.kept {
            Some(EgressPoint::of(&self.p, geo, ingress, pick))
        } else {
            let c = i - self.kept;
            let cand = &self.cands[c];
            Some(EgressPoint {
                // The planned IP's slot in the plan world is not known while searching; the
                // planner counts by pick, never by slot.
                slot: self.p.default_slot,
                dc: cand.dc,
                user_km: unit_vector_distance_km(geo.unit, self.sites[cand.site].unit),
                backbone_ms: self.backbone[ingress as usize * self.cands.len() + c],
                listed: self.listed,
            })
        }
    }

    /// Adds (`sign` 1) or takes back (`sign` -1) user `u`'s unmatched traffic leaving through
    /// `pick`, with the user's connection to Cloudflare `uc` in world case `case`.
    pub(crate) fn add_unmatched(
        &self,
        acc: &mut Acc,
        u: usize,
        at: (&UserGeo, &UserCase, usize),
        pick: Pick,
        sign: i64,
    ) {
        let (geo, uc, case) = at;
        let d = &self.users.users[u];
        let at = UserInCase {
            user: &d.user,
            geo,
            uc,
            case,
        };
        for e in self.users.entries(u) {
            let entry = Entry {
                resource: e.k as usize / 2,
                ipv6: e.k % 2 == 1,
                policy: UNMATCHED,
            };
            let route = route::decide_via(&self.p, &at, entry, |ingress| {
                self.point(pick, geo, ingress)
            });
            let load = self.users.load(e);
            let conn = (pick != NO_PICK).then_some(pick as usize);
            acc.add(&route, &load, conn, sign);
        }
    }

    /// The user's geometry (as the engine computes it for the kept sites).
    pub(crate) fn geo(&self, u: usize) -> UserGeo {
        UserGeo::new(&self.p, &self.users.users[u].user)
    }

    /// The user's connection to Cloudflare in case `down` and the world case deciding its policy
    /// routes.
    pub(crate) fn user_case(&self, u: usize, down: Down) -> (UserCase, usize) {
        let d = &self.users.users[u];
        match down {
            Down::Dc(dc) => {
                let uc = self.users.alt(u, dc).unwrap_or(d.uc);
                (uc, self.dc_case[dc as usize])
            }
            Down::Kept(e) => (d.uc, self.kept_case[e as usize]),
            Down::None | Down::Cand(_) => (d.uc, 0),
        }
    }
}
