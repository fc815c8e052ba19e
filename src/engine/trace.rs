//! What happens to one user in one case, step by step: the user's attributes, ingress, balanced
//! egress, and for every destination and IP version the matched policy, the decision, the physical
//! path and the round-trip time part by part.
//!
//! It calls the simulator's own functions (`route::user_case`, the policy `Matcher`, `route::decide`)
//! and the latency model's `breakdown`, so a trace is exactly what the simulation does for that user.
//! `egress-sim explain` prints traces; the report's typical users are traces.

use crate::engine::route::{self, Route, UserCase, UserGeo};
use crate::engine::{ipv6_share, Outcome, Prepared};
use crate::latency::{Breakdown, PathSpec};
use crate::matching::facts::FactsBuilder;
use crate::matching::matcher::{Scratch, UNMATCHED};
use crate::users::User;
use crate::world::{BalancingMode, DcId, EgressId, World};

/// Traces users of one world (the engine tables are derived once).
pub struct Tracer<'w> {
    prepared: Prepared<'w>,
}

/// The user's ingress in the traced case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ingress {
    /// Ingress data center.
    pub datacenter: DcId,
    /// Distance user → ingress, km.
    pub distance_km: f64,
    /// Internet round trip user → ingress, ms.
    pub rtt_ms: f64,
}

/// Where unmatched traffic of the user goes: the nearest available dedicated location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Balanced {
    /// The egress IP chosen by balancing.
    pub egress: EgressId,
    /// Distance user → that egress IP's data center, km.
    pub distance_km: f64,
}

/// How balancing chose the dedicated location of unmatched traffic to one destination, with the
/// nearest location for comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalancedChoice {
    /// The balancing mode that chose.
    pub mode: BalancingMode,
    /// The egress IP chosen.
    pub egress: EgressId,
    /// Modelled round trip through the chosen location's data center (user → ingress → backbone →
    /// egress data center → destination, with processing; no last mile or jitter), ms.
    pub rtt_ms: f64,
    /// The nearest available location's egress IP (the `nearest` mode's choice).
    pub nearest: EgressId,
    /// The same round trip through the nearest location, ms.
    pub nearest_rtt_ms: f64,
    /// Distance user → nearest location, km.
    pub nearest_km: f64,
}

/// Where a delivered request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysicalPath {
    /// Data center the user entered.
    pub ingress: DcId,
    /// Data center the request left Cloudflare from.
    pub physical: DcId,
    /// Data center whose location the destination sees (the egress IP's, or the ingress for default
    /// egress).
    pub apparent: DcId,
}

/// One destination over one IP version.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationTrace {
    /// Index into `World::resources`.
    pub resource: usize,
    /// IPv6 (else IPv4).
    pub ipv6: bool,
    /// Share of the user's requests to this destination that use this IP version.
    pub share: f64,
    /// The first matching policy (index into `World::policies`), `None` when unmatched.
    pub policy: Option<usize>,
    /// The decision, as the simulator records it.
    pub route: Route,
    /// The path, when the request is delivered.
    pub path: Option<PhysicalPath>,
    /// The round trip part by part (jitter at its mean), when the request is delivered.
    pub rtt: Option<Breakdown>,
    /// How balancing chose the location, when unmatched traffic goes to a dedicated location.
    pub balanced: Option<BalancedChoice>,
}

impl DestinationTrace {
    /// How the request left Cloudflare.
    pub fn outcome(&self) -> Outcome {
        Outcome::ALL[self.route.outcome as usize]
    }
}

/// What happens to one user in one case.
#[derive(Debug, Clone, PartialEq)]
pub struct UserTrace {
    /// The user, as generated.
    pub user: User,
    /// The case traced (index into `World::cases`).
    pub case: usize,
    /// Ingress; `None` when every data center is down.
    pub ingress: Option<Ingress>,
    /// Balanced egress for unmatched traffic; `None` when no dedicated location is up.
    pub balanced: Option<Balanced>,
    /// Every destination (in scenario order) over IPv4 then IPv6, whatever the share.
    pub destinations: Vec<DestinationTrace>,
}

impl UserTrace {
    /// The trace of `resource` over IPv6 or IPv4.
    pub fn destination(&self, resource: usize, ipv6: bool) -> Option<&DestinationTrace> {
        self.destinations
            .iter()
            .find(|d| d.resource == resource && d.ipv6 == ipv6)
    }
}

impl<'w> Tracer<'w> {
    /// Derives the engine tables for `world`.
    pub fn new(world: &'w World) -> Self {
        Self {
            prepared: Prepared::new(world),
        }
    }

