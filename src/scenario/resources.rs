//! `[[resource]]` destinations: addresses, port, protocol, location, allowlist, weight, domains.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use toml::Spanned;

use super::compile::Ctx;
use super::raw::*;
use crate::catalog::{Catalog, DataCenter};
use crate::country_index::CountryIndex;
use crate::geoip::{self, ReservedKind};
use crate::place;
use crate::suggest;
use crate::world::*;

/// What resources are compiled against.
pub(super) struct ResourceInputs<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) countries: &'a CountryIndex,
    pub(super) dcs: &'a [DataCenter],
    pub(super) egress: &'a [Egress],
}

/// Compiles every `[[resource]]`; one without a usable location is left out (after its errors).
pub(super) fn resources(
    cx: &mut Ctx,
    inputs: &ResourceInputs,
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
        out.extend(resource(cx, inputs, r, name));
    }
    out
}

fn resource(
    cx: &mut Ctx,
    inputs: &ResourceInputs,
    r: &RawResource,
    name: String,
) -> Option<Resource> {
    let ipv4 = r.ipv4.as_ref().and_then(|s| {
        cx.address::<Ipv4Addr>(s, "IPv4", "write a dotted quad such as `198.51.100.20`")
    });
    let ipv6 = r.ipv6.as_ref().and_then(|s| {
        cx.address::<Ipv6Addr>(
            s,
            "IPv6",
            "write an address such as `2001:db8::20` (no prefix length)",
        )
    });
    if r.ipv4.is_none() && r.ipv6.is_none() {
        cx.err_help(
            r.name.span(),
            format!("resource `{name}` has no address"),
            Some("add `ipv4 = \"...\"` and/or `ipv6 = \"...\"`".into()),
        );
    }
    let port = port(cx, r.port.as_ref());
    let protocol = protocol(cx, r.protocol.as_ref());
    let location = match place::resolve(r.location.get_ref(), inputs.dcs, inputs.catalog) {
        Ok(p) => Some(p),
        Err(e) => {
            cx.err_help(r.location.span(), e.message, e.help);
            None
        }
    };
    let private = private_network(cx, r, &name, ipv4, ipv6);
    let allowlist = r
        .allowlist
        .as_ref()
        .map(|ids| allowlist(cx, inputs.egress, ids));
    let weight = cx.positive(&r.weight, "weight", 1.0);
    let processing_ms = cx.non_negative(&r.processing_ms, "processing_ms", 0.0);
    let location = location?;
    let host = r
        .host
        .as_ref()
        .map_or_else(|| name.clone(), |h| h.get_ref().trim().to_ascii_lowercase());
    Some(Resource {
        domains: domains_of(&host),
        host,
        name,
        ipv4,
        ipv6,
        port,
        protocol,
        location: location.location,
        location_label: location.label,
        country: location
            .country
            .unwrap_or_else(|| inputs.countries.lookup(location.location)),
        proxied: r.proxied,
        private,
        allowlist,
        weight,
        processing_ms,
        app_ids: r.app_ids.clone(),
    })
}

