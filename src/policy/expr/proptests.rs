//! Property tests: the parser never panics and reports consistent positions; printing is an inverse of
//! parsing over generated trees and over whatever random text happens to parse.

use std::net::IpAddr;

use proptest::prelude::*;

use super::ast::{CompareOp, Comparison, Expr, Literal, Rhs, Span, Value};
use super::{compile, parse, Facts, Field, GroupDef, Universe};

/// Checks the invariants of a parse result: errors point inside the source at a char boundary with a
/// matching column and render without panicking; successes print to text that parses back to the
/// same tree and compile (or fail to compile) without panicking.
fn check(src: &str) {
    match parse(src) {
        Err(e) => {
            assert!(
                src.is_char_boundary(e.offset),
                "offset {} not a char boundary in {src:?}",
                e.offset
            );
            assert!(
                e.offset + e.len <= src.len(),
                "span past the end in {src:?}"
            );
            assert_eq!(
                e.column,
                src[..e.offset].chars().count() + 1,
                "column for {src:?}: {e:?}"
            );
            let _ = e.render(src);
        }
        Ok(e) => {
            let printed = e.to_string();
            let again = parse(&printed).unwrap_or_else(|err| {
                panic!("{src:?} printed as {printed:?}: {}", err.render(&printed))
            });
            assert_eq!(
                again.without_spans(),
                e.without_spans(),
                "{src:?} printed as {printed:?}"
            );
            let universe = Universe {
                groups: vec![GroupDef {
                    name: "a".into(),
                    id: "b".into(),
                    email: "c".into(),
                }],
                posture_checks: vec!["a".into()],
                vnets: vec!["a".into()],
            };
            if let Ok((c, _)) = compile(&e, &universe) {
                let _ = c.eval(&Facts::default());
            }
        }
    }
}

const ALPHABET: &[&str] = &[
    "net.dst.port",
    "net.src.ip",
    "net.fqdn.host",
    "identity.groups.name",
    "app.ids",
    "net.vnet_id",
    "net.dst.prot",
    "any",
    "all",
    "(",
    ")",
    "[*]",
    "[",
    "]",
    "*",
    "{",
    "}",
    ",",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "eq",
    "ne",
    "lt",
    "ge",
    "in",
    "not",
    "!",
    "and",
    "&&",
    "or",
    "||",
    "xor",
    "^^",
    "matches",
    "~",
    "\"a\"",
    "\"a\\\"b\"",
    "\"",
    "\\",
    "443",
    "-1",
    "8000..8080",
    "9..1",
    "10.0.0.0/8",
    "10.0.0.0/33",
    "2001:db8::1",
    "::",
    "1.2.3.4..1.2.3.9",
    "$list",
    "r\"x\"",
    "r#\"y\"#",
    "r#",
    "é",
    "✓",
    "-",
    "..",
    "/",
    ":",
    "=",
    "&",
    "|",
    "^",
    "$",
    "\t",
    "\n",
    "AND",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(ALPHABET), prop::bool::ANY), 0..24).prop_map(
        |parts| {
            let mut s = String::new();
            for (tok, space) in parts {
                s.push_str(tok);
                if space {
                    s.push(' ');
                }
            }
            s
        },
    )
}

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|v| IpAddr::V4(v.into())),
        any::<u128>().prop_map(|v| IpAddr::V6(v.into())),
        any::<u32>().prop_map(|v| IpAddr::V6(std::net::Ipv4Addr::from(v).to_ipv6_mapped())),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.@-]{0,12}",
        "[\"\\\\ \\x00-\\x1f\\x7f]{0,6}",
        any::<String>(),
    ]
}

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_string().prop_map(Value::Str),
        any::<i64>().prop_map(Value::Int),
        arb_ip().prop_map(Value::Ip),
        (arb_ip(), any::<u8>()).prop_map(|(ip, p)| {
            let max = if ip.is_ipv4() { 33 } else { 129 };
            Value::Cidr(ip, p % max)
        }),
    ]
}

