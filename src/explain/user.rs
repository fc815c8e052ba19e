//! `egress-sim explain --user N`: one user's trace, printed step by step.

use std::fmt::Write;
use std::path::PathBuf;

use super::{verdict, Verdict};
use crate::catalog::Catalog;
use crate::engine::trace::{DestinationTrace, PhysicalPath, Tracer, UserTrace};
use crate::engine::Outcome;
use crate::error::{Error, InputError, Result};
use crate::latency::{Breakdown, PartKind};
use crate::matching::facts::FactsBuilder;
use crate::policy::expr::Universe;
use crate::policy::Action;
use crate::scenario::{self, Overrides};
use crate::suggest;
use crate::users::User;
use crate::world::World;

/// Options of `egress-sim explain`.
#[derive(Debug, Clone, Default)]
pub struct ExplainOptions {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Global user index.
    pub user: u64,
    /// Only this destination (default: all).
    pub resource: Option<String>,
    /// Case name (default `baseline`).
    pub case: Option<String>,
    /// Setting overrides (users, seed) so the user is the one a run with the same flags simulates.
    pub overrides: Overrides,
}

/// Runs `explain` and returns the report.
pub fn explain(opts: &ExplainOptions) -> Result<String> {
    let mut loaded = scenario::load(&opts.scenario, &opts.overrides)?;
    if let Some(name) = &opts.case {
        // A sweep case (`down:LHR`) exists only in a world compiled with a sweep; compile with the
        // widest one so `--case down:LHR+AMS` works without repeating `--sweep`.
        if name.starts_with("down:") && !loaded.world.cases.iter().any(|c| &c.name == name) {
            let widest = Overrides {
                sweep: Some(crate::world::Sweep::N2),
                ..opts.overrides.clone()
            };
            loaded = scenario::load(&opts.scenario, &widest)?;
        }
    }
    let w = &loaded.world;
    if opts.user >= w.users {
        return Err(InputError::new(format!(
            "user {} does not exist: the scenario has {} users (0..{})",
            opts.user,
            w.users,
            w.users - 1
        ))
        .with_help("pick an index below the total, or pass the same --users as the run")
        .into());
    }
    let case = match &opts.case {
        None => 0,
        Some(name) => find("case", name, w.cases.iter().map(|c| c.name.as_str()))?,
    };
    let resources: Vec<usize> = match &opts.resource {
        None => (0..w.resources.len()).collect(),
        Some(name) => vec![find(
            "resource",
            name,
            w.resources.iter().map(|r| r.name.as_str()),
        )?],
    };
    let trace = Tracer::new(w).trace(opts.user, case);
    let mut out = String::new();
    attributes(&mut out, w, &trace.user);
    connection(&mut out, w, &trace);
    let mut facts = FactsBuilder::new(w);
    facts.set_user(&trace.user);
    let policies = Policies {
        world: w,
        facts,
        universe: w.universe(),
    };
    for &r in &resources {
        destination(&mut out, &policies, &trace, r);
    }
    Ok(out)
}

/// The index of `name` among `names`, or an error suggesting the closest name (or listing them).
fn find<'a>(what: &str, name: &str, names: impl Iterator<Item = &'a str> + Clone) -> Result<usize> {
    names.clone().position(|n| n == name).ok_or_else(|| {
        let help = suggest::closest(name, names.clone())
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| format!("{what}s: {}", names.collect::<Vec<_>>().join(", ")));
        Error::Input(InputError::new(format!("unknown {what} `{name}`")).with_help(help))
    })
}

