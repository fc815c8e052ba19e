//! GeoIP-located user lists through the real binary: `geoip lookup`, `geoip stats`, bad databases and
//! bad lists (exit code 2), and listed populations end to end through `run`, with policies on
//! `net.src.ip` and the source country. Databases are built by the crate's test writer.

mod common;
use common::*;
use egress_sim::geoip::testdb;
use std::fs;
use std::path::{Path, PathBuf};

fn write_db(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn no_panic(err: &str) {
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn lookup_city_layout_ipv4_ipv6_and_every_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let db = write_db(tmp.path(), "city.mmdb", &testdb::city(6));
    let o = run(&[
        "geoip",
        "lookup",
        db.to_str().unwrap(),
        "81.2.69.160",
        "2a02:ab00::5",
        "::ffff:1.178.3.4",
        "10.1.2.3",
        "100.64.0.9",
        "fe80::1",
        "203.0.113.5",
        "8.8.8.8",
        "45.11.0.9",
        "5.62.1.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let line = |ip: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{ip} ")))
            .unwrap_or_else(|| panic!("no row for {ip}:\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert!(
        out.starts_with(&format!("{}: GeoIP2-City (City layout)", db.display())),
        "{out}"
    );
    assert_eq!(
        line("81.2.69.160"),
        [
            "81.2.69.160",
            "81.2.69.0/24",
            "GB",
            "EU",
            "London",
            "51.5074",
            "-0.1278",
            "20",
            "located"
        ]
    );
    let v6 = line("2a02:ab00::5");
    assert_eq!(v6[1..5], ["2a02:ab00::/32", "DE", "EU", "Frankfurt"]);
    assert_eq!(line("::ffff:1.178.3.4")[4], "Tokyo");
    assert!(line("10.1.2.3")
        .join(" ")
        .contains("private: private or reserved address: private network (RFC 1918)"));
    assert!(line("100.64.0.9").join(" ").contains("shared_cgnat"));
    assert!(line("fe80::1").join(" ").contains("link_local"));
    assert!(line("203.0.113.5").join(" ").contains("documentation"));
    assert!(line("8.8.8.8").join(" ").contains("not_found"));
    let fr = line("45.11.0.9");
    assert_eq!((fr[2], fr[5], fr[8]), ("FR", "-", "no_coordinates"));
    assert!(line("5.62.1.1").join(" ").contains("no_coordinates"));
}

#[test]
fn lookup_country_layout_on_ipv4_and_ipv6_trees() {
    let tmp = tempfile::tempdir().unwrap();
    for (v, name) in [(4u16, "c4.mmdb"), (6, "c6.mmdb")] {
        let db = write_db(tmp.path(), name, &testdb::country(v));
        let o = run(&[
            "geoip",
            "lookup",
            db.to_str().unwrap(),
            "81.2.69.160",
            "2a02:ab00::5",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("GeoIP2-Country (Country layout)"), "{out}");
        let gb = out.lines().find(|l| l.starts_with("81.2.69.160")).unwrap();
        assert!(gb.contains(" GB ") && gb.contains("no_coordinates"), "{gb}");
        let de = out.lines().find(|l| l.starts_with("2a02:ab00::5")).unwrap();
        if v == 4 {
            assert!(de.contains("not_found"), "{de}");
        } else {
            assert!(de.contains(" DE "), "{de}");
        }
    }
}

#[test]
fn bad_databases_and_addresses_exit_2_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let full = testdb::city(6);
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            tmp.path().join("missing.mmdb"),
            "cannot read GeoIP database",
        ),
        (write_db(tmp.path(), "empty.mmdb", b""), "is empty"),
        (
            write_db(
                tmp.path(),
                "text.mmdb",
                b"email,ip\nada@example.com,81.2.69.1\n",
            ),
            "not a usable MaxMind DB file",
        ),
        (
            write_db(tmp.path(), "cut.mmdb", &full[..full.len() / 2]),
            "not a usable MaxMind DB file",
        ),
        (
            write_db(tmp.path(), "cut-end.mmdb", &full[..full.len() - 30]),
            "not a usable MaxMind DB file",
        ),
        (
            write_db(tmp.path(), "asn.mmdb", &testdb::asn()),
            "has no location data",
        ),
    ];
    for (db, msg) in &cases {
        for args in [
            vec!["geoip", "lookup", db.to_str().unwrap(), "81.2.69.160"],
            vec!["geoip", "stats", db.to_str().unwrap(), "users.csv"],
        ] {
            let o = run(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(msg), "{args:?}: expected `{msg}` in:\n{err}");
            assert!(err.contains("help:"), "{err}");
            no_panic(&err);
        }
    }
    let good = write_db(tmp.path(), "city.mmdb", &full);
    let o = run(&["geoip", "lookup", good.to_str().unwrap(), "81.2.69.999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("`81.2.69.999` is not an IPv4 or IPv6 address"));
}

const USERS: &str = "email,name,groups,ip,ipv6_capable\n\
ada@corp.example,Ada,finance,81.2.69.160,true\n\
bob@corp.example,,finance;eng,81.2.69.7,\n\
carol@corp.example,,eng,81.2.70.1,false\n\
dan@corp.example,,eng,24.24.1.1,\n\
erin@corp.example,,sales,2600:1000::42,true\n\
fay@corp.example,,sales,2a02:ab00::9,\n\
gus@corp.example,,eng,1.178.2.2,\n\
hal@corp.example,,eng,10.9.8.7,\n\
ivy@corp.example,,eng,8.8.8.8,\n\
jon@corp.example,,eng,45.11.3.3,\n";

#[test]
fn stats_counts_countries_reasons_and_bad_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let db = write_db(tmp.path(), "city.mmdb", &testdb::city(6));
    let csv = tmp.path().join("users.csv");
    fs::write(&csv, format!("{USERS}kim@corp.example,,eng,not-an-ip,\n")).unwrap();
    let o = run(&[
        "geoip",
        "stats",
        db.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("users.csv: 11 rows"), "{out}");
    assert!(out.contains("located (coordinates)         7"), "{out}");
    assert!(out.contains("country only                  1"), "{out}");
    assert!(out.contains("not placed                    3"), "{out}");
    let countries: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("by country"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(countries, ["GB", "US", "DE", "FR", "JP"], "{out}");
    assert!(
        out.contains("private ") && out.contains("not_found ") && out.contains("bad_row "),
        "{out}"
    );
    assert!(
        out.contains("line 12: `ip` `not-an-ip` is not an IPv4 or IPv6 address"),
        "{out}"
    );
}

/// A scenario around a user list: London and Washington egress, policies on the source address and
/// on the source country.
fn scenario(geoip: &str, population_extra: &str) -> String {
    format!(
        r#"name = "listed"
seed = 3
{geoip}

[simulation]
requests_per_user = 6

[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"

[[egress]]
id = "iad-1"
datacenter = "IAD"
ipv4 = "203.0.113.30"

[[egress]]
id = "nrt-1"
datacenter = "NRT"
ipv4 = "203.0.113.50"

[[population]]
name = "staff"
from_csv = "users.csv"
{population_extra}

[[resource]]
name = "app"
ipv4 = "198.51.100.10"
location = "Frankfurt"

[[policy]]
name = "office range"
precedence = 1
traffic = 'net.src.ip in {{81.2.69.0/24}}'
ipv4 = "lhr-1"

[[policy]]
name = "US users"
precedence = 2
traffic = 'net.src.geo.country == "US"'
ipv4 = "iad-1"

[[policy]]
name = "Gus by email"
precedence = 3
identity = 'identity.email == "gus@corp.example"'
ipv4 = "nrt-1"

[[policy]]
name = "rest"
precedence = 4
traffic = 'net.dst.port == 443'
egress = "default"
"#
    )
}

fn setup(text: &str, users: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("s.toml"), text).unwrap();
    fs::write(tmp.path().join("users.csv"), users).unwrap();
    write_db(tmp.path(), "city.mmdb", &testdb::city(6));
    tmp
}

fn run_scenario(tmp: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "s.toml", "--out", "out", "--per-user", "--quiet"];
    args.extend_from_slice(extra);
    run_in(tmp, &args)
}

#[test]
fn listed_population_end_to_end_with_source_ip_and_country_policies() {
    let tmp = setup(&scenario(r#"geoip = "city.mmdb""#, ""), USERS);
    let o = run_scenario(tmp.path(), &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    // Unplaced users are reported on standard error and in geoip.csv.
    assert!(err.contains("3 of 10 rows of"), "{err}");
    assert!(
        err.contains("1 no_coordinates, 1 not_found, 1 private"),
        "{err}"
    );
    let out = tmp.path().join("out");
    let (h, rows) = read_csv(&out.join("geoip.csv"));
    assert_eq!(h, ["population", "user_list", "outcome", "users"]);
    let got: Vec<(String, String)> = rows.iter().map(|r| (r[2].clone(), r[3].clone())).collect();
    let want = [
        ("placed", "7"),
        ("placed_at_country_centre", "0"),
        ("no_coordinates", "1"),
        ("not_found", "1"),
        ("private", "1"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    let (h, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(rows[0][col(&h, "users")], "7");
    // users.csv: user order is the list's order of placed rows.
    let (h, rows) = read_csv(&out.join("users.csv"));
    let egress: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r[col(&h, "country")].as_str(),
                r[col(&h, "egress")].as_str(),
            )
        })
        .collect();
    assert_eq!(
        egress,
        [
            ("GB", "lhr-1"),   // ada, 81.2.69.160: office range
            ("GB", "lhr-1"),   // bob, 81.2.69.7: office range
            ("GB", "default"), // carol, 81.2.70.1: outside the range
            ("US", "iad-1"),   // dan: US source country
            ("US", "iad-1"),   // erin, IPv6 address in the US
            ("DE", "default"), // fay
            ("JP", "nrt-1"),   // gus, by email
        ]
    );
    let (h, rows) = read_csv(&out.join("policies.csv"));
    let users = |name: &str| {
        rows.iter()
            .find(|r| r[col(&h, "policy")] == name)
            .map(|r| r[col(&h, "users")].clone())
            .unwrap()
    };
    assert_eq!(users("office range"), "2");
    assert_eq!(users("US users"), "2");
    assert_eq!(users("Gus by email"), "1");
    // explain shows the real identity and source address.
    let o = run_in(tmp.path(), &["explain", "s.toml", "--user", "4"]);
    let text = stdout(&o);
    assert!(
        text.contains("identity         erin@corp.example (erin)"),
        "{text}"
    );
    assert!(text.contains("source           2600:1000::42"), "{text}");
    assert!(text.contains("line 6 of"), "{text}");
}

#[test]
fn listed_population_is_identical_on_any_thread_count() {
    let tmp = setup(&scenario(r#"geoip = "city.mmdb""#, ""), USERS);
    let a = run_in(
        tmp.path(),
        &[
            "run",
            "s.toml",
            "--out",
            "a",
            "--per-user",
            "-q",
            "--threads",
            "1",
        ],
    );
    let b = run_in(
        tmp.path(),
        &[
            "run",
            "s.toml",
            "--out",
            "b",
            "--per-user",
            "-q",
            "--threads",
            "2",
        ],
    );
    assert!(a.status.success() && b.status.success(), "{}", stderr(&a));
    for f in [
        "summary.csv",
        "users.csv",
        "policies.csv",
        "populations.csv",
        "geoip.csv",
        "egress_load.csv",
    ] {
        assert_eq!(
            fs::read(tmp.path().join("a").join(f)).unwrap(),
            fs::read(tmp.path().join("b").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn settings_table_country_mode_skip_bad_rows_and_cli_override() {
    let geoip = "[geoip]\ndatabase = \"city.mmdb\"\nunresolved = \"country\"\nbad_rows = \"skip\"\nspread_accuracy_radius = true";
    let users = format!("{USERS}kim@corp.example,,eng,300.1.1.1,\n");
    let tmp = setup(&scenario(geoip, ""), &users);
    let o = run_scenario(tmp.path(), &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("skipped line 12: `ip` `300.1.1.1`"), "{err}");
    let (_, rows) = read_csv(&tmp.path().join("out/geoip.csv"));
    let n = |k: &str| rows.iter().find(|r| r[2] == k).map(|r| r[3].clone());
    assert_eq!(n("placed_at_country_centre").as_deref(), Some("1"));
    assert_eq!(n("bad_row").as_deref(), Some("1"));
    let (h, rows) = read_csv(&tmp.path().join("out/summary.csv"));
    assert_eq!(rows[0][col(&h, "users")], "8");

    // No database in the scenario: `--geoip` supplies one; without it, a clear error.
    let tmp = setup(&scenario("", ""), USERS);
    let o = run_scenario(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("has no GeoIP database"),
        "{}",
        stderr(&o)
    );
    let o = run_scenario(tmp.path(), &["--geoip", "city.mmdb"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_in(tmp.path(), &["check", "s.toml", "--geoip", "city.mmdb"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("7 of 10 rows placed") && text.contains("3 of 10 rows"),
        "{text}"
    );
    let o = run_scenario(tmp.path(), &["--geoip", "nope.mmdb"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--geoip: cannot read GeoIP database `nope.mmdb`"));
}

#[test]
fn list_errors_exit_2_naming_lines() {
    // A bad address in the list stops the load (bad_rows defaults to "error").
    let users = format!("{USERS}kim@corp.example,,eng,300.1.1.1,\nlee,,eng,81.2.69.2,\n");
    let tmp = setup(&scenario(r#"geoip = "city.mmdb""#, ""), &users);
    let o = run_scenario(tmp.path(), &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("users.csv:12:"), "{err}");
    assert!(
        err.contains("`300.1.1.1` is not an IPv4 or IPv6 address"),
        "{err}"
    );
    assert!(
        err.contains("users.csv:13:") && err.contains("`email` must be an address"),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists());
    no_panic(&err);

    // Unknown column, with a suggestion.
    let tmp = setup(
        &scenario(r#"geoip = "city.mmdb""#, ""),
        "email,ip,grups\na@x.example,81.2.69.1,eng\n",
    );
    let err = stderr(&run_scenario(tmp.path(), &[]));
    assert!(
        err.contains("unknown column `grups`") && err.contains("did you mean `groups`"),
        "{err}"
    );

    // `unresolved = "error"`: each unplaced user is an error naming its line.
    let tmp = setup(
        &scenario(
            "[geoip]\ndatabase = \"city.mmdb\"\nunresolved = \"error\"",
            "",
        ),
        USERS,
    );
    let o = run_scenario(tmp.path(), &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("users.csv:9:1") && err.contains("user at 10.9.8.7 cannot be placed: private"),
        "{err}"
    );
    assert!(
        err.contains("users.csv:10:1") && err.contains("not in the database"),
        "{err}"
    );

    // Keys that make no sense for a listed population, and a bad setting.
    let tmp = setup(
        &scenario(
            r#"geoip = "city.mmdb""#,
            "users = 10\ngroups = { eng = 0.5 }",
        ),
        USERS,
    );
    let err = stderr(&run_scenario(tmp.path(), &[]));
    assert!(
        err.contains("so `users` does not apply") && err.contains("so `groups` does not apply"),
        "{err}"
    );
    let tmp = setup(
        &scenario(
            "[geoip]\ndatabase = \"city.mmdb\"\nunresolved = \"skipp\"",
            "",
        ),
        USERS,
    );
    let err = stderr(&run_scenario(tmp.path(), &[]));
    assert!(
        err.contains("unknown `unresolved` value `skipp`") && err.contains("did you mean `skip`"),
        "{err}"
    );
    let tmp = setup(&scenario("[geoip]\ndatabse = \"city.mmdb\"", ""), USERS);
    let o = run_scenario(tmp.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("databse"), "{}", stderr(&o));

    // A non-MaxMind database named by the scenario: located error.
    let tmp = setup(&scenario(r#"geoip = "users.csv""#, ""), USERS);
    let err = stderr(&run_scenario(tmp.path(), &[]));
    assert!(
        err.contains("s.toml:3:9") && err.contains("not a usable MaxMind DB file"),
        "{err}"
    );
}

#[test]
fn shipped_example_checks_and_runs_and_ignores_users_override() {
    let o = run(&["check", "scenarios/from-user-list.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let o = run(&[
        "run",
        "scenarios/from-user-list.toml",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "5000",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = read_csv(&out.join("summary.csv"));
    assert_eq!(rows[0][col(&h, "users")], "303");
    assert!(out.join("geoip.csv").is_file());
}