fn arb_item() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => arb_scalar(),
        1 => (any::<i64>(), any::<i64>()).prop_map(|(a, b)| Value::IntRange(a.min(b), a.max(b))),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Value::IpRange(IpAddr::V4(a.min(b).into()), IpAddr::V4(a.max(b).into()))),
        1 => (any::<u128>(), any::<u128>()).prop_map(|(a, b)| Value::IpRange(IpAddr::V6(a.min(b).into()), IpAddr::V6(a.max(b).into()))),
    ]
}

fn arb_cmp() -> impl Strategy<Value = Comparison> {
    let field = prop::sample::select(Field::all().to_vec());
    let single = prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ]);
    prop_oneof![
        (field.clone(), single, arb_scalar()).prop_map(|(f, op, v)| Comparison::new(
            f,
            op,
            Rhs::Value(Literal::new(v))
        )),
        (
            field.clone(),
            prop::bool::ANY,
            prop::collection::vec(arb_item(), 1..4)
        )
            .prop_map(|(f, not, items)| {
                let op = if not { CompareOp::NotIn } else { CompareOp::In };
                let items = items.into_iter().map(Literal::new).collect();
                Comparison::new(
                    f,
                    op,
                    Rhs::Set {
                        items,
                        span: Span::default(),
                    },
                )
            }),
        (field, arb_string()).prop_map(|(f, s)| Comparison::new(
            f,
            CompareOp::Matches,
            Rhs::Value(Literal::new(Value::Str(s)))
        )),
    ]
}

/// `and`, `or`, `xor` of two or three `inner` expressions, or `not` of one.
fn arb_combination(inner: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    let span = Span::default();
    prop_oneof![
        prop::collection::vec(inner.clone(), 2..4)
            .prop_map(move |operands| Expr::And { operands, span }),
        prop::collection::vec(inner.clone(), 2..4)
            .prop_map(move |operands| Expr::Or { operands, span }),
        prop::collection::vec(inner.clone(), 2..4)
            .prop_map(move |operands| Expr::Xor { operands, span }),
        inner.prop_map(move |e| Expr::Not {
            operand: Box::new(e),
            span
        }),
    ]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    let span = Span::default();
    let leaf = prop_oneof![
        2 => arb_cmp().prop_map(Expr::Compare),
        1 => arb_cmp().prop_map(move |cmp| Expr::Any { cmp, span }),
        1 => arb_cmp().prop_map(move |cmp| Expr::All { cmp, span }),
    ];
    leaf.prop_recursive(6, 48, 4, arb_combination)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        check(&src);
    }

    #[test]
    fn token_soup_never_panics_and_round_trips(src in token_soup()) {
        check(&src);
    }

    #[test]
    fn generated_trees_round_trip(e in arb_expr()) {
        let printed = e.to_string();
        let parsed = parse(&printed).map_err(|err| TestCaseError::fail(format!("{printed}\n{}", err.render(&printed))))?;
        prop_assert_eq!(parsed.without_spans(), e, "{}", printed);
        prop_assert_eq!(parsed.to_string(), printed);
    }
}

// ---------------------------------------------------------------------------------------------
// Differential test: the compiled evaluator against a direct, obviously-correct interpretation of
// the tree, over well-typed expressions drawn from small value pools (so that matches are common).