fn names_of(bits: &[u64; 4], names: &dyn Fn(usize) -> String) -> String {
    let mut v = Vec::new();
    for i in 0..256usize {
        if bits[i / 64] >> (i % 64) & 1 == 1 {
            v.push(names(i));
        }
    }
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

fn attributes(out: &mut String, w: &World, u: &User) {
    let catalog = Catalog::embedded();
    let pop = &w.populations[u.population as usize];
    let c = catalog.country(u.country);
    let _ = writeln!(
        out,
        "user {} of population `{}` (scenario `{}`, seed {})",
        u.index, pop.name, w.name, w.seed
    );
    let _ = writeln!(
        out,
        "  location         {:.4}, {:.4} in {} ({}, {})",
        u.location.lat,
        u.location.lon,
        c.name,
        c.iso2,
        c.continent.code()
    );
    let (mut email, mut name) = (String::new(), String::new());
    pop.write_identity(u.index, &mut email, &mut name);
    let _ = writeln!(out, "  identity         {email} ({name})");
    if let Some(l) = pop.listed_user(u.index) {
        let _ = writeln!(
            out,
            "  listed           line {} of {}, located by GeoIP from {}",
            l.line,
            pop.listing
                .as_ref()
                .map_or(String::new(), |x| x.file.display().to_string()),
            l.ip
        );
    }
    let group = |i: usize| {
        w.groups
            .get(i)
            .map_or_else(|| i.to_string(), |g| g.name.clone())
    };
    let _ = writeln!(out, "  groups           {}", names_of(&u.groups, &group));
    let check = |i: usize| w.posture_checks.get(i).cloned().unwrap_or_default();
    let _ = writeln!(out, "  posture passed   {}", names_of(&u.posture, &check));
    let _ = writeln!(
        out,
        "  virtual network  {}",
        u.vnet
            .map_or("(none)".to_string(), |v| w.vnets[v as usize].clone())
    );
    let _ = writeln!(
        out,
        "  source           {} (internal {}, port {})",
        u.src_ip, u.src_internal_ip, u.src_port
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
        pop.access_name, u.access_ms
    );
}

/// The case, the ingress and where unmatched traffic goes.
fn connection(out: &mut String, w: &World, t: &UserTrace) {
    let catalog = Catalog::embedded();
    let _ = writeln!(out, "\ncase {}", w.cases[t.case].name);
    match t.ingress {
        Some(i) => {
            let d = &w.datacenters[i.datacenter as usize];
            let _ = writeln!(
                out,
                "  ingress          {} ({}, {}), {:.0} km away, {:.1} ms round trip",
                d.code,
                d.city,
                catalog.country(d.country).iso2,
                i.distance_km,
                i.rtt_ms
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  ingress          none: every data center is down in this case"
            );
        }
    }
    match t.balanced {
        Some(b) => {
            let d = w.egress_dc(b.egress);
            let _ = writeln!(out, "  nearest dedicated location (for unmatched traffic): {} in {} ({}), {:.0} km away", w.egress[b.egress as usize].id, d.code, d.city, b.distance_km);
        }
        None => {
            let _ = writeln!(out, "  nearest dedicated location: none available");
        }
    }
}

/// The policies with what is needed to say why each does or does not match the user.
struct Policies<'w> {
    world: &'w World,
    facts: FactsBuilder<'w>,
    universe: Universe,
}

impl Policies<'_> {
    /// One line per policy in precedence order, for destination `r` over IPv6 or IPv4.
    fn verdicts(&self, out: &mut String, r: usize, v6: bool) {
        let w = self.world;
        let f = self.facts.facts(r, v6);
        let width = w
            .policies
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut matched = false;
        for pol in &w.policies {
            let text = if matched {
                "not evaluated (an earlier policy matched)".to_string()
            } else {
                match verdict(pol, &f, &self.universe) {
                    Verdict::Match => {
                        matched = true;
                        "MATCH".to_string()
                    }
                    Verdict::Disabled => "skipped (disabled)".to_string(),
                    Verdict::NoMatch { filter, condition } => {
                        format!("no match: {} `{condition}` is false", filter.name())
                    }
                }
            };
            let _ = writeln!(
                out,
                "    {:>6}  {:<width$}  {text}",
                pol.precedence, pol.name
            );
        }
        if w.policies.is_empty() {
            let _ = writeln!(out, "    (no egress policies)");
        }
    }
}

