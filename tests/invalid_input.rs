//! Every class of bad input gives exit code 2, a located message with a suggestion where one exists,
//! and writes nothing.

mod common;
use common::*;
use std::fs;

const VALID: &str = r#"name = "mini"
seed = 1

[simulation]
requests_per_user = 5

[[egress]]
id = "ams-1"
datacenter = "AMS"
ipv4 = "203.0.113.10"
ipv6 = "2001:db8:a::/48"

[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.20"

[[population]]
name = "office"
users = 100
[population.location]
around = ["Amsterdam"]

[[resource]]
name = "app"
ipv4 = "198.51.100.10"
location = "London"
weight = 1
"#;

/// Writes `text` as a scenario in a fresh folder, runs `run` and `check` on it, and checks that both
/// fail with exit code 2 without writing anything. Returns the `run` error text.
fn rejects(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    let out = tmp.path().join("out");
    let o = run_in(
        tmp.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "exit code for:\n{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(stdout(&o).is_empty(), "nothing on stdout: {}", stdout(&o));
    assert!(!out.exists(), "no output folder");
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the scenario file is left: {names:?}");
    let c = run_in(tmp.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(2));
    assert_eq!(stderr(&c), err, "check and run report the same errors");
    err
}

fn replace(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "fixture lacks {from}");
    VALID.replacen(from, to, 1)
}

#[test]
fn the_base_fixture_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ok.toml");
    fs::write(&path, VALID).unwrap();
    let o = run_in(tmp.path(), &["check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn toml_syntax_error_points_at_line_and_column() {
    let e = rejects(&replace("seed = 1", "seed = = 1"));
    assert!(e.contains("bad.toml:2:"), "{e}");
    assert!(e.contains("^"), "{e}");
}

#[test]
fn unknown_key_is_rejected_with_suggestion() {
    let e = rejects(&replace("users = 100", "usres = 100"));
    assert!(e.contains("unknown key `usres`"), "{e}");
    assert!(e.contains("did you mean `users`?"), "{e}");
    assert!(e.contains("bad.toml:20:1"), "{e}");
}

#[test]
fn wrong_type_is_reported() {
    let e = rejects(&replace("users = 100", "users = \"many\""));
    assert!(
        e.contains("wrong type: found string \"many\", expected an integer"),
        "{e}"
    );
    assert!(e.contains("bad.toml:20:9"), "{e}");
}

#[test]
fn unknown_data_center_suggests_the_right_code() {
    let e = rejects(&replace("datacenter = \"LHR\"", "datacenter = \"LON\""));
    assert!(e.contains("unknown data center `LON`"), "{e}");
    assert!(e.contains("did you mean `LHR` (London)?"), "{e}");
    assert!(e.contains("bad.toml:15:14"), "{e}");
    let e = rejects(&replace("datacenter = \"AMS\"", "datacenter = \"ams\""));
    assert!(e.contains("upper case: `AMS`"), "{e}");
}

#[test]
fn unknown_city_suggests_a_close_name() {
    let e = rejects(&replace(
        "around = [\"Amsterdam\"]",
        "around = [\"Amsterdm\"]",
    ));
    assert!(e.contains("unknown place `Amsterdm`"), "{e}");
    assert!(e.contains("did you mean `Amsterdam"), "{e}");
    assert!(e.contains("bad.toml:22:11"), "{e}");
}

#[test]
fn invalid_addresses_are_rejected() {
    let e = rejects(&replace(
        "ipv4 = \"203.0.113.10\"",
        "ipv4 = \"203.0.113.300\"",
    ));
    assert!(e.contains("not a valid IPv4 address"), "{e}");
    let e = rejects(&replace(
        "ipv6 = \"2001:db8:a::/48\"",
        "ipv6 = \"2001:db8:a::1/48\"",
    ));
    assert!(
        e.contains("host bits set") && e.contains("2001:db8:a::/48"),
        "{e}"
    );
    let e = rejects(&replace(
        "ipv6 = \"2001:db8:a::/48\"",
        "ipv6 = \"2001:db8:a::/200\"",
    ));
    assert!(e.contains("prefix length"), "{e}");
    let e = rejects(&replace(
        "ipv6 = \"2001:db8:a::/48\"",
        "ipv6 = \"2001:zz8::/48\"",
    ));
    assert!(e.contains("not a valid IPv6 address"), "{e}");
    let e = rejects(&replace(
        "ipv4 = \"198.51.100.10\"",
        "ipv4 = \"198.51.100.10/32\"",
    ));
    assert!(e.contains("not a valid IPv4 address"), "{e}");
}

#[test]
fn duplicate_ids_are_rejected() {
    let e = rejects(&replace("id = \"lhr-1\"", "id = \"ams-1\""));
    assert!(e.contains("duplicate egress id `ams-1`"), "{e}");
    assert!(e.contains("first defined on line 8"), "{e}");
    let e = rejects(&replace(
        "ipv4 = \"203.0.113.20\"",
        "ipv4 = \"203.0.113.10\"",
    ));
    assert!(e.contains("already used by egress `ams-1`"), "{e}");
    let dup_pop = format!("{VALID}\n[[population]]\nname = \"office\"\nusers = 5\n[population.location]\naround = [\"London\"]\n");
    let e = rejects(&dup_pop);
    assert!(e.contains("duplicate population `office`"), "{e}");
}

#[test]
fn zero_or_negative_counts_are_rejected() {
    let e = rejects(&replace("users = 100", "users = 0"));
    assert!(e.contains("`users` must be at least 1, found 0"), "{e}");
    let e = rejects(&replace("requests_per_user = 5", "requests_per_user = -3"));
    assert!(
        e.contains("`requests_per_user` must be at least 1, found -3"),
        "{e}"
    );
}

#[test]
fn non_positive_weights_are_rejected() {
    let e = rejects(&replace("weight = 1", "weight = 0"));
    assert!(e.contains("`weight` must be a positive number"), "{e}");
    let e = rejects(&replace("weight = 1", "weight = -2.5"));
    assert!(e.contains("found -2.5"), "{e}");
}

#[test]
fn shares_outside_zero_to_one_are_rejected() {
    let e = rejects(&replace("users = 100", "users = 100\nipv6_share = 1.5"));
    assert!(
        e.contains("`ipv6_share` is a share and must be between 0 and 1, found 1.5"),
        "{e}"
    );
    let e = rejects(&replace(
        "users = 100",
        "users = 100\ngroups = { finance = 10 }",
    ));
    assert!(e.contains("for 10% write 0.1"), "{e}");
}

#[test]
fn missing_required_fields_are_named() {
    let e = rejects(&replace("datacenter = \"AMS\"\n", ""));
    assert!(e.contains("missing required key `datacenter`"), "{e}");
    let e = rejects(&replace("location = \"London\"\n", ""));
    assert!(e.contains("missing required key `location`"), "{e}");
}

#[test]
fn empty_scenario_explains_what_is_missing() {
    let e = rejects("");
    for what in [
        "no dedicated egress IPs",
        "no user populations",
        "no destinations",
    ] {
        assert!(e.contains(what), "{e}");
    }
    let e = rejects("# just a comment\nname = \"x\"\n");
    assert!(e.contains("[[egress]]"), "{e}");
}

#[test]
fn several_errors_are_reported_together() {
    let text =
        replace("datacenter = \"LHR\"", "datacenter = \"LON\"").replace("weight = 1", "weight = 0");
    let e = rejects(&text);
    assert!(
        e.contains("unknown data center") && e.contains("`weight` must be a positive number"),
        "{e}"
    );
    assert!(e.contains("2 errors found"), "{e}");
}

#[test]
fn missing_file_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["run", "nope.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read `nope.toml`"),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("output").exists());
}

