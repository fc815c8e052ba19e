//! `egress-sim explain --user N`: one user's trace as data ([`UserExplanation`]), printed step by
//! step (`user_text.rs`) or as one JSON object (`--format json`; fields in README.md).

use std::path::PathBuf;

use serde::Serialize;

use super::{verdict, Verdict};
use crate::catalog::Catalog;
use crate::engine::trace::{DestinationTrace, Tracer, UserTrace};
use crate::engine::Outcome;
use crate::error::{Error, InputError, Result};
use crate::latency::Part;
use crate::matching::facts::FactsBuilder;
use crate::policy::expr::Universe;
use crate::policy::Action;
use crate::printed::{json, Format};
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
    /// Step by step text, or one JSON object.
    pub format: Format,
}

/// Version of the JSON object; bump on an incompatible change.
pub const SCHEMA: &str = "egress-sim/explain/1";

/// What happens to one user in one case.
#[derive(Debug, Clone, Serialize)]
pub struct UserExplanation {
    /// `SCHEMA`.
    pub schema: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Random seed.
    pub seed: u64,
    /// Who the user is.
    pub user: UserFacts,
    /// The case explained.
    pub case: String,
    /// Where the user connects (absent when every data center is down).
    pub ingress: Option<IngressFacts>,
    /// How unmatched traffic picks its dedicated location: `nearest` or `fastest`.
    pub balancing: &'static str,
    /// The nearest available dedicated location (absent when none is up): where unmatched traffic
    /// goes in `nearest` balancing.
    pub nearest_dedicated: Option<NearestFacts>,
    /// Each destination explained.
    pub destinations: Vec<DestinationFacts>,
}

/// The user's attributes.
#[derive(Debug, Clone, Serialize)]
pub struct UserFacts {
    /// Global user index.
    pub index: u64,
    /// Population name.
    pub population: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Country name.
    pub country_name: String,
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    /// Continent code.
    pub continent: String,
    /// `identity.email`.
    pub email: String,
    /// `identity.name`.
    pub name: String,
    /// Where a listed user comes from (populations read from a user list).
    pub listed: Option<ListedFacts>,
    /// Group names.
    pub groups: Vec<String>,
    /// Posture checks passed.
    pub posture_passed: Vec<String>,
    /// Virtual network.
    pub virtual_network: Option<String>,
    /// `net.src.ip`.
    pub source_ip: String,
    /// `net.src.internal_src_ip`.
    pub source_internal_ip: String,
    /// `net.src.port`.
    pub source_port: u16,
    /// Whether the user can use IPv6.
    pub ipv6_capable: bool,
    /// Access preset.
    pub access: String,
    /// Last-mile round trip, ms.
    pub access_ms: f64,
}

/// A listed user's row.
#[derive(Debug, Clone, Serialize)]
pub struct ListedFacts {
    /// Line in the user list.
    pub line: u64,
    /// The user list.
    pub file: String,
    /// The address GeoIP placed.
    pub ip: String,
}

/// The ingress data center.
#[derive(Debug, Clone, Serialize)]
pub struct IngressFacts {
    /// Data center code.
    pub datacenter: String,
    /// Its city.
    pub city: String,
    /// Its country (ISO code).
    pub country: String,
    /// Distance from the user, km.
    pub distance_km: f64,
    /// Round trip user → ingress, ms.
    pub rtt_ms: f64,
}

/// The nearest dedicated location.
#[derive(Debug, Clone, Serialize)]
pub struct NearestFacts {
    /// Egress id.
    pub egress: String,
    /// Data center code.
    pub datacenter: String,
    /// Its city.
    pub city: String,
    /// Distance from the user, km.
    pub distance_km: f64,
}

/// One destination.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationFacts {
    /// Resource name.
    pub resource: String,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Where it is, in words.
    pub location: String,
    /// Proxied by Cloudflare.
    pub proxied: bool,
    /// Egress ids it accepts (absent: any source).
    pub allowlist: Option<Vec<String>>,
    /// Per IP version the user uses to reach it.
    pub ip_versions: Vec<IpVersionFacts>,
}

