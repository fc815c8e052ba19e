//! Golden parse → print tests over every example of docs/gateway-semantics.md (selector table and operator
//! list) and combinations of them.

use super::{compile, parse, Universe};

/// Parses `input`, checks that it prints as `canonical`, that the canonical text is a fixpoint that
/// parses to the same tree, and that it type-checks.
fn golden(input: &str, canonical: &str) {
    let e = parse(input).unwrap_or_else(|e| panic!("{input}\n{}", e.render(input)));
    assert_eq!(e.to_string(), canonical, "printing {input}");
    let again = parse(canonical).unwrap_or_else(|e| panic!("{canonical}\n{}", e.render(canonical)));
    assert_eq!(
        again.without_spans(),
        e.without_spans(),
        "round trip of {input}"
    );
    assert_eq!(again.to_string(), canonical);
    if let Err(err) = compile(&e, &Universe::default()) {
        panic!("type check of {input}:\n{}", err.render(input));
    }
}

/// Every example in the reference's selector table, verbatim.
#[test]
fn selector_table_examples() {
    for src in [
        "net.src.ip in {192.0.2.0/24}",
        "net.src.internal_src_ip == 10.1.2.3",
        "net.src.port == 5000",
        r#"net.src.geo.country == "GB""#,
        r#"net.src.geo.continent == "EU""#,
        "net.dst.ip in {198.51.100.0/24}",
        "net.dst.port in {443 8000..8080}",
        r#"net.dst.geo.country == "US""#,
        r#"net.dst.geo.continent == "NA""#,
        r#"net.protocol == "tcp""#,
        r#"net.vnet_id == "<uuid>""#,
        r#"net.fqdn.host == "login.example.com""#,
        r#"any(net.fqdn.domains[*] == "example.com")"#,
        "any(app.ids[*] in {505})",
        r#"proxy.endpoint == "0ab1c2d3e4""#,
        r#"identity.email == "a@example.com""#,
        r#"identity.name == "Ada""#,
        r#"any(identity.groups.name[*] in {"finance"})"#,
        r#"any(identity.groups.id[*] in {"<id>"})"#,
        r#"any(identity.groups.email[*] in {"fin@example.com"})"#,
        r#"any(device_posture.checks.passed[*] in {"<check-id>"})"#,
    ] {
        golden(src, src);
    }
}

/// Every operator of the reference's operator list, in each of its spellings.
#[test]
fn operator_list() {
    let cases = [
        ("net.dst.port == 443", "net.dst.port == 443"),
        ("net.dst.port eq 443", "net.dst.port == 443"),
        ("net.dst.port != 443", "net.dst.port != 443"),
        ("net.dst.port ne 443", "net.dst.port != 443"),
        (
            "net.dst.port in {80 443 8443}",
            "net.dst.port in {80 443 8443}",
        ),
        (
            r#"net.src.geo.country in {"GB" "FR" "DE"}"#,
            r#"net.src.geo.country in {"GB" "FR" "DE"}"#,
        ),
        (
            "net.dst.ip in {10.0.0.1 10.0.0.0/8 10.1.0.1..10.1.0.9}",
            "net.dst.ip in {10.0.0.1 10.0.0.0/8 10.1.0.1..10.1.0.9}",
        ),
        ("net.dst.port in {1..1023}", "net.dst.port in {1..1023}"),
        (
            "not net.dst.port in {80 443}",
            "not net.dst.port in {80 443}",
        ),
        (
            "net.dst.port not in {80 443}",
            "net.dst.port not in {80 443}",
        ),
        (
            r#"net.fqdn.host matches "^api\\.example\\.com$""#,
            r#"net.fqdn.host matches "^api\\.example\\.com$""#,
        ),
        (
            r#"net.fqdn.host matches r"^api\.example\.com$""#,
            r#"net.fqdn.host matches "^api\\.example\\.com$""#,
        ),
        (
            r#"net.fqdn.host ~ "example""#,
            r#"net.fqdn.host matches "example""#,
        ),
        ("net.dst.port > 1024", "net.dst.port > 1024"),
        ("net.dst.port gt 1024", "net.dst.port > 1024"),
        ("net.dst.port >= 1024", "net.dst.port >= 1024"),
        ("net.dst.port ge 1024", "net.dst.port >= 1024"),
        ("net.dst.port < 1024", "net.dst.port < 1024"),
        ("net.dst.port lt 1024", "net.dst.port < 1024"),
        ("net.dst.port <= 1024", "net.dst.port <= 1024"),
        ("net.dst.port le 1024", "net.dst.port <= 1024"),
    ];
    for (input, canonical) in cases {
        golden(input, canonical);
    }
}

