//! `[[population]]`: sizes (counts or shares), and each population's access, groups, posture, virtual
//! networks and source addresses. Where users are is `placement.rs` (synthetic) or `listed.rs` (lists).

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use toml::Spanned;

use super::compile::{Ctx, MAX_USERS};
use super::listed::{listed_population, ListSource};
use super::placement::{placement, Places};
use super::raw::*;
use super::registry::Registry;
use crate::error::InputError;
use crate::geoip::Listing;
use crate::latency::{access_preset, AccessProfile, ACCESS_PRESETS};
use crate::suggest;
use crate::world::*;

/// What populations are compiled against.
pub(super) struct PopulationInputs<'a> {
    /// Places a location can name.
    pub(super) places: Places<'a>,
    /// `[simulation] users`, and where it is written.
    pub(super) sim_users: Option<(u64, std::ops::Range<usize>)>,
    /// `--users`.
    pub(super) override_users: Option<u64>,
    /// Database and settings for listed populations.
    pub(super) lists: &'a ListSource,
}

/// Splits `total` in proportion to `weights` (largest-remainder rounding, ties to the earlier entry).
pub(super) fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().take(total.saturating_sub(assigned) as usize) {
        counts[i] += 1;
    }
    counts
}

/// Compiles every population; names they use are added to `registry`.
pub(super) fn populations(
    cx: &mut Ctx,
    inputs: &PopulationInputs,
    registry: &mut Registry,
    raw: &[RawPopulation],
) -> Vec<Population> {
    let total = match (inputs.override_users, &inputs.sim_users) {
        (Some(n), _) => Some(Total::Flag(n)),
        (None, Some((n, span))) => Some(Total::File(*n, span.clone())),
        (None, None) => None,
    };
    let counts = sizes(cx, raw, total.as_ref());
    let mut names: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    let mut first_user = 0u64;
    for (p, users) in raw.iter().zip(counts) {
        let name = p.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(p.name.span(), "population `name` must not be empty");
        } else if !names.insert(name.clone()) {
            cx.err(p.name.span(), format!("duplicate population `{name}`"));
        }
        if let Some(pop) = population(cx, inputs, registry, p, (name, first_user, users)) {
            first_user += pop.users;
            out.push(pop);
        }
    }
    out
}

/// The total number of users the populations share, and where it was given.
enum Total {
    /// `--users N`.
    Flag(u64),
    /// `[simulation] users = N`, at this span.
    File(u64, std::ops::Range<usize>),
}

impl Total {
    fn value(&self) -> u64 {
        match self {
            Total::Flag(n) | Total::File(n, _) => *n,
        }
    }

    fn name(&self) -> String {
        match self {
            Total::Flag(n) => format!("`--users {n}`"),
            Total::File(n, _) => format!("`users = {n}`"),
        }
    }

    /// The same setting with another value, as the user would type it.
    fn with(&self, n: u64) -> String {
        match self {
            Total::Flag(_) => format!("`--users {n}`"),
            Total::File(..) => format!("`users = {n}`"),
        }
    }
}

/// Users per population. Sizes are all absolute counts, or all shares of `total`; listed populations
/// (`from_csv`) have one user per placed row and take no part in this (their count here is 0).
fn sizes(cx: &mut Ctx, raw: &[RawPopulation], total: Option<&Total>) -> Vec<u64> {
    let synthetic = |p: &&RawPopulation| p.from_csv.is_none();
    let with_users = raw
        .iter()
        .filter(synthetic)
        .filter(|p| p.users.is_some())
        .count();
    let with_share = raw
        .iter()
        .filter(synthetic)
        .filter(|p| p.share.is_some())
        .count();
    let weights: Vec<f64> = raw.iter().map(|p| size_weight(cx, p)).collect();
    if with_users > 0 && with_share > 0 {
        if let Some(p) = raw.iter().filter(synthetic).find(|p| p.share.is_some()) {
            cx.err_help(
                p.name.span(),
                "some populations give `users` and others `share`",
                Some("use counts everywhere, or shares of `[simulation] users` everywhere".into()),
            );
        }
        vec![0; raw.len()]
    } else if with_share > 0 {
        let counts = shares_to_counts(cx, raw, &weights, total.map(Total::value));
        if let Some(t) = total {
            check_none_empty(cx, raw, &weights, &counts, t);
        }
        counts
    } else {
        let sum: u64 = weights.iter().map(|w| *w as u64).sum();
        match total {
            Some(t) if t.value() != sum && sum > 0 => {
                let counts = apportion(t.value(), &weights);
                check_none_empty(cx, raw, &weights, &counts, t);
                counts
            }
            _ => weights.iter().map(|w| *w as u64).collect(),
        }
    }
}