/// One IP version to one destination.
#[derive(Debug, Clone, Serialize)]
pub struct IpVersionFacts {
    /// `ipv4` or `ipv6`.
    pub ip_version: &'static str,
    /// Share of the user's requests to the destination over this version.
    pub share: f64,
    /// Each policy in precedence order and what it said.
    pub policies: Vec<PolicyVerdict>,
    /// `dedicated`, `fallback`, `default`, `dropped` or `private_network`.
    pub outcome: &'static str,
    /// The egress IP used (absent for default egress and dropped).
    pub egress: Option<String>,
    /// Its IPv4 address or IPv6 range.
    pub address: Option<String>,
    /// The policy that decided (absent: unmatched, nearest dedicated location).
    pub policy: Option<String>,
    /// A dedicated policy's primary was down and its fallback took over.
    pub fallback_took_over: bool,
    /// Where a delivered request goes.
    pub path: Option<PathFacts>,
    /// The round trip part by part (jitter at its mean), when delivered.
    pub round_trip: Option<RoundTrip>,
    /// How balancing chose the dedicated location (unmatched traffic on a dedicated IP only).
    pub balancing: Option<BalancingFacts>,
}

/// Why balancing chose a dedicated location for unmatched traffic to one destination.
#[derive(Debug, Clone, Serialize)]
pub struct BalancingFacts {
    /// `nearest` or `fastest`.
    pub mode: &'static str,
    /// Data center of the chosen location.
    pub datacenter: String,
    /// Modelled round trip through it (user → ingress → egress data center → destination, with
    /// processing; no last mile or jitter), ms.
    pub rtt_ms: f64,
    /// Data center of the nearest location.
    pub nearest_datacenter: String,
    /// The same round trip through the nearest location, ms.
    pub nearest_rtt_ms: f64,
    /// Distance user → nearest location, km.
    pub nearest_distance_km: f64,
}

/// A policy's verdict for the user.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyVerdict {
    /// Precedence.
    pub precedence: i64,
    /// Policy name.
    pub name: String,
    /// `match`, `no_match`, `disabled` or `not_evaluated` (an earlier policy matched).
    pub verdict: &'static str,
    /// For `no_match`: the filter (`traffic`, `identity`, `device_posture`).
    pub filter: Option<&'static str>,
    /// For `no_match`: the first condition that is false.
    pub condition: Option<String>,
}

/// Where a delivered request leaves and where it appears to come from.
#[derive(Debug, Clone, Serialize)]
pub struct PathFacts {
    /// Data center the request leaves Cloudflare from.
    pub physical_egress: String,
    /// Its city.
    pub physical_city: String,
    /// It leaves where the user entered.
    pub leaves_from_ingress: bool,
    /// On a dedicated egress IP (not default egress).
    pub on_egress_ip: bool,
    /// City the destination thinks the request comes from.
    pub apparent_city: String,
    /// Its country (ISO code).
    pub apparent_country: String,
    /// Distance user → apparent location, km.
    pub apparent_distance_km: f64,
    /// The apparent country is not the user's.
    pub apparent_other_country: bool,
    /// The destination accepts the source (allowlist).
    pub accepted: bool,
}

/// A round trip part by part.
#[derive(Debug, Clone, Serialize)]
pub struct RoundTrip {
    /// Parts in path order (`distance_km` is 0 for parts that are not network segments).
    pub parts: Vec<Part>,
    /// Their sum, ms.
    pub total_ms: f64,
}

/// Runs `explain` and returns the report.
pub fn explain(opts: &ExplainOptions) -> Result<String> {
    let x = explanation(opts)?;
    match opts.format {
        Format::Text => Ok(x.to_text()),
        Format::Json => json(&x),
    }
}