const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.9",
    "192.0.2.5",
    "198.51.100.7",
    "2001:db8::1",
    "::1",
    "fe80::5",
];
const CIDRS: &[(&str, u8)] = &[
    ("10.0.0.0", 8),
    ("192.0.2.0", 24),
    ("2001:db8::", 32),
    ("::", 0),
    ("0.0.0.0", 0),
    ("10.0.0.9", 32),
];
const IP_RANGES: &[(&str, &str)] = &[
    ("10.0.0.1", "10.0.0.5"),
    ("192.0.2.0", "198.51.100.7"),
    ("::1", "fe80::"),
];
const PORTS: &[i64] = &[0, 22, 80, 443, 8080, 65535];
const INT_RANGES: &[(i64, i64)] = &[(1, 1023), (8000, 8080), (443, 443), (500, 600)];
const STRINGS: &[&str] = &[
    "GB",
    "FR",
    "EU",
    "tcp",
    "udp",
    "a@example.com",
    "Ada",
    "example.com",
    "www.example.com",
    "com",
    "default",
    "vnet-eu",
    "finance",
    "g-hr",
    "eng@example.com",
    "disk",
    "fw",
    "",
];
const REGEXES: &[&str] = &["^a", "com$", "G", ".*", "x", "^(finance|hr)$", "e"];
const DOMAIN_SETS: &[&[&str]] = &[
    &[],
    &["www.example.com", "example.com", "com"],
    &["example.org", "org"],
    &["com"],
];
const APP_SETS: &[&[u32]] = &[&[], &[505], &[1, 505, 600], &[22]];

fn test_universe() -> Universe {
    Universe {
        groups: super::eval_tests::test_groups(),
        posture_checks: vec!["disk".into(), "os".into(), "fw".into()],
        vnets: vec!["default".into(), "vnet-eu".into(), "vnet-us".into()],
    }
}

fn ipv(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// Owned inputs for one `Facts` value (indexes into the pools above).
#[derive(Clone, Debug)]
struct FactsSpec {
    ips: [usize; 3],
    ports: [usize; 2],
    strs: [usize; 9],
    vnet: Option<u16>,
    domains: usize,
    apps: usize,
    groups: u8,
    posture: u8,
}

fn arb_facts() -> impl Strategy<Value = FactsSpec> {
    (
        [0..IPS.len(), 0..IPS.len(), 0..IPS.len()],
        [0..PORTS.len(), 0..PORTS.len()],
        prop::array::uniform9(0..STRINGS.len()),
        prop::option::of(0u16..3),
        0..DOMAIN_SETS.len(),
        0..APP_SETS.len(),
        0u8..8,
        0u8..8,
    )
        .prop_map(
            |(ips, ports, strs, vnet, domains, apps, groups, posture)| FactsSpec {
                ips,
                ports,
                strs,
                vnet,
                domains,
                apps,
                groups,
                posture,
            },
        )
}

impl FactsSpec {
    fn facts(&self) -> Facts<'static> {
        let s = |i: usize| STRINGS[self.strs[i]];
        let bits = |m: u8| (0..3u8).filter(|i| m & (1 << i) != 0).collect();
        Facts {
            src_ip: ipv(IPS[self.ips[0]]),
            src_internal_ip: ipv(IPS[self.ips[1]]),
            dst_ip: ipv(IPS[self.ips[2]]),
            src_port: u16::try_from(PORTS[self.ports[0]]).unwrap_or(0),
            dst_port: u16::try_from(PORTS[self.ports[1]]).unwrap_or(0),
            src_country: s(0),
            src_continent: s(1),
            dst_country: s(2),
            dst_continent: s(3),
            protocol: s(4),
            host: s(5),
            proxy_endpoint: s(6),
            email: s(7),
            name: s(8),
            vnet: self.vnet,
            domains: DOMAIN_SETS[self.domains],
            app_ids: APP_SETS[self.apps],
            groups: bits(self.groups),
            posture_passed: bits(self.posture),
        }
    }
}