#[test]
fn logical_operators_and_parentheses() {
    let cases = [
        (
            r#"net.protocol == "tcp" and net.dst.port == 443"#,
            r#"net.protocol == "tcp" and net.dst.port == 443"#,
        ),
        (
            r#"net.protocol == "tcp" && net.dst.port == 443"#,
            r#"net.protocol == "tcp" and net.dst.port == 443"#,
        ),
        (
            r#"net.src.geo.country == "GB" or net.src.geo.country == "IE""#,
            r#"net.src.geo.country == "GB" or net.src.geo.country == "IE""#,
        ),
        (
            r#"net.src.geo.country == "GB" || net.src.geo.country == "IE""#,
            r#"net.src.geo.country == "GB" or net.src.geo.country == "IE""#,
        ),
        (
            r#"not net.protocol == "udp""#,
            r#"not net.protocol == "udp""#,
        ),
        (r#"!net.protocol == "udp""#, r#"not net.protocol == "udp""#),
        (
            r#"!(net.protocol == "udp")"#,
            r#"not net.protocol == "udp""#,
        ),
        (
            r#"net.dst.port == 1 ^^ net.dst.port == 2 xor net.dst.port == 3"#,
            r#"net.dst.port == 1 xor net.dst.port == 2 xor net.dst.port == 3"#,
        ),
        // Redundant parentheses disappear; meaningful ones stay.
        (
            r#"((net.protocol == "tcp")) and (net.dst.port == 443)"#,
            r#"net.protocol == "tcp" and net.dst.port == 443"#,
        ),
        (
            r#"(net.src.geo.country == "GB" or net.src.geo.country == "IE") and net.dst.port == 443"#,
            r#"(net.src.geo.country == "GB" or net.src.geo.country == "IE") and net.dst.port == 443"#,
        ),
        (
            r#"net.src.geo.country == "GB" or (net.src.geo.country == "IE" and net.dst.port == 443)"#,
            r#"net.src.geo.country == "GB" or net.src.geo.country == "IE" and net.dst.port == 443"#,
        ),
        (
            r#"not (net.protocol == "udp" or net.dst.port == 53)"#,
            r#"not (net.protocol == "udp" or net.dst.port == 53)"#,
        ),
        (
            r#"net.dst.port == 1 and (net.dst.port == 2 and net.dst.port == 3)"#,
            r#"net.dst.port == 1 and (net.dst.port == 2 and net.dst.port == 3)"#,
        ),
        (
            r#"(net.dst.port == 1 xor net.dst.port == 2) and net.dst.port == 3 or net.dst.port == 4"#,
            r#"(net.dst.port == 1 xor net.dst.port == 2) and net.dst.port == 3 or net.dst.port == 4"#,
        ),
        ("not not net.dst.port == 1", "not not net.dst.port == 1"),
    ];
    for (input, canonical) in cases {
        golden(input, canonical);
    }
}

#[test]
fn any_all_combinations() {
    let cases = [
        (
            r#"any(identity.groups.name[*] in {"finance" "hr"}) and net.dst.port in {443}"#,
            r#"any(identity.groups.name[*] in {"finance" "hr"}) and net.dst.port in {443}"#,
        ),
        (
            r#"all(identity.groups.name[*] != "contractors")"#,
            r#"all(identity.groups.name[*] != "contractors")"#,
        ),
        (
            r#"all(identity.groups.name[*] not in {"a", "b"})"#,
            r#"all(identity.groups.name[*] not in {"a" "b"})"#,
        ),
        (
            r#"not any(device_posture.checks.passed[*] == "disk")"#,
            r#"not any(device_posture.checks.passed[*] == "disk")"#,
        ),
        (
            r#"any(net.fqdn.domains[*] matches "(^|\\.)example\\.com$")"#,
            r#"any(net.fqdn.domains[*] matches "(^|\\.)example\\.com$")"#,
        ),
        (
            "any(app.ids[*] in {505 600..610}) or all(app.ids[*] > 1000)",
            "any(app.ids[*] in {505 600..610}) or all(app.ids[*] > 1000)",
        ),
        (
            r#"( any(identity.groups.email[*] == "fin@example.com") or identity.email == "ceo@example.com" ) and net.vnet_id == "vnet-eu""#,
            r#"(any(identity.groups.email[*] == "fin@example.com") or identity.email == "ceo@example.com") and net.vnet_id == "vnet-eu""#,
        ),
        (
            "net.dst.ip in {2001:db8::/32 ::1 fe80::1..fe80::ff} and net.src.ip == 192.0.2.0/24",
            "net.dst.ip in {2001:db8::/32 ::1 fe80::1..fe80::ff} and net.src.ip == 192.0.2.0/24",
        ),
        (
            r#"identity.name == "Ada \"Countess\" of \\ Lovelace""#,
            r#"identity.name == "Ada \"Countess\" of \\ Lovelace""#,
        ),
    ];
    for (input, canonical) in cases {
        golden(input, canonical);
    }
}

/// Realistic policy conditions as an export would hold them, including odd whitespace.
#[test]
fn realistic_rules() {
    let cases = [
        (
            "net.dst.ip in {203.0.113.0/24}\n  and net.dst.port in {443}\n  and net.protocol == \"tcp\"",
            r#"net.dst.ip in {203.0.113.0/24} and net.dst.port in {443} and net.protocol == "tcp""#,
        ),
        (
            "any(identity.groups.name[*] in {\"finance\",\"payroll\"})\tand not any(device_posture.checks.passed[*] in {\"b8f1\"})",
            r#"any(identity.groups.name[*] in {"finance" "payroll"}) and not any(device_posture.checks.passed[*] in {"b8f1"})"#,
        ),
    ];
    for (input, canonical) in cases {
        golden(input, canonical);
    }
}
