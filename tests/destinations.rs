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
    assert!((share + dedicated - 1.0).abs() < 1e-5, "{share} + {dedicated}");
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
    assert!(finding[col(&h, "detail")].contains("intranet"), "{finding:?}");

    let o = run_in(
        tmp.path(),
        &["explain", "d.toml", "--user", "0", "--resource", "intranet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("decision: PRIVATE NETWORK"), "{s}");
    assert!(s.contains("private network: reached through Cloudflare Tunnel"), "{s}");
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
ipv4 = "100.70.1.2"
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
    let (_, out) = run_scenario(tmp.path(), &format!("{extra}{PUBLIC_APP}"));
    for row in baseline(&out, "resources.csv") {
        let private = row["resource"] != "app";
        assert_eq!(
            row["private_network_requests"] == row["requests"],
            private,
            "{row:?}"
        );
    }
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
    assert!(stderr(&o).contains("`private = false` cannot apply"), "{}", stderr(&o));
}
