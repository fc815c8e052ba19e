//! Compile-and-evaluate tests: truth tables per operator and field type, type errors, warnings, and an
//! ignored micro-benchmark.

use std::net::IpAddr;

use super::{
    compile, compile_str, parse, BitSet256, ExprError, Facts, Field, FieldSet, GroupDef, Universe,
    Warning,
};

/// The groups the expression tests know: finance, hr and eng, with ids and emails.
pub(super) fn test_groups() -> Vec<GroupDef> {
    let g = |name: &str, id: &str, email: &str| GroupDef {
        name: name.into(),
        id: id.into(),
        email: email.into(),
    };
    vec![
        g("finance", "g-fin", "fin@example.com"),
        g("hr", "g-hr", "hr@example.com"),
        g("eng", "g-eng", "eng@example.com"),
    ]
}

fn universe() -> Universe {
    Universe {
        groups: test_groups(),
        posture_checks: vec![
            "disk-encrypted".into(),
            "os-updated".into(),
            "firewall".into(),
        ],
        vnets: vec!["default".into(), "vnet-eu".into(), "vnet-us".into()],
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn bits(members: &[u8]) -> BitSet256 {
    members.iter().copied().collect()
}

fn compiled(src: &str) -> (super::CompiledExpr, Vec<Warning>) {
    compile_str(src, &universe()).unwrap_or_else(|e| panic!("{src}\n{}", e.render(src)))
}

/// Evaluates `src` against each facts value and compares with the expected results.
fn table(src: &str, rows: &[(Facts<'_>, bool)]) {
    let (c, _) = compiled(src);
    for (i, (facts, want)) in rows.iter().enumerate() {
        assert_eq!(c.eval(facts), *want, "{src}: case {i}: {facts:?}");
    }
}

fn compile_err(src: &str) -> ExprError {
    let e = parse(src).unwrap_or_else(|e| panic!("{src} should parse:\n{}", e.render(src)));
    match compile(&e, &universe()) {
        Ok(_) => panic!("{src} should not compile"),
        Err(err) => err,
    }
}

fn dst(s: &str) -> Facts<'static> {
    Facts {
        dst_ip: ip(s),
        ..Facts::default()
    }
}

#[test]
fn ip_eq_ne_cidr_v4_v6() {
    table(
        "net.dst.ip == 192.0.2.1",
        &[
            (dst("192.0.2.1"), true),
            (dst("192.0.2.2"), false),
            (dst("::ffff:192.0.2.1"), false),
        ],
    );
    table(
        "net.dst.ip != 192.0.2.1",
        &[
            (dst("192.0.2.1"), false),
            (dst("192.0.2.2"), true),
            (dst("2001:db8::1"), true),
        ],
    );
    // CIDR equality means containment.
    table(
        "net.dst.ip == 192.0.2.0/24",
        &[
            (dst("192.0.2.0"), true),
            (dst("192.0.2.255"), true),
            (dst("192.0.3.0"), false),
            (dst("2001:db8::"), false),
        ],
    );
    table(
        "net.dst.ip == 2001:db8::/32",
        &[
            (dst("2001:db8:ffff::1"), true),
            (dst("2001:db9::"), false),
            (dst("32.1.13.184"), false),
        ],
    );
    table(
        "net.dst.ip == 2001:db8::1",
        &[(dst("2001:db8::1"), true), (dst("2001:db8::2"), false)],
    );
    table(
        "net.dst.ip != 10.0.0.0/8",
        &[(dst("10.9.9.9"), false), (dst("11.0.0.0"), true)],
    );
    table(
        "net.dst.ip == 0.0.0.0/0",
        &[(dst("1.2.3.4"), true), (dst("::1"), false)],
    );
    table(
        "net.dst.ip == ::/0",
        &[(dst("1.2.3.4"), false), (dst("::1"), true)],
    );
}

#[test]
fn ip_in_sets_and_ranges() {
    let src = "net.dst.ip in {198.51.100.0/24 10.0.0.1..10.0.0.9 203.0.113.7 2001:db8::/48 fe80::1..fe80::ff}";
    table(
        src,
        &[
            (dst("198.51.100.42"), true),
            (dst("198.51.101.0"), false),
            (dst("10.0.0.1"), true),
            (dst("10.0.0.9"), true),
            (dst("10.0.0.10"), false),
            (dst("10.0.0.0"), false),
            (dst("203.0.113.7"), true),
            (dst("203.0.113.8"), false),
            (dst("2001:db8:0:1::"), true),
            (dst("2001:db8:1::"), false),
            (dst("fe80::80"), true),
            (dst("fe80::100"), false),
        ],
    );
    table(
        "net.dst.ip not in {10.0.0.0/8}",
        &[(dst("10.1.1.1"), false), (dst("8.8.8.8"), true)],
    );
    table(
        "not net.dst.ip in {10.0.0.0/8}",
        &[(dst("10.1.1.1"), false), (dst("8.8.8.8"), true)],
    );
    let src_facts = |a: &str, b: &str| Facts {
        src_ip: ip(a),
        src_internal_ip: ip(b),
        ..Facts::default()
    };
    table(
        "net.src.ip in {192.0.2.0/24} and net.src.internal_src_ip == 10.1.2.3",
        &[
            (src_facts("192.0.2.9", "10.1.2.3"), true),
            (src_facts("192.0.2.9", "10.1.2.4"), false),
            (src_facts("192.0.3.9", "10.1.2.3"), false),
        ],
    );
}

fn port(p: u16) -> Facts<'static> {
    Facts {
        dst_port: p,
        ..Facts::default()
    }
}

#[test]
fn int_comparisons() {
    table(
        "net.dst.port == 443",
        &[(port(443), true), (port(444), false)],
    );
    table(
        "net.dst.port != 443",
        &[(port(443), false), (port(80), true)],
    );
    table(
        "net.dst.port in {443 8000..8080 22}",
        &[
            (port(443), true),
            (port(22), true),
            (port(8000), true),
            (port(8080), true),
            (port(7999), false),
            (port(8081), false),
            (port(0), false),
        ],
    );
    table(
        "net.dst.port not in {1..1023}",
        &[
            (port(0), true),
            (port(1), false),
            (port(1023), false),
            (port(1024), true),
        ],
    );
    table(
        "net.dst.port > 1024",
        &[(port(1024), false), (port(1025), true)],
    );
    table(
        "net.dst.port >= 1024",
        &[(port(1023), false), (port(1024), true)],
    );
    table(
        "net.dst.port < 1024",
        &[(port(1023), true), (port(1024), false)],
    );
    table(
        "net.dst.port <= 1024",
        &[(port(1024), true), (port(1025), false), (port(0), true)],
    );
    table("net.dst.port > 65535", &[(port(65535), false)]);
    table("net.dst.port >= 0", &[(port(0), true), (port(65535), true)]);
    let sp = |p: u16| Facts {
        src_port: p,
        ..Facts::default()
    };
    table(
        "net.src.port == 5000",
        &[(sp(5000), true), (sp(5001), false), (port(5000), false)],
    );
}

#[test]
fn string_comparisons() {
    let c = |s: &'static str| Facts {
        src_country: s,
        ..Facts::default()
    };
    table(
        r#"net.src.geo.country == "GB""#,
        &[(c("GB"), true), (c("gb"), false), (c(""), false)],
    );
    table(
        r#"net.src.geo.country != "GB""#,
        &[(c("GB"), false), (c("FR"), true)],
    );
    table(
        r#"net.src.geo.country in {"GB" "FR" "DE"}"#,
        &[(c("FR"), true), (c("US"), false)],
    );
    table(
        r#"net.src.geo.country not in {"GB" "FR"}"#,
        &[(c("FR"), false), (c("US"), true)],
    );
    table(
        r#"net.src.geo.country matches "^(G|F)""#,
        &[(c("GB"), true), (c("FR"), true), (c("DE"), false)],
    );
    let h = |s: &'static str| Facts {
        host: s,
        ..Facts::default()
    };
    // Regexes are unanchored searches unless anchored.
    table(
        r#"net.fqdn.host matches "example\\.com""#,
        &[(h("api.example.com"), true), (h("example.org"), false)],
    );
    table(
        r#"net.fqdn.host == "login.example.com""#,
        &[
            (h("login.example.com"), true),
            (h("www.login.example.com"), false),
        ],
    );
    table(
        r#"not net.fqdn.host matches "^a""#,
        &[(h("abc"), false), (h("bcd"), true)],
    );
    let each = |f: Facts<'static>, src: &str| table(src, &[(f, true), (Facts::default(), false)]);
    each(
        Facts {
            src_continent: "EU",
            ..Facts::default()
        },
        r#"net.src.geo.continent == "EU""#,
    );
    each(
        Facts {
            dst_country: "US",
            ..Facts::default()
        },
        r#"net.dst.geo.country == "US""#,
    );
    each(
        Facts {
            dst_continent: "NA",
            ..Facts::default()
        },
        r#"net.dst.geo.continent == "NA""#,
    );
    each(
        Facts {
            protocol: "tcp",
            ..Facts::default()
        },
        r#"net.protocol == "tcp""#,
    );
    each(
        Facts {
            proxy_endpoint: "ep1",
            ..Facts::default()
        },
        r#"proxy.endpoint == "ep1""#,
    );
    each(
        Facts {
            email: "a@example.com",
            ..Facts::default()
        },
        r#"identity.email == "a@example.com""#,
    );
    each(
        Facts {
            name: "Ada",
            ..Facts::default()
        },
        r#"identity.name in {"Ada" "Grace"}"#,
    );
}

