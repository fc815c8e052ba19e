//! The compiled form of an expression and its allocation-free evaluation against [`Facts`].
//!
//! A [`CompiledExpr`] is a node arena: logical nodes refer to their operands by index into a shared
//! `children` array, and leaves hold pre-built membership structures (sorted ranges, sorted strings,
//! bit masks, compiled regexes). Evaluation walks the arena with short-circuiting; recursion depth is
//! bounded by the expression's nesting, which the parser caps. Nothing is allocated, hashed or parsed
//! per evaluation; only `matches` on a free-text field runs a regex at evaluation time (group, posture
//! and virtual-network regexes are resolved against the scenario's names at compile time).

use std::net::{IpAddr, Ipv4Addr};

use regex::Regex;

use super::field::{Field, FieldSet};
use super::sets::{BitSet256, IntSet, IpSet, StrSet};

/// Everything a condition may test for one request. Strings are borrowed, so building `Facts` and
/// evaluating against it allocate nothing.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// `net.src.ip`: the device's public address.
    pub src_ip: IpAddr,
    /// `net.src.internal_src_ip`.
    pub src_internal_ip: IpAddr,
    /// `net.src.port`.
    pub src_port: u16,
    /// `net.src.geo.country` (ISO 3166-1 alpha-2, uppercase).
    pub src_country: &'a str,
    /// `net.src.geo.continent` (two-letter code, uppercase).
    pub src_continent: &'a str,
    /// `net.dst.ip`.
    pub dst_ip: IpAddr,
    /// `net.dst.port`.
    pub dst_port: u16,
    /// `net.dst.geo.country`.
    pub dst_country: &'a str,
    /// `net.dst.geo.continent`.
    pub dst_continent: &'a str,
    /// `net.protocol`: `"tcp"`, `"udp"` or `"icmp"`.
    pub protocol: &'a str,
    /// `net.vnet_id`, as an index into [`Universe::vnets`](super::Universe::vnets); `None` when the
    /// device has no virtual network selected (then every positive vnet test is false).
    pub vnet: Option<u16>,
    /// `net.fqdn.host` (lowercase, no trailing dot).
    pub host: &'a str,
    /// `net.fqdn.domains`: the host and each parent domain (`["www.example.com", "example.com", "com"]`).
    pub domains: &'a [&'a str],
    /// `app.ids`.
    pub app_ids: &'a [u32],
    /// `proxy.endpoint`.
    pub proxy_endpoint: &'a str,
    /// `identity.email`.
    pub email: &'a str,
    /// `identity.name`.
    pub name: &'a str,
    /// The user's groups, as indexes into [`Universe::groups`](super::Universe::groups).
    pub groups: BitSet256,
    /// Posture checks the device passed, as indexes into
    /// [`Universe::posture_checks`](super::Universe::posture_checks).
    pub posture_passed: BitSet256,
}

impl Default for Facts<'_> {
    /// Unspecified IPv4 addresses, zero ports, empty strings and sets, no virtual network.
    fn default() -> Self {
        let ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        Facts {
            src_ip: ip,
            src_internal_ip: ip,
            src_port: 0,
            src_country: "",
            src_continent: "",
            dst_ip: ip,
            dst_port: 0,
            dst_country: "",
            dst_continent: "",
            protocol: "",
            vnet: None,
            host: "",
            domains: &[],
            app_ids: &[],
            proxy_endpoint: "",
            email: "",
            name: "",
            groups: BitSet256::EMPTY,
            posture_passed: BitSet256::EMPTY,
        }
    }
}

/// Which IP fact a leaf reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IpField {
    Src,
    SrcInternal,
    Dst,
}

/// Which integer (port) fact a leaf reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PortField {
    Src,
    Dst,
}

/// Which scalar string fact a leaf reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StrField {
    SrcCountry,
    SrcContinent,
    DstCountry,
    DstContinent,
    Protocol,
    Host,
    ProxyEndpoint,
    Email,
    Name,
}

/// `any(...)` or `all(...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Quant {
    Any,
    All,
}

/// A compiled string test.
#[derive(Clone, Debug)]
pub(super) enum StrMatcher {
    Eq(Box<str>),
    In(StrSet),
    Regex(Regex),
}

impl StrMatcher {
    pub(super) fn matches(&self, s: &str) -> bool {
        match self {
            StrMatcher::Eq(v) => **v == *s,
            StrMatcher::In(set) => set.contains(s),
            StrMatcher::Regex(re) => re.is_match(s),
        }
    }
}

