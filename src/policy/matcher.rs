//! First-match policy evaluation, fast enough for long policy lists.
//!
//! Filters are sorted by what they test:
//! - **destination-only** filters have the same answer for every user, so they are evaluated once per
//!   (policy, destination, IP version) when the matcher is built;
//! - **class** filters test only a handful of discrete user attributes (groups, posture, virtual
//!   network, country) and perhaps the destination; users who agree on those attributes form a class,
//!   and for each class the matcher caches, per destination and IP version, which policies are still
//!   candidates;
//! - **per-person** filters (email, name, source address or port) are evaluated per user, and only for
//!   candidates that survive the cheaper tests, in precedence order until one matches. A per-person
//!   filter that does not test the destination is evaluated at most once per user.

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

/// User fields that take few distinct values; filters limited to these (and destination fields) are
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

/// Per-chunk cache: for each class, per (destination, IP version), the candidate policies (bit k =
/// k-th enabled policy in precedence order) whose destination and class filters pass.
pub type ClassCache = HashMap<UserClass, Box<[[u64; 4]]>>;

/// How a filter is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Absent,
    Destination,
    Class,
    /// Per person; `true` when it also tests the destination.
    Person {
        destination: bool,
    },
}

/// Precomputed first-match machinery for one world.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Enabled policies in precedence order.
    order: Vec<usize>,
    /// Per (order position, resource, IP version): the destination-only filters pass.
    static_ok: Vec<bool>,
    /// Per order position: how each of the three filters is evaluated.
    kinds: Vec<[Kind; 3]>,
    /// Some policy has a per-person filter.
    any_person: bool,
    resources: usize,
}

/// Reusable per-chunk scratch for [`Matcher::first_matches`].
#[derive(Debug, Default)]
pub struct Scratch {
    cache: ClassCache,
    /// Per (order position, filter): 0 = not evaluated for this user, 1 = false, 2 = true.
    person: Vec<u8>,
}

impl Matcher {
    /// Builds the matcher for `world`'s policies.
    pub fn new(world: &World) -> Self {
        let destination = FieldSet::of(DESTINATION_FIELDS);
        let class = FieldSet::of(CLASS_FIELDS).union(destination);
        let order: Vec<usize> = (0..world.policies.len())
            .filter(|&i| world.policies[i].enabled)
            .collect();
        let resources = world.resources.len();
        let builder = FactsBuilder::new(world);
        let mut static_ok = vec![true; order.len() * resources * 2];
        let mut kinds = Vec::with_capacity(order.len());
        for (k, &pi) in order.iter().enumerate() {
            let p = &world.policies[pi];
            let mut ks = [Kind::Absent; 3];
            for (f, cond) in p.filters.iter().enumerate() {
                let Some(cond) = cond else { continue };
                let fields = cond.compiled.fields();
                ks[f] = if fields.is_subset_of(destination) {
                    for r in 0..resources {
                        for v in 0..2 {
                            let ok = cond.compiled.eval(&builder.facts(r, v == 1));
                            static_ok[(k * resources + r) * 2 + v] &= ok;
                        }
                    }
                    Kind::Destination
                } else if fields.is_subset_of(class) {
                    Kind::Class
                } else {
                    Kind::Person {
                        destination: DESTINATION_FIELDS.iter().any(|d| fields.contains(*d)),
                    }
                };
            }
            kinds.push(ks);
        }
        let any_person = kinds
            .iter()
            .flatten()
            .any(|k| matches!(k, Kind::Person { .. }));
        Self {
            order,
            static_ok,
            kinds,
            any_person,
            resources,
        }
    }

    /// True when there is no enabled policy (everything is unmatched).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Fills `out[r * 2 + ipv6]` with the index (into `World::policies`) of the first matching policy
    /// for each destination and IP version, or [`UNMATCHED`]. `builder` must hold the current user.
    pub fn first_matches(
        &self,
        world: &World,
        builder: &FactsBuilder,
        user: &User,
        scratch: &mut Scratch,
        out: &mut [u16],
    ) {
        if self.order.is_empty() {
            out.fill(UNMATCHED);
            return;
        }
        let candidates: &[[u64; 4]] = scratch
            .cache
            .entry(UserClass::of(user))
            .or_insert_with(|| self.candidates(world, builder));
        if !self.any_person {
            for (o, c) in out.iter_mut().zip(candidates.iter()) {
                *o = first_bit(c).map_or(UNMATCHED, |k| self.order[k] as u16);
            }
            return;
        }
        let person = &mut scratch.person;
        person.clear();
        person.resize(self.order.len() * 3, 0);
        for r in 0..self.resources {
            for v in 0..2 {
                let slot = r * 2 + v;
                let mut found = UNMATCHED;
                let mut bits = candidates[slot];
                while let Some(k) = first_bit(&bits) {
                    bits[k / 64] &= !(1 << (k % 64));
                    if self.person_filters_pass(world, builder, k, r, v == 1, person) {
                        found = self.order[k] as u16;
                        break;
                    }
                }
                out[slot] = found;
            }
        }
    }

    /// Candidate bit sets per (destination, IP version) for the class of the builder's current user.
    fn candidates(&self, world: &World, builder: &FactsBuilder) -> Box<[[u64; 4]]> {
        let mut out = vec![[0u64; 4]; self.resources * 2].into_boxed_slice();
        for r in 0..self.resources {
            for v in 0..2 {
                let facts = builder.facts(r, v == 1);
                for (k, &pi) in self.order.iter().enumerate() {
                    let pass =
                        self.static_ok[(k * self.resources + r) * 2 + v]
                            && world.policies[pi].filters.iter().zip(self.kinds[k]).all(
                                |(c, kind)| {
                                    kind != Kind::Class
                                        || c.as_ref().is_none_or(|c| c.compiled.eval(&facts))
                                },
                            );
                    if pass {
                        out[r * 2 + v][k / 64] |= 1 << (k % 64);
                    }
                }
            }
        }
        out
    }

    fn person_filters_pass(
        &self,
        world: &World,
        builder: &FactsBuilder,
        k: usize,
        r: usize,
        ipv6: bool,
        memo: &mut [u8],
    ) -> bool {
        let policy = &world.policies[self.order[k]];
        for (f, kind) in self.kinds[k].iter().enumerate() {
            let Kind::Person { destination } = *kind else {
                continue;
            };
            let Some(cond) = &policy.filters[f] else {
                continue;
            };
            let ok = if destination {
                cond.compiled.eval(&builder.facts(r, ipv6))
            } else {
                let m = &mut memo[k * 3 + f];
                if *m == 0 {
                    *m = 1 + cond.compiled.eval(&builder.facts(r, ipv6)) as u8;
                }
                *m == 2
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

fn first_bit(bits: &[u64; 4]) -> Option<usize> {
    bits.iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
}