/// A total split over the populations must give each sized one a user: a total below their number
/// is refused (nothing useful can be simulated), and populations whose share rounds to 0 are named
/// in a warning (their rows would be silently empty).
fn check_none_empty(
    cx: &mut Ctx,
    raw: &[RawPopulation],
    weights: &[f64],
    counts: &[u64],
    total: &Total,
) {
    let sized: Vec<usize> = (0..raw.len()).filter(|&i| weights[i] > 0.0).collect();
    let empty: Vec<&str> = sized
        .iter()
        .filter(|&&i| counts[i] == 0)
        .map(|&i| raw[i].name.get_ref().as_str())
        .collect();
    if empty.is_empty() {
        return;
    }
    // floor(T × w / sum) >= 1 for every population once T >= sum / smallest weight.
    let sum: f64 = sized.iter().map(|&i| weights[i]).sum();
    let smallest = sized
        .iter()
        .map(|&i| weights[i])
        .fold(f64::INFINITY, f64::min);
    let enough = (sum / smallest).ceil() as u64;
    let names = empty
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if (total.value() as usize) < sized.len() {
        let e = InputError::new(format!(
            "{} is fewer users than the scenario's {} populations, so {names} would have none",
            total.name(),
            sized.len()
        ))
        .with_help(format!(
            "{} or more gives every population at least one user in proportion",
            total.with(enough)
        ));
        match total {
            Total::Flag(_) => cx.errors.push(e),
            Total::File(_, span) => {
                let mut e = e;
                e.locate(cx.src, span.clone());
                cx.errors.push(e);
            }
        }
        return;
    }
    let msg = format!(
        "with {} users in all, population{} {names} get{} none (the share rounds to 0); {} or more gives every population at least one user",
        total.value(),
        if empty.len() == 1 { "" } else { "s" },
        if empty.len() == 1 { "s" } else { "" },
        total.with(enough)
    );
    match total {
        Total::Flag(_) => cx.warnings.push(format!("warning: {msg}")),
        Total::File(_, span) => cx.warn(span.clone(), msg),
    }
}

/// A population's `users` count or `share` (0 after an error, and for listed populations).
fn size_weight(cx: &mut Ctx, p: &RawPopulation) -> f64 {
    if p.from_csv.is_some() {
        return 0.0;
    }
    match (&p.users, &p.share) {
        (Some(u), Some(_)) => {
            cx.err_help(
                u.span(),
                format!(
                    "population `{}` sets both `users` and `share`",
                    p.name.get_ref()
                ),
                Some(
                    "keep one: `users` is a count, `share` a fraction of `[simulation] users`"
                        .into(),
                ),
            );
            0.0
        }
        (Some(u), None) => cx.count(u, "users", MAX_USERS).unwrap_or(0) as f64,
        (None, Some(s)) => {
            let x = *s.get_ref();
            if x.is_finite() && x > 0.0 && x <= 1.0 {
                return x;
            }
            cx.err_help(
                s.span(),
                format!("`share` must be greater than 0 and at most 1, found {x}"),
                (x > 1.0 && x <= 100.0).then(|| format!("for {x}% write {}", x / 100.0)),
            );
            0.0
        }
        (None, None) => {
            cx.err_help(
                p.name.span(),
                format!("population `{}` needs a size", p.name.get_ref()),
                Some(
                    "add `users = 1000` (a count) or `share = 0.25` (of `[simulation] users`)"
                        .into(),
                ),
            );
            0.0
        }
    }
}

