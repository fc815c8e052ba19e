//! Data centers (catalog plus scenario-defined) and dedicated egress IPs.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::ops::Range;

use toml::Spanned;

use super::compile::{Ctx, MAX_EGRESS};
use super::raw::*;
use crate::catalog::{Catalog, CountryId, DataCenter};
use crate::geodesy::LatLon;
use crate::place;
use crate::world::*;

pub(super) fn datacenters(
    cx: &mut Ctx,
    catalog: &Catalog,
    raw: &[RawDataCenter],
) -> Vec<DataCenter> {
    let mut all = catalog.datacenters.clone();
    for d in raw {
        let code = d.code.get_ref().trim();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            cx.err_help(
                d.code.span(),
                format!("data center code `{code}` is not valid"),
                Some("use letters, digits and `-`, e.g. `LHR2`".into()),
            );
            continue;
        }
        if all.iter().any(|x| x.code.eq_ignore_ascii_case(code)) {
            cx.err_help(
                d.code.span(),
                format!("data center `{code}` already exists"),
                Some("pick a new code for the extra facility, e.g. `LHR2`; built-in codes cannot be redefined".into()),
            );
            continue;
        }
        let country = catalog.country_by_code(d.country.get_ref());
        if country.is_none() {
            cx.err_help(
                d.country.span(),
                format!(
                    "unknown country `{}`: expected an ISO 3166-1 alpha-2 code",
                    d.country.get_ref()
                ),
                catalog
                    .suggest_country(d.country.get_ref())
                    .map(|s| format!("did you mean {s}?")),
            );
        }
        let mut loc = LatLon::new(*d.lat.get_ref(), *d.lon.get_ref());
        if !(-90.0..=90.0).contains(&loc.lat) || !loc.lat.is_finite() {
            cx.err(
                d.lat.span(),
                format!("latitude must be between -90 and 90, found {}", loc.lat),
            );
            loc = LatLon::new(0.0, 0.0);
        }
        if !(-180.0..=180.0).contains(&loc.lon) || !loc.lon.is_finite() {
            cx.err(
                d.lon.span(),
                format!("longitude must be between -180 and 180, found {}", loc.lon),
            );
            loc = LatLon::new(0.0, 0.0);
        }
        // Listed even when its country or position is wrong (placeholders, never simulated:
        // the error stops the compile), so egress IPs and failures naming it raise no follow-on
        // "unknown data center".
        let country = country.unwrap_or(CountryId(0));
        all.push(DataCenter {
            code: code.to_string(),
            city: d.city.get_ref().trim().to_string(),
            country,
            region: d.region.clone().unwrap_or_default(),
            location: loc,
        });
    }
    all
}

pub(super) fn resolve_dc(cx: &mut Ctx, dcs: &[DataCenter], code: &Spanned<String>) -> Option<DcId> {
    let c = code.get_ref().trim();
    if let Some(i) = dcs.iter().position(|d| d.code == c) {
        return Some(i as DcId);
    }
    let help = dcs
        .iter()
        .find(|d| d.code.eq_ignore_ascii_case(c))
        .map(|d| {
            format!(
                "data center codes are upper case: `{}` ({})",
                d.code, d.city
            )
        })
        .or_else(|| place::suggest_datacenter(c, dcs));
    cx.err_help(code.span(), format!("unknown data center `{c}`"), help);
    None
}

pub(super) fn egress_ips(cx: &mut Ctx, dcs: &[DataCenter], raw: &[RawEgress]) -> Vec<Egress> {
    let mut out: Vec<Egress> = Vec::new();
    let mut ids: HashMap<String, Range<usize>> = HashMap::new();
    let mut v4s: HashMap<Ipv4Addr, String> = HashMap::new();
    let mut v6s: HashMap<Ipv6Prefix, String> = HashMap::new();
    if raw.len() > MAX_EGRESS {
        cx.err(
            raw[MAX_EGRESS].id.span(),
            format!("at most {MAX_EGRESS} egress IPs are supported"),
        );
    }
    for e in raw.iter().take(MAX_EGRESS) {
        let id = e.id.get_ref().trim().to_string();
        if id.is_empty() {
            cx.err(e.id.span(), "egress `id` must not be empty");
        } else if let Some(first) = ids.get(&id) {
            let (l, _) = cx.src.line_col(first.start);
            cx.err_help(
                e.id.span(),
                format!("duplicate egress id `{id}`"),
                Some(format!(
                    "it is first defined on line {l}; ids must be unique"
                )),
            );
        } else {
            ids.insert(id.clone(), e.id.span());
        }
        let dc = resolve_dc(cx, dcs, &e.datacenter);
        let ipv4 = cx.address::<Ipv4Addr>(
            &e.ipv4,
            "IPv4",
            "write a dotted quad such as `203.0.113.10` (no prefix length)",
        );
        if let Some(a) = ipv4 {
            if let Some(other) = v4s.get(&a) {
                cx.err_help(e.ipv4.span(), format!("IPv4 address {a} is already used by egress `{other}`"), Some("a dedicated IP is bound to exactly one data center; give each egress its own address".into()));
            }
            v4s.insert(a, id.clone());
        }
        let ipv6 = e
            .ipv6
            .as_ref()
            .and_then(|s| match s.get_ref().trim().parse::<Ipv6Prefix>() {
                Ok(p) => {
                    if let Some(other) = v6s.get(&p) {
                        cx.err(
                            s.span(),
                            format!("IPv6 range {p} is already used by egress `{other}`"),
                        );
                    }
                    v6s.insert(p, id.clone());
                    Some(p)
                }
                Err(m) => {
                    cx.err_help(
                        s.span(),
                        format!("invalid IPv6 range: {m}"),
                        Some("write a CIDR such as `2001:db8:10::/48`".into()),
                    );
                    None
                }
            });
        let connection_limit = match &e.connection_limit {
            None => DEFAULT_CONNECTION_LIMIT,
            Some(v) => cx
                .count(v, "connection_limit", u32::MAX as u64)
                .unwrap_or(1) as u32,
        };
        // An egress whose data center or address is wrong is still listed under its id, so that
        // policies, allowlists and failures naming it do not report follow-on errors: the root
        // cause is already reported, and no World is built after an error, so the placeholders
        // never reach a simulation.
        out.push(Egress {
            id,
            datacenter: dc.unwrap_or(0),
            ipv4: ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED),
            ipv6,
            connection_limit,
        });
    }
    out
}

pub(super) fn advise_resilience(
    cx: &mut Ctx,
    dcs: &[DataCenter],
    egress: &[Egress],
    raw: &[RawEgress],
) {
    let cities: HashSet<(&str, u16)> = egress
        .iter()
        .map(|e| {
            let d = &dcs[e.datacenter as usize];
            (d.city.as_str(), d.country.0)
        })
        .collect();
    if cities.len() < 2 {
        if let Some(first) = raw.first() {
            cx.warn(
                first.id.span(),
                "all dedicated egress IPs are in one city; Cloudflare provisions at least two, in data centers in different cities, so one site failure does not take them all down",
            );
        }
    }
}
