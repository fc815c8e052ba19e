//! Populations: sizes, placement, access, groups, posture, virtual networks, source addresses.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use rand_distr::weighted::WeightedAliasIndex;
use toml::Spanned;

use super::compile::{Ctx, MAX_USERS};
use super::listed::{listed_population, ListSource};
use super::raw::*;
use crate::catalog::{Catalog, Continent, DataCenter};
use crate::geodesy::LatLon;
use crate::latency::{access_preset, AccessProfile, ACCESS_PRESETS};
use crate::nearest::{NearestIndex, Neighbor};
use crate::place;
use crate::suggest;
use crate::world::*;

pub(super) fn declared_groups(cx: &mut Ctx, raw: &[RawGroup]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for g in raw {
        let name = g.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(g.name.span(), "group `name` must not be empty");
            continue;
        }
        if out.iter().any(|x| x.name == name) {
            cx.err(g.name.span(), format!("duplicate group `{name}`"));
            continue;
        }
        out.push(Group {
            id: g.id.clone().unwrap_or_else(|| format!("group-{name}")),
            email: g
                .email
                .clone()
                .unwrap_or_else(|| format!("{name}@groups.example.com")),
            name,
        });
    }
    out
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

#[allow(clippy::too_many_arguments)]
pub(super) fn populations(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    dc_index: &NearestIndex,
    groups: &mut Vec<Group>,
    registry: &mut Registry,
    raw: &[RawPopulation],
    sim_users: Option<u64>,
    override_users: Option<u64>,
    lists: &ListSource,
) -> Vec<Population> {
    let mut names: HashSet<String> = HashSet::new();
    // Sizes: all absolute counts, or all shares of `simulation.users`. Listed populations (`from_csv`)
    // have one user per placed row and take no part in this.
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
    let mut weights = Vec::with_capacity(raw.len());
    for p in raw {
        if p.from_csv.is_some() {
            weights.push(0.0);
            continue;
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
                weights.push(0.0);
            }
            (Some(u), None) => weights.push(cx.count(u, "users", MAX_USERS).unwrap_or(0) as f64),
            (None, Some(s)) => {
                let x = *s.get_ref();
                if !(x.is_finite() && x > 0.0 && x <= 1.0) {
                    cx.err_help(
                        s.span(),
                        format!("`share` must be greater than 0 and at most 1, found {x}"),
                        (x > 1.0 && x <= 100.0).then(|| format!("for {x}% write {}", x / 100.0)),
                    );
                    weights.push(0.0);
                } else {
                    weights.push(x);
                }
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
                weights.push(0.0);
            }
        }
    }
    let counts: Vec<u64> = if with_users > 0 && with_share > 0 {
        if let Some(p) = raw.iter().filter(synthetic).find(|p| p.share.is_some()) {
            cx.err_help(
                p.name.span(),
                "some populations give `users` and others `share`",
                Some("use counts everywhere, or shares of `[simulation] users` everywhere".into()),
            );
        }
        vec![0; raw.len()]
    } else if with_share > 0 {
        let sum: f64 = weights.iter().sum();
        let total = override_users.or(sim_users);
        if (sum - 1.0).abs() > 1e-6 {
            if let Some(s) = raw.iter().find_map(|p| p.share.as_ref()) {
                cx.err_help(
                    s.span(),
                    format!("population shares add up to {sum}, not 1"),
                    Some(
                        "make the shares sum to 1, or give each population a `users` count".into(),
                    ),
                );
            }
        }
        match total {
            Some(t) => apportion(t, &weights),
            None => {
                if let Some(p) = raw.iter().find(synthetic) {
                    cx.err_help(
                        p.name.span(),
                        "populations give shares but the total is unknown",
                        Some(
                            "add `[simulation]` with `users = 100000`, or pass `--users N`".into(),
                        ),
                    );
                }
                vec![0; raw.len()]
            }
        }
    } else {
        let sum: u64 = weights.iter().map(|w| *w as u64).sum();
        match override_users.or(sim_users) {
            Some(t) if t != sum && sum > 0 => apportion(t, &weights),
            _ => weights.iter().map(|w| *w as u64).collect(),
        }
    };

    let mut out = Vec::with_capacity(raw.len());
    let mut first_user = 0u64;
    for (p, users) in raw.iter().zip(counts) {
        let name = p.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(p.name.span(), "population `name` must not be empty");
        } else if !names.insert(name.clone()) {
            cx.err(p.name.span(), format!("duplicate population `{name}`"));
        }
        let (placement, listing, users) = if let Some(csv) = &p.from_csv {
            match listed_population(cx, p, csv, lists, groups, registry) {
                Some((placement, listing)) => {
                    let n = listing.users.len() as u64;
                    if override_users.is_some() {
                        cx.warn(
                            csv.span(),
                            format!(
                                "`--users` does not resample population `{}`: it keeps one user per placed row ({n})",
                                p.name.get_ref()
                            ),
                        );
                    }
                    (placement, Some(std::sync::Arc::new(listing)), n)
                }
                None => continue,
            }
        } else {
            let Some(location) = &p.location else {
                cx.err_help(
                    p.name.span(),
                    format!("population `{}` says nothing about where its users are", p.name.get_ref()),
                    Some("add `[population.location]` (e.g. `around = [\"Amsterdam\"]`), or read real users with `from_csv = \"users.csv\"`".into()),
                );
                continue;
            };
            let Some(placement) = placement(cx, catalog, dcs, dc_index, location) else {
                continue;
            };
            (placement, None, users)
        };
        let (access, access_name) = match &p.access {
            None => (
                access_preset("cable").unwrap_or(AccessProfile {
                    median_ms: 13.0,
                    sigma: 0.4,
                }),
                "cable".to_string(),
            ),
            Some(a) => {
                match a.get_ref() {
                    RawAccess::Preset(n) => match access_preset(n) {
                        Some(pr) => (pr, n.to_ascii_lowercase()),
                        None => {
                            let names: Vec<&str> = ACCESS_PRESETS.iter().map(|x| x.0).collect();
                            cx.err_help(
                            a.span(),
                            format!("unknown access preset `{n}`"),
                            Some(match suggest::closest(n, names.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`? presets: {}", names.join(", ")),
                                None => format!("presets: {}; or a table {{ median_ms = 12.0, sigma = 0.4 }}", names.join(", ")),
                            }),
                        );
                            continue;
                        }
                    },
                    RawAccess::Custom(c) => {
                        if !(c.median_ms.is_finite()
                            && c.median_ms > 0.0
                            && c.sigma.is_finite()
                            && c.sigma >= 0.0
                            && c.sigma <= 3.0)
                        {
                            cx.err(
                                a.span(),
                                "custom `access` needs `median_ms` > 0 and `sigma` between 0 and 3",
                            );
                            continue;
                        }
                        (
                            AccessProfile {
                                median_ms: c.median_ms,
                                sigma: c.sigma,
                            },
                            "custom".to_string(),
                        )
                    }
                }
            }
        };
        let mut memberships = Vec::new();
        for (g, share) in &p.groups {
            let s = cx.share_value(share, &format!("groups.{g}"));
            let gi = match groups.iter().position(|x| &x.name == g) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        name: g.clone(),
                        id: format!("group-{g}"),
                        email: format!("{g}@groups.example.com"),
                    });
                    groups.len() - 1
                }
            };
            if gi >= 256 {
                cx.err(share.span(), "at most 256 distinct groups are supported");
                continue;
            }
            memberships.push((gi as u16, s));
        }
        let ipv6_share = cx.share(&p.ipv6_share, "ipv6_share", 0.45);
        let mut posture = Vec::new();
        for (check, share) in &p.posture {
            let s = cx.share_value(share, &format!("posture.{check}"));
            let i = registry.posture(check);
            if i >= 256 {
                cx.err(
                    share.span(),
                    "at most 256 distinct posture checks are supported",
                );
                continue;
            }
            posture.push((i as u8, s));
        }
        let mut vnets = Vec::new();
        let mut vnet_total = 0.0;
        for (vnet, share) in &p.vnets {
            let s = cx.share_value(share, &format!("vnets.{vnet}"));
            vnet_total += s;
            vnets.push((registry.vnet(vnet) as u16, s));
        }
        if vnet_total > 1.0 + 1e-9 {
            if let Some((_, s)) = p.vnets.iter().next() {
                cx.err_help(
                    s.span(),
                    format!("virtual network shares add up to {vnet_total}, more than 1"),
                    Some("each user selects at most one virtual network".into()),
                );
            }
        }
        let source_prefix = match &p.source_ips {
            None => (Ipv4Addr::new(198, 18, 0, 0), 15),
            Some(v) => match parse_ipv4_net(v.get_ref()) {
                Ok(n) => n,
                Err(m) => {
                    cx.err_help(
                        v.span(),
                        format!("invalid `source_ips`: {m}"),
                        Some("write an IPv4 network such as `192.0.2.0/24`".into()),
                    );
                    (Ipv4Addr::UNSPECIFIED, 32)
                }
            },
        };
        let connections_per_user =
            cx.positive(&p.connections_per_user, "connections_per_user", 4.0);
        out.push(Population {
            name,
            first_user,
            users,
            placement,
            ipv6_share,
            access,
            access_name,
            groups: memberships,
            connections_per_user,
            email_domain: p
                .email_domain
                .clone()
                .unwrap_or_else(|| "example.com".into()),
            posture,
            vnets,
            source_prefix,
            require_egress_in: None,
            listing,
        });
        first_user += users;
    }
    out
}

pub(super) fn placement(
    cx: &mut Ctx,
    catalog: &Catalog,
    dcs: &[DataCenter],
    dc_index: &NearestIndex,
    loc: &Spanned<RawLocation>,
) -> Option<Placement> {
    let l = loc.get_ref();
    let given = [
        l.around.is_some(),
        l.country.is_some(),
        l.continent.is_some(),
        l.region.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given != 1 {
        cx.err_help(
            loc.span(),
            if given == 0 { "`location` says nothing about where users are".to_string() } else { "`location` must use exactly one of `around`, `country`, `continent`, `region`".to_string() },
            Some("e.g. `around = [\"Amsterdam\"]`, `country = \"DE\"`, `continent = \"EU\"` or `region = \"WEU\"`".into()),
        );
        return None;
    }
    let spread = match &l.spread {
        None => Spread::Normal { sigma_km: 20.0 },
        Some(s) => spread(cx, s)?,
    };
    let (anchors, weights, description): (Vec<LatLon>, Vec<f64>, String) =
        if let Some(around) = &l.around {
            if around.is_empty() {
                cx.err(loc.span(), "`around` must list at least one place");
                return None;
            }
            let mut pts = Vec::new();
            let mut labels = Vec::new();
            for a in around {
                match place::resolve(a.get_ref(), dcs, catalog) {
                    Ok(p) => {
                        pts.push(p.location);
                        labels.push(p.label);
                    }
                    Err(e) => cx.err_help(a.span(), e.message, e.help),
                }
            }
            if pts.len() != around.len() {
                return None;
            }
            let weights = match &l.weights {
                None => vec![1.0; pts.len()],
                Some(w) => {
                    if w.get_ref().len() != pts.len() {
                        cx.err(
                            w.span(),
                            format!(
                                "`weights` has {} entries but `around` has {}",
                                w.get_ref().len(),
                                pts.len()
                            ),
                        );
                        return None;
                    }
                    if w.get_ref().iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                        cx.err(w.span(), "every weight must be a positive number");
                        return None;
                    }
                    w.get_ref().clone()
                }
            };
            (pts, weights, format!("around {}", labels.join("; ")))
        } else {
            let (ids, what): (Vec<u32>, String) = if let Some(c) = &l.country {
                match catalog
                    .country_by_code(c.get_ref())
                    .or_else(|| catalog.country_by_name(c.get_ref()))
                {
                    Some(id) => (
                        catalog.cities_in_country(id).to_vec(),
                        format!("cities of {}", catalog.country(id).name),
                    ),
                    None => {
                        cx.err_help(
                            c.span(),
                            format!("unknown country `{}`", c.get_ref()),
                            catalog
                                .suggest_country(c.get_ref())
                                .map(|s| format!("did you mean {s}?")),
                        );
                        return None;
                    }
                }
            } else if let Some(c) = &l.continent {
                match Continent::from_code(c.get_ref()) {
                    Some(k) => (
                        catalog.cities_in_continent(k).to_vec(),
                        format!("cities of {}", k.name()),
                    ),
                    None => {
                        cx.err_help(
                            c.span(),
                            format!("unknown continent `{}`", c.get_ref()),
                            Some("use a two-letter code: AF, AN, AS, EU, NA, OC, SA".into()),
                        );
                        return None;
                    }
                }
            } else if let Some(r) = &l.region {
                let region = r.get_ref().trim().to_ascii_uppercase();
                let known: Vec<&str> = {
                    let mut v: Vec<&str> = catalog
                        .datacenters
                        .iter()
                        .map(|d| d.region.as_str())
                        .filter(|s| !s.is_empty())
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                };
                if !known.contains(&region.as_str()) {
                    cx.err_help(
                        r.span(),
                        format!("unknown Cloudflare region `{}`", r.get_ref()),
                        Some(format!("regions: {}", known.join(", "))),
                    );
                    return None;
                }
                // A city belongs to the region of its nearest catalog data center.
                let catalog_dcs = catalog.datacenters.len() as u32;
                let mut out = [Neighbor {
                    index: 0,
                    distance_km: 0.0,
                }; 1];
                let ids = (0..catalog.cities.len() as u32)
                    .filter(|&i| {
                        let n = dc_index.nearest(
                            catalog.cities[i as usize].location,
                            |d| d < catalog_dcs,
                            &mut out,
                        );
                        n == 1 && dcs[out[0].index as usize].region == region
                    })
                    .collect();
                (ids, format!("cities nearest to {region} data centers"))
            } else {
                return None;
            };
            if ids.is_empty() {
                cx.err(loc.span(), format!("no catalog cities found for {what}"));
                return None;
            }
            let pts = ids
                .iter()
                .map(|&i| catalog.cities[i as usize].location)
                .collect();
            let w = ids
                .iter()
                .map(|&i| catalog.cities[i as usize].population.max(1) as f64)
                .collect();
            (pts, w, format!("{what}, weighted by population"))
        };
    match WeightedAliasIndex::new(weights) {
        Ok(alias) => Some(Placement {
            anchors,
            alias,
            spread,
            description,
        }),
        Err(e) => {
            cx.err(loc.span(), format!("invalid weights: {e}"));
            None
        }
    }
}

pub(super) fn spread(cx: &mut Ctx, s: &Spanned<RawSpread>) -> Option<Spread> {
    let r = s.get_ref();
    match r.distribution.get_ref().as_str() {
        "normal" => {
            if r.median_km.is_some() || r.sigma.is_some() {
                cx.err_help(
                    s.span(),
                    "`normal` spread takes only `sigma_km`",
                    Some("`median_km` and `sigma` belong to `lognormal`".into()),
                );
                return None;
            }
            let sigma_km = cx.non_negative(&r.sigma_km, "sigma_km", 20.0);
            Some(Spread::Normal { sigma_km })
        }
        "lognormal" => {
            if r.sigma_km.is_some() {
                cx.err_help(
                    s.span(),
                    "`lognormal` spread takes `median_km` and `sigma`",
                    Some("`sigma_km` belongs to `normal`".into()),
                );
                return None;
            }
            let median_km = cx.positive(&r.median_km, "median_km", 10.0);
            let sigma = cx.non_negative(&r.sigma, "sigma", 0.8);
            if sigma > 3.0 {
                cx.err(
                    s.span(),
                    "`sigma` above 3 puts users on the other side of the planet; use at most 3",
                );
                return None;
            }
            Some(Spread::LogNormal { median_km, sigma })
        }
        other => {
            cx.err_help(
                r.distribution.span(),
                format!("unknown spread distribution `{other}`"),
                Some(match suggest::closest(other, ["normal", "lognormal"]) {
                    Some(s) => format!("did you mean `{s}`? use `normal` or `lognormal`"),
                    None => {
                        "use `normal` (with `sigma_km`) or `lognormal` (with `median_km`, `sigma`)"
                            .into()
                    }
                }),
            );
            None
        }
    }
}

/// Names referenced by populations: posture checks and virtual networks, in first-use order.
#[derive(Debug, Default)]
pub(super) struct Registry {
    pub(super) posture_checks: Vec<String>,
    pub(super) vnets: Vec<String>,
}

impl Registry {
    pub(super) fn posture(&mut self, name: &str) -> usize {
        intern(&mut self.posture_checks, name)
    }
    pub(super) fn vnet(&mut self, name: &str) -> usize {
        intern(&mut self.vnets, name)
    }
}

pub(super) fn intern(list: &mut Vec<String>, name: &str) -> usize {
    match list.iter().position(|x| x == name) {
        Some(i) => i,
        None => {
            list.push(name.to_string());
            list.len() - 1
        }
    }
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
