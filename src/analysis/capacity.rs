//! Concurrent connections against the per-origin limit: the one place that turns the engine's
//! millionths of a connection into connections, utilisations, peaks and worst cases.
//!
//! Cloudflare documents the limit as concurrent connections per dedicated IP *per unique destination
//! IP and port*: it is the dedicated IPv4 address's source ports, and a connection is unique by its
//! destination address, port and protocol. So the limit is judged per **origin** (destination IPv4
//! address, port, protocol), summing every destination that shares it (`a+b`), and counts only:
//! - IPv4 connections: IPv6 egresses from a whole dedicated range, not one address, so its source
//!   ports are not one address's;
//! - connections the destination accepts: a destination whose allowlist refuses the egress IP
//!   closes them at once (they are reported as refused, never held open);
//! - destinations reached over the public Internet: private networks (Cloudflare Tunnel, Magic WAN)
//!   never use a dedicated IP, so they have no origin here.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::engine::Metrics;
use crate::world::World;

/// A destination IPv4 address, port and protocol, and the destinations that share it.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// `198.51.100.50:443/tcp`.
    pub address: String,
    /// Destination indexes sharing it, in scenario order.
    pub resources: Vec<usize>,
    /// Their names joined with `+` (`crm+crm-api`).
    pub names: String,
}

/// Connections per (case, egress IP, destination) and per (case, egress IP, origin), with each
/// egress IP's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    cases: usize,
    egress: usize,
    resources: usize,
    v4_micro: Vec<u64>,
    v6_micro: Vec<u64>,
    /// Per (egress IP, destination): its allowlist refuses the egress IP.
    refused: Vec<bool>,
    origins: Vec<Origin>,
    /// Per destination: its origin (none for a private or IPv6-only destination).
    origin_of: Vec<Option<usize>>,
    /// Per (case, egress IP, origin): accepted IPv4 connections × 10⁶.
    accepted_micro: Vec<u64>,
    limits: Vec<u32>,
    /// Per (egress IP, origin): the case loading the pair most.
    worst: Vec<usize>,
}

/// The highest utilisation of any (egress IP, origin) pair in any case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Highest {
    /// Accepted connections over the limit.
    pub utilization: f64,
    /// Egress IP index.
    pub egress: usize,
    /// Origin index.
    pub origin: usize,
    /// Case index.
    pub case: usize,
}

/// Groups the public IPv4 destinations by (address, port, protocol), in order of first appearance.
pub(crate) fn origins(world: &World) -> (Vec<Origin>, Vec<Option<usize>>) {
    let mut index: BTreeMap<(Ipv4Addr, u16, &str), usize> = BTreeMap::new();
    let mut origins: Vec<Origin> = Vec::new();
    let origin_of = world
        .resources
        .iter()
        .enumerate()
        .map(|(r, res)| {
            let ip = res.ipv4.filter(|_| !res.private.v4)?;
            let key = (ip, res.port, res.protocol.as_str());
            let o = *index.entry(key).or_insert_with(|| {
                origins.push(Origin {
                    address: format!("{ip}:{}/{}", res.port, res.protocol),
                    resources: Vec::new(),
                    names: String::new(),
                });
                origins.len() - 1
            });
            origins[o].resources.push(r);
            Some(o)
        })
        .collect();
    for o in &mut origins {
        let names: Vec<&str> = o
            .resources
            .iter()
            .map(|&r| world.resources[r].name.as_str())
            .collect();
        o.names = names.join("+");
    }
    (origins, origin_of)
}

impl Capacity {
    /// Reads the connection tables of a finished run.
    pub fn new(world: &World, m: &Metrics) -> Self {
        let (origins, origin_of) = origins(world);
        let egress = world.egress.len();
        let refused = (0..egress)
            .flat_map(|e| {
                world
                    .resources
                    .iter()
                    .map(move |r| r.allowlist.as_ref().is_some_and(|a| !a[e]))
            })
            .collect();
        let mut c = Self {
            cases: m.cases,
            egress,
            resources: m.resources,
            v4_micro: m.connections_v4_micro.clone(),
            v6_micro: m.connections_v6_micro.clone(),
            refused,
            accepted_micro: vec![0; m.cases * egress * origins.len()],
            origins,
            origin_of,
            limits: world.egress.iter().map(|e| e.connection_limit).collect(),
            worst: Vec::new(),
        };
        for case in 0..c.cases {
            for e in 0..c.egress {
                for r in 0..c.resources {
                    if let (Some(o), false) = (c.origin_of[r], c.refused(e, r)) {
                        let i = c.origin_index(case, e, o);
                        c.accepted_micro[i] += c.v4_micro[c.index(case, e, r)];
                    }
                }
            }
        }
        let n = c.origins.len();
        c.worst = (0..c.egress)
            .flat_map(|e| (0..n).map(move |o| (e, o)))
            .map(|(e, o)| {
                // First such case on ties, so the baseline wins them.
                (0..c.cases).fold(0, |w, case| {
                    if c.origin_v4(case, e, o) > c.origin_v4(w, e, o) {
                        case
                    } else {
                        w
                    }
                })
            })
            .collect();
        c
    }

