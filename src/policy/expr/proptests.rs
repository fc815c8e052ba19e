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
            assert!(src.is_char_boundary(e.offset), "offset {} not a char boundary in {src:?}", e.offset);
            assert!(e.offset + e.len <= src.len(), "span past the end in {src:?}");
            assert_eq!(e.column, src[..e.offset].chars().count() + 1, "column for {src:?}: {e:?}");
            let _ = e.render(src);
        }
        Ok(e) => {
            let printed = e.to_string();
            let again = parse(&printed).unwrap_or_else(|err| panic!("{src:?} printed as {printed:?}: {}", err.render(&printed)));
            assert_eq!(again.without_spans(), e.without_spans(), "{src:?} printed as {printed:?}");
            let universe = Universe {
                groups: vec![GroupDef { name: "a".into(), id: "b".into(), email: "c".into() }],
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
    "net.dst.port", "net.src.ip", "net.fqdn.host", "identity.groups.name", "app.ids", "net.vnet_id", "net.dst.prot",
    "any", "all", "(", ")", "[*]", "[", "]", "*", "{", "}", ",", "==", "!=", "<", "<=", ">", ">=", "eq", "ne", "lt",
    "ge", "in", "not", "!", "and", "&&", "or", "||", "xor", "^^", "matches", "~", "\"a\"", "\"a\\\"b\"", "\"", "\\",
    "443", "-1", "8000..8080", "9..1", "10.0.0.0/8", "10.0.0.0/33", "2001:db8::1", "::", "1.2.3.4..1.2.3.9", "$list",
    "r\"x\"", "r#\"y\"#", "r#", "é", "✓", "-", "..", "/", ":", "=", "&", "|", "^", "$", "\t", "\n", "AND",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(ALPHABET), prop::bool::ANY), 0..24).prop_map(|parts| {
        let mut s = String::new();
        for (tok, space) in parts {
            s.push_str(tok);
            if space {
                s.push(' ');
            }
        }
        s
    })
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
    let single = prop::sample::select(vec![CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge]);
    prop_oneof![
        (field.clone(), single, arb_scalar()).prop_map(|(f, op, v)| Comparison::new(f, op, Rhs::Value(Literal::new(v)))),
        (field.clone(), prop::bool::ANY, prop::collection::vec(arb_item(), 1..4)).prop_map(|(f, not, items)| {
            let op = if not { CompareOp::NotIn } else { CompareOp::In };
            let items = items.into_iter().map(Literal::new).collect();
            Comparison::new(f, op, Rhs::Set { items, span: Span::default() })
        }),
        (field, arb_string()).prop_map(|(f, s)| Comparison::new(f, CompareOp::Matches, Rhs::Value(Literal::new(Value::Str(s))))),
    ]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    let span = Span::default();
    let leaf = prop_oneof![
        2 => arb_cmp().prop_map(Expr::Compare),
        1 => arb_cmp().prop_map(move |cmp| Expr::Any { cmp, span }),
        1 => arb_cmp().prop_map(move |cmp| Expr::All { cmp, span }),
    ];
    leaf.prop_recursive(6, 48, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(move |operands| Expr::And { operands, span }),
            prop::collection::vec(inner.clone(), 2..4).prop_map(move |operands| Expr::Or { operands, span }),
            prop::collection::vec(inner.clone(), 2..4).prop_map(move |operands| Expr::Xor { operands, span }),
            inner.prop_map(move |e| Expr::Not { operand: Box::new(e), span }),
        ]
    })
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