/// The explanation `opts` ask for.
pub fn explanation(opts: &ExplainOptions) -> Result<UserExplanation> {
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
    let mut facts = FactsBuilder::new(w);
    facts.set_user(&trace.user);
    let policies = Policies {
        world: w,
        facts,
        universe: w.universe(),
    };
    Ok(UserExplanation {
        schema: SCHEMA,
        scenario: w.name.clone(),
        seed: w.seed,
        user: user_facts(w, &trace.user),
        case: w.cases[trace.case].name.clone(),
        ingress: ingress(w, &trace),
        balancing: w.balancing.mode.name(),
        nearest_dedicated: trace.balanced.map(|b| {
            let d = w.egress_dc(b.egress);
            NearestFacts {
                egress: w.egress[b.egress as usize].id.clone(),
                datacenter: d.code.clone(),
                city: d.city.clone(),
                distance_km: b.distance_km,
            }
        }),
        destinations: resources
            .iter()
            .map(|&r| destination(&policies, &trace, r))
            .collect(),
    })
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

fn names_of(bits: &[u64; 4], names: &dyn Fn(usize) -> String) -> Vec<String> {
    (0..256usize)
        .filter(|i| bits[i / 64] >> (i % 64) & 1 == 1)
        .map(names)
        .collect()
}

fn user_facts(w: &World, u: &User) -> UserFacts {
    let catalog = Catalog::embedded();
    let pop = &w.populations[u.population as usize];
    let c = catalog.country(u.country);
    let (mut email, mut name) = (String::new(), String::new());
    pop.write_identity(u.index, &mut email, &mut name);
    let group = |i: usize| {
        w.groups
            .get(i)
            .map_or_else(|| i.to_string(), |g| g.name.clone())
    };
    let check = |i: usize| w.posture_checks.get(i).cloned().unwrap_or_default();
    UserFacts {
        index: u.index,
        population: pop.name.clone(),
        lat: u.location.lat,
        lon: u.location.lon,
        country_name: c.name.clone(),
        country: c.iso2.clone(),
        continent: c.continent.code().to_string(),
        email,
        name,
        listed: pop.listed_user(u.index).map(|l| ListedFacts {
            line: l.line,
            file: pop
                .listing
                .as_ref()
                .map_or(String::new(), |x| x.file.display().to_string()),
            ip: l.ip.to_string(),
        }),
        groups: names_of(&u.groups, &group),
        posture_passed: names_of(&u.posture, &check),
        virtual_network: u.vnet.map(|v| w.vnets[v as usize].clone()),
        source_ip: u.src_ip.to_string(),
        source_internal_ip: u.src_internal_ip.to_string(),
        source_port: u.src_port,
        ipv6_capable: u.ipv6_capable,
        access: pop.access_name.clone(),
        access_ms: f64::from(u.access_ms),
    }
}

fn ingress(w: &World, t: &UserTrace) -> Option<IngressFacts> {
    let catalog = Catalog::embedded();
    t.ingress.map(|i| {
        let d = &w.datacenters[i.datacenter as usize];
        IngressFacts {
            datacenter: d.code.clone(),
            city: d.city.clone(),
            country: catalog.country(d.country).iso2.clone(),
            distance_km: i.distance_km,
            rtt_ms: i.rtt_ms,
        }
    })
}

/// The policies with what is needed to say why each does or does not match the user.
struct Policies<'w> {
    world: &'w World,
    facts: FactsBuilder<'w>,
    universe: Universe,
}

