//! Destinations as Gateway sees them: private networks reached through Cloudflare Tunnel or Magic
//! WAN (never a dedicated IP), and the per-origin connection limit counted per destination address
//! and port (issue 12 items 1 and 3, issue 14 item 2).

mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};

/// London users, two egress IPs, every request sent through lhr-1 by a policy.
const BASE: &str = r#"name = "d"
seed = 7
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"
ipv6 = "2001:db8:20::/48"
connection_limit = 1000
[[egress]]
id = "ams-1"
datacenter = "AMS"
ipv4 = "203.0.113.10"
connection_limit = 1000
[[population]]
name = "office"
users = 400
connections_per_user = 6
ipv6_share = 0.5
[population.location]
around = ["London"]
[[policy]]
name = "all via London"
ipv4 = "lhr-1"
ipv4_fallback = "ams-1"
"#;

const INTRANET: &str = r#"[[resource]]
name = "intranet"
host = "intranet.corp.example"
ipv4 = "10.20.0.5"
location = "London"
allowlist = ["ams-1"]
"#;

const PUBLIC_APP: &str = r#"[[resource]]
name = "app"
host = "app.example.com"
ipv4 = "198.51.100.10"
location = "London"
"#;

fn scenario(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("d.toml");
    fs::write(&path, format!("{BASE}{extra}")).unwrap();
    path
}

