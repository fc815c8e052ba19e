//! Ingress: the data center a user connects to (the anycast approximation of DESIGN.md).
//!
//! A user lands on the nearest available data center, or on the second or third nearest for a
//! configurable share of users (anycast is imperfect), chosen by a stable hash of the user. This is the
//! one definition both the engine (`engine::route::user_case`) and the scenario compiler (the sweep's
//! pre-pass over the users, `scenario::sweep`) use, so the two can never disagree on who lands where.

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
