//! Concurrent connections against the per-origin limit: the one place that turns the engine's
//! millionths of a connection into connections, utilisations, peaks and worst cases.
//!
//! Every figure is for IPv4 connections unless it says otherwise: the per-origin limit applies to a
//! dedicated IPv4 address (IPv6 egresses from a whole range).

use crate::engine::Metrics;
use crate::world::World;

/// Connections per (case, egress IP, destination), with each egress IP's limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    cases: usize,
    egress: usize,
    resources: usize,
    v4_micro: Vec<u64>,
    v6_micro: Vec<u64>,
    limits: Vec<u32>,
    /// Per (egress IP, destination): the case loading the pair most.
    worst: Vec<usize>,
}

/// The highest utilisation of any (egress IP, destination) pair in any case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Highest {
    /// Connections over the limit.
    pub utilization: f64,
    /// Egress IP index.
    pub egress: usize,
    /// Destination index.
    pub resource: usize,
    /// Case index.
    pub case: usize,
}

impl Capacity {
    /// Reads the connection tables of a finished run.
    pub fn new(world: &World, m: &Metrics) -> Self {
        let mut c = Self {
            cases: m.cases,
            egress: world.egress.len(),
            resources: m.resources,
            v4_micro: m.connections_v4_micro.clone(),
            v6_micro: m.connections_v6_micro.clone(),
            limits: world.egress.iter().map(|e| e.connection_limit).collect(),
            worst: Vec::new(),
        };
        c.worst = (0..c.egress)
            .flat_map(|e| (0..c.resources).map(move |r| (e, r)))
            .map(|(e, r)| {
                // First such case on ties, so the baseline wins them.
                (0..c.cases).fold(0, |w, case| {
                    if c.v4(case, e, r) > c.v4(w, e, r) {
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

    /// Concurrent IPv4 connections.
    pub fn v4(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.v4_micro[self.index(case, egress, resource)] as f64 / 1e6
    }

    /// Concurrent IPv6 connections.
    pub fn v6(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.v6_micro[self.index(case, egress, resource)] as f64 / 1e6
    }

    /// Per-origin connection limit of an egress IP.
    pub fn limit(&self, egress: usize) -> f64 {
        f64::from(self.limits[egress])
    }

    /// IPv4 connections over the limit.
    pub fn utilization(&self, case: usize, egress: usize, resource: usize) -> f64 {
        self.v4(case, egress, resource) / self.limit(egress)
    }

    /// IPv4 and IPv6 connections of an egress IP over every destination.
    pub fn totals(&self, case: usize, egress: usize) -> (f64, f64) {
        let sum = |v: &[u64]| {
            (0..self.resources)
                .map(|r| v[self.index(case, egress, r)])
                .sum::<u64>() as f64
                / 1e6
        };
        (sum(&self.v4_micro), sum(&self.v6_micro))
    }

    /// The highest IPv4 connections to one destination over the limit.
    pub fn peak_utilization(&self, case: usize, egress: usize) -> f64 {
        let peak = (0..self.resources)
            .map(|r| self.v4_micro[self.index(case, egress, r)])
            .max()
            .unwrap_or(0);
        peak as f64 / 1e6 / self.limit(egress)
    }

    /// The destination with the most IPv4 connections in `case` (the first on ties; destination 0
    /// with 0 connections when none has any) and its connections.
    pub fn peak(&self, case: usize, egress: usize) -> (usize, f64) {
        (0..self.resources).fold((0, 0.0), |best, r| {
            let v = self.v4(case, egress, r);
            if v > best.1 {
                (r, v)
            } else {
                best
            }
        })
    }

    /// The case and destination with the most IPv4 connections of all (the first case on ties, so
    /// the baseline wins them), and its connections.
    pub fn worst_peak(&self, egress: usize) -> (usize, usize, f64) {
        let (c, (r, v)) = (0..self.cases).map(|c| (c, self.peak(c, egress))).fold(
            (0, self.peak(0, egress)),
            |best, x| {
                if x.1 .1 > best.1 .1 {
                    x
                } else {
                    best
                }
            },
        );
        (c, r, v)
    }

    /// The case loading (egress IP, destination) most.
    pub fn worst_case(&self, egress: usize, resource: usize) -> usize {
        self.worst[egress * self.resources + resource]
    }

    /// The highest worst-case utilisation of any pair (the first pair on ties).
    pub fn highest(&self) -> Option<Highest> {
        let mut best: Option<Highest> = None;
        for egress in 0..self.egress {
            for resource in 0..self.resources {
                let case = self.worst_case(egress, resource);
                let utilization = self.utilization(case, egress, resource);
                if best.is_none_or(|b| utilization > b.utilization) {
                    best = Some(Highest {
                        utilization,
                        egress,
                        resource,
                        case,
                    });
                }
            }
        }
        best
    }
}