#[test]
fn domains_and_app_ids() {
    let d: &[&str] = &["www.example.com", "example.com", "com"];
    let other: &[&str] = &["example.org", "org"];
    let f = |domains: &'static [&'static str]| Facts {
        domains,
        ..Facts::default()
    };
    table(
        r#"any(net.fqdn.domains[*] == "example.com")"#,
        &[(f(d), true), (f(other), false), (f(&[]), false)],
    );
    table(
        r#"any(net.fqdn.domains[*] in {"example.org" "example.net"})"#,
        &[(f(d), false), (f(other), true)],
    );
    table(
        r#"any(net.fqdn.domains[*] != "com")"#,
        &[(f(d), true), (f(&["com"]), false)],
    );
    table(
        r#"all(net.fqdn.domains[*] matches "com$")"#,
        &[(f(d), true), (f(other), false), (f(&[]), true)],
    );
    table(
        r#"all(net.fqdn.domains[*] not in {"org"})"#,
        &[(f(d), true), (f(other), false)],
    );

    let a = |app_ids: &'static [u32]| Facts {
        app_ids,
        ..Facts::default()
    };
    table(
        "any(app.ids[*] in {505})",
        &[(a(&[1, 505]), true), (a(&[1, 2]), false), (a(&[]), false)],
    );
    table(
        "any(app.ids[*] in {500..510 u32max})"
            .replace(" u32max", " 4294967295")
            .as_str(),
        &[(a(&[4_294_967_295]), true), (a(&[511]), false)],
    );
    table(
        "all(app.ids[*] > 100)",
        &[
            (a(&[101, 200]), true),
            (a(&[101, 100]), false),
            (a(&[]), true),
        ],
    );
    table("any(app.ids[*] == 7)", &[(a(&[7]), true), (a(&[8]), false)]);
    table(
        "any(app.ids[*] != 7)",
        &[(a(&[7]), false), (a(&[7, 8]), true)],
    );
}