/// One destination: what it accepts, then per IP version the policies and the decision.
fn destination(out: &mut String, p: &Policies, t: &UserTrace, r: usize) {
    let w = p.world;
    let res = &w.resources[r];
    let allow = match &res.allowlist {
        None => "accepts any source".to_string(),
        Some(a) => format!(
            "allowlist: {}",
            w.egress
                .iter()
                .zip(a)
                .filter(|(_, ok)| **ok)
                .map(|(e, _)| e.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let proxied = if res.proxied {
        "proxied by Cloudflare"
    } else {
        "not proxied"
    };
    let _ = writeln!(
        out,
        "\nresource {} ({}, port {}/{}, at {}, {proxied}; {allow})",
        res.name, res.host, res.port, res.protocol, res.location_label,
    );
    for v6 in [false, true] {
        let Some(d) = t.destination(r, v6).filter(|d| d.share > 0.0) else {
            continue;
        };
        let _ = writeln!(
            out,
            "  over {} ({:.0}% of this user's requests to it)",
            if v6 { "IPv6" } else { "IPv4" },
            d.share * 100.0
        );
        p.verdicts(out, r, v6);
        decision(out, w, d);
        if let (Some(path), Some(rtt)) = (&d.path, &d.rtt) {
            delivered(out, w, d, path);
            round_trip(out, rtt);
        }
    }
}

/// The chosen egress and what decided it.
fn decision(out: &mut String, w: &World, d: &DestinationTrace) {
    let policy = d.policy.map(|i| &w.policies[i]);
    let by = match policy {
        Some(pol) => format!("decided by policy `{}`", pol.name),
        None => "no policy matched, so it uses the nearest dedicated location".to_string(),
    };
    let outcome = d.outcome();
    let what = match (outcome, w.egress.get(d.route.slot as usize)) {
        (Outcome::Dropped, _) => "DROPPED (no usable egress)".to_string(),
        (_, Some(e)) => format!(
            "{} via {} ({} {})",
            outcome.name(),
            e.id,
            if d.ipv6 { "IPv6 range" } else { "IPv4" },
            if d.ipv6 {
                e.ipv6.map_or(String::new(), |x| x.to_string())
            } else {
                e.ipv4.to_string()
            }
        ),
        (_, None) => format!("{} (Cloudflare's shared default egress)", outcome.name()),
    };
    let _ = writeln!(out, "    decision: {what}; {by}");
    if let Some(Action::Dedicated { .. }) = policy.map(|x| x.action) {
        if outcome == Outcome::Fallback {
            let _ = writeln!(
                out,
                "    the primary egress IP is unavailable in this case; its fallback took over"
            );
        }
    }
}

/// Where a delivered request leaves, where it appears to come from, and whether it is accepted.
fn delivered(out: &mut String, w: &World, d: &DestinationTrace, path: &PhysicalPath) {
    let catalog = Catalog::embedded();
    let phys = &w.datacenters[path.physical as usize];
    let apparent = &w.datacenters[path.apparent as usize];
    let on_egress_ip = (d.route.slot as usize) < w.egress.len();
    let res = &w.resources[d.resource];
    let _ = writeln!(
        out,
        "    physical egress: {} ({}){}",
        phys.code,
        phys.city,
        physical_reason(PathCase {
            on_egress_ip,
            ipv6: d.ipv6,
            proxied: res.proxied,
            at_ingress: path.physical == path.ingress,
        })
    );
    let _ = writeln!(
        out,
        "    appears to come from {} ({}), {:.0} km from the user{}",
        apparent.city,
        catalog.country(apparent.country).iso2,
        d.route.apparent_m as f64 / 1000.0,
        if d.route.country_mismatch {
            ", in another country"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "    destination {}",
        if d.route.blocked {
            "REFUSES the request (source not on its allowlist)"
        } else {
            "accepts the request"
        }
    );
}

/// What decides a delivered request's physical egress: one row of the physical-path table
/// (GATEWAY-REFERENCE.md, "Where traffic egresses") plus default egress.
#[derive(Debug, Clone, Copy)]
struct PathCase {
    /// Sent from a dedicated egress IP (else Cloudflare's shared addresses).
    on_egress_ip: bool,
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

/// True for the parts that are network segments (they have a distance).
pub(super) fn is_segment(kind: PartKind) -> bool {
    matches!(
        kind,
        PartKind::UserToIngress | PartKind::Backbone | PartKind::EgressToDestination
    )
}

/// The round trip part by part.
fn round_trip(out: &mut String, b: &Breakdown) {
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
        "total (jitter at its mean)",
        "",
        b.total_ms()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(on_egress_ip: bool, ipv6: bool, proxied: bool, at_ingress: bool) -> &'static str {
        physical_reason(PathCase {
            on_egress_ip,
            ipv6,
            proxied,
            at_ingress,
        })
    }

    /// Every row of the physical-path table, and default egress, gets its own reason; an IPv4
    /// request to a non-proxied destination is never explained as IPv6 or proxied, even when the
    /// egress IP's data center is the ingress.
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
            }
        }
    }
}
