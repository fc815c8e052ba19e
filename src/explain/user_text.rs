//! `egress-sim explain` as text: a [`UserExplanation`] printed step by step.

use std::fmt::Write;

use super::user::{
    BalancingFacts, DestinationFacts, IpVersionFacts, PathFacts, RoundTrip, UserExplanation,
};
use crate::latency::PartKind;

/// True for the parts that are network segments (they have a distance).
pub(super) fn is_segment(kind: PartKind) -> bool {
    matches!(
        kind,
        PartKind::UserToIngress | PartKind::Backbone | PartKind::EgressToDestination
    )
}

/// A list of names, or `(none)`.
fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

impl UserExplanation {
    /// The explanation, step by step.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.attributes(&mut out);
        self.connection(&mut out);
        for d in &self.destinations {
            destination(&mut out, d, &self.policy_width());
        }
        out
    }

    /// Width of the policy name column.
    fn policy_width(&self) -> usize {
        self.destinations
            .iter()
            .flat_map(|d| &d.ip_versions)
            .flat_map(|v| &v.policies)
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0)
    }

    fn attributes(&self, out: &mut String) {
        let u = &self.user;
        let _ = writeln!(
            out,
            "user {} of population `{}` (scenario `{}`, seed {})",
            u.index, u.population, self.scenario, self.seed
        );
        let _ = writeln!(
            out,
            "  location         {:.4}, {:.4} in {} ({}, {})",
            u.lat, u.lon, u.country_name, u.country, u.continent
        );
        let _ = writeln!(out, "  identity         {} ({})", u.email, u.name);
        if let Some(l) = &u.listed {
            let _ = writeln!(
                out,
                "  listed           line {} of {}, located by GeoIP from {}",
                l.line, l.file, l.ip
            );
        }
        let _ = writeln!(out, "  groups           {}", listed(&u.groups));
        let _ = writeln!(out, "  posture passed   {}", listed(&u.posture_passed));
        let _ = writeln!(
            out,
            "  virtual network  {}",
            u.virtual_network.as_deref().unwrap_or("(none)")
        );
        let _ = writeln!(
            out,
            "  source           {} (internal {}, port {})",
            u.source_ip, u.source_internal_ip, u.source_port
        );
        let capable = if u.ipv6_capable {
            "capable"
        } else {
            "not capable"
        };
        let _ = writeln!(out, "  IPv6             {capable}");
        let _ = writeln!(
            out,
            "  access           {} profile, {:.1} ms last mile",
            u.access, u.access_ms
        );
    }

    /// The case, the ingress and where unmatched traffic goes.
    fn connection(&self, out: &mut String) {
        let _ = writeln!(out, "\ncase {}", self.case);
        match &self.ingress {
            Some(i) => {
                let _ = writeln!(
                    out,
                    "  ingress          {} ({}, {}), {:.0} km away, {:.1} ms round trip",
                    i.datacenter, i.city, i.country, i.distance_km, i.rtt_ms
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "  ingress          none: every data center is down in this case"
                );
            }
        }
        match &self.nearest_dedicated {
            Some(b) => {
                let _ = writeln!(out, "  nearest dedicated location (for unmatched traffic): {} in {} ({}), {:.0} km away", b.egress, b.datacenter, b.city, b.distance_km);
            }
            None => {
                let _ = writeln!(out, "  nearest dedicated location: none available");
            }
        }
        let how = if self.balancing == "fastest" {
            "unmatched traffic takes, per destination, the dedicated location with the lowest modelled round trip (a modelling assumption)"
        } else {
            "unmatched traffic takes the nearest dedicated location (Cloudflare's documented behaviour)"
        };
        let _ = writeln!(out, "  balancing        {}: {how}", self.balancing);
    }
}

