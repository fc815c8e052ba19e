//! `rules export`: a scenario's compiled policies in the API's rule-listing shape.

use serde::Serialize;

use super::{write_atomic, ExportOptions};
use crate::error::{Error, Result};
use crate::policy::{Action, Fallback, FilterKind, Policy};
use crate::printed::Printed;
use crate::scenario::{self, Overrides};
use crate::world::Egress;

/// The listing envelope; field order is the order the API uses, so diffs against real exports stay small.
#[derive(Debug, Serialize)]
struct Listing {
    success: bool,
    errors: Vec<serde_json::Value>,
    messages: Vec<serde_json::Value>,
    result: Vec<Rule>,
}

/// One rule as the API returns it (only the fields egress policies use).
#[derive(Debug, Serialize)]
struct Rule {
    id: String,
    name: String,
    description: String,
    precedence: i64,
    enabled: bool,
    action: &'static str,
    filters: [&'static str; 1],
    traffic: String,
    identity: String,
    device_posture: String,
    rule_settings: RuleSettings,
}

/// `rule_settings`; an absent `egress` object is how the API says "default Cloudflare egress".
#[derive(Debug, Serialize)]
struct RuleSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    egress: Option<EgressSettings>,
}

/// `rule_settings.egress`, with addresses rather than the scenario's egress ids.
#[derive(Debug, Serialize)]
struct EgressSettings {
    ipv4: String,
    // An egress IP without an IPv6 range has nothing to put here; leaving the key out (rather than
    // writing "") keeps the output from claiming a range that does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ipv4_fallback: Option<String>,
}

/// Runs `rules export`; returns the JSON (or a confirmation) and the scenario's warnings.
pub fn export(opts: &ExportOptions) -> Result<Printed> {
    let loaded = scenario::load(&opts.scenario, &Overrides::without_sweep())?;
    let json = listing_json(&loaded.world.policies, &loaded.world.egress)?;
    let text = match &opts.out {
        None => json,
        Some(out) => {
            write_atomic(out, &json)?;
            let n = loaded.world.policies.len();
            format!(
                "wrote {n} rule{} to {}\n",
                if n == 1 { "" } else { "s" },
                out.display()
            )
        }
    };
    Ok(Printed {
        text,
        warnings: loaded.warnings,
    })
}

/// The pretty-printed listing for `policies` (already in precedence order), ending with a newline.
fn listing_json(policies: &[Policy], egress: &[Egress]) -> Result<String> {
    let listing = Listing {
        success: true,
        errors: Vec::new(),
        messages: Vec::new(),
        result: policies.iter().map(|p| rule(p, egress)).collect(),
    };
    let mut json = serde_json::to_string_pretty(&listing)
        .map_err(|e| Error::Internal(format!("cannot serialise the rule listing: {e}")))?;
    json.push('\n');
    Ok(json)
}

fn rule(p: &Policy, egress: &[Egress]) -> Rule {
    let text = |kind: FilterKind| p.filter(kind).map(|c| c.text.clone()).unwrap_or_default();
    Rule {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        precedence: p.precedence,
        enabled: p.enabled,
        action: "egress",
        filters: ["egress"],
        traffic: text(FilterKind::Traffic),
        identity: text(FilterKind::Identity),
        device_posture: text(FilterKind::DevicePosture),
        rule_settings: RuleSettings {
            egress: egress_settings(&p.action, egress),
        },
    }
}

/// `None` for default egress. Ids come from the compiled world, so indexing cannot fail; `get` keeps
/// that an invariant rather than a panic.
fn egress_settings(action: &Action, egress: &[Egress]) -> Option<EgressSettings> {
    let Action::Dedicated {
        ipv4,
        fallback,
        ipv6,
    } = *action
    else {
        return None;
    };
    let primary = egress.get(ipv4 as usize)?;
    Some(EgressSettings {
        ipv4: primary.ipv4.to_string(),
        ipv6: egress
            .get(ipv6 as usize)
            .and_then(|e| e.ipv6)
            .map(|p| p.to_string()),
        ipv4_fallback: match fallback {
            Fallback::None => None,
            Fallback::DefaultEgress => Some("0.0.0.0".to_string()),
            Fallback::Egress(id) => egress.get(id as usize).map(|e| e.ipv4.to_string()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Ipv6Prefix;

    fn egress() -> Vec<Egress> {
        vec![
            Egress {
                id: "lhr-1".into(),
                datacenter: 0,
                ipv4: "203.0.113.20".parse().unwrap(),
                ipv6: Some("2001:db8:b::/48".parse::<Ipv6Prefix>().unwrap()),
                connection_limit: 40_000,
            },
            Egress {
                id: "ams-1".into(),
                datacenter: 1,
                ipv4: "203.0.113.10".parse().unwrap(),
                ipv6: None,
                connection_limit: 40_000,
            },
        ]
    }

    #[test]
    fn dedicated_settings_use_addresses() {
        let s = egress_settings(
            &Action::Dedicated {
                ipv4: 0,
                fallback: Fallback::Egress(1),
                ipv6: 0,
            },
            &egress(),
        )
        .unwrap();
        assert_eq!(s.ipv4, "203.0.113.20");
        assert_eq!(s.ipv6.as_deref(), Some("2001:db8:b::/48"));
        assert_eq!(s.ipv4_fallback.as_deref(), Some("203.0.113.10"));
    }

    #[test]
    fn default_fallback_is_all_zeros_and_missing_range_is_omitted() {
        let s = egress_settings(
            &Action::Dedicated {
                ipv4: 1,
                fallback: Fallback::DefaultEgress,
                ipv6: 1,
            },
            &egress(),
        )
        .unwrap();
        assert_eq!(s.ipv4_fallback.as_deref(), Some("0.0.0.0"));
        assert!(s.ipv6.is_none());
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("ipv6").is_none());
    }

    #[test]
    fn default_egress_has_no_egress_object() {
        assert!(egress_settings(&Action::DefaultEgress, &egress()).is_none());
        let json = serde_json::to_value(RuleSettings { egress: None }).unwrap();
        assert_eq!(json, serde_json::json!({}));
    }

    #[test]
    fn no_fallback_omits_the_key() {
        let s = egress_settings(
            &Action::Dedicated {
                ipv4: 0,
                fallback: Fallback::None,
                ipv6: 0,
            },
            &egress(),
        )
        .unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("ipv4_fallback").is_none());
    }
}