/// A compiled comparison. `negate` flips the per-value (per-element, for arrays) result, which is how
/// `!=` and `not in` compile.
#[derive(Clone, Debug)]
pub(super) enum Leaf {
    /// Decided at compile time (for example, a virtual network the scenario does not declare).
    Const(bool),
    Ip {
        field: IpField,
        set: IpSet,
        negate: bool,
    },
    Port {
        field: PortField,
        set: IntSet,
        negate: bool,
    },
    Str {
        field: StrField,
        matcher: StrMatcher,
        negate: bool,
    },
    Domains {
        quant: Quant,
        matcher: StrMatcher,
        negate: bool,
    },
    AppIds {
        quant: Quant,
        set: IntSet,
        negate: bool,
    },
    /// Group and posture tests: `mask` holds the members whose element test is true (negation already
    /// folded in), so `any` is "intersects" and `all` is "is subset of".
    Groups {
        quant: Quant,
        mask: BitSet256,
    },
    Posture {
        quant: Quant,
        mask: BitSet256,
    },
    /// Sorted virtual-network indexes that satisfy the test.
    Vnet {
        set: Box<[u16]>,
        negate: bool,
    },
}

impl Leaf {
    /// A rough relative cost of evaluating the leaf, used to order `and`/`or` operands cheapest
    /// first. Only the ordering matters: bit tests < integer/IP searches < string compares < array
    /// scans < regexes.
    pub(super) fn cost(&self) -> u32 {
        let str_cost = |m: &StrMatcher| match m {
            StrMatcher::Eq(_) => 3,
            StrMatcher::In(_) => 5,
            StrMatcher::Regex(_) => 50,
        };
        match self {
            Leaf::Const(_) => 0,
            Leaf::Groups { .. } | Leaf::Posture { .. } => 1,
            Leaf::Vnet { .. } | Leaf::Port { .. } => 2,
            Leaf::Ip { .. } => 3,
            Leaf::Str { matcher, .. } => str_cost(matcher),
            Leaf::AppIds { .. } => 8,
            Leaf::Domains { matcher, .. } => 4 * str_cost(matcher),
        }
    }
}

/// A node of the arena.
#[derive(Clone, Debug)]
pub(super) enum Node {
    Leaf(Leaf),
    Not(u32),
    /// Operands are `children[start..start + len]`.
    And {
        start: u32,
        len: u32,
    },
    Or {
        start: u32,
        len: u32,
    },
    Xor {
        start: u32,
        len: u32,
    },
}

/// A type-checked expression with names resolved against a [`Universe`](super::Universe), ready for
/// fast repeated evaluation. Cheap to clone (regexes are shared), `Send` and `Sync`.
#[derive(Clone, Debug)]
pub struct CompiledExpr {
    pub(super) nodes: Box<[Node]>,
    pub(super) children: Box<[u32]>,
    pub(super) root: u32,
    pub(super) fields: FieldSet,
}

impl CompiledExpr {
    /// An expression that is always `value` and reads no field (for a rule's absent condition).
    pub fn constant(value: bool) -> Self {
        CompiledExpr {
            nodes: Box::new([Node::Leaf(Leaf::Const(value))]),
            children: Box::new([]),
            root: 0,
            fields: FieldSet::EMPTY,
        }
    }

    /// Whether the request described by `facts` matches.
    pub fn eval(&self, facts: &Facts<'_>) -> bool {
        self.eval_node(self.root, facts)
    }

    /// The fields the expression reads. A decision that depends only on fields the caller knows to be
    /// per-user (or per-destination) can be cached at that granularity.
    pub fn fields(&self) -> FieldSet {
        self.fields
    }

    fn operands(&self, start: u32, len: u32) -> &[u32] {
        let start = start as usize;
        &self.children[start..start + len as usize]
    }

    fn eval_node(&self, i: u32, f: &Facts<'_>) -> bool {
        match &self.nodes[i as usize] {
            Node::Leaf(leaf) => eval_leaf(leaf, f),
            Node::Not(c) => !self.eval_node(*c, f),
            Node::And { start, len } => self
                .operands(*start, *len)
                .iter()
                .all(|c| self.eval_node(*c, f)),
            Node::Or { start, len } => self
                .operands(*start, *len)
                .iter()
                .any(|c| self.eval_node(*c, f)),
            Node::Xor { start, len } => self
                .operands(*start, *len)
                .iter()
                .fold(false, |acc, c| acc ^ self.eval_node(*c, f)),
        }
    }
}