impl Policies<'_> {
    /// Every policy in precedence order, for destination `r` over IPv6 or IPv4.
    fn verdicts(&self, r: usize, v6: bool) -> Vec<PolicyVerdict> {
        let f = self.facts.facts(r, v6);
        let mut matched = false;
        let mut out = Vec::with_capacity(self.world.policies.len());
        for pol in &self.world.policies {
            let (verdict, filter, condition) = if matched {
                ("not_evaluated", None, None)
            } else {
                match verdict(pol, &f, &self.universe) {
                    Verdict::Match => {
                        matched = true;
                        ("match", None, None)
                    }
                    Verdict::Disabled => ("disabled", None, None),
                    Verdict::NoMatch { filter, condition } => {
                        ("no_match", Some(filter.name()), Some(condition))
                    }
                }
            };
            out.push(PolicyVerdict {
                precedence: pol.precedence,
                name: pol.name.clone(),
                verdict,
                filter,
                condition,
            });
        }
        out
    }
}

/// One destination: what it accepts, then per IP version the policies and the decision.
fn destination(p: &Policies, t: &UserTrace, r: usize) -> DestinationFacts {
    let w = p.world;
    let res = &w.resources[r];
    DestinationFacts {
        resource: res.name.clone(),
        host: res.host.clone(),
        port: res.port,
        protocol: res.protocol.to_string(),
        location: res.location_label.clone(),
        proxied: res.proxied,
        allowlist: res.allowlist.as_ref().map(|a| {
            w.egress
                .iter()
                .zip(a)
                .filter(|(_, ok)| **ok)
                .map(|(e, _)| e.id.clone())
                .collect()
        }),
        ip_versions: [false, true]
            .into_iter()
            .filter_map(|v6| t.destination(r, v6).filter(|d| d.share > 0.0))
            .map(|d| ip_version(p, d, r))
            .collect(),
    }
}

/// The decision over one IP version and what follows from it.
fn ip_version(p: &Policies, d: &DestinationTrace, r: usize) -> IpVersionFacts {
    let w = p.world;
    let policy = d.policy.map(|i| &w.policies[i]);
    let outcome = d.outcome();
    let egress = w.egress.get(d.route.slot as usize);
    let address = egress.map(|e| {
        if d.ipv6 {
            e.ipv6.map_or(String::new(), |x| x.to_string())
        } else {
            e.ipv4.to_string()
        }
    });
    IpVersionFacts {
        ip_version: if d.ipv6 { "ipv6" } else { "ipv4" },
        share: d.share,
        policies: p.verdicts(r, d.ipv6),
        outcome: outcome.name(),
        egress: egress
            .filter(|_| outcome != Outcome::Dropped)
            .map(|e| e.id.clone()),
        address: address.filter(|a| outcome != Outcome::Dropped && !a.is_empty()),
        policy: policy.map(|x| x.name.clone()),
        fallback_took_over: matches!(policy.map(|x| x.action), Some(Action::Dedicated { .. }))
            && outcome == Outcome::Fallback,
        path: d.path.map(|path| {
            let catalog = Catalog::embedded();
            let phys = &w.datacenters[path.physical as usize];
            let apparent = &w.datacenters[path.apparent as usize];
            PathFacts {
                physical_egress: phys.code.clone(),
                physical_city: phys.city.clone(),
                leaves_from_ingress: path.physical == path.ingress,
                on_egress_ip: (d.route.slot as usize) < w.egress.len(),
                apparent_city: apparent.city.clone(),
                apparent_country: catalog.country(apparent.country).iso2.clone(),
                apparent_distance_km: d.route.apparent_m as f64 / 1000.0,
                apparent_other_country: d.route.country_mismatch,
                accepted: !d.route.blocked,
            }
        }),
        round_trip: d.path.and(d.rtt.as_ref()).map(|b| RoundTrip {
            parts: b.parts.clone(),
            total_ms: b.total_ms(),
        }),
        balancing: d.balanced.map(|b| BalancingFacts {
            mode: b.mode.name(),
            datacenter: w.egress_dc(b.egress).code.clone(),
            rtt_ms: b.rtt_ms,
            nearest_datacenter: w.egress_dc(b.nearest).code.clone(),
            nearest_rtt_ms: b.nearest_rtt_ms,
            nearest_distance_km: b.nearest_km,
        }),
    }
}
