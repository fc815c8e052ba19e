//! First-match policy evaluation, fast enough for long policy lists.
//!
//! A filter that tests only destination fields has the same answer for every user, so it is evaluated
//! once per (policy, destination, IP version) when the matcher is built. The remaining filters usually
//! test only a handful of discrete user attributes (groups, posture, virtual network, country); users
//! who agree on those form a class, and the first match for every destination is computed once per
//! class and cached. Only policies that test per-person fields (email, name, source IP or port) are
//! evaluated per user.

use std::collections::HashMap;

use super::expr::{Field, FieldSet};
use super::facts::FactsBuilder;
use crate::users::User;
use crate::world::World;

/// Result for traffic that matches no enabled policy.
pub const UNMATCHED: u16 = u16::MAX;

const DESTINATION_FIELDS: &[Field] = &[
    Field::DstIp,
    Field::DstPort,
    Field::DstCountry,
    Field::DstContinent,
    Field::Protocol,
    Field::Host,
    Field::Domains,
    Field::AppIds,
    Field::ProxyEndpoint,
];

/// User fields that take few distinct values; filters limited to these (and destination fields) can be
/// cached per class of users.
const CLASS_FIELDS: &[Field] = &[
    Field::GroupNames,
    Field::GroupIds,
    Field::GroupEmails,
    Field::PosturePassed,
    Field::VnetId,
    Field::SrcCountry,
    Field::SrcContinent,
];

/// What decides a user's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserClass {
    groups: [u64; 4],
    posture: [u64; 4],
    vnet: Option<u16>,
    country: u16,
}

impl UserClass {
    fn of(u: &User) -> Self {
        Self {
            groups: u.groups,
            posture: u.posture,
            vnet: u.vnet,
            country: u.country.0,
        }
    }
}

/// Per-chunk cache of first matches by user class.
pub type ClassCache = HashMap<UserClass, Box<[u16]>>;

/// Precomputed first-match machinery for one world.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Enabled policies in precedence order.
    order: Vec<usize>,
    /// Per (order position, resource, IP version): the destination-only filters pass.
    static_ok: Vec<bool>,
    /// Per (order position, filter): the filter must be evaluated per user.
    dynamic: Vec<[bool; 3]>,
    /// Every per-user filter tests only class fields.
    cacheable: bool,
    resources: usize,
}

impl Matcher {
    /// Builds the matcher for `world`'s policies.
    pub fn new(world: &World) -> Self {
        let destination = FieldSet::of(DESTINATION_FIELDS);
        let class = FieldSet::of(CLASS_FIELDS).union(destination);
        let order: Vec<usize> = (0..world.policies.len()).filter(|&i| world.policies[i].enabled).collect();
        let resources = world.resources.len();
        let builder = FactsBuilder::new(world);
        let mut static_ok = vec![true; order.len() * resources * 2];
        let mut dynamic = Vec::with_capacity(order.len());
        let mut cacheable = true;
        for (k, &pi) in order.iter().enumerate() {
            let p = &world.policies[pi];
            let mut dyn_filters = [false; 3];
            for (f, cond) in p.filters.iter().enumerate() {
                let Some(cond) = cond else { continue };
                let fields = cond.compiled.fields();
                if fields.is_subset_of(destination) {
                    for r in 0..resources {
                        for v in 0..2 {
                            let ok = cond.compiled.eval(&builder.facts(r, v == 1));
                            static_ok[(k * resources + r) * 2 + v] &= ok;
                        }
                    }
                } else {
                    dyn_filters[f] = true;
                    cacheable &= fields.is_subset_of(class);
                }
            }
            dynamic.push(dyn_filters);
        }
        Self {
            order,
            static_ok,
            dynamic,
            cacheable,
            resources,
        }
    }

    /// True when there is no enabled policy (everything is unmatched).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Fills `out[r * 2 + ipv6]` with the index (into `World::policies`) of the first matching policy
    /// for each destination and IP version, or [`UNMATCHED`]. `builder` must hold the current user.
    pub fn first_matches(&self, world: &World, builder: &FactsBuilder, user: &User, cache: &mut ClassCache, out: &mut [u16]) {
        if self.order.is_empty() {
            out.fill(UNMATCHED);
            return;
        }
        if self.cacheable {
            let key = UserClass::of(user);
            if let Some(hit) = cache.get(&key) {
                out.copy_from_slice(hit);
                return;
            }
            self.compute(world, builder, out);
            cache.insert(key, out.into());
        } else {
            self.compute(world, builder, out);
        }
    }

    fn compute(&self, world: &World, builder: &FactsBuilder, out: &mut [u16]) {
        for r in 0..self.resources {
            for v in 0..2 {
                let facts = builder.facts(r, v == 1);
                out[r * 2 + v] = self
                    .order
                    .iter()
                    .enumerate()
                    .find(|&(k, &pi)| {
                        self.static_ok[(k * self.resources + r) * 2 + v]
                            && world.policies[pi]
                                .filters
                                .iter()
                                .zip(self.dynamic[k])
                                .all(|(c, d)| !d || c.as_ref().is_none_or(|c| c.compiled.eval(&facts)))
                    })
                    .map_or(UNMATCHED, |(_, &pi)| pi as u16);
            }
        }
    }
}
