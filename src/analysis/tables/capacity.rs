//! `capacity.csv`: concurrent connections per case × egress IP × destination against the limit.

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
    /// Requests from this egress IP to the destination.
    pub requests: u64,
    /// Concurrent IPv4 connections.
    pub connections_v4: Conns,
    /// Concurrent IPv6 connections.
    pub connections_v6: Conns,
    /// Per-origin connection limit.
    pub connection_limit: u32,
    /// IPv4 connections over the limit.
    pub utilization: Share,
    /// Limit minus IPv4 connections.
    pub headroom: Conns,
    /// The case loading this pair most (the baseline on ties).
    pub worst_case: String,
    /// IPv4 connections in that case.
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
                let v4 = cap.v4(ci, e, ri);
                let worst = cap.worst_case(e, ri);
                out.push(CapacityRow {
                    case: world.cases[ci].name.clone(),
                    egress: eg.id.clone(),
                    resource: res.name.clone(),
                    requests: m.resource_cells[m.resource_index(ci, e, ri)].requests,
                    connections_v4: Conns::of(v4),
                    connections_v6: Conns::of(cap.v6(ci, e, ri)),
                    connection_limit: eg.connection_limit,
                    utilization: Share::of(cap.utilization(ci, e, ri)),
                    headroom: Conns::of(cap.limit(e) - v4),
                    worst_case: world.cases[worst].name.clone(),
                    worst_connections_v4: Conns::of(cap.v4(worst, e, ri)),
                    worst_utilization: Share::of(cap.utilization(worst, e, ri)),
                });
            }
        }
    }
    out
}
