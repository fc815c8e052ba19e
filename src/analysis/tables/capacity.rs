//! `capacity.csv`: concurrent connections per case × egress IP × destination, judged against the
//! limit on the origin (destination address, port, protocol) the destination shares with others.

use serde::{Deserialize, Serialize};

use super::Inputs;
use crate::analysis::values::{Conns, Share};

/// One egress IP's connections to one destination in one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CapacityRow {
    /// Case name.
    pub case: String,
    /// Egress id.
    pub egress: String,
    /// Destination name.
    pub resource: String,
    /// Its origin, `address:port/protocol` (empty for a private or IPv6-only destination).
    #[serde(default)]
    pub origin: String,
    /// The destinations sharing that origin, joined with `+` (the destination alone when none).
    #[serde(default)]
    pub origin_resources: String,
    /// Requests from this egress IP to the destination.
    pub requests: u64,
    /// Concurrent IPv4 connections to this destination.
    pub connections_v4: Conns,
    /// Concurrent IPv6 connections (not counted against the limit: IPv6 leaves from a range).
    pub connections_v6: Conns,
    /// Of `connections_v4`, those its allowlist refuses (closed at once, not counted).
    #[serde(default)]
    pub refused_connections_v4: Conns,
    /// Accepted IPv4 connections to the origin, over every destination sharing it: what the limit
    /// counts.
    #[serde(default)]
    pub origin_connections_v4: Conns,
    /// Per-origin connection limit.
    pub connection_limit: u32,
    /// `origin_connections_v4` over the limit.
    pub utilization: Share,
    /// Limit minus `origin_connections_v4`.
    pub headroom: Conns,
    /// Egress IPs needed to carry the origin's connections within the limit (0 without any).
    #[serde(default)]
    pub ips_needed: u64,
    /// The case loading this (egress IP, origin) most (the baseline on ties).
    pub worst_case: String,
    /// The origin's accepted IPv4 connections in that case.
    pub worst_connections_v4: Conns,
    /// Their utilisation.
    pub worst_utilization: Share,
}

pub(super) fn rows(i: &Inputs) -> Vec<CapacityRow> {
    let (world, m, cap) = (i.world, i.m, i.capacity);
    let mut out = Vec::with_capacity(m.cases * world.egress.len() * world.resources.len());
    for ci in 0..m.cases {
        for (e, eg) in world.egress.iter().enumerate() {
            for (ri, res) in world.resources.iter().enumerate() {
                let shared = cap.shared_v4(ci, e, ri);
                let worst = cap.worst_case(e, ri);
                let origin = cap.origin_of(ri);
                out.push(CapacityRow {
                    case: world.cases[ci].name.clone(),
                    egress: eg.id.clone(),
                    resource: res.name.clone(),
                    origin: origin.map_or(String::new(), |o| o.address.clone()),
                    origin_resources: origin.map_or(res.name.clone(), |o| o.names.clone()),
                    requests: m.resource_cells[m.resource_index(ci, e, ri)].requests,
                    connections_v4: Conns::of(cap.v4(ci, e, ri)),
                    connections_v6: Conns::of(cap.v6(ci, e, ri)),
                    refused_connections_v4: Conns::of(cap.refused_v4(ci, e, ri)),
                    origin_connections_v4: Conns::of(shared),
                    connection_limit: eg.connection_limit,
                    utilization: Share::of(cap.utilization(ci, e, ri)),
                    headroom: Conns::of(cap.limit(e) - shared),
                    ips_needed: if shared > 0.0 {
                        cap.ips_needed(e, shared)
                    } else {
                        0
                    },
                    worst_case: world.cases[worst].name.clone(),
                    worst_connections_v4: Conns::of(cap.shared_v4(worst, e, ri)),
                    worst_utilization: Share::of(cap.utilization(worst, e, ri)),
                });
            }
        }
    }
    out
}