    /// Traces user `index` (global, 0-based; must be below `World::users`) in case `case`.
    pub fn trace(&self, index: u64, case: usize) -> UserTrace {
        let p = &self.prepared;
        let w = p.world;
        let (user, _) = p.user(index);
        let geo = UserGeo::new(p, &user);
        let uc = route::user_case(p, &user, &geo, case);
        let mut facts = FactsBuilder::new(w);
        facts.set_user(&user);
        let mut matches = vec![UNMATCHED; w.resources.len() * 2];
        p.matcher
            .first_matches(w, &facts, &user, &mut Scratch::default(), &mut matches);
        let mut destinations = Vec::with_capacity(matches.len());
        for (r, res) in w.resources.iter().enumerate() {
            let v6_share = ipv6_share(
                user.ipv6_capable,
                res.ipv4.is_some(),
                res.ipv6.is_some(),
                w.balancing.ipv6_preference,
            );
            for ipv6 in [false, true] {
                let policy = matches[r * 2 + usize::from(ipv6)];
                let at = route::UserInCase {
                    user: &user,
                    geo: &geo,
                    uc: &uc,
                    case,
                };
                let entry = route::Entry {
                    resource: r,
                    ipv6,
                    policy,
                };
                let route = route::decide(p, &at, entry);
                let (path, rtt) = match uc.ingress {
                    Some(ingress) if route.outcome != Outcome::Dropped as u8 => {
                        let path = self.path(ingress, &route);
                        (Some(path), Some(self.breakdown(&user, r, &path)))
                    }
                    _ => (None, None),
                };
                let balanced = (policy == UNMATCHED)
                    .then(|| self.balanced_choice(&geo, &uc, r, &route))
                    .flatten();
                destinations.push(DestinationTrace {
                    resource: r,
                    ipv6,
                    share: if ipv6 { v6_share } else { 1.0 - v6_share },
                    policy: (policy != UNMATCHED).then_some(usize::from(policy)),
                    route,
                    path,
                    rtt,
                    balanced,
                });
            }
        }
        UserTrace {
            ingress: uc.ingress.map(|datacenter| Ingress {
                datacenter,
                distance_km: f64::from(uc.ingress_km),
                rtt_ms: f64::from(uc.ingress_ms),
            }),
            balanced: uc.balanced.map(|egress| Balanced {
                egress,
                distance_km: geo.site_km[p.site_of_egress[egress as usize]],
            }),
            user,
            case,
            destinations,
        }
    }

    /// The balancing choice behind an unmatched `route` to `resource` (`None` when it does not
    /// leave through a dedicated location).
    fn balanced_choice(
        &self,
        geo: &UserGeo,
        uc: &UserCase,
        resource: usize,
        route: &Route,
    ) -> Option<BalancedChoice> {
        let p = &self.prepared;
        let w = p.world;
        let (ingress, nearest) = (uc.ingress?, uc.balanced?);
        let egress = w
            .egress
            .get(route.slot as usize)
            .map(|_| route.slot as EgressId)?;
        let toward = route::Toward { ingress, resource };
        let rtt = |e: EgressId| {
            f64::from(uc.ingress_ms)
                + f64::from(route::site_path_ms(p, p.site_of_egress[e as usize], toward))
        };
        Some(BalancedChoice {
            mode: w.balancing.mode,
            egress,
            rtt_ms: rtt(egress),
            nearest,
            nearest_rtt_ms: rtt(nearest),
            nearest_km: geo.site_km[p.site_of_egress[nearest as usize]],
        })
    }

    fn path(&self, ingress: DcId, route: &Route) -> PhysicalPath {
        let w = self.prepared.world;
        PhysicalPath {
            ingress,
            physical: route.physical,
            apparent: w
                .egress
                .get(route.slot as usize)
                .map_or(ingress, |e| e.datacenter),
        }
    }

    /// The modelled round trip of a delivered request along `path`.
    fn breakdown(&self, user: &User, resource: usize, path: &PhysicalPath) -> Breakdown {
        let w = self.prepared.world;
        let res = &w.resources[resource];
        let ing = &w.datacenters[path.ingress as usize];
        let phys = &w.datacenters[path.physical as usize];
        let ing_label = format!("{} ({})", ing.code, ing.city);
        let phys_label = format!("{} ({})", phys.code, phys.city);
        w.latency.breakdown(&PathSpec {
            user: user.location,
            ingress: (&ing_label, ing.location),
            egress: (path.physical != path.ingress).then_some((phys_label.as_str(), phys.location)),
            destination: (&res.location_label, res.location),
            access_ms: Some(f64::from(user.access_ms)),
            processing_ms: res.processing_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{simulate, SimOptions};
    use crate::scenario::{self, Overrides};
    use crate::world::Sweep;

    /// A trace is what the simulation did: the same ingress in every case, and the user's first
    /// request left through one of the traced routes.
    #[test]
    fn traces_match_the_simulation() {
        let overrides = Overrides {
            users: Some(400),
            sweep: Some(Sweep::N1),
            ..Overrides::default()
        };
        let path = std::path::Path::new("scenarios/finance-and-qa.toml");
        let world = scenario::load(path, &overrides).unwrap().world;
        let mut rows = Vec::new();
        let options = SimOptions {
            threads: 1,
            per_user: true,
            ..SimOptions::default()
        };
        simulate(&world, &options, &|_| {}, &mut |r| {
            rows.extend_from_slice(r);
            Ok(())
        })
        .unwrap();
        let tracer = Tracer::new(&world);
        for row in rows.iter().step_by(7) {
            let t = tracer.trace(row.user, row.case as usize);
            assert_eq!(t.ingress.map(|i| i.datacenter), row.ingress, "{row:?}");
            assert!(
                t.destinations
                    .iter()
                    .any(|d| d.share > 0.0 && d.route.slot == row.slot),
                "{row:?}"
            );
        }
    }

    #[test]
    fn delivered_routes_have_a_path_and_a_round_trip() {
        let path = std::path::Path::new("scenarios/three-sites.toml");
        let world = scenario::load(path, &Overrides::default()).unwrap().world;
        let t = Tracer::new(&world).trace(0, 0);
        assert_eq!(t.destinations.len(), world.resources.len() * 2);
        for d in &t.destinations {
            let delivered = d.outcome() != Outcome::Dropped;
            assert_eq!(d.path.is_some(), delivered);
            assert_eq!(d.rtt.is_some(), delivered);
            if let (Some(p), Some(rtt)) = (d.path, &d.rtt) {
                // Crossing the backbone shows as a part exactly when the path leaves elsewhere.
                let backbone = rtt
                    .parts
                    .iter()
                    .any(|x| x.kind == crate::latency::PartKind::Backbone);
                assert_eq!(backbone, p.physical != p.ingress);
            }
        }
    }
}
