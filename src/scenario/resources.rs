//! Destinations: addresses, location, allowlist, weight.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::compile::Ctx;
use super::raw::*;
use crate::catalog::{Catalog, DataCenter};
use crate::country_index::CountryIndex;
use crate::place;
use crate::suggest;
use crate::world::*;

pub(super) fn resources(
    cx: &mut Ctx,
    catalog: &Catalog,
    countries: &CountryIndex,
    dcs: &[DataCenter],
    egress: &[Egress],
    raw: &[RawResource],
) -> Vec<Resource> {
    let mut out = Vec::new();
    let mut names: BTreeMap<String, ()> = BTreeMap::new();
    for r in raw {
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err(r.name.span(), "resource `name` must not be empty");
        } else if names.insert(name.clone(), ()).is_some() {
            cx.err(r.name.span(), format!("duplicate resource `{name}`"));
        }
        let ipv4 = r
            .ipv4
            .as_ref()
            .and_then(|s| match s.get_ref().trim().parse::<Ipv4Addr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    cx.err_help(
                        s.span(),
                        format!("`{}` is not a valid IPv4 address", s.get_ref()),
                        Some("write a dotted quad such as `198.51.100.20`".into()),
                    );
                    None
                }
            });
        let ipv6 = r
            .ipv6
            .as_ref()
            .and_then(|s| match s.get_ref().trim().parse::<Ipv6Addr>() {
                Ok(a) => Some(a),
                Err(_) => {
                    cx.err_help(
                        s.span(),
                        format!("`{}` is not a valid IPv6 address", s.get_ref()),
                        Some("write an address such as `2001:db8::20` (no prefix length)".into()),
                    );
                    None
                }
            });
        if r.ipv4.is_none() && r.ipv6.is_none() {
            cx.err_help(
                r.name.span(),
                format!("resource `{name}` has no address"),
                Some("add `ipv4 = \"...\"` and/or `ipv6 = \"...\"`".into()),
            );
        }
        let port = match &r.port {
            None => 443,
            Some(p) if (1..=65535).contains(p.get_ref()) => *p.get_ref() as u16,
            Some(p) => {
                cx.err(
                    p.span(),
                    format!("`port` must be 1..65535, found {}", p.get_ref()),
                );
                443
            }
        };
        let protocol = match &r.protocol {
            None => "tcp".to_string(),
            Some(p) => {
                let v = p.get_ref().to_ascii_lowercase();
                if v != "tcp" && v != "udp" {
                    cx.err_help(
                        p.span(),
                        format!("unknown protocol `{}`", p.get_ref()),
                        Some("use `tcp` or `udp` (ICMP never uses dedicated egress IPs)".into()),
                    );
                }
                v
            }
        };
        let location = match place::resolve(r.location.get_ref(), dcs, catalog) {
            Ok(p) => Some(p),
            Err(e) => {
                cx.err_help(r.location.span(), e.message, e.help);
                None
            }
        };
        let allowlist = r.allowlist.as_ref().map(|ids| {
            let mut allowed = vec![false; egress.len()];
            for id in ids {
                match egress.iter().position(|e| &e.id == id.get_ref()) {
                    Some(i) => allowed[i] = true,
                    None => cx.err_help(
                        id.span(),
                        format!("unknown egress id `{}` in allowlist", id.get_ref()),
                        suggest::closest(id.get_ref(), egress.iter().map(|e| e.id.as_str()))
                            .map(|s| format!("did you mean `{s}`?")),
                    ),
                }
            }
            allowed
        });
        let weight = cx.positive(&r.weight, "weight", 1.0);
        let processing_ms = cx.non_negative(&r.processing_ms, "processing_ms", 0.0);
        let Some(location) = location else { continue };
        let country = location
            .country
            .unwrap_or_else(|| countries.lookup(location.location));
        out.push(Resource {
            host: r
                .host
                .as_ref()
                .map_or_else(|| name.clone(), |h| h.get_ref().trim().to_ascii_lowercase()),
            name,
            ipv4,
            ipv6,
            port,
            protocol,
            location: location.location,
            location_label: location.label,
            country,
            proxied: r.proxied,
            allowlist,
            weight,
            processing_ms,
            domains: Vec::new(),
            app_ids: r.app_ids.clone(),
        });
        if let Some(last) = out.last_mut() {
            last.domains = domains_of(&last.host);
        }
    }
    out
}

/// `net.fqdn.domains` of a host: the host and each parent domain.
pub(super) fn domains_of(host: &str) -> Vec<String> {
    let host = host.trim_end_matches('.');
    let mut out = vec![host.to_string()];
    let mut rest = host;
    while let Some((_, parent)) = rest.split_once('.') {
        out.push(parent.to_string());
        rest = parent;
    }
    out
}