/// A well-typed comparison (and whether it sits inside any/all) drawn from the pools.
fn arb_typed_cmp() -> impl Strategy<Value = Expr> {
    let span = Span::default();
    let field = prop::sample::select(Field::all().to_vec());
    (
        field,
        any::<prop::sample::Index>(),
        prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        any::<bool>(),
    )
        .prop_map(move |(field, op_pick, picks, is_all)| {
            use super::field::ScalarType;
            let elem = field.value_type().element();
            let ops: &[CompareOp] = match elem {
                ScalarType::Int => &[
                    CompareOp::Eq,
                    CompareOp::Ne,
                    CompareOp::In,
                    CompareOp::NotIn,
                    CompareOp::Lt,
                    CompareOp::Le,
                    CompareOp::Gt,
                    CompareOp::Ge,
                ],
                ScalarType::Ip => &[
                    CompareOp::Eq,
                    CompareOp::Ne,
                    CompareOp::In,
                    CompareOp::NotIn,
                ],
                ScalarType::Str => &[
                    CompareOp::Eq,
                    CompareOp::Ne,
                    CompareOp::In,
                    CompareOp::NotIn,
                    CompareOp::Matches,
                ],
            };
            let op = *op_pick.get(ops);
            let value = |pick: &prop::sample::Index, in_set: bool| -> Value {
                match elem {
                    ScalarType::Int => {
                        let i = pick.index(PORTS.len() + INT_RANGES.len());
                        match INT_RANGES.get(i.wrapping_sub(PORTS.len())) {
                            Some((lo, hi)) if in_set => Value::IntRange(*lo, *hi),
                            _ => Value::Int(PORTS[i % PORTS.len()]),
                        }
                    }
                    ScalarType::Ip => {
                        let i = pick.index(IPS.len() + CIDRS.len() + IP_RANGES.len());
                        if i < IPS.len() {
                            Value::Ip(ipv(IPS[i]))
                        } else if i < IPS.len() + CIDRS.len() || !in_set {
                            let (a, p) = CIDRS[(i - IPS.len()) % CIDRS.len()];
                            Value::Cidr(ipv(a), p)
                        } else {
                            let (a, b) = IP_RANGES[i - IPS.len() - CIDRS.len()];
                            Value::IpRange(ipv(a), ipv(b))
                        }
                    }
                    ScalarType::Str if op == CompareOp::Matches => {
                        Value::Str(pick.get(REGEXES).to_string())
                    }
                    ScalarType::Str => Value::Str(pick.get(STRINGS).to_string()),
                }
            };
            let rhs = if op.takes_set() {
                Rhs::Set {
                    items: picks.iter().map(|p| Literal::new(value(p, true))).collect(),
                    span,
                }
            } else {
                Rhs::Value(Literal::new(value(&picks[0], false)))
            };
            let cmp = Comparison::new(field, op, rhs);
            match (field.value_type().is_array(), is_all) {
                (false, _) => Expr::Compare(cmp),
                (true, false) => Expr::Any { cmp, span },
                (true, true) => Expr::All { cmp, span },
            }
        })
}

fn arb_typed_expr() -> impl Strategy<Value = Expr> {
    arb_typed_cmp().prop_recursive(4, 24, 4, arb_combination)
}

/// The obvious meaning of one element test.
fn reference_test(op: CompareOp, rhs: &Rhs, x: &Elem<'_>) -> bool {
    let items: Vec<&Value> = match rhs {
        Rhs::Value(l) => vec![&l.value],
        Rhs::Set { items, .. } => items.iter().map(|l| &l.value).collect(),
    };
    let hit = |v: &Value| match (x, v) {
        (Elem::Int(x), Value::Int(v)) => match op {
            CompareOp::Lt => x < v,
            CompareOp::Le => x <= v,
            CompareOp::Gt => x > v,
            CompareOp::Ge => x >= v,
            _ => x == v,
        },
        (Elem::Int(x), Value::IntRange(lo, hi)) => lo <= x && x <= hi,
        (Elem::Ip(x), Value::Ip(v)) => x == v,
        (Elem::Ip(x), Value::Cidr(a, p)) => {
            let (lo, hi) = super::sets::cidr_bounds(*a, *p);
            x.is_ipv4() == a.is_ipv4() && lo <= *x && *x <= hi
        }
        (Elem::Ip(x), Value::IpRange(lo, hi)) => x.is_ipv4() == lo.is_ipv4() && lo <= x && x <= hi,
        (Elem::Str(x), Value::Str(v)) if op == CompareOp::Matches => regex::Regex::new(v)
            .map(|re| re.is_match(x))
            .unwrap_or(false),
        (Elem::Str(x), Value::Str(v)) => x == v,
        _ => false,
    };
    let any_hit = items.into_iter().any(hit);
    if matches!(op, CompareOp::Ne | CompareOp::NotIn) {
        !any_hit
    } else {
        any_hit
    }
}