/// Shares of `total` (which must be known) that add up to 1, as counts.
fn shares_to_counts(
    cx: &mut Ctx,
    raw: &[RawPopulation],
    weights: &[f64],
    total: Option<u64>,
) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        if let Some(s) = raw.iter().find_map(|p| p.share.as_ref()) {
            cx.err_help(
                s.span(),
                format!("population shares add up to {sum}, not 1"),
                Some("make the shares sum to 1, or give each population a `users` count".into()),
            );
        }
    }
    if let Some(t) = total {
        return apportion(t, weights);
    }
    if let Some(p) = raw.iter().find(|p| p.from_csv.is_none()) {
        cx.err_help(
            p.name.span(),
            "populations give shares but the total is unknown",
            Some("add `[simulation]` with `users = 100000`, or pass `--users N`".into()),
        );
    }
    vec![0; raw.len()]
}

/// One population (its name, first user index and synthetic size given), or `None` after an error
/// that leaves nothing to compile.
fn population(
    cx: &mut Ctx,
    inputs: &PopulationInputs,
    registry: &mut Registry,
    p: &RawPopulation,
    (name, first_user, users): (String, u64, u64),
) -> Option<Population> {
    let (placement, listing, users) = users_and_placement(cx, inputs, registry, p, users)?;
    let (access, access_name) = access(cx, p.access.as_ref())?;
    let groups = shares(
        cx,
        &p.groups,
        "groups",
        |g| registry.group(g),
        Some("groups"),
    );
    let ipv6_share = cx.share(&p.ipv6_share, "ipv6_share", 0.45);
    let posture = shares(
        cx,
        &p.posture,
        "posture",
        |c| registry.posture(c),
        Some("posture checks"),
    );
    let vnets = vnets(cx, registry, p);
    let source_prefix = source_prefix(cx, p.source_ips.as_ref());
    let connections_per_user = cx.positive(&p.connections_per_user, "connections_per_user", 4.0);
    Some(Population {
        name,
        first_user,
        users,
        placement,
        ipv6_share,
        access,
        access_name,
        groups: groups.into_iter().map(|(g, s)| (g as u16, s)).collect(),
        connections_per_user,
        email_domain: p
            .email_domain
            .clone()
            .unwrap_or_else(|| "example.com".into()),
        posture: posture.into_iter().map(|(c, s)| (c as u8, s)).collect(),
        vnets,
        source_prefix,
        require_egress_in: None,
        listing,
    })
}

/// Where the users are, the listing of a listed population, and how many users there are.
fn users_and_placement(
    cx: &mut Ctx,
    inputs: &PopulationInputs,
    registry: &mut Registry,
    p: &RawPopulation,
    users: u64,
) -> Option<(Placement, Option<Arc<Listing>>, u64)> {
    if let Some(csv) = &p.from_csv {
        let (placement, listing) = listed_population(cx, p, csv, inputs.lists, registry)?;
        let n = listing.users.len() as u64;
        if inputs.override_users.is_some() {
            cx.warn(
                csv.span(),
                format!(
                    "`--users` does not resample population `{}`: it keeps one user per placed row ({n})",
                    p.name.get_ref()
                ),
            );
        }
        return Some((placement, Some(Arc::new(listing)), n));
    }
    let Some(location) = &p.location else {
        cx.err_help(
            p.name.span(),
            format!("population `{}` says nothing about where its users are", p.name.get_ref()),
            Some("add `[population.location]` (e.g. `around = [\"Amsterdam\"]`), or read real users with `from_csv = \"users.csv\"`".into()),
        );
        return None;
    };
    Some((placement(cx, inputs.places, location)?, None, users))
}

