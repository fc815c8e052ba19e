//! `egress-sim explain`: one user's attributes, ingress, policy evaluation, decision, physical path and
//! round-trip time, part by part. It reuses the engine's own functions, so what it prints is exactly
//! what the simulation does for that user.

use std::fmt::Write;
use std::path::PathBuf;

use crate::catalog::Catalog;
use crate::engine::route::{self, UserGeo};
use crate::engine::{Outcome, Prepared};
use crate::error::{Error, InputError, Result};
use crate::latency::PathSpec;
use crate::policy::expr::{self, Expr, Universe};
use crate::policy::facts::FactsBuilder;
use crate::policy::{Action, Condition, FilterKind, Policy};
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

/// Why a policy did or did not decide.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every present filter matched.
    Match,
    /// Disabled policies are skipped.
    Disabled,
    /// A filter did not match; the first failing top-level condition.
    NoMatch {
        /// Which filter.
        filter: FilterKind,
        /// Text of the first failing condition.
        condition: String,
    },
}

/// Evaluates `policy` for `facts`, naming the first failing condition.
pub fn verdict(policy: &Policy, facts: &expr::Facts<'_>, universe: &Universe) -> Verdict {
    if !policy.enabled {
        return Verdict::Disabled;
    }
    for kind in FilterKind::ALL {
        let Some(cond) = policy.filter(kind) else {
            continue;
        };
        if !cond.compiled.eval(facts) {
            return Verdict::NoMatch {
                filter: kind,
                condition: first_failing(cond, facts, universe),
            };
        }
    }
    Verdict::Match
}