fn groups(members: &[u8]) -> Facts<'static> {
    Facts {
        groups: bits(members),
        ..Facts::default()
    }
}

#[test]
fn groups_by_name_id_email() {
    // Universe: 0 finance, 1 hr, 2 eng.
    for src in [
        r#"any(identity.groups.name[*] in {"finance"})"#,
        r#"any(identity.groups.name[*] == "finance")"#,
        r#"any(identity.groups.id[*] == "g-fin")"#,
        r#"any(identity.groups.email[*] in {"fin@example.com"})"#,
        r#"any(identity.groups.name[*] matches "^fin")"#,
    ] {
        table(
            src,
            &[
                (groups(&[0]), true),
                (groups(&[1, 0]), true),
                (groups(&[1, 2]), false),
                (groups(&[]), false),
            ],
        );
    }
    table(
        r#"any(identity.groups.name[*] in {"finance" "hr"})"#,
        &[(groups(&[1]), true), (groups(&[2]), false)],
    );
    table(
        r#"any(identity.groups.name[*] != "finance")"#,
        &[
            (groups(&[0]), false),
            (groups(&[0, 2]), true),
            (groups(&[]), false),
        ],
    );
    table(
        r#"any(identity.groups.name[*] not in {"finance" "hr"})"#,
        &[(groups(&[0, 1]), false), (groups(&[0, 2]), true)],
    );
    // all(): every group of the user matches; vacuously true without groups.
    table(
        r#"all(identity.groups.name[*] in {"finance" "hr"})"#,
        &[
            (groups(&[0, 1]), true),
            (groups(&[0, 2]), false),
            (groups(&[]), true),
        ],
    );
    table(
        r#"all(identity.groups.name[*] == "finance")"#,
        &[(groups(&[0]), true), (groups(&[0, 1]), false)],
    );
    table(
        r#"all(identity.groups.name[*] != "finance")"#,
        &[
            (groups(&[1, 2]), true),
            (groups(&[0, 1]), false),
            (groups(&[]), true),
        ],
    );
    table(
        r#"all(identity.groups.id[*] not in {"g-eng"})"#,
        &[(groups(&[0, 1]), true), (groups(&[2]), false)],
    );
    table(
        r#"not any(identity.groups.name[*] == "finance")"#,
        &[(groups(&[0]), false), (groups(&[1]), true)],
    );
}