/// One destination: what it accepts, then per IP version the policies and the decision.
fn destination(out: &mut String, d: &DestinationFacts, width: &usize) {
    let allow = match &d.allowlist {
        None => "accepts any source".to_string(),
        Some(a) => format!("allowlist: {}", a.join(", ")),
    };
    let proxied = if d.proxied {
        "proxied by Cloudflare"
    } else {
        "not proxied"
    };
    let _ = writeln!(
        out,
        "\nresource {} ({}, port {}/{}, at {}, {proxied}; {allow})",
        d.resource, d.host, d.port, d.protocol, d.location,
    );
    for v in &d.ip_versions {
        let _ = writeln!(
            out,
            "  over {} ({:.0}% of this user's requests to it)",
            if v.ip_version == "ipv6" {
                "IPv6"
            } else {
                "IPv4"
            },
            v.share * 100.0
        );
        verdicts(out, v, *width);
        decision(out, v);
        if let (Some(path), Some(rtt)) = (&v.path, &v.round_trip) {
            let case = PathCase {
                on_egress_ip: path.on_egress_ip,
                private_network: v.outcome == "private_network",
                ipv6: v.ip_version == "ipv6",
                proxied: d.proxied,
                at_ingress: path.leaves_from_ingress,
            };
            delivered(out, path, case);
            round_trip(out, rtt);
        }
    }
}

/// One line per policy in precedence order.
fn verdicts(out: &mut String, v: &IpVersionFacts, width: usize) {
    for p in &v.policies {
        let text = match p.verdict {
            "match" => "MATCH".to_string(),
            "disabled" => "skipped (disabled)".to_string(),
            "no_match" => format!(
                "no match: {} `{}` is false",
                p.filter.unwrap_or(""),
                p.condition.as_deref().unwrap_or("")
            ),
            _ => "not evaluated (an earlier policy matched)".to_string(),
        };
        let _ = writeln!(out, "    {:>6}  {:<width$}  {text}", p.precedence, p.name);
    }
    if v.policies.is_empty() {
        let _ = writeln!(out, "    (no egress policies)");
    }
}

/// The chosen egress and what decided it.
fn decision(out: &mut String, v: &IpVersionFacts) {
    let by = match (&v.policy, &v.balancing) {
        (Some(name), _) => format!("decided by policy `{name}`"),
        (None, Some(b)) => format!(
            "no policy matched, so balancing chose it ({})",
            balancing_reason(b)
        ),
        (None, None) => "no policy matched, so it uses the nearest dedicated location".to_string(),
    };
    let what = match (v.outcome, &v.egress) {
        ("dropped", _) => "DROPPED (no usable egress)".to_string(),
        (outcome, Some(e)) => format!(
            "{outcome} via {e} ({} {})",
            if v.ip_version == "ipv6" {
                "IPv6 range"
            } else {
                "IPv4"
            },
            v.address.as_deref().unwrap_or("")
        ),
        ("private_network", _) => {
            "PRIVATE NETWORK (through Cloudflare Tunnel or Magic WAN on shared addresses, never a dedicated egress IP)".to_string()
        }
        (outcome, None) => format!("{outcome} (Cloudflare's shared default egress)"),
    };
    let _ = writeln!(out, "    decision: {what}; {by}");
    if v.fallback_took_over {
        let _ = writeln!(
            out,
            "    the primary egress IP is unavailable in this case; its fallback took over"
        );
    }
}

/// Why balancing chose the location: "fastest: AMS 21.3 ms vs nearest LHR 25.0 ms for this resource".
fn balancing_reason(b: &BalancingFacts) -> String {
    match b.mode {
        "fastest" if b.datacenter != b.nearest_datacenter => format!(
            "fastest: {} {:.1} ms vs nearest {} {:.1} ms for this resource",
            b.datacenter, b.rtt_ms, b.nearest_datacenter, b.nearest_rtt_ms
        ),
        "fastest" => format!(
            "fastest: {} {:.1} ms for this resource, also the nearest location",
            b.datacenter, b.rtt_ms
        ),
        _ => format!(
            "nearest: {}, the closest dedicated location, {:.0} km away",
            b.datacenter, b.nearest_distance_km
        ),
    }
}

