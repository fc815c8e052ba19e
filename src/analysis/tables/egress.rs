//! `egress_load.csv`: per case × egress slot (every egress IP, plus default egress and dropped when
//! any case uses them).

use serde::{Deserialize, Serialize};

use super::{quantile, slot_name, Inputs};
use crate::analysis::values::{Conns, Ms, Share};
use crate::catalog::Catalog;
use crate::engine::Metrics;
use crate::world::World;

/// One egress slot in one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EgressLoadRow {
    /// Case name.
    pub case: String,
    /// Egress id, `default` or `dropped`.
    pub egress: String,
    /// Data center code (empty for default egress and dropped).
    pub datacenter: String,
    /// City of the data center.
    pub city: String,
    /// ISO code of the data center's country.
    pub country: String,
    /// Dedicated IPv4 address.
    pub ipv4: String,
    /// Users with at least one request through this slot.
    pub users: u64,
    /// Requests through this slot.
    pub requests: u64,
    /// Share of the case's requests.
    pub request_share: Share,
    /// Mean RTT of delivered requests.
    pub rtt_mean_ms: Ms,
    /// Median RTT.
    pub rtt_p50_ms: Ms,
    /// 95th percentile RTT.
    pub rtt_p95_ms: Ms,
    /// 99th percentile RTT.
    pub rtt_p99_ms: Ms,
    /// Requests refused by allowlists.
    pub blocked_requests: u64,
    /// Concurrent IPv4 connections over every destination.
    pub connections_v4: Conns,
    /// Concurrent IPv6 connections over every destination.
    pub connections_v6: Conns,
    /// Per-origin connection limit.
    pub connection_limit: Option<u32>,
    /// The highest IPv4 connections to one destination over the limit.
    pub peak_origin_utilization: Share,
}

/// Slots that appear in per-egress tables: every egress IP, plus default/dropped when used in any case.
pub(crate) fn reported_slots(world: &World, m: &Metrics) -> Vec<usize> {
    let mut slots: Vec<usize> = (0..world.egress.len()).collect();
    for s in [m.default_slot(), m.dropped_slot()] {
        if (0..m.cases).any(|c| m.total(c, None, Some(s)).requests > 0) {
            slots.push(s);
        }
    }
    slots
}

pub(super) fn rows(i: &Inputs) -> Vec<EgressLoadRow> {
    let (world, m) = (i.world, i.m);
    let catalog = Catalog::embedded();
    let slots = reported_slots(world, m);
    let mut out = Vec::with_capacity(m.cases * slots.len());
    for ci in 0..m.cases {
        let all = m.total(ci, None, None).requests;
        for &s in &slots {
            let t = m.total(ci, None, Some(s));
            let mut row = EgressLoadRow {
                case: world.cases[ci].name.clone(),
                egress: slot_name(world, s),
                users: t.users,
                requests: t.requests,
                request_share: Share::ratio(t.requests, all),
                rtt_mean_ms: Ms(t.rtt_mean_ms()),
                rtt_p50_ms: quantile(&t, 0.5),
                rtt_p95_ms: quantile(&t, 0.95),
                rtt_p99_ms: quantile(&t, 0.99),
                blocked_requests: t.blocked,
                ..EgressLoadRow::default()
            };
            if let Some(e) = world.egress.get(s) {
                let dc = &world.datacenters[e.datacenter as usize];
                let (v4, v6) = i.capacity.totals(ci, s);
                row.datacenter = dc.code.clone();
                row.city = dc.city.clone();
                row.country = catalog.country(dc.country).iso2.clone();
                row.ipv4 = e.ipv4.to_string();
                row.connections_v4 = Conns::of(v4);
                row.connections_v6 = Conns::of(v6);
                row.connection_limit = Some(e.connection_limit);
                row.peak_origin_utilization = Share::of(i.capacity.peak_utilization(ci, s));
            }
            out.push(row);
        }
    }
    out
}