/// Which addresses of the resource are on a private network: private ones (RFC 1918, RFC 6598
/// carrier-grade NAT, RFC 4193 unique local) unless the file says otherwise, every address with
/// `private = true` (a public range routed through a tunnel). Addresses no destination can have
/// (loopback, link-local, multicast, unspecified, reserved) are errors; documentation and
/// benchmarking ranges stand for public addresses, as in the examples.
fn private_network(
    cx: &mut Ctx,
    r: &RawResource,
    name: &str,
    ipv4: Option<Ipv4Addr>,
    ipv6: Option<Ipv6Addr>,
) -> PrivateNetwork {
    let mut judge = |ip: Option<IpAddr>, raw: &Option<Spanned<String>>, key: &str| {
        let (Some(ip), Some(raw)) = (ip, raw) else {
            return false;
        };
        match geoip::classify(ip) {
            Some(ReservedKind::Private | ReservedKind::Shared | ReservedKind::UniqueLocal) => true,
            Some(ReservedKind::Documentation | ReservedKind::Benchmarking) | None => false,
            Some(kind) => {
                cx.err_help(
                    raw.span(),
                    format!(
                        "resource `{name}`: `{key}` {ip} is a {} address, which no destination Gateway reaches can have",
                        kind.description()
                    ),
                    Some("give the destination's public address, or its private address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) if it is behind Cloudflare Tunnel or Magic WAN".into()),
                );
                false
            }
        }
    };
    let v4 = judge(ipv4.map(IpAddr::V4), &r.ipv4, "ipv4");
    let v6 = judge(ipv6.map(IpAddr::V6), &r.ipv6, "ipv6");
    if let (Some(ip), Some(raw)) = (ipv4, &r.ipv4) {
        if let Some(range) = zero_trust_reserved(ip) {
            cx.warn(
                raw.span(),
                format!(
                    "resource `{name}`: {ip} is in {range}, which Cloudflare reserves for Zero Trust (source, device or resolved addresses): a private network route must not overlap it"
                ),
            );
        }
    }
    let private = match &r.private {
        None => PrivateNetwork { v4, v6 },
        Some(p) if *p.get_ref() => PrivateNetwork {
            v4: ipv4.is_some(),
            v6: ipv6.is_some(),
        },
        Some(p) => {
            if v4 || v6 {
                cx.err_help(
                    p.span(),
                    format!("resource `{name}` has a private address, so `private = false` cannot apply"),
                    Some("Gateway reaches private addresses only through Cloudflare Tunnel or Magic WAN, which always use shared addresses; remove `private = false`, or give the destination's public address".into()),
                );
            }
            PrivateNetwork::default()
        }
    };
    let only_private = (ipv4.is_none() || private.v4) && (ipv6.is_none() || private.v6);
    if only_private && (private.v4 || private.v6) {
        if let Some(list) = &r.allowlist {
            let at = list.first().map_or(r.name.span(), |x| x.span());
            cx.warn(
                at,
                format!(
                    "resource `{name}` is on a private network: its traffic always uses Cloudflare's shared addresses, never a dedicated egress IP, so its `allowlist` is not applied"
                ),
            );
        }
    }
    private
}

/// The ranges Cloudflare reserves for Zero Trust services, which private network routes must not
/// overlap (Cloudflare WAN's "Cloudflare Tunnel" page, "Reserved IP ranges").
fn zero_trust_reserved(ip: Ipv4Addr) -> Option<&'static str> {
    const RESERVED: [(u32, u32, &str); 4] = [
        (0x6440_0000, 12, "100.64.0.0/12"),
        (0x6460_0000, 12, "100.96.0.0/12"),
        (0x6450_0000, 16, "100.80.0.0/16"),
        (0x6470_0000, 16, "100.112.0.0/16"),
    ];
    let x = u32::from(ip);
    RESERVED
        .iter()
        .find(|(net, len, _)| x >> (32 - len) == net >> (32 - len))
        .map(|r| r.2)
}

fn port(cx: &mut Ctx, raw: Option<&Spanned<i64>>) -> u16 {
    match raw {
        None => 443,
        Some(p) if (1..=65535).contains(p.get_ref()) => *p.get_ref() as u16,
        Some(p) => {
            cx.err(
                p.span(),
                format!("`port` must be 1..65535, found {}", p.get_ref()),
            );
            443
        }
    }
}

fn protocol(cx: &mut Ctx, raw: Option<&Spanned<String>>) -> String {
    let Some(p) = raw else {
        return "tcp".to_string();
    };
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

/// Per egress IP: accepted by the destination's allowlist.
fn allowlist(cx: &mut Ctx, egress: &[Egress], ids: &[Spanned<String>]) -> Vec<bool> {
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
