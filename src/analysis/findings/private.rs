//! Dedicated-egress policies whose traffic goes to private networks: Gateway sends such traffic
//! through Cloudflare Tunnel or Magic WAN on shared addresses, never from the dedicated IP the
//! policy names, so the policy promises something it cannot do.

use super::{pct, Finding, Severity};
use crate::engine::{Metrics, Outcome};
use crate::policy::Action;
use crate::world::World;

/// One finding per dedicated-egress policy with baseline requests to private networks.
pub(super) fn dedicated_to_private(world: &World, m: &Metrics, out: &mut Vec<Finding>) {
    let private: Vec<&str> = world
        .resources
        .iter()
        .filter(|r| r.private.v4 || r.private.v6)
        .map(|r| r.name.as_str())
        .collect();
    if private.is_empty() {
        return;
    }
    for (pi, p) in world.policies.iter().enumerate() {
        let Action::Dedicated { ipv4, .. } = p.action else {
            continue;
        };
        let c = &m.policy_cells[m.policy_index(0, pi)];
        let n = c.outcomes[Outcome::PrivateNetwork as usize];
        if n == 0 {
            continue;
        }
        let share = n as f64 / c.requests as f64;
        out.push(Finding {
            severity: Severity::Low,
            kind: "private_network",
            entity_kind: "policy",
            entity: p.name.clone(),
            case: world.cases[0].name.clone(),
            impact: Some(share),
            detail: format!(
                "`{}` names dedicated egress `{}`, but {n} of its requests ({}) go to private networks ({}): they leave through Cloudflare Tunnel or Magic WAN on shared addresses, never from the dedicated IP",
                p.name,
                world.egress[ipv4 as usize].id,
                pct(share),
                private.join(", ")
            ),
            recommendation: "exclude private destinations from the policy's traffic filter (for example `not(net.dst.ip in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10})`), so it states what Gateway does; an allowlist on the private side must accept the tunnel's addresses, not the dedicated IP".into(),
        });
    }
}
