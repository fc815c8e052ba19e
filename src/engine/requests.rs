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
//! `AliasTable` over the user's (destination, IP version) pairs, weighted by destination weight ×
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
        // Each destination's probability (the world's table, from the scenario's weights) split
        // between its IPv4 and IPv6 pair by the user's IPv6 share.
        let p = world.resource_alias.probabilities();
        let entries = [false, true].map(|capable| {
            let weights: Vec<f64> = world
                .resources
                .iter()
                .zip(&p)
                .flat_map(|(r, &p)| {
                    let v6 = ipv6_share(capable, r.ipv4.is_some(), r.ipv6.is_some(), pref);
                    [p * (1.0 - v6), p * v6]
                })
                .collect();
            // Probabilities in [0, 1] adding up to 1 always make a table.
            AliasTable::new(&weights).expect("probabilities make an alias table")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::route::{self, Entry, UserGeo, UserInCase};
    use crate::engine::{simulate, Prepared, SimOptions};
    use crate::error::Source;
    use crate::scenario::{compile, Overrides};

    /// Four destinations with weights 5 : 3 : 1 : 1, two of them dual-stack; half of the users speak
    /// IPv6 and prefer it for 30% of their dual-stack requests; jitter mean 2 ms.
    const MIX: &str = r#"
name = "mix"
seed = 5
[simulation]
requests_per_user = 30
[latency]
jitter_mean_ms = 2.0
[balancing]
ipv6_preference = 0.3
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"
ipv6 = "2001:db8:b::/48"
[[population]]
name = "office"
users = 20000
ipv6_share = 0.5
access = "fiber"
[population.location]
around = ["London"]
[[resource]]
name = "a"
ipv4 = "198.51.100.1"
ipv6 = "2001:db8:100::1"
location = "FRA"
weight = 5
[[resource]]
name = "b"
ipv4 = "198.51.100.2"
location = "IAD"
weight = 3
[[resource]]
name = "c"
ipv6 = "2001:db8:100::3"
location = "LHR"
weight = 1
[[resource]]
name = "d"
ipv4 = "198.51.100.4"
ipv6 = "2001:db8:100::4"
location = "NRT"
weight = 1
"#;

    fn world() -> World {
        match compile(&Source::new("mix.toml", MIX), &Overrides::default()) {
            Ok(l) => l.world,
            Err(e) => panic!("{e}"),
        }
    }

    /// Chi-square statistic of observed counts against expected probabilities (cells with p > 0).
    fn chi_square(counts: &[u64], p: &[f64]) -> (f64, usize) {
        let n: u64 = counts.iter().sum();
        let mut chi = 0.0;
        let mut cells = 0;
        for (&c, &p) in counts.iter().zip(p) {
            if p > 0.0 {
                let e = n as f64 * p;
                chi += (c as f64 - e).powi(2) / e;
                cells += 1;
            } else {
                assert_eq!(c, 0, "an impossible (destination, IP version) was drawn");
            }
        }
        (chi, cells)
    }

    /// The draws follow the scenario: destination frequencies match the weights, IPv6 use matches
    /// the capability and preference, and the jitter has the configured mean.
    #[test]
    fn draws_follow_weights_ip_versions_and_jitter() {
        let w = world();
        let p = Prepared::new(&w);
        let weights = [5.0, 3.0, 1.0, 1.0];
        // P(entry) per capability: destination weight × IP-version share.
        let expected = |capable: bool| -> Vec<f64> {
            let v6 = [
                if capable { 0.3 } else { 0.0 },
                0.0,
                1.0,
                if capable { 0.3 } else { 0.0 },
            ];
            (0..8)
                .map(|k| {
                    let share = if k % 2 == 1 {
                        v6[k / 2]
                    } else {
                        1.0 - v6[k / 2]
                    };
                    weights[k / 2] / 10.0 * share
                })
                .collect()
        };
        let mut counts = [[0u64; 8]; 2];
        let (mut jitter_sum, mut n) = (0f64, 0u64);
        for i in 0..w.users {
            let (user, mut rng) = p.user(i);
            let access_us = (user.access_ms as f64 * 1000.0).round();
            for q in p.requests.requests(&user, &mut rng) {
                counts[user.ipv6_capable as usize][q.entry()] += 1;
                assert_eq!(q.entry(), q.resource() * 2 + q.ipv6() as usize);
                jitter_sum += q.extra_us as f64 - access_us;
                n += 1;
            }
        }
        assert_eq!(n, w.users * 30);
        for capable in [false, true] {
            let (chi, cells) = chi_square(&counts[capable as usize], &expected(capable));
            // 0.1% critical values of chi-square: 5 degrees of freedom 20.5, 3 degrees 16.3.
            let limit = if cells == 6 { 20.5 } else { 16.3 };
            assert!(
                chi < limit,
                "capable {capable}: chi2 {chi} over {cells} cells"
            );
        }
        // Exponential jitter with mean 2 ms: the mean of n draws has standard error 2 ms / sqrt(n).
        let mean_ms = jitter_sum / n as f64 / 1000.0;
        let se = 2.0 / (n as f64).sqrt();
        assert!(
            (mean_ms - 2.0).abs() < 5.0 * se + 0.001,
            "jitter mean {mean_ms} ms"
        );
        // Users that speak IPv6: 30% of their dual-stack requests use it.
        let c = &counts[1];
        let dual_v6 = (c[1] + c[7]) as f64 / (c[0] + c[1] + c[6] + c[7]) as f64;
        assert!((dual_v6 - 0.3).abs() < 0.01, "IPv6 share {dual_v6}");
    }

    /// The replay contract: drawing a user's requests here and adding `route.base_us()` gives exactly
    /// the counts and RTT sums the engine records.
    #[test]
    fn replaying_the_draws_gives_the_engines_numbers() {
        let mut w = world();
        w.users = 3000;
        w.populations[0].users = 3000;
        let m = simulate(
            &w,
            &SimOptions {
                threads: 2,
                per_user: false,
                ..SimOptions::default()
            },
            &|_| {},
            &mut |_| Ok(()),
        )
        .unwrap();
        let p = Prepared::new(&w);
        let mut requests = vec![0u64; w.resources.len()];
        let mut rtt_sum_us = 0u64;
        let mut rtt = crate::histogram::Histogram::new();
        for i in 0..w.users {
            let (user, mut rng) = p.user(i);
            let geo = UserGeo::new(&p, &user);
            let uc = route::user_case(&p, &user, &geo, 0);
            let at = UserInCase {
                user: &user,
                geo: &geo,
                uc: &uc,
                case: 0,
            };
            for q in p.requests.requests(&user, &mut rng) {
                let entry = Entry {
                    resource: q.resource(),
                    ipv6: q.ipv6(),
                    policy: crate::matching::matcher::UNMATCHED,
                };
                let r = route::decide(&p, &at, entry);
                let us = r.base_us() as u64 + q.extra_us as u64;
                requests[q.resource()] += 1;
                rtt_sum_us += us;
                rtt.record_us(us);
            }
        }
        let total = m.total(0, None, None);
        assert_eq!(total.rtt_sum_us, rtt_sum_us);
        assert_eq!(total.rtt, rtt);
        for (r, &n) in requests.iter().enumerate() {
            let engine: u64 = (0..m.slots)
                .map(|s| m.resource_cells[m.resource_index(0, s, r)].requests)
                .sum();
            assert_eq!(engine, n, "destination {r}");
        }
    }
}
