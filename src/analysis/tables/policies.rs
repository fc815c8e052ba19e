//! `policies.csv` (what each policy decided, per case) and `resources.csv` (per case × destination
//! × egress slot).

use serde::{Deserialize, Serialize};

use super::{quantile, slot_name, Inputs};
use crate::analysis::values::{Ms, Share};
use crate::engine::Outcome;
use crate::policy::{Action, Fallback};
use crate::world::World;

/// One policy (or the unmatched traffic) in one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyRow {
    /// Case name.
    pub case: String,
    /// Policy name, or `unmatched`.
    pub policy: String,
    /// Precedence (empty for unmatched).
    pub precedence: Option<i64>,
    /// Enabled (empty for unmatched).
    pub enabled: Option<bool>,
    /// What the policy does, in short.
    pub action: String,
    /// Users with at least one request decided by it.
    pub users: u64,
    /// Requests decided by it.
    pub requests: u64,
    /// Share of the case's requests.
    pub request_share: Share,
    /// Requests through the dedicated egress IP chosen first.
    pub dedicated_requests: u64,
    /// Requests through the fallback.
    pub fallback_requests: u64,
    /// Requests through default egress.
    pub default_requests: u64,
    /// Requests dropped.
    pub dropped_requests: u64,
    /// Requests to private networks (Cloudflare Tunnel or Magic WAN): shared addresses whatever the
    /// action says.
    #[serde(default)]
    pub private_network_requests: u64,
    /// Requests refused by allowlists.
    pub blocked_requests: u64,
    /// Requests breaking a geography requirement.
    pub geography_violations: u64,
    /// Median RTT.
    pub rtt_p50_ms: Ms,
    /// 95th percentile RTT.
    pub rtt_p95_ms: Ms,
}

/// One destination's requests through one egress slot in one case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceRow {
    /// Case name.
    pub case: String,
    /// Destination name.
    pub resource: String,
    /// Egress id, `default` or `dropped`.
    pub egress: String,
    /// Requests.
    pub requests: u64,
    /// Delivered and accepted.
    pub allowed_requests: u64,
    /// Refused by the destination's allowlist.
    pub blocked_requests: u64,
    /// Delivered to a private network through Cloudflare Tunnel or Magic WAN (on the `default`
    /// slot: shared addresses, never a dedicated egress IP).
    #[serde(default)]
    pub private_network_requests: u64,
    /// Median RTT.
    pub rtt_p50_ms: Ms,
    /// 95th percentile RTT.
    pub rtt_p95_ms: Ms,
}

/// Short description of a policy's action for tables.
pub fn action_text(world: &World, a: &Action) -> String {
    match a {
        Action::DefaultEgress => "default egress".into(),
        Action::Dedicated {
            ipv4,
            fallback,
            ipv6,
        } => {
            let id = |e: &u16| world.egress[*e as usize].id.as_str();
            let mut s = format!("dedicated ipv4={}", id(ipv4));
            match fallback {
                Fallback::None => {}
                Fallback::Egress(f) => s.push_str(&format!(" fallback={}", id(f))),
                Fallback::DefaultEgress => s.push_str(" fallback=default"),
            }
            if ipv6 != ipv4 {
                s.push_str(&format!(" ipv6={}", id(ipv6)));
            }
            s
        }
    }
}

pub(super) fn policy_rows(i: &Inputs) -> Vec<PolicyRow> {
    let (world, m) = (i.world, i.m);
    let mut out = Vec::with_capacity(m.cases * m.policy_slots);
    for ci in 0..m.cases {
        let all = m.total(ci, None, None).requests;
        for ps in 0..m.policy_slots {
            let c = &m.policy_cells[m.policy_index(ci, ps)];
            let outcome = |o: Outcome| c.outcomes[o as usize];
            let mut row = PolicyRow {
                case: world.cases[ci].name.clone(),
                policy: "unmatched".into(),
                action: world.balancing.mode.unmatched_action().into(),
                users: c.users,
                requests: c.requests,
                request_share: Share::ratio(c.requests, all),
                dedicated_requests: outcome(Outcome::Dedicated),
                fallback_requests: outcome(Outcome::Fallback),
                default_requests: outcome(Outcome::Default),
                dropped_requests: outcome(Outcome::Dropped),
                private_network_requests: outcome(Outcome::PrivateNetwork),
                blocked_requests: c.blocked,
                geography_violations: c.violations,
                rtt_p50_ms: quantile(c, 0.5),
                rtt_p95_ms: quantile(c, 0.95),
                ..PolicyRow::default()
            };
            if let Some(p) = world.policies.get(ps) {
                row.policy = p.name.clone();
                row.precedence = Some(p.precedence);
                row.enabled = Some(p.enabled);
                row.action = action_text(world, &p.action);
            }
            out.push(row);
        }
    }
    out
}

pub(super) fn resource_rows(i: &Inputs) -> Vec<ResourceRow> {
    let (world, m) = (i.world, i.m);
    let mut out = Vec::new();
    for ci in 0..m.cases {
        for (ri, res) in world.resources.iter().enumerate() {
            for s in 0..m.slots {
                let c = &m.resource_cells[m.resource_index(ci, s, ri)];
                if c.requests == 0 {
                    continue;
                }
                out.push(ResourceRow {
                    case: world.cases[ci].name.clone(),
                    resource: res.name.clone(),
                    egress: slot_name(world, s),
                    requests: c.requests,
                    allowed_requests: c.delivered() - c.blocked,
                    blocked_requests: c.blocked,
                    private_network_requests: c.outcomes[Outcome::PrivateNetwork as usize],
                    rtt_p50_ms: quantile(c, 0.5),
                    rtt_p95_ms: quantile(c, 0.95),
                });
            }
        }
    }
    out
}