enum Elem<'a> {
    Int(i64),
    Ip(IpAddr),
    Str(&'a str),
}

fn reference(e: &Expr, f: &Facts<'_>, u: &Universe) -> bool {
    let members = |set: &super::BitSet256| set.iter().map(usize::from).collect::<Vec<_>>();
    let elements = |c: &Comparison| -> Vec<Elem<'_>> {
        match c.field {
            Field::Domains => f.domains.iter().map(|d| Elem::Str(d)).collect(),
            Field::AppIds => f.app_ids.iter().map(|a| Elem::Int(i64::from(*a))).collect(),
            Field::GroupNames => members(&f.groups)
                .into_iter()
                .map(|i| Elem::Str(&u.groups[i].name))
                .collect(),
            Field::GroupIds => members(&f.groups)
                .into_iter()
                .map(|i| Elem::Str(&u.groups[i].id))
                .collect(),
            Field::GroupEmails => members(&f.groups)
                .into_iter()
                .map(|i| Elem::Str(&u.groups[i].email))
                .collect(),
            Field::PosturePassed => members(&f.posture_passed)
                .into_iter()
                .map(|i| Elem::Str(&u.posture_checks[i]))
                .collect(),
            _ => Vec::new(),
        }
    };
    match e {
        Expr::Or { operands, .. } => operands.iter().any(|o| reference(o, f, u)),
        Expr::And { operands, .. } => operands.iter().all(|o| reference(o, f, u)),
        Expr::Xor { operands, .. } => operands
            .iter()
            .fold(false, |acc, o| acc ^ reference(o, f, u)),
        Expr::Not { operand, .. } => !reference(operand, f, u),
        Expr::Any { cmp, .. } => elements(cmp)
            .iter()
            .any(|x| reference_test(cmp.op, &cmp.rhs, x)),
        Expr::All { cmp, .. } => elements(cmp)
            .iter()
            .all(|x| reference_test(cmp.op, &cmp.rhs, x)),
        Expr::Compare(c) => {
            let x = match c.field {
                Field::SrcIp => Elem::Ip(f.src_ip),
                Field::SrcInternalIp => Elem::Ip(f.src_internal_ip),
                Field::DstIp => Elem::Ip(f.dst_ip),
                Field::SrcPort => Elem::Int(i64::from(f.src_port)),
                Field::DstPort => Elem::Int(i64::from(f.dst_port)),
                Field::SrcCountry => Elem::Str(f.src_country),
                Field::SrcContinent => Elem::Str(f.src_continent),
                Field::DstCountry => Elem::Str(f.dst_country),
                Field::DstContinent => Elem::Str(f.dst_continent),
                Field::Protocol => Elem::Str(f.protocol),
                Field::Host => Elem::Str(f.host),
                Field::ProxyEndpoint => Elem::Str(f.proxy_endpoint),
                Field::Email => Elem::Str(f.email),
                Field::Name => Elem::Str(f.name),
                Field::VnetId => match f.vnet {
                    Some(i) => Elem::Str(&u.vnets[usize::from(i)]),
                    // No virtual network: positive tests fail, negated ones pass.
                    None => return matches!(c.op, CompareOp::Ne | CompareOp::NotIn),
                },
                _ => return false,
            };
            reference_test(c.op, &c.rhs, &x)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn compiled_eval_matches_reference(e in arb_typed_expr(), specs in prop::collection::vec(arb_facts(), 8)) {
        let u = test_universe();
        let (compiled, _) = compile(&e, &u).map_err(|err| TestCaseError::fail(format!("{e}: {err}")))?;
        for spec in &specs {
            let f = spec.facts();
            prop_assert_eq!(compiled.eval(&f), reference(&e, &f, &u), "{}\n{:?}", e, f);
        }
    }
}
