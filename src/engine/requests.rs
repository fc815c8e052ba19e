//! The random draws of a user's requests: destination, IP version, and the time a request adds to its
//! route (last-mile access plus jitter).
//!
//! **Replay contract.** This is the only place requests are drawn. The engine draws a user's requests
//! with [`RequestModel::requests`] from the stream [`Prepared::user`](super::Prepared::user) returns,
//! in order, and records each request with round-trip time `route.base_us() + request.extra_us`
//! µs, where `route` is [`route::decide`](super::route::decide)'s answer for the request's
//! destination and IP version in the case at hand. Anything that generates the same user, draws its
//! requests here and adds the same integers (a planner evaluating another set of egress IPs, a test)
//! gets exactly the numbers `run` gets. How the requests are grouped into blocks does not matter:
//! request `i` consumes the stream in the same way whatever was drawn before it.
//!
//! Per request, in this order: one `u64` for the destination and IP version together (an
//! [`AliasTable`] over the user's (destination, IP version) pairs, weighted by destination weight ×
//! IP-version share), then, when the jitter mean is not zero, an exponential draw (ziggurat, usually
//! one `u64`).

use rand::RngCore;
use rand_distr::{Distribution, Exp1};

use crate::alias::AliasTable;
use crate::engine::ipv6_share;
use crate::users::{User, UserRng};
use crate::world::World;

/// One request's draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Request {
    /// `resource * 2 + ipv6`.
    entry: u32,
    /// Last-mile access plus jitter, µs: the request's RTT is its route's `base_us()` plus this.
    pub extra_us: u32,
}

impl Request {
    /// Destination (index into `World::resources`).
    #[inline]
    pub fn resource(&self) -> usize {
        self.entry as usize / 2
    }

    /// Sent over IPv6.
    #[inline]
    pub fn ipv6(&self) -> bool {
        self.entry % 2 == 1
    }

    /// Index of the request's (destination, IP version) in a per-user route table:
    /// `resource * 2 + ipv6`.
    #[inline]
    pub fn entry(&self) -> usize {
        self.entry as usize
    }
}

/// The per-world part of the draws, built once per run.
#[derive(Debug, Clone)]
pub struct RequestModel {
    /// Over (destination, IP version) pairs, for users without IPv6 and with IPv6.
    entries: [AliasTable; 2],
    /// Per table and pair: can be drawn.
    possible: [Vec<bool>; 2],
    /// Jitter mean, µs.
    jitter_us: f64,
    requests_per_user: u32,
}

impl RequestModel {
    /// The draws of `world`'s requests.
    pub fn new(world: &World) -> Self {
        let pref = world.balancing.ipv6_preference;
        let entries = [false, true].map(|capable| {
            let weights: Vec<f64> = world
                .resources
                .iter()
                .flat_map(|r| {
                    let v6 = ipv6_share(capable, r.ipv4.is_some(), r.ipv6.is_some(), pref);
                    [r.weight * (1.0 - v6), r.weight * v6]
                })
                .collect();
            // The pairs of a destination share its weight, so these tables exist whenever the
            // world's destination table does (the scenario compiler checks the weights).
            AliasTable::new(&weights).unwrap_or_else(|_| {
                AliasTable::new(&[1.0]).expect("a single positive weight makes a table")
            })
        });
        let possible = [0, 1].map(|t| {
            entries[t]
                .probabilities()
                .iter()
                .map(|&p| p > 0.0)
                .collect()
        });
        Self {
            entries,
            possible,
            jitter_us: world.latency.jitter_mean_ms.max(0.0) * 1000.0,
            requests_per_user: world.requests_per_user,
        }
    }

    /// The requests of `user`, drawn from `rng` (the stream positioned after the user's generation).
    pub fn requests<'a>(&'a self, user: &User, rng: &'a mut UserRng) -> Requests<'a> {
        Requests {
            entries: &self.entries[user.ipv6_capable as usize],
            jitter_us: self.jitter_us,
            access_us: (user.access_ms.max(0.0) as f64 * 1000.0).round() as u32,
            left: self.requests_per_user,
            rng,
        }
    }

    /// True when a user of this IPv6 capability can send to route entry `entry`
    /// (`resource * 2 + ipv6`).
    #[inline]
    pub fn possible(&self, ipv6_capable: bool, entry: usize) -> bool {
        self.possible[ipv6_capable as usize][entry]
    }
}

/// One user's requests, in order (an iterator over [`Request`]).
pub struct Requests<'a> {
    entries: &'a AliasTable,
    jitter_us: f64,
    access_us: u32,
    left: u32,
    rng: &'a mut UserRng,
}

impl Requests<'_> {
    /// Requests not drawn yet.
    pub fn remaining(&self) -> usize {
        self.left as usize
    }

    /// Draws the next requests into `out` (as many as fit and remain); returns how many.
    #[inline]
    pub fn fill(&mut self, out: &mut [Request]) -> usize {
        let n = out.len().min(self.left as usize);
        self.left -= n as u32;
        let (entries, jitter_us, access_us) = (self.entries, self.jitter_us, self.access_us);
        let rng = &mut *self.rng;
        for q in &mut out[..n] {
            *q = draw(entries, jitter_us, access_us, rng);
        }
        n
    }
}

/// One request's draws (see the module notes for the order).
#[inline(always)]
fn draw(entries: &AliasTable, jitter_us: f64, access_us: u32, rng: &mut UserRng) -> Request {
    let entry = entries.sample(rng.next_u64()) as u32;
    let jitter = if jitter_us > 0.0 {
        // Adding 0.5 and truncating rounds (the value is never negative) without a libm call.
        (jitter_us * <Exp1 as Distribution<f64>>::sample(&Exp1, rng) + 0.5) as u32
    } else {
        0
    };
    Request {
        entry,
        extra_us: access_us.saturating_add(jitter),
    }
}

impl Iterator for Requests<'_> {
    type Item = Request;

    #[inline]
    fn next(&mut self) -> Option<Request> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(draw(self.entries, self.jitter_us, self.access_us, self.rng))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Requests<'_> {}