/// The first top-level conjunct of a failing filter that is false on its own (the whole filter when
/// it is not a conjunction).
fn first_failing(cond: &Condition, facts: &expr::Facts<'_>, universe: &Universe) -> String {
    if let Expr::And { operands, .. } = &cond.expr {
        for op in operands {
            if let Ok((c, _)) = expr::compile(op, universe) {
                if !c.eval(facts) {
                    return op.to_string();
                }
            }
        }
    }
    cond.text.clone()
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

/// Runs `explain` and returns the report.
pub fn explain(opts: &ExplainOptions) -> Result<String> {
    let mut loaded = scenario::load(&opts.scenario, &opts.overrides)?;
    if let Some(name) = &opts.case {
        // A sweep case (`down:LHR`) exists only once the sweep is expanded; expand the widest one so
        // `--case down:LHR+AMS` works without repeating `--sweep`.
        if name.starts_with("down:") && !loaded.world.cases.iter().any(|c| &c.name == name) {
            loaded.world.sweep = crate::world::Sweep::N2;
        }
        crate::engine::sweep::expand(&mut loaded.world, 0)?;
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
        Some(name) => w
            .cases
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| {
                Error::Input(
                    InputError::new(format!("unknown case `{name}`")).with_help(
                        suggest::closest(name, w.cases.iter().map(|c| c.name.as_str()))
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| {
                                format!(
                                    "cases: {}",
                                    w.cases
                                        .iter()
                                        .map(|c| c.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }),
                    ),
                )
            })?,
    };
    let resources: Vec<usize> = match &opts.resource {
        None => (0..w.resources.len()).collect(),
        Some(name) => vec![w
            .resources
            .iter()
            .position(|r| &r.name == name)
            .ok_or_else(|| {
                Error::Input(
                    InputError::new(format!("unknown resource `{name}`")).with_help(
                        suggest::closest(name, w.resources.iter().map(|r| r.name.as_str()))
                            .map(|s| format!("did you mean `{s}`?"))
                            .unwrap_or_else(|| {
                                format!(
                                    "resources: {}",
                                    w.resources
                                        .iter()
                                        .map(|r| r.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }),
                    ),
                )
            })?],
    };
    let p = Prepared::new(w);
    let (user, _) = p.user(opts.user);
    let mut out = String::new();
    attributes(&mut out, w, &user);
    let geo = UserGeo::new(&p, &user);
    let uc = route::user_case(&p, &user, &geo, case);
    let catalog = Catalog::embedded();
    let _ = writeln!(out, "\ncase {}", w.cases[case].name);
    match uc.ingress {
        Some(i) => {
            let d = &w.datacenters[i as usize];
            let _ = writeln!(
                out,
                "  ingress          {} ({}, {}), {:.0} km away, {:.1} ms round trip",
                d.code,
                d.city,
                catalog.country(d.country).iso2,
                uc.ingress_km,
                uc.ingress_ms
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  ingress          none: every data center is down in this case"
            );
        }
    }
    match uc.balanced {
        Some(e) => {
            let d = w.egress_dc(e);
            let _ = writeln!(out, "  nearest dedicated location (for unmatched traffic): {} in {} ({}), {:.0} km away", w.egress[e as usize].id, d.code, d.city, geo.site_km[p.site_of_egress[e as usize]]);
        }
        None => {
            let _ = writeln!(out, "  nearest dedicated location: none available");
        }
    }
    let mut facts = FactsBuilder::new(w);
    facts.set_user(&user);
    let universe = w.universe();
    for &r in &resources {
        resource(&mut out, &p, &user, &geo, &uc, case, r, &facts, &universe);
    }
    Ok(out)
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
    let _ = writeln!(
        out,
        "  groups           {}",
        names_of(&u.groups, &|i| w
            .groups
            .get(i)
            .map_or_else(|| i.to_string(), |g| g.name.clone()))
    );
    let _ = writeln!(
        out,
        "  posture passed   {}",
        names_of(&u.posture, &|i| w
            .posture_checks
            .get(i)
            .cloned()
            .unwrap_or_default())
    );
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
    let _ = writeln!(
        out,
        "  IPv6             {}",
        if u.ipv6_capable {
            "capable"
        } else {
            "not capable"
        }
    );
    let _ = writeln!(
        out,
        "  access           {} profile, {:.1} ms last mile",
        pop.access_name, u.access_ms
    );
}

#[allow(clippy::too_many_arguments)]
fn resource(
    out: &mut String,
    p: &Prepared,
    user: &User,
    geo: &UserGeo,
    uc: &route::UserCase,
    case: usize,
    r: usize,
    facts: &FactsBuilder,
    universe: &Universe,
) {
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
    let _ = writeln!(
        out,
        "\nresource {} ({}, port {}/{}, at {}, {}; {})",
        res.name,
        res.host,
        res.port,
        res.protocol,
        res.location_label,
        if res.proxied {
            "proxied by Cloudflare"
        } else {
            "not proxied"
        },
        allow
    );
    let pref = w.balancing.ipv6_preference;
    let share_v6 = crate::engine::ipv6_share(
        user.ipv6_capable,
        res.ipv4.is_some(),
        res.ipv6.is_some(),
        pref,
    );
    for v6 in [false, true] {
        let share = if v6 { share_v6 } else { 1.0 - share_v6 };
        if share <= 0.0 {
            continue;
        }
        let _ = writeln!(
            out,
            "  over {} ({:.0}% of this user's requests to it)",
            if v6 { "IPv6" } else { "IPv4" },
            share * 100.0
        );
        let f = facts.facts(r, v6);
        let width = w
            .policies
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(0);
        let mut matched = None;
        for (i, pol) in w.policies.iter().enumerate() {
            let text = if matched.is_some() {
                "not evaluated (an earlier policy matched)".to_string()
            } else {
                match verdict(pol, &f, universe) {
                    Verdict::Match => {
                        matched = Some(i);
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
        let policy = matched.map_or(crate::policy::matcher::UNMATCHED, |i| i as u16);
        let at = route::UserInCase {
            user,
            geo,
            uc,
            case,
        };
        let entry = route::Entry {
            resource: r,
            ipv6: v6,
            policy,
        };
        let route = route::decide(p, &at, entry);
        decision(
            out,
            p,
            user,
            uc,
            r,
            v6,
            &route,
            matched.map(|i| &w.policies[i]),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn decision(
    out: &mut String,
    p: &Prepared,
    user: &User,
    uc: &route::UserCase,
    r: usize,
    v6: bool,
    route: &route::Route,
    policy: Option<&Policy>,
) {
    let w = p.world;
    let catalog = Catalog::embedded();
    let res = &w.resources[r];
    let by = match policy {
        Some(pol) => format!("decided by policy `{}`", pol.name),
        None => "no policy matched, so it uses the nearest dedicated location".to_string(),
    };
    let outcome = crate::engine::Outcome::ALL[route.outcome as usize];
    let egress = w.egress.get(route.slot as usize);
    let what = match (outcome, egress) {
        (Outcome::Dropped, _) => "DROPPED (no usable egress)".to_string(),
        (_, Some(e)) => format!(
            "{} via {} ({} {})",
            outcome.name(),
            e.id,
            if v6 { "IPv6 range" } else { "IPv4" },
            if v6 {
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
    let Some(ingress) = uc.ingress else { return };
    if outcome == Outcome::Dropped {
        return;
    }
    let ing = &w.datacenters[ingress as usize];
    let phys = &w.datacenters[route.physical as usize];
    let apparent = match egress {
        Some(_) => w.egress_dc(route.slot as u16),
        None => ing,
    };
    let _ = writeln!(
        out,
        "    physical egress: {} ({}){}",
        phys.code,
        phys.city,
        if route.physical == ingress {
            if egress.is_some() {
                " = ingress (IPv6 or proxied destination: leaves where the user entered)"
            } else {
                " = ingress"
            }
        } else {
            " (IPv4 to a non-proxied destination crosses the backbone to the egress data center)"
        }
    );
    let _ = writeln!(
        out,
        "    appears to come from {} ({}), {:.0} km from the user{}",
        apparent.city,
        catalog.country(apparent.country).iso2,
        route.apparent_m as f64 / 1000.0,
        if route.country_mismatch {
            ", in another country"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "    destination {}",
        if route.blocked {
            "REFUSES the request (source not on its allowlist)"
        } else {
            "accepts the request"
        }
    );
    let ing_label = format!("{} ({})", ing.code, ing.city);
    let phys_label = format!("{} ({})", phys.code, phys.city);
    let spec = PathSpec {
        user: user.location,
        ingress: (&ing_label, ing.location),
        egress: (route.physical != ingress).then_some((phys_label.as_str(), phys.location)),
        destination: (&res.location_label, res.location),
        access_ms: Some(user.access_ms as f64),
        processing_ms: res.processing_ms,
    };
    let b = w.latency.breakdown(&spec);
    let _ = writeln!(out, "    round trip:");
    for part in &b.parts {
        let km = if part.name.contains('→') {
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
