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

use super::facts::FactsBuilder;
use crate::policy::expr::{Field, FieldSet};
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
    /// Per order position: per-person work.
    person: Vec<PersonWork>,
    /// Some policy has a per-person filter.
    any_person: bool,
    resources: usize,
}

/// What per-person work a policy needs once its destination and class filters pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonWork {
    /// Nothing: it matches.
    None,
    /// Per-person filters that ignore the destination: evaluated once per user.
    UserOnly,
    /// At least one per-person filter also tests the destination: evaluated per destination.
    WithDestination,
}

/// Reusable per-chunk scratch for [`Matcher::first_matches`].
#[derive(Debug, Default)]
pub struct Scratch {
    cache: ClassCache,
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
        let person: Vec<PersonWork> = kinds
            .iter()
            .map(|ks| {
                if ks.contains(&Kind::Person { destination: true }) {
                    PersonWork::WithDestination
                } else if ks.contains(&Kind::Person { destination: false }) {
                    PersonWork::UserOnly
                } else {
                    PersonWork::None
                }
            })
            .collect();
        let any_person = person.iter().any(|p| *p != PersonWork::None);
        Self {
            order,
            static_ok,
            kinds,
            person,
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
        // Results of destination-independent per-person filters, computed lazily once per user.
        let (mut known, mut passed) = ([0u64; 4], [0u64; 4]);
        for r in 0..self.resources {
            for v in 0..2 {
                let slot = r * 2 + v;
                let mut found = UNMATCHED;
                let mut bits = candidates[slot];
                while let Some(k) = first_bit(&bits) {
                    bits[k / 64] &= !(1 << (k % 64));
                    let (word, bit) = (k / 64, 1u64 << (k % 64));
                    let ok = match self.person[k] {
                        PersonWork::None => true,
                        PersonWork::UserOnly => {
                            if known[word] & bit == 0 {
                                known[word] |= bit;
                                if self.person_filters_pass(world, builder, k, r, v == 1) {
                                    passed[word] |= bit;
                                }
                            }
                            passed[word] & bit != 0
                        }
                        PersonWork::WithDestination => {
                            self.person_filters_pass(world, builder, k, r, v == 1)
                        }
                    };
                    if ok {
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
    ) -> bool {
        let policy = &world.policies[self.order[k]];
        let facts = builder.facts(r, ipv6);
        policy.filters.iter().zip(self.kinds[k]).all(|(c, kind)| {
            !matches!(kind, Kind::Person { .. })
                || c.as_ref().is_none_or(|c| c.compiled.eval(&facts))
        })
    }
}

fn first_bit(bits: &[u64; 4]) -> Option<usize> {
    bits.iter()
        .enumerate()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
}