#[test]
fn posture_checks() {
    // Universe: 0 disk-encrypted, 1 os-updated, 2 firewall.
    let p = |members: &[u8]| Facts {
        posture_passed: bits(members),
        ..Facts::default()
    };
    table(
        r#"any(device_posture.checks.passed[*] in {"disk-encrypted"})"#,
        &[(p(&[0]), true), (p(&[1]), false)],
    );
    table(
        r#"any(device_posture.checks.passed[*] == "firewall")"#,
        &[(p(&[2]), true), (p(&[0, 1]), false)],
    );
    table(
        r#"any(device_posture.checks.passed[*] == "disk-encrypted") and any(device_posture.checks.passed[*] == "os-updated")"#,
        &[(p(&[0, 1]), true), (p(&[0]), false)],
    );
    table(
        r#"all(device_posture.checks.passed[*] in {"disk-encrypted" "os-updated"})"#,
        &[(p(&[0, 1]), true), (p(&[0, 2]), false)],
    );
    // Posture tests read the posture set, not the groups set.
    table(
        r#"any(device_posture.checks.passed[*] == "disk-encrypted")"#,
        &[(groups(&[0]), false)],
    );
}

#[test]
fn vnets() {
    // Universe: 0 default, 1 vnet-eu, 2 vnet-us.
    let v = |vnet: Option<u16>| Facts {
        vnet,
        ..Facts::default()
    };
    table(
        r#"net.vnet_id == "vnet-eu""#,
        &[(v(Some(1)), true), (v(Some(2)), false), (v(None), false)],
    );
    table(
        r#"net.vnet_id != "vnet-eu""#,
        &[(v(Some(1)), false), (v(Some(2)), true), (v(None), true)],
    );
    table(
        r#"net.vnet_id in {"vnet-eu" "vnet-us"}"#,
        &[(v(Some(1)), true), (v(Some(2)), true), (v(Some(0)), false)],
    );
    table(
        r#"net.vnet_id not in {"vnet-eu" "vnet-us"}"#,
        &[(v(Some(0)), true), (v(Some(2)), false), (v(None), true)],
    );
    table(
        r#"net.vnet_id matches "^vnet-""#,
        &[(v(Some(1)), true), (v(Some(0)), false), (v(None), false)],
    );
}