    fn index(&self, case: usize, egress: usize, resource: usize) -> usize {
        (case * self.egress + egress) * self.resources + resource
    }

    fn origin_index(&self, case: usize, egress: usize, origin: usize) -> usize {
        (case * self.egress + egress) * self.origins.len() + origin
    }

    /// Concurrent IPv4 connections from an egress IP to one destination (accepted or not).
    pub fn v4(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.v4_micro[self.index(case, egress, resource)] as f64 / 1e6
    }

    /// Concurrent IPv6 connections (never counted against the limit).
    pub fn v6(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.v6_micro[self.index(case, egress, resource)] as f64 / 1e6
    }

    /// The destination's allowlist refuses the egress IP: its connections are refused, not held.
    pub fn refused(&self, egress: usize, resource: usize) -> bool {
        self.refused[egress * self.resources + resource]
    }

    /// IPv4 connections to one destination that its allowlist refuses.
    pub fn refused_v4(&self, case: usize, egress: usize, resource: usize) -> f64 {
        if self.refused(egress, resource) {
            self.v4(case, egress, resource)
        } else {
            0.0
        }
    }

    /// Every origin (destination address, port, protocol) of the scenario.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// The origin of a destination (none for a private or IPv6-only one).
    pub fn origin_of(&self, resource: usize) -> Option<&Origin> {
        self.origin_of[resource].map(|o| &self.origins[o])
    }

    /// Accepted IPv4 connections from an egress IP to an origin: what the limit counts.
    pub fn origin_v4(&self, case: usize, egress: usize, origin: usize) -> f64 {
        self.accepted_micro[self.origin_index(case, egress, origin)] as f64 / 1e6
    }

    /// Accepted IPv4 connections to a destination's origin (0 without one).
    pub fn shared_v4(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.origin_of[resource].map_or(0.0, |o| self.origin_v4(case, egress, o))
    }

    /// Per-origin connection limit of an egress IP.
    pub fn limit(&self, egress: usize) -> f64 {
        f64::from(self.limits[egress])
    }

    /// Egress IPs needed to carry `connections` to one origin within the limit (at least 1).
    pub fn ips_needed(&self, egress: usize, connections: f64) -> u64 {
        ((connections / self.limit(egress)).ceil() as u64).max(1)
    }

    /// Accepted connections to the destination's origin over the limit.
    pub fn utilization(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.shared_v4(case, egress, resource) / self.limit(egress)
    }

    /// IPv4 and IPv6 connections of an egress IP over every destination (accepted or not).
    pub fn totals(&self, case: usize, egress: usize) -> (f64, f64) {
        let sum = |v: &[u64]| {
            (0..self.resources)
                .map(|r| v[self.index(case, egress, r)])
                .sum::<u64>() as f64
                / 1e6
        };
        (sum(&self.v4_micro), sum(&self.v6_micro))
    }

    /// The highest accepted connections to one origin over the limit.
    pub fn peak_utilization(&self, case: usize, egress: usize) -> f64 {
        self.peak(case, egress).1 / self.limit(egress)
    }

    /// The origin with the most accepted connections in `case` (the first on ties; origin 0 with 0
    /// connections when none has any) and its connections.
    pub fn peak(&self, case: usize, egress: usize) -> (usize, f64) {
        (0..self.origins.len()).fold((0, 0.0), |best, o| {
            let v = self.origin_v4(case, egress, o);
            if v > best.1 {
                (o, v)
            } else {
                best
            }
        })
    }

    /// The case and origin with the most accepted connections of all (the first case on ties, so
    /// the baseline wins them), and its connections.
    pub fn worst_peak(&self, egress: usize) -> (usize, usize, f64) {
        let (c, (o, v)) = (0..self.cases).map(|c| (c, self.peak(c, egress))).fold(
            (0, self.peak(0, egress)),
            |best, x| {
                if x.1 .1 > best.1 .1 {
                    x
                } else {
                    best
                }
            },
        );
        (c, o, v)
    }

    /// The case loading (egress IP, destination's origin) most (the baseline without an origin).
    pub fn worst_case(&self, egress: usize, resource: usize) -> usize {
        self.origin_of[resource].map_or(0, |o| self.worst[egress * self.origins.len() + o])
    }

    /// The highest worst-case utilisation of any (egress IP, origin) pair (the first on ties).
    pub fn highest(&self) -> Option<Highest> {
        let mut best: Option<Highest> = None;
        for egress in 0..self.egress {
            for origin in 0..self.origins.len() {
                let case = self.worst[egress * self.origins.len() + origin];
                let utilization = self.origin_v4(case, egress, origin) / self.limit(egress);
                if best.is_none_or(|b| utilization > b.utilization) {
                    best = Some(Highest {
                        utilization,
                        egress,
                        origin,
                        case,
                    });
                }
            }
        }
        best
    }
}