/// Where a delivered request leaves, where it appears to come from, and whether it is accepted.
fn delivered(out: &mut String, p: &PathFacts, case: PathCase) {
    let _ = writeln!(
        out,
        "    physical egress: {} ({}){}",
        p.physical_egress,
        p.physical_city,
        physical_reason(case)
    );
    let _ = writeln!(
        out,
        "    appears to come from {} ({}), {:.0} km from the user{}",
        p.apparent_city,
        p.apparent_country,
        p.apparent_distance_km,
        if p.apparent_other_country {
            ", in another country"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "    destination {}",
        if p.accepted {
            "accepts the request"
        } else {
            "REFUSES the request (source not on its allowlist)"
        }
    );
}

/// What decides a delivered request's physical egress: one row of the physical-path table
/// (GATEWAY-REFERENCE.md, "Where traffic egresses") plus default egress and private networks.
#[derive(Debug, Clone, Copy)]
struct PathCase {
    /// Sent from a dedicated egress IP (else Cloudflare's shared addresses).
    on_egress_ip: bool,
    /// To a private network behind Cloudflare Tunnel or Magic WAN.
    private_network: bool,
    /// Over IPv6.
    ipv6: bool,
    /// The destination is proxied by Cloudflare.
    proxied: bool,
    /// The physical egress is the ingress data center.
    at_ingress: bool,
}

/// The reason printed after the physical egress data center, right in every case of the table: an
/// IPv4 request to a non-proxied destination leaves from the egress IP's data center, which may
/// happen to be the ingress.
fn physical_reason(c: PathCase) -> &'static str {
    match c {
        PathCase {
            private_network: true,
            ..
        } => " = ingress (private network: reached through Cloudflare Tunnel or Magic WAN, never from a dedicated egress IP)",
        PathCase {
            on_egress_ip: false,
            ..
        } => " = ingress (default egress: shared addresses leave where the user entered)",
        PathCase { ipv6: true, .. } => {
            " = ingress (IPv6 leaves where the user entered, from the dedicated range)"
        }
        PathCase { proxied: true, .. } => {
            " = ingress (the destination is proxied by Cloudflare: IPv4 leaves where the user entered)"
        }
        PathCase {
            at_ingress: true, ..
        } => {
            " = ingress, which holds the dedicated IPv4 (IPv4 to a non-proxied destination leaves from the egress IP's data center)"
        }
        PathCase { .. } => {
            " (IPv4 to a non-proxied destination crosses the backbone to the egress IP's data center)"
        }
    }
}

/// The round trip part by part.
fn round_trip(out: &mut String, b: &RoundTrip) {
    let _ = writeln!(out, "    round trip:");
    for part in &b.parts {
        let km = if is_segment(part.kind) {
            format!("{:>7.0} km", part.distance_km)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "      {:<46} {km:>10} {:>8.2} ms",
            part.name, part.rtt_ms
        );
    }
    let _ = writeln!(
        out,
        "      {:<46} {:>10} {:>8.2} ms",
        "total (jitter at its mean)", "", b.total_ms
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(on_egress_ip: bool, ipv6: bool, proxied: bool, at_ingress: bool) -> &'static str {
        physical_reason(PathCase {
            on_egress_ip,
            private_network: false,
            ipv6,
            proxied,
            at_ingress,
        })
    }

    /// Every row of the physical-path table, default egress and private networks get their own
    /// reason; an IPv4 request to a non-proxied destination is never explained as IPv6 or proxied,
    /// even when the egress IP's data center is the ingress.
    #[test]
    fn every_case_of_the_physical_path_table_has_its_reason() {
        let v4_direct_here = reason(true, false, false, true);
        assert!(v4_direct_here.contains("which holds the dedicated IPv4"));
        assert!(!v4_direct_here.contains("IPv6") && !v4_direct_here.contains("proxied by"));
        assert!(reason(true, false, false, false).contains("crosses the backbone"));
        assert!(reason(true, false, true, true).contains("proxied by Cloudflare"));
        for proxied in [false, true] {
            assert!(
                reason(true, true, proxied, true).contains("IPv6 leaves where the user entered")
            );
            for ipv6 in [false, true] {
                assert!(reason(false, ipv6, proxied, true).contains("default egress"));
                let private = physical_reason(PathCase {
                    on_egress_ip: false,
                    private_network: true,
                    ipv6,
                    proxied,
                    at_ingress: true,
                });
                assert!(private.contains("private network"), "{private}");
            }
        }
    }
}