#[test]
fn bad_command_line_values_exit_2() {
    let o = run(&["run", "scenarios/three-sites.toml", "--users", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["run", "scenarios/three-sites.toml", "--threads", "abc"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["latency", "London", "Paris", "--access", "carrier-pigeon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("presets"), "{}", stderr(&o));
}

#[test]
fn an_option_typed_where_a_place_goes_is_still_refused() {
    for (args, value) in [
        (&["latency", "--jsn", "London", "LHR"][..], "--jsn"),
        (&["latency", "-33.87", "London"][..], "-33.87"),
        (
            &["latency", "London", "LHR", "--via", "--json"][..],
            "--json",
        ),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.contains(&format!("`{value}` is neither an option")),
            "{e}"
        );
        assert!(e.contains("-33.87,151.21"), "{e}");
    }
    let o = run(&["latency", "-95,10", "London"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("out of range"), "{}", stderr(&o));
}

/// The number of `error:` lines in a rendered error text.
fn error_count(e: &str) -> usize {
    e.lines().filter(|l| l.starts_with("error:")).count()
}

/// A scenario whose egress `lhr-1` and data center `LHR2` are referred to by a policy, an
/// allowlist, a failure and another egress IP.
fn with_references(egress_dc: &str, egress_ipv4: &str, dc_country: &str, dc_lat: &str) -> String {
    let text = VALID
        .replacen(
            "datacenter = \"LHR\"",
            &format!("datacenter = \"{egress_dc}\""),
            1,
        )
        .replacen(
            "ipv4 = \"203.0.113.20\"",
            &format!("ipv4 = \"{egress_ipv4}\""),
            1,
        )
        .replacen(
            "weight = 1\n",
            "weight = 1\nallowlist = [\"lhr-1\", \"lhr-2\"]\n",
            1,
        );
    format!(
        r#"{text}
[[datacenter]]
code = "LHR2"
city = "London"
country = "{dc_country}"
lat = {dc_lat}
lon = -0.1

[[egress]]
id = "lhr-2"
datacenter = "LHR2"
ipv4 = "203.0.113.30"

[[policy]]
name = "to-london"
traffic = 'net.dst.port == 443'
ipv4 = "lhr-1"
ipv4_fallback = "lhr-2"

[[failure]]
name = "london"
egress = ["lhr-1"]
datacenters = ["LHR2"]
"#
    )
}

#[test]
fn the_references_fixture_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ok.toml");
    fs::write(&path, with_references("LHR", "203.0.113.20", "GB", "51.5")).unwrap();
    let o = run_in(tmp.path(), &["check", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_wrong_data_center_is_reported_once_not_by_every_reference_to_its_egress() {
    let e = rejects(&with_references("LON", "203.0.113.20", "GB", "51.5"));
    assert!(e.contains("unknown data center `LON`"), "{e}");
    assert_eq!(error_count(&e), 1, "only the root cause:\n{e}");
}

#[test]
fn a_wrong_egress_address_is_reported_once() {
    let e = rejects(&with_references("LHR", "203.0.113.300", "GB", "51.5"));
    assert!(
        e.contains("`203.0.113.300` is not a valid IPv4 address"),
        "{e}"
    );
    assert_eq!(error_count(&e), 1, "only the root cause:\n{e}");
}

#[test]
fn a_wrong_custom_data_center_is_reported_once_not_by_its_users() {
    let e = rejects(&with_references("LHR", "203.0.113.20", "XX", "51.5"));
    assert!(e.contains("unknown country `XX`"), "{e}");
    assert_eq!(error_count(&e), 1, "only the root cause:\n{e}");
    let e = rejects(&with_references("LHR", "203.0.113.20", "GB", "151.5"));
    assert!(e.contains("latitude must be between -90 and 90"), "{e}");
    assert_eq!(error_count(&e), 1, "only the root cause:\n{e}");
}

#[test]
fn a_total_below_the_number_of_populations_is_refused() {
    let two = replace(
        "weight = 1\n",
        "weight = 1\n\n[[population]]\nname = \"remote\"\nusers = 1\n[population.location]\naround = [\"London\"]\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("two.toml");
    fs::write(&path, &two).unwrap();
    let s = path.to_str().unwrap();
    let out = tmp.path().join("out");
    let o = run_in(
        tmp.path(),
        &["run", s, "--users", "1", "--out", out.to_str().unwrap()],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`--users 1` is fewer users than the scenario's 2 populations, so `remote` would have none"),
        "{err}"
    );
    assert!(
        err.contains("`--users 101` or more gives every population at least one user"),
        "{err}"
    );
    assert!(!out.exists());
    // Enough for both, but the small one rounds to nothing: a warning that names it.
    let o = run_in(
        tmp.path(),
        &[
            "run",
            s,
            "--users",
            "20",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: with 20 users in all, population `remote` gets none (the share rounds to 0); `--users 101` or more"),
        "{err}"
    );
    // The same total written in the file is located there.
    let shares = two
        .replace("users = 100\n", "share = 0.99\n")
        .replace("users = 1\n", "share = 0.01\n")
        .replace("requests_per_user = 5", "requests_per_user = 5\nusers = 1");
    let e = rejects(&shares);
    assert!(
        e.contains("`users = 1` is fewer users than the scenario's 2 populations"),
        "{e}"
    );
    assert!(e.contains("bad.toml:6:9"), "{e}");
}