#[test]
fn unknown_names_warn_and_never_match() {
    let (c, w) = compiled(r#"net.vnet_id == "vnet-apac""#);
    assert!(!c.eval(&Facts {
        vnet: Some(0),
        ..Facts::default()
    }));
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message.contains("virtual network \"vnet-apac\""),
        "{}",
        w[0].message
    );
    assert_eq!(w[0].offset, "net.vnet_id == ".len());

    let (c, w) = compiled(r#"net.vnet_id != "vnet-apac""#);
    assert!(c.eval(&Facts {
        vnet: Some(0),
        ..Facts::default()
    }));
    assert_eq!(w.len(), 1);

    let (c, w) = compiled(r#"any(identity.groups.name[*] in {"finance" "contractors"})"#);
    assert!(c.eval(&groups(&[0])));
    assert_eq!(w.len(), 1);
    assert!(
        w[0].message.contains("group name \"contractors\""),
        "{}",
        w[0].message
    );

    let (_, w) = compiled(r#"any(identity.groups.email[*] == "x@example.com")"#);
    assert!(w[0].message.contains("group email"));
    let (_, w) = compiled(r#"any(device_posture.checks.passed[*] == "nope")"#);
    assert!(w[0].message.contains("posture check \"nope\""));
    let (_, w) = compiled(r#"any(identity.groups.name[*] matches "^zzz")"#);
    assert!(
        w[0].message.contains("matches no group name"),
        "{}",
        w[0].message
    );
}

#[test]
fn suspicious_literals_warn() {
    for (src, needle) in [
        (r#"net.src.geo.country == "gb""#, "country codes"),
        (r#"net.dst.geo.continent == "Europe""#, "continent codes"),
        (r#"net.protocol == "TCP""#, "protocols"),
        (r#"net.fqdn.host == "Login.Example.com""#, "lowercase"),
        (
            r#"any(net.fqdn.domains[*] == "example.com.")"#,
            "trailing dot",
        ),
        ("net.dst.port == 70000", "cannot match any port"),
        ("net.dst.port in {-5..-1}", "cannot match any port"),
        ("net.dst.port > 65535", "cannot match any port"),
        ("net.dst.port < 0", "cannot match any port"),
        ("any(app.ids[*] == -1)", "application id"),
        ("net.dst.ip == 192.0.2.7/24", "host bits"),
    ] {
        let (_, w) = compiled(src);
        assert_eq!(w.len(), 1, "{src}: {w:?}");
        assert!(w[0].message.contains(needle), "{src}: {}", w[0].message);
    }
    let (c, _) = compiled("net.dst.ip == 192.0.2.7/24");
    assert!(c.eval(&dst("192.0.2.200")));
    let (_, w) = compiled(r#"net.src.geo.country == "GB" and net.protocol in {"tcp" "udp"}"#);
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn logic_truth_tables() {
    // a: port 1, b: protocol tcp, c: country GB.
    let f = |a: bool, b: bool, c: bool| Facts {
        dst_port: if a { 1 } else { 2 },
        protocol: if b { "tcp" } else { "udp" },
        src_country: if c { "GB" } else { "FR" },
        ..Facts::default()
    };
    let (a, b, c) = (
        "net.dst.port == 1",
        r#"net.protocol == "tcp""#,
        r#"net.src.geo.country == "GB""#,
    );
    type Truth = fn(bool, bool, bool) -> bool;
    let cases: [(String, Truth); 8] = [
        (format!("{a} and {b} and {c}"), |a, b, c| a && b && c),
        (format!("{a} or {b} or {c}"), |a, b, c| a || b || c),
        (format!("{a} xor {b} xor {c}"), |a, b, c| a ^ b ^ c),
        (format!("{a} or {b} and {c}"), |a, b, c| a || (b && c)),
        (format!("({a} or {b}) and {c}"), |a, b, c| (a || b) && c),
        (format!("not {a} and {b}"), |a, b, _| !a && b),
        (format!("not ({a} and {b}) || {c}"), |a, b, c| {
            !(a && b) || c
        }),
        (format!("{a} ^^ {b} or {c} && !{a}"), |a, b, c| {
            (a ^ b) || (c && !a)
        }),
    ];
    for (src, want) in cases {
        let (compiled, _) = compiled(&src);
        for bits in 0..8u8 {
            let (x, y, z) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            assert_eq!(
                compiled.eval(&f(x, y, z)),
                want(x, y, z),
                "{src} with {x} {y} {z}"
            );
        }
    }
}

#[test]
fn fields_are_reported() {
    let (c, _) = compiled(
        r#"net.dst.port == 1 and (any(identity.groups.name[*] == "hr") or net.vnet_id == "nope")"#,
    );
    assert_eq!(
        c.fields(),
        FieldSet::of(&[Field::DstPort, Field::GroupNames, Field::VnetId])
    );
}

/// Each (source, text under the caret, message fragment) fails to compile with that message, and
/// the error points at that text.
fn assert_type_errors(cases: &[(&str, &str, &str)]) {
    for (src, under, needle) in cases {
        let e = compile_err(src);
        assert!(
            e.message.contains(needle),
            "{src}: {:?} lacks {needle:?}",
            e.message
        );
        assert_eq!(
            src.get(e.offset..e.offset + e.len),
            Some(*under),
            "{src}\n{}",
            e.render(src)
        );
        assert_eq!(e.column, e.offset + 1, "ASCII source: column = offset + 1");
    }
}

#[test]
fn scalar_type_errors() {
    assert_type_errors(&[
        (
            r#"net.dst.port == "443""#,
            r#""443""#,
            "expected an integer for `net.dst.port`, found a string",
        ),
        (
            r#"net.dst.port in {443 "8443"}"#,
            r#""8443""#,
            "expected an integer or integer range",
        ),
        (
            "net.protocol == 6",
            "6",
            "expected a string for `net.protocol`, found an integer",
        ),
        (
            r#"net.fqdn.host > "a""#,
            ">",
            "expected an integer field for `>`",
        ),
        (
            "net.src.ip >= 10.0.0.1",
            ">=",
            "expected an integer field for `>=`",
        ),
        (
            r#"net.dst.ip matches "^10\\.""#,
            "matches",
            "expected a string field for `matches`",
        ),
        (
            r#"net.dst.port matches "44""#,
            "matches",
            "expected a string field for `matches`",
        ),
        (
            "net.dst.ip == 443",
            "443",
            "expected an IP address or CIDR for `net.dst.ip`",
        ),
        (
            r#"net.dst.ip in {"10.0.0.1"}"#,
            r#""10.0.0.1""#,
            "expected an IP address, CIDR or address range",
        ),
        (
            "net.dst.port in {10.0.0.1}",
            "10.0.0.1",
            "expected an integer or integer range",
        ),
        (
            "net.dst.ip in {1..5}",
            "1..5",
            "expected an IP address, CIDR or address range",
        ),
    ]);
}

#[test]
fn array_and_regex_type_errors() {
    assert_type_errors(&[
        (
            r#"identity.groups.name == "finance""#,
            "identity.groups.name",
            "which is an array of strings",
        ),
        (
            "app.ids in {505}",
            "app.ids",
            "which is an array of integers",
        ),
        (
            r#"any(net.fqdn.host[*] == "a")"#,
            "net.fqdn.host",
            "expected an array field inside any(...)",
        ),
        (
            "all(net.dst.port[*] == 1)",
            "net.dst.port",
            "expected an array field inside all(...)",
        ),
        (
            r#"net.fqdn.host matches "(unclosed""#,
            r#""(unclosed""#,
            "invalid one: unclosed group",
        ),
        (
            r#"any(identity.groups.name[*] matches "[z-a]")"#,
            r#""[z-a]""#,
            "invalid",
        ),
        (
            r#"any(identity.groups.name[*] > "a")"#,
            ">",
            "expected an integer field",
        ),
    ]);
}

#[test]
fn type_errors_suggest_a_fix() {
    let e = compile_err(r#"identity.groups.name == "finance""#);
    assert_eq!(
        e.hint.as_deref(),
        Some(r#"wrap it: any(identity.groups.name[*] == "finance")"#)
    );
    let e = compile_err(r#"net.dst.port == "443""#);
    assert_eq!(e.hint.as_deref(), Some("remove the quotes: 443"));
    let e = compile_err("net.protocol == 6");
    assert_eq!(e.hint.as_deref(), Some("quote it: \"6\""));
}

#[test]
fn regex_size_limit_is_enforced() {
    let src = r#"net.fqdn.host matches "(\\w{100}){100}""#;
    let e = compile_err(src);
    assert!(e.message.contains("at most 1048576 bytes"), "{}", e.message);
}

#[test]
fn universe_limits() {
    let big = Universe {
        groups: vec![GroupDef::default(); 257],
        ..Universe::default()
    };
    let e = compile(&parse("net.dst.port == 1").unwrap(), &big).unwrap_err();
    assert!(e.message.contains("at most 256 groups"), "{}", e.message);
    // Exactly 256 groups: the last one is addressable.
    let mut full = Universe::default();
    for i in 0..256 {
        full.groups.push(GroupDef {
            name: format!("g{i}"),
            id: format!("id{i}"),
            email: String::new(),
        });
    }
    let (c, _) = compile_str(r#"any(identity.groups.name[*] == "g255")"#, &full).unwrap();
    assert!(c.eval(&groups(&[255])) && !c.eval(&groups(&[254])));
    let (c, _) = compile_str(r#"all(identity.groups.name[*] != "g0")"#, &full).unwrap();
    assert!(c.eval(&groups(&[255, 1])) && !c.eval(&groups(&[0])));
}

#[test]
fn hand_built_deep_trees_are_rejected_not_overflowed() {
    let mut e = parse("net.dst.port == 1").unwrap();
    for _ in 0..2_000 {
        e = super::Expr::Not {
            operand: Box::new(e),
            span: super::Span::default(),
        };
    }
    let err = compile(&e, &universe()).unwrap_err();
    assert!(
        err.message.contains("levels of expression tree"),
        "{}",
        err.message
    );
}

/// Micro-benchmark: `cargo test --release -- --ignored bench_eval --nocapture`.
#[test]
#[ignore]
fn bench_eval() {
    use std::hint::black_box;
    use std::time::Instant;
    let src = r#"any(identity.groups.name[*] in {"finance" "hr"}) and net.dst.port in {443 8000..8080} and net.dst.ip in {198.51.100.0/24 203.0.113.0/24 2001:db8::/32}"#;
    let (c, _) = compiled(src);
    let domains: &[&str] = &["api.example.com", "example.com", "com"];
    let facts: Vec<Facts<'_>> = (0..1024u32)
        .map(|i| Facts {
            dst_ip: IpAddr::V4(std::net::Ipv4Addr::new(
                198,
                51,
                (100 + i % 2) as u8,
                (i % 256) as u8,
            )),
            dst_port: if i % 3 == 0 {
                443
            } else {
                8000 + (i % 200) as u16
            },
            groups: bits(&[(i % 3) as u8]),
            domains,
            ..Facts::default()
        })
        .collect();
    // Best of several rounds: the machine is shared, and the minimum is the least disturbed.
    let (rounds, iters) = (7, 4_000_000usize);
    let mut per_eval = Vec::with_capacity(rounds);
    let mut hits = 0usize;
    for _ in 0..rounds {
        hits = 0;
        let start = Instant::now();
        for i in 0..iters {
            hits += usize::from(c.eval(black_box(&facts[i & 1023])));
        }
        per_eval.push(start.elapsed().as_nanos() as f64 / iters as f64);
    }
    per_eval.sort_by(f64::total_cmp);
    println!(
        "bench_eval: {:.2} ns/eval best, {:.2} ns/eval median ({rounds} rounds of {iters}; {hits} matched per round)",
        per_eval[0],
        per_eval[rounds / 2]
    );
    assert!(hits > 0 && hits < iters);
}