fn quantify<T: Copy>(quant: Quant, items: &[T], test: impl Fn(T) -> bool) -> bool {
    match quant {
        Quant::Any => items.iter().any(|x| test(*x)),
        // Vacuously true for an empty array, as in Cloudflare's `all()`.
        Quant::All => items.iter().all(|x| test(*x)),
    }
}

fn bits(quant: Quant, have: &BitSet256, mask: &BitSet256) -> bool {
    match quant {
        Quant::Any => have.intersects(mask),
        Quant::All => have.is_subset_of(mask),
    }
}

fn eval_leaf(leaf: &Leaf, f: &Facts<'_>) -> bool {
    match leaf {
        Leaf::Const(b) => *b,
        Leaf::Ip { field, set, negate } => {
            let ip = match field {
                IpField::Src => f.src_ip,
                IpField::SrcInternal => f.src_internal_ip,
                IpField::Dst => f.dst_ip,
            };
            set.contains(ip) != *negate
        }
        Leaf::Port { field, set, negate } => {
            let port = match field {
                PortField::Src => f.src_port,
                PortField::Dst => f.dst_port,
            };
            set.contains(i64::from(port)) != *negate
        }
        Leaf::Str {
            field,
            matcher,
            negate,
        } => {
            let s = match field {
                StrField::SrcCountry => f.src_country,
                StrField::SrcContinent => f.src_continent,
                StrField::DstCountry => f.dst_country,
                StrField::DstContinent => f.dst_continent,
                StrField::Protocol => f.protocol,
                StrField::Host => f.host,
                StrField::ProxyEndpoint => f.proxy_endpoint,
                StrField::Email => f.email,
                StrField::Name => f.name,
            };
            matcher.matches(s) != *negate
        }
        Leaf::Domains {
            quant,
            matcher,
            negate,
        } => quantify(*quant, f.domains, |d| matcher.matches(d) != *negate),
        Leaf::AppIds { quant, set, negate } => quantify(*quant, f.app_ids, |id| {
            set.contains(i64::from(id)) != *negate
        }),
        Leaf::Groups { quant, mask } => bits(*quant, &f.groups, mask),
        Leaf::Posture { quant, mask } => bits(*quant, &f.posture_passed, mask),
        Leaf::Vnet { set, negate } => match f.vnet {
            Some(v) => set.binary_search(&v).is_ok() != *negate,
            None => *negate,
        },
    }
}

/// Maps a field to the fact a scalar leaf reads; `None` for fields that compile to other leaf kinds.
pub(super) fn ip_field(field: Field) -> Option<IpField> {
    match field {
        Field::SrcIp => Some(IpField::Src),
        Field::SrcInternalIp => Some(IpField::SrcInternal),
        Field::DstIp => Some(IpField::Dst),
        _ => None,
    }
}

/// See [`ip_field`].
pub(super) fn port_field(field: Field) -> Option<PortField> {
    match field {
        Field::SrcPort => Some(PortField::Src),
        Field::DstPort => Some(PortField::Dst),
        _ => None,
    }
}

/// See [`ip_field`].
pub(super) fn str_field(field: Field) -> Option<StrField> {
    match field {
        Field::SrcCountry => Some(StrField::SrcCountry),
        Field::SrcContinent => Some(StrField::SrcContinent),
        Field::DstCountry => Some(StrField::DstCountry),
        Field::DstContinent => Some(StrField::DstContinent),
        Field::Protocol => Some(StrField::Protocol),
        Field::Host => Some(StrField::Host),
        Field::ProxyEndpoint => Some(StrField::ProxyEndpoint),
        Field::Email => Some(StrField::Email),
        Field::Name => Some(StrField::Name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn compiled_expr_is_send_sync_clone() {
        assert_send_sync::<CompiledExpr>();
    }

    #[test]
    fn constants() {
        let f = Facts::default();
        assert!(CompiledExpr::constant(true).eval(&f));
        assert!(!CompiledExpr::constant(false).eval(&f));
        assert!(CompiledExpr::constant(true).fields().is_empty());
    }

    #[test]
    fn quantifiers_on_empty_arrays() {
        assert!(!quantify::<u32>(Quant::Any, &[], |_| true));
        assert!(quantify::<u32>(Quant::All, &[], |_| false));
        assert!(!bits(Quant::Any, &BitSet256::EMPTY, &BitSet256::first_n(3)));
        assert!(bits(Quant::All, &BitSet256::EMPTY, &BitSet256::EMPTY));
    }
}
