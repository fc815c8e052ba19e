//! Ingress: the data center a user connects to (anycast, approximated as docs/gateway-semantics.md says).
//!
//! A user lands on the nearest available data center, or on the second or third nearest for a
//! configurable share of users (anycast is imperfect), chosen by a stable hash of the user. The rank
//! ([`anycast_rank`]) is the one definition the engine (`engine::route`) and the scenario compiler (the
//! sweep's pre-pass over the users, `scenario::sweep`, through [`candidates`]) share; both then take the
//! nearest data centers of the world's index, so the two cannot disagree on who lands where in the
//! baseline.

use crate::hash::user_hash;
use crate::nearest::Neighbor;
use crate::users::User;
use crate::world::World;

/// Purpose tag of the anycast-rank hash (distinct from the balancing hashes).
const HASH_ANYCAST: u64 = 1;

/// Most data centers an ingress decision looks at (the nearest up to the third).
pub const MAX_RANK: usize = 3;

/// The nearest available data centers up to the user's anycast rank, nearest first. The last one is the
/// ingress; a failure of any of them moves the user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidates {
    /// Candidates, nearest first; only the first `len` are valid.
    pub near: [Neighbor; MAX_RANK],
    /// Number of valid entries in `near` (0 when every data center is down).
    pub len: usize,
}

impl Candidates {
    /// The ingress data center and its distance; `None` when every data center is down.
    #[inline]
    pub fn ingress(&self) -> Option<Neighbor> {
        self.len.checked_sub(1).map(|i| self.near[i])
    }
}

/// 0 for the nearest data center, 1 or 2 when the user's anycast route lands further away.
#[inline]
pub fn anycast_rank(world: &World, user_index: u64) -> usize {
    let s = &world.ingress;
    if s.second_nearest_share == 0.0 && s.third_nearest_share == 0.0 {
        return 0;
    }
    let u = (user_hash(world.seed, user_index, HASH_ANYCAST) >> 11) as f64 / (1u64 << 53) as f64;
    if u < s.second_nearest_share {
        1
    } else if u < s.second_nearest_share + s.third_nearest_share {
        2
    } else {
        0
    }
}

/// The ingress candidates of `user` (whose unit vector is `unit`) among the data centers for which
/// `up(index)` is true. Does not allocate.
#[inline]
pub fn candidates(
    world: &World,
    user: &User,
    unit: &[f64; 3],
    up: impl Fn(u32) -> bool,
) -> Candidates {
    let rank = anycast_rank(world, user.index);
    let mut near = [Neighbor {
        index: 0,
        distance_km: 0.0,
    }; MAX_RANK];
    // At most `rank + 1` are asked for, so when fewer are available the farthest found is the ingress.
    let len = world
        .dc_index
        .nearest_unit(user.location, unit, up, &mut near[..=rank]);
    Candidates { near, len }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::country_index::CountryIndex;
    use crate::error::Source;
    use crate::scenario::{compile, Overrides};

    fn world(second: f64, third: f64) -> World {
        let text = format!(
            r#"
name = "t"
seed = 11
[simulation]
users = 4000
[ingress]
second_nearest_share = {second}
third_nearest_share = {third}
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.10"
[[egress]]
id = "ams-1"
datacenter = "AMS"
ipv4 = "203.0.113.20"
[[population]]
name = "eu"
share = 1.0
[population.location]
around = ["London", "Paris", "Berlin"]
[[resource]]
name = "app"
ipv4 = "192.0.2.1"
location = "Frankfurt"
"#
        );
        compile(&Source::new("t.toml", text), &Overrides::default())
            .unwrap()
            .world
    }

    fn user(w: &World, index: u64) -> User {
        let p = w.population_of(index);
        let countries = CountryIndex::embedded();
        crate::users::generate(w.seed, index, p as u16, &w.populations[p], countries).0
    }

    #[test]
    fn anycast_ranks_follow_the_shares_and_stick_to_the_user() {
        let w = world(0.2, 0.1);
        let mut counts = [0usize; 3];
        for i in 0..20_000 {
            let r = anycast_rank(&w, i);
            assert_eq!(r, anycast_rank(&w, i), "a user keeps its rank");
            counts[r] += 1;
        }
        let share = |n: usize| n as f64 / 20_000.0;
        assert!((share(counts[1]) - 0.2).abs() < 0.02, "{counts:?}");
        assert!((share(counts[2]) - 0.1).abs() < 0.02, "{counts:?}");
        let w = world(0.0, 0.0);
        assert!((0..1000).all(|i| anycast_rank(&w, i) == 0));
    }

    #[test]
    fn the_ingress_is_the_available_data_center_at_the_users_rank() {
        let w = world(0.3, 0.2);
        let lhr = w.datacenters.iter().position(|d| d.code == "LHR").unwrap() as u32;
        for i in 0..w.users {
            let u = user(&w, i);
            let unit = u.location.to_unit_vector();
            let rank = anycast_rank(&w, i);
            let mut all = [Neighbor {
                index: 0,
                distance_km: 0.0,
            }; 4];
            w.dc_index.nearest(u.location, |_| true, &mut all);
            let c = candidates(&w, &u, &unit, |_| true);
            assert_eq!(c.len, rank + 1);
            assert_eq!(c.near[..c.len], all[..=rank]);
            assert_eq!(c.ingress(), Some(all[rank]));
            // Taking LHR down moves exactly the users that had it among their candidates.
            let without = candidates(&w, &u, &unit, |d| d != lhr);
            let had_lhr = all[..=rank].iter().any(|n| n.index == lhr);
            assert_eq!(without.near[..without.len] != c.near[..c.len], had_lhr);
        }
        let u = user(&w, 0);
        let none = candidates(&w, &u, &u.location.to_unit_vector(), |_| false);
        assert_eq!((none.len, none.ingress()), (0, None));
    }
}
