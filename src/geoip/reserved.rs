//! Private and special-purpose addresses (IANA special-purpose registries), recognised before any
//! database lookup: such an address says nothing about where its user is, whatever a database says.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address cannot locate a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReservedKind {
    /// RFC 1918 private network (10/8, 172.16/12, 192.168/16).
    Private,
    /// RFC 6598 shared address space (100.64/10, carrier-grade NAT).
    Shared,
    /// Loopback (127/8, ::1).
    Loopback,
    /// Link-local (169.254/16, fe80::/10).
    LinkLocal,
    /// Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20).
    Documentation,
    /// RFC 2544 benchmarking (198.18/15).
    Benchmarking,
    /// "This network" (0/8) and the unspecified addresses (0.0.0.0, ::).
    Unspecified,
    /// Multicast (224/4, ff00::/8).
    Multicast,
    /// RFC 4193 unique local IPv6 (fc00::/7).
    UniqueLocal,
    /// Other reserved space (240/4 and broadcast, 192.0.0/24, the rest of ::/8, 100::/64).
    Reserved,
}

impl ReservedKind {
    /// Stable snake_case key used in tables.
    pub fn key(self) -> &'static str {
        match self {
            ReservedKind::Private => "private",
            ReservedKind::Shared => "shared_cgnat",
            ReservedKind::Loopback => "loopback",
            ReservedKind::LinkLocal => "link_local",
            ReservedKind::Documentation => "documentation",
            ReservedKind::Benchmarking => "benchmarking",
            ReservedKind::Unspecified => "unspecified",
            ReservedKind::Multicast => "multicast",
            ReservedKind::UniqueLocal => "unique_local",
            ReservedKind::Reserved => "reserved",
        }
    }

    /// Human description.
    pub fn description(self) -> &'static str {
        match self {
            ReservedKind::Private => "private network (RFC 1918)",
            ReservedKind::Shared => "shared address space (RFC 6598, carrier-grade NAT)",
            ReservedKind::Loopback => "loopback",
            ReservedKind::LinkLocal => "link-local",
            ReservedKind::Documentation => "documentation range",
            ReservedKind::Benchmarking => "benchmarking range (RFC 2544)",
            ReservedKind::Unspecified => "unspecified or \"this network\"",
            ReservedKind::Multicast => "multicast",
            ReservedKind::UniqueLocal => "unique local IPv6 (RFC 4193)",
            ReservedKind::Reserved => "reserved",
        }
    }
}

/// The address to look up: IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// The special-purpose range `ip` is in, if any (IPv4-mapped addresses are judged as IPv4).
pub fn classify(ip: IpAddr) -> Option<ReservedKind> {
    match canonical(ip) {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: u32, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    ip & mask == u32::from_be_bytes(net) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<ReservedKind> {
    use ReservedKind::*;
    let x = u32::from(ip);
    const TABLE: &[([u8; 4], u32, ReservedKind)] = &[
        ([0, 0, 0, 0], 8, Unspecified),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, Shared),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Benchmarking),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([224, 0, 0, 0], 4, Multicast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    TABLE
        .iter()
        .find(|(net, len, _)| in_v4(x, *net, *len))
        .map(|t| t.2)
}

fn classify_v6(ip: Ipv6Addr) -> Option<ReservedKind> {
    use ReservedKind::*;
    let x = u128::from(ip);
    let in_net = |net: u128, len: u32| x >> (128 - len) == net >> (128 - len);
    if x == 0 {
        Some(Unspecified)
    } else if x == 1 {
        Some(Loopback)
    } else if in_net(0, 8) || in_net(0x0100 << 112, 64) {
        Some(Reserved)
    } else if in_net(0xfe80 << 112, 10) {
        Some(LinkLocal)
    } else if in_net(0xfc00 << 112, 7) {
        Some(UniqueLocal)
    } else if in_net(0xff00 << 112, 8) {
        Some(Multicast)
    } else if in_net(0x2001_0db8 << 96, 32) || in_net(0x3fff << 112, 20) {
        Some(Documentation)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReservedKind::*;

    fn c(s: &str) -> Option<ReservedKind> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_special_ranges() {
        assert_eq!(c("10.1.2.3"), Some(Private));
        assert_eq!(c("172.16.0.1"), Some(Private));
        assert_eq!(c("172.31.255.255"), Some(Private));
        assert_eq!(c("172.32.0.1"), None);
        assert_eq!(c("192.168.1.1"), Some(Private));
        assert_eq!(c("100.64.0.1"), Some(Shared));
        assert_eq!(c("100.128.0.1"), None);
        assert_eq!(c("127.0.0.1"), Some(Loopback));
        assert_eq!(c("169.254.10.1"), Some(LinkLocal));
        assert_eq!(c("192.0.2.7"), Some(Documentation));
        assert_eq!(c("198.51.100.7"), Some(Documentation));
        assert_eq!(c("203.0.113.7"), Some(Documentation));
        assert_eq!(c("198.19.1.1"), Some(Benchmarking));
        assert_eq!(c("0.1.2.3"), Some(Unspecified));
        assert_eq!(c("224.0.0.251"), Some(Multicast));
        assert_eq!(c("255.255.255.255"), Some(Reserved));
        assert_eq!(c("8.8.8.8"), None);
        assert_eq!(c("81.2.69.160"), None);
    }

    #[test]
    fn ipv6_special_ranges_and_mapped_ipv4() {
        assert_eq!(c("::1"), Some(Loopback));
        assert_eq!(c("::"), Some(Unspecified));
        assert_eq!(c("fe80::1"), Some(LinkLocal));
        assert_eq!(c("fd12:3456::1"), Some(UniqueLocal));
        assert_eq!(c("ff02::1"), Some(Multicast));
        assert_eq!(c("2001:db8::1"), Some(Documentation));
        assert_eq!(c("2a00:1450::1"), None);
        assert_eq!(c("::ffff:192.168.0.1"), Some(Private));
        assert_eq!(c("::ffff:8.8.8.8"), None);
        assert_eq!(
            canonical("::ffff:8.8.8.8".parse().unwrap()),
            "8.8.8.8".parse::<IpAddr>().unwrap()
        );
    }
}