fn run_scenario(dir: &Path, extra: &str) -> (std::process::Output, PathBuf) {
    let path = scenario(dir, extra);
    let out = dir.join("out");
    let o = run_in(
        dir,
        &[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--sweep",
            "none",
            "--threads",
            "1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (o, out)
}

/// Baseline rows of a table, as maps from column to value.
fn baseline(out: &Path, file: &str) -> Vec<std::collections::HashMap<String, String>> {
    let (h, rows) = read_csv_case(&out.join(file), "baseline");
    rows.into_iter()
        .map(|r| h.iter().cloned().zip(r).collect())
        .collect()
}

/// A destination on 10.0.0.0/8 is reached through the tunnel: its own outcome, never refused by an
/// allowlist (which would have refused lhr-1), no connections on any egress IP, and a finding on
/// the dedicated policy that matched it.
#[test]
fn a_private_destination_is_routed_through_the_tunnel_not_a_dedicated_ip() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, out) = run_scenario(tmp.path(), &format!("{INTRANET}{PUBLIC_APP}"));
    let warned = stderr(&o);
    assert!(
        warned.contains("resource `intranet` is on a private network")
            && warned.contains("its `allowlist` is not applied"),
        "{warned}"
    );
    let resources = baseline(&out, "resources.csv");
    let intranet: Vec<_> = resources
        .iter()
        .filter(|r| r["resource"] == "intranet")
        .collect();
    assert_eq!(intranet.len(), 1, "{intranet:?}");
    let row = intranet[0];
    assert_eq!(row["egress"], "default");
    assert!(row["requests"].parse::<u64>().unwrap() > 0);
    assert_eq!(row["private_network_requests"], row["requests"]);
    assert_eq!(row["blocked_requests"], "0");
    let app = resources.iter().find(|r| r["resource"] == "app").unwrap();
    assert_eq!(app["egress"], "lhr-1");
    assert_eq!(app["private_network_requests"], "0");

    let summary = baseline(&out, "summary.csv");
    let share: f64 = summary[0]["private_network_share"].parse().unwrap();
    let dedicated: f64 = summary[0]["dedicated_share"].parse().unwrap();
    assert!(share > 0.3 && share < 0.7, "{share}");
    assert!(
        (share + dedicated - 1.0).abs() < 1e-5,
        "{share} + {dedicated}"
    );
    assert_eq!(summary[0]["blocked_share"], "0.000000");

    let policies = baseline(&out, "policies.csv");
    let p = policies
        .iter()
        .find(|r| r["policy"] == "all via London")
        .unwrap();
    assert_eq!(
        p["private_network_requests"],
        intranet[0]["private_network_requests"]
    );

    for row in baseline(&out, "capacity.csv") {
        if row["resource"] == "intranet" {
            assert_eq!(row["connections_v4"], "0.0", "{row:?}");
        }
    }
    let (h, rows) = read_csv(&out.join("redundancy.csv"));
    let finding = rows
        .iter()
        .find(|r| r[col(&h, "finding")] == "private_network")
        .expect("a private_network finding");
    assert_eq!(finding[col(&h, "entity")], "all via London");
    assert!(
        finding[col(&h, "detail")].contains("intranet"),
        "{finding:?}"
    );

    let o = run_in(
        tmp.path(),
        &["explain", "d.toml", "--user", "0", "--resource", "intranet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("decision: PRIVATE NETWORK"), "{s}");
    assert!(
        s.contains("private network: reached through Cloudflare Tunnel"),
        "{s}"
    );
    assert!(s.contains("destination accepts the request"), "{s}");
}

/// CGNAT (100.64.0.0/10) and ULA (fc00::/7) count as private; `private = true` marks a public
/// range routed through a tunnel; documentation ranges stay public.
#[test]
fn cgnat_ula_and_declared_private_ranges_are_private_networks() {
    let tmp = tempfile::tempdir().unwrap();
    let extra = r#"[[resource]]
name = "cgnat"
host = "cgnat.corp.example"
ipv4 = "100.120.1.2"
location = "London"
[[resource]]
name = "ula"
host = "ula.corp.example"
ipv6 = "fd12:3456::10"
location = "London"
[[resource]]
name = "declared"
host = "declared.corp.example"
ipv4 = "198.51.100.99"
private = true
location = "London"
"#;
    let (o, out) = run_scenario(tmp.path(), &format!("{extra}{PUBLIC_APP}"));
    assert!(
        !stderr(&o).contains("reserves for Zero Trust"),
        "{}",
        stderr(&o)
    );
    for row in baseline(&out, "resources.csv") {
        let private = row["resource"] != "app";
        assert_eq!(
            row["private_network_requests"] == row["requests"],
            private,
            "{row:?}"
        );
    }
}

/// A private destination inside a range Cloudflare reserves for Zero Trust (its own source and
/// device addresses) is warned about where it is written.
#[test]
fn a_destination_in_cloudflare_reserved_ranges_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario(
        tmp.path(),
        "[[resource]]\nname = \"x\"\nhost = \"x.corp\"\nipv4 = \"100.70.1.2\"\nlocation = \"London\"\n",
    );
    let o = run_in(tmp.path(), &["check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let warned = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        warned.contains("100.70.1.2 is in 100.64.0.0/12, which Cloudflare reserves for Zero Trust"),
        "{warned}"
    );
}

/// Addresses no destination can have are refused where they are written, with why and what to do.
#[test]
fn link_local_and_loopback_destinations_are_located_errors() {
    for (addr, kind) in [("169.254.1.1", "link-local"), ("127.0.0.1", "loopback")] {
        let tmp = tempfile::tempdir().unwrap();
        let extra = format!(
            "[[resource]]\nname = \"odd\"\nhost = \"odd.example\"\nipv4 = \"{addr}\"\nlocation = \"London\"\n"
        );
        let path = scenario(tmp.path(), &extra);
        let o = run_in(tmp.path(), &["check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{addr}");
        let e = stderr(&o);
        let line = BASE.lines().count() + 4;
        assert!(e.contains(&format!("d.toml:{line}:")), "{e}");
        assert!(e.contains(kind), "{e}");
        assert!(e.contains("Cloudflare Tunnel"), "{e}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario(
        tmp.path(),
        "[[resource]]\nname = \"x\"\nhost = \"x.corp\"\nipv4 = \"192.168.1.1\"\nprivate = false\nlocation = \"London\"\n",
    );
    let o = run_in(tmp.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`private = false` cannot apply"),
        "{}",
        stderr(&o)
    );
}

/// Two destinations on 198.51.100.50:443 and one on port 8443 of the same address, each with a
/// third of the 2,400 connections.
const SHARED: &str = r#"[[resource]]
name = "crm"
host = "crm.example.com"
ipv4 = "198.51.100.50"
ipv6 = "2001:db8:50::1"
location = "London"
[[resource]]
name = "crm-api"
host = "api.crm.example.com"
ipv4 = "198.51.100.50"
location = "London"
[[resource]]
name = "crm-admin"
host = "admin.crm.example.com"
ipv4 = "198.51.100.50"
port = 8443
location = "London"
"#;

fn num(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: {row:?}"))
}

/// Capacity is per (egress IP, destination address, port): two destinations each under the limit
/// add up over it on the address and port they share, the finding says so with the IPs needed, a
/// different port is another origin, and IPv6 connections (from a range) are not counted.
#[test]
fn destinations_sharing_an_address_and_port_share_the_connection_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, out) = run_scenario(tmp.path(), SHARED);
    let rows: Vec<_> = baseline(&out, "capacity.csv")
        .into_iter()
        .filter(|r| r["egress"] == "lhr-1")
        .collect();
    let get = |name: &str| rows.iter().find(|r| r["resource"] == name).unwrap();
    let (crm, api, admin) = (get("crm"), get("crm-api"), get("crm-admin"));
    assert_eq!(crm["origin"], "198.51.100.50:443/tcp");
    assert_eq!(crm["origin_resources"], "crm+crm-api");
    assert_eq!(api["origin_resources"], "crm+crm-api");
    assert_eq!(admin["origin"], "198.51.100.50:8443/tcp");
    assert_eq!(admin["origin_resources"], "crm-admin");
    // Each alone is under the limit of 1,000; together they are over it.
    assert!(num(crm, "connections_v4") < 1000.0 && num(api, "connections_v4") < 1000.0);
    assert!(num(crm, "connections_v6") > 100.0, "{crm:?}");
    let shared = num(crm, "origin_connections_v4");
    let sum = num(crm, "connections_v4") + num(api, "connections_v4");
    assert!((shared - sum).abs() <= 0.11, "{shared} vs {sum}");
    assert_eq!(api["origin_connections_v4"], crm["origin_connections_v4"]);
    assert!(shared > 1000.0 && shared <= 2000.0, "{shared}");
    assert!((num(crm, "utilization") - shared / 1000.0).abs() < 1e-5);
    assert_eq!(crm["ips_needed"], "2");
    assert_eq!(
        num(admin, "origin_connections_v4"),
        num(admin, "connections_v4")
    );
    assert_eq!(admin["ips_needed"], "1");

    let (h, findings) = read_csv(&out.join("redundancy.csv"));
    let capacity: Vec<_> = findings
        .iter()
        .filter(|r| r[col(&h, "finding")] == "capacity")
        .collect();
    assert_eq!(capacity.len(), 1, "{capacity:?}");
    let f = capacity[0];
    assert_eq!(f[col(&h, "severity")], "high");
    assert_eq!(f[col(&h, "entity")], "lhr-1");
    let detail = &f[col(&h, "detail")];
    assert!(detail.contains("198.51.100.50:443/tcp"), "{detail}");
    assert!(detail.contains("crm+crm-api"), "{detail}");
    assert!(detail.contains("takes 2 egress IPs"), "{detail}");
}

/// Connections the destination's allowlist refuses are not held open: they are reported as refused
/// and raise no capacity finding, however many there are.
#[test]
fn refused_connections_do_not_count_against_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let extra = SHARED.replace(
        "name = \"crm-api\"\n",
        "name = \"crm-api\"\nallowlist = [\"ams-1\"]\n",
    );
    let (_, out) = run_scenario(tmp.path(), &extra);
    let rows: Vec<_> = baseline(&out, "capacity.csv")
        .into_iter()
        .filter(|r| r["egress"] == "lhr-1")
        .collect();
    let get = |name: &str| rows.iter().find(|r| r["resource"] == name).unwrap();
    let (crm, api) = (get("crm"), get("crm-api"));
    assert_eq!(api["refused_connections_v4"], api["connections_v4"]);
    assert!(num(api, "refused_connections_v4") > 500.0, "{api:?}");
    assert_eq!(crm["refused_connections_v4"], "0.0");
    assert_eq!(crm["origin_connections_v4"], crm["connections_v4"]);
    assert_eq!(crm["ips_needed"], "1");
    let (h, findings) = read_csv(&out.join("redundancy.csv"));
    assert!(
        !findings.iter().any(|r| r[col(&h, "finding")] == "capacity"),
        "{findings:?}"
    );
}

/// A failure of the dedicated IPs' data centers never drops or reroutes private-network traffic to
/// an egress IP: in every case of an n-1 sweep it stays on the tunnel.
#[test]
fn private_network_traffic_survives_every_single_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario(tmp.path(), INTRANET);
    let out = tmp.path().join("out");
    let o = run_in(
        tmp.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--sweep",
            "n-1",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = read_csv(&out.join("resources.csv"));
    let cases: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r[col(&h, "case")].as_str()).collect();
    assert!(cases.contains("down:LHR"), "{cases:?}");
    for r in &rows {
        assert_eq!(r[col(&h, "egress")], "default", "{r:?}");
        assert_eq!(
            r[col(&h, "private_network_requests")],
            r[col(&h, "requests")],
            "{r:?}"
        );
    }
}