/// The last-mile access profile and its name (default `cable`).
fn access(cx: &mut Ctx, raw: Option<&Spanned<RawAccess>>) -> Option<(AccessProfile, String)> {
    let Some(a) = raw else {
        let cable = access_preset("cable").unwrap_or(AccessProfile {
            median_ms: 13.0,
            sigma: 0.4,
        });
        return Some((cable, "cable".to_string()));
    };
    match a.get_ref() {
        RawAccess::Preset(n) => {
            if let Some(pr) = access_preset(n) {
                return Some((pr, n.to_ascii_lowercase()));
            }
            let names: Vec<&str> = ACCESS_PRESETS.iter().map(|x| x.0).collect();
            cx.err_help(
                a.span(),
                format!("unknown access preset `{n}`"),
                Some(match suggest::closest(n, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? presets: {}", names.join(", ")),
                    None => format!(
                        "presets: {}; or a table {{ median_ms = 12.0, sigma = 0.4 }}",
                        names.join(", ")
                    ),
                }),
            );
            None
        }
        RawAccess::Custom(c) => {
            let valid = c.median_ms.is_finite()
                && c.median_ms > 0.0
                && c.sigma.is_finite()
                && c.sigma >= 0.0
                && c.sigma <= 3.0;
            if !valid {
                cx.err(
                    a.span(),
                    "custom `access` needs `median_ms` > 0 and `sigma` between 0 and 3",
                );
                return None;
            }
            let profile = AccessProfile {
                median_ms: c.median_ms,
                sigma: c.sigma,
            };
            Some((profile, "custom".to_string()))
        }
    }
}

/// `key.name = share` entries as (index, share); `index` interns the name. With `limit_of`, indexes
/// past 255 are refused ("at most 256 distinct {limit_of} are supported").
fn shares(
    cx: &mut Ctx,
    map: &BTreeMap<String, Spanned<f64>>,
    key: &str,
    mut index: impl FnMut(&str) -> usize,
    limit_of: Option<&str>,
) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    for (name, share) in map {
        let s = cx.share_value(share, &format!("{key}.{name}"));
        let i = index(name);
        if let Some(what) = limit_of.filter(|_| i >= 256) {
            cx.err(
                share.span(),
                format!("at most 256 distinct {what} are supported"),
            );
            continue;
        }
        out.push((i, s));
    }
    out
}

/// `vnets`: shares that add up to at most 1 (a user selects at most one virtual network).
fn vnets(cx: &mut Ctx, registry: &mut Registry, p: &RawPopulation) -> Vec<(u16, f64)> {
    let vnets = shares(cx, &p.vnets, "vnets", |v| registry.vnet(v), None);
    let total: f64 = vnets.iter().map(|v| v.1).sum();
    if total > 1.0 + 1e-9 {
        if let Some((_, s)) = p.vnets.iter().next() {
            cx.err_help(
                s.span(),
                format!("virtual network shares add up to {total}, more than 1"),
                Some("each user selects at most one virtual network".into()),
            );
        }
    }
    vnets.into_iter().map(|(v, s)| (v as u16, s)).collect()
}

/// `source_ips` (default `198.18.0.0/15`, the benchmarking range).
fn source_prefix(cx: &mut Ctx, raw: Option<&Spanned<String>>) -> (Ipv4Addr, u8) {
    let Some(v) = raw else {
        return (Ipv4Addr::new(198, 18, 0, 0), 15);
    };
    parse_ipv4_net(v.get_ref()).unwrap_or_else(|m| {
        cx.err_help(
            v.span(),
            format!("invalid `source_ips`: {m}"),
            Some("write an IPv4 network such as `192.0.2.0/24`".into()),
        );
        (Ipv4Addr::UNSPECIFIED, 32)
    })
}

/// Parses an IPv4 network `a.b.c.d/len` (host bits must be zero).
pub(super) fn parse_ipv4_net(s: &str) -> Result<(Ipv4Addr, u8), String> {
    match parse_network(s, "an IPv4 network", "192.0.2.0/24")? {
        (std::net::IpAddr::V4(a), len) => Ok((a, len)),
        (std::net::IpAddr::V6(_), _) => {
            Err(format!("`{s}` is an IPv6 prefix; expected an IPv4 network"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_is_exact_and_stable() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(100, &[0.5, 0.25, 0.25]), vec![50, 25, 25]);
        let c = apportion(1_000_003, &[3.0, 7.0, 11.0]);
        assert_eq!(c.iter().sum::<u64>(), 1_000_003);
    }
}
