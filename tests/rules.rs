//! `rules import` and `rules export`: the real binary on the shipped scenario and a realistic API
//! listing (tests/fixtures/gateway-rules.json).

mod common;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};

const SCENARIO: &str = "scenarios/finance-and-qa.toml";
const FIXTURE: &str = "tests/fixtures/gateway-rules.json";

fn fixture() -> PathBuf {
    root().join(FIXTURE)
}

fn scenario() -> PathBuf {
    root().join(SCENARIO)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Imports `rules` into the shipped scenario, writing `out`; asserts success and returns stderr.
fn import_to(rules: &Path, out: &Path) -> String {
    let o = run(&[
        "rules",
        "import",
        s(rules),
        "--scenario",
        SCENARIO,
        "-o",
        s(out),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "import failed:\n{err}");
    err
}

/// Exports `scenario` to standard output; asserts success.
fn export(scenario: &Path) -> String {
    let o = run(&["rules", "export", s(scenario)]);
    assert_eq!(o.status.code(), Some(0), "export failed:\n{}", stderr(&o));
    stdout(&o)
}

/// The `[[policy]]` tables of a scenario file.
fn policies(path: &Path) -> Vec<toml::Table> {
    let doc: toml::Table = toml::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    match doc.get("policy") {
        None => Vec::new(),
        Some(p) => p
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_table().unwrap().clone())
            .collect(),
    }
}

fn str_of<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).map(|v| v.as_str().unwrap())
}

#[test]
fn import_of_the_fixture_is_a_valid_scenario_with_the_expected_policies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("imported.toml");
    let o = run(&[
        "rules",
        "import",
        FIXTURE,
        "--scenario",
        SCENARIO,
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("wrote {} (5 egress policies)\n", out.display())
    );
    // Only the output file is left: the temporary used for the atomic write is gone.
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);

    let check = run(&["check", s(&out)]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(stdout(&check).contains(": OK"), "{}", stdout(&check));

    let p = policies(&out);
    let names: Vec<&str> = p.iter().map(|t| str_of(t, "name").unwrap()).collect();
    assert_eq!(
        names,
        [
            "Finance to the bank via London",
            "QA appears in London",
            "QA appears in Washington",
            "Legacy: all finance traffic via Washington",
            "Everything else: default egress",
        ]
    );
    let prec: Vec<i64> = p
        .iter()
        .map(|t| t["precedence"].as_integer().unwrap())
        .collect();
    assert_eq!(prec, [100, 200, 300, 400, 1000]);

    let finance = &p[0];
    assert_eq!(
        str_of(finance, "id"),
        Some("6a1f3c2e-7b4d-4e8f-a1b2-c3d4e5f60102")
    );
    assert_eq!(
        str_of(finance, "description"),
        Some("The bank allowlisted lhr-1 and ams-1")
    );
    assert_eq!(
        str_of(finance, "traffic"),
        Some(r#"net.fqdn.host == "api.bank.example""#)
    );
    assert_eq!(
        str_of(finance, "device_posture"),
        Some(r#"any(device_posture.checks.passed[*] in {"disk-encryption"})"#)
    );
    assert_eq!(str_of(finance, "ipv4"), Some("lhr-1"));
    assert_eq!(str_of(finance, "ipv4_fallback"), Some("ams-1"));
    assert_eq!(str_of(finance, "ipv6"), Some("lhr-1"));
    assert!(finance.get("enabled").is_none());

    // `2001:0DB8:00B1::/48` in the listing is lhr-2's `2001:db8:b1::/48`.
    let qa_london = &p[1];
    assert_eq!(str_of(qa_london, "ipv4"), Some("lhr-2"));
    assert_eq!(str_of(qa_london, "ipv6"), Some("lhr-2"));
    assert_eq!(str_of(qa_london, "ipv4_fallback"), Some("lhr-1"));
    assert!(qa_london.get("device_posture").is_none());

    assert_eq!(str_of(&p[2], "ipv4_fallback"), Some("0.0.0.0"));
    assert_eq!(str_of(&p[2], "ipv4"), Some("iad-1"));

    let legacy = &p[3];
    assert_eq!(legacy["enabled"].as_bool(), Some(false));
    assert!(
        legacy.get("traffic").is_none(),
        "empty filter = no condition"
    );
    assert!(
        legacy.get("ipv4_fallback").is_none(),
        "empty fallback = none"
    );

    let catch_all = &p[4];
    assert_eq!(str_of(catch_all, "egress"), Some("default"));
    assert!(catch_all.get("ipv4").is_none());

    // The rest of the file survives, comments included.
    let text = fs::read_to_string(&out).unwrap();
    let original = fs::read_to_string(scenario()).unwrap();
    let head = &original[..original.find("[[policy]]").unwrap()];
    assert!(
        text.starts_with(head),
        "everything before the policies is kept"
    );
    assert!(text.contains("# A second facility in London"));
    // Expressions are TOML literal strings, addresses readable as comments.
    assert!(
        text.contains(r#"traffic = 'net.vnet_id == "qa-london"'"#),
        "{text}"
    );
    assert!(text.contains("ipv4 = \"lhr-1\"  # 203.0.113.20"), "{text}");
}

#[test]
fn import_reports_skipped_unmapped_and_unparsable_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let err = import_to(&fixture(), &tmp.path().join("imported.toml"));
    assert!(
        err.contains(
            "skipped 3 non-egress rules: `Block gambling` (block), `Allow corporate SaaS` (allow), \
             `Isolate uncategorised sites` (isolate)"
        ),
        "{err}"
    );
    let unmapped = err
        .lines()
        .skip_while(|l| !l.contains("`Partner portal via Frankfurt` left out"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        unmapped.contains("`ipv4` 203.0.113.40 is not the address"),
        "{err}"
    );
    assert!(
        unmapped.contains("`ipv6` 2001:db8:d::/48 is not the IPv6 range"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: rule `Developers on alternate ports` left out:\n  - its `traffic` expression does not parse:\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("    net.dst.port in {8000..8080 8443\n"),
        "{err}"
    );
    assert!(err.contains("^ expected `}`"), "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            "imported 5 egress policies; skipped 3 non-egress rules; 2 rules left out: \
             `Partner portal via Frankfurt`, `Developers on alternate ports`"
        ),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn import_without_out_prints_the_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("imported.toml");
    import_to(&fixture(), &out);
    let o = run(&["rules", "import", FIXTURE, "--scenario", SCENARIO]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), fs::read_to_string(&out).unwrap());
    assert!(stderr(&o).contains("imported 5 egress policies"));
}

#[test]
fn export_has_the_api_shape_with_addresses() {
    let json = export(&scenario());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["success"], true);
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(v["messages"], serde_json::json!([]));
    let rules = v["result"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Finance to the bank via London",
            "QA appears in London",
            "QA appears in Washington",
            "Legacy: all finance traffic via Washington",
            "Everything else: default egress",
        ]
    );
    for r in rules {
        assert_eq!(r["action"], "egress");
        assert_eq!(r["filters"], serde_json::json!(["egress"]));
        for key in ["id", "description", "traffic", "identity", "device_posture"] {
            assert!(r[key].is_string(), "{key} in {r}");
        }
        assert!(r["precedence"].is_i64() && r["enabled"].is_boolean(), "{r}");
    }

    let finance = &rules[0];
    assert_eq!(finance["precedence"], 100);
    assert_eq!(finance["id"], "finance-to-the-bank-via-london");
    assert_eq!(
        finance["rule_settings"],
        serde_json::json!({"egress": {
            "ipv4": "203.0.113.20",
            "ipv6": "2001:db8:b::/48",
            "ipv4_fallback": "203.0.113.10"
        }})
    );
    // Dashboard rows come out as the equivalent text expressions.
    let qa_london = &rules[1];
    assert_eq!(qa_london["traffic"], r#"net.vnet_id == "qa-london""#);
    assert_eq!(
        qa_london["identity"],
        r#"any(identity.groups.name[*] in {"qa"})"#
    );
    assert_eq!(qa_london["device_posture"], "");
    assert_eq!(qa_london["rule_settings"]["egress"]["ipv4"], "203.0.113.21");
    assert_eq!(
        qa_london["rule_settings"]["egress"]["ipv6"],
        "2001:db8:b1::/48"
    );
    assert_eq!(
        rules[2]["rule_settings"]["egress"]["ipv4_fallback"],
        "0.0.0.0"
    );
    let legacy = &rules[3];
    assert_eq!(legacy["enabled"], false);
    assert!(legacy["rule_settings"]["egress"]
        .get("ipv4_fallback")
        .is_none());
    assert_eq!(legacy["rule_settings"]["egress"]["ipv6"], "2001:db8:c::/48");
    assert_eq!(rules[4]["rule_settings"], serde_json::json!({}));

    // Addresses, never the scenario's egress ids.
    for id in ["lhr-1", "lhr-2", "ams-1", "iad-1"] {
        assert!(!json.contains(&format!("\"{id}\"")), "{id} in {json}");
    }
    // Stable order: the API's field order.
    let first_keys: Vec<&str> = json
        .lines()
        .skip_while(|l| !l.contains("\"result\""))
        .skip(2)
        .take(4)
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(first_keys, ["id", "name", "description", "precedence"]);
}

#[test]
fn export_with_out_writes_the_same_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rules.json");
    let o = run(&["rules", "export", SCENARIO, "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("wrote 5 rules to {}\n", out.display()));
    assert_eq!(fs::read_to_string(&out).unwrap(), export(&scenario()));
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn import_export_import_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.toml");
    let b = tmp.path().join("b.json");
    let c = tmp.path().join("c.toml");
    import_to(&fixture(), &a);
    fs::write(&b, export(&a)).unwrap();
    let err = import_to(&b, &c);
    assert_eq!(
        err.trim(),
        "imported 5 egress policies",
        "a clean listing: {err}"
    );
    assert_eq!(policies(&a), policies(&c));
    assert_eq!(export(&a), export(&c));
}

#[test]
fn export_import_of_the_shipped_scenario_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("rules.json");
    let back = tmp.path().join("back.toml");
    let original = export(&scenario());
    fs::write(&json, &original).unwrap();
    import_to(&json, &back);
    // Same names, precedence, enabled state, canonical filters and actions (ids included).
    assert_eq!(export(&back), original);
    let p = policies(&back);
    assert_eq!(p.len(), 5);
    assert!(p.iter().all(|t| t.get("conditions").is_none()));
}

#[test]
fn a_bare_array_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let listing: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(fixture()).unwrap()).unwrap();
    let bare = tmp.path().join("bare.json");
    fs::write(&bare, serde_json::to_string(&listing["result"]).unwrap()).unwrap();
    let from_bare = tmp.path().join("bare.toml");
    let from_envelope = tmp.path().join("envelope.toml");
    import_to(&bare, &from_bare);
    import_to(&fixture(), &from_envelope);
    assert_eq!(policies(&from_bare), policies(&from_envelope));
    assert_eq!(policies(&from_bare).len(), 5);
}

#[test]
fn rules_without_precedence_follow_listing_order() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.json");
    fs::write(
        &rules,
        r#"[
          {"name": "Second listed first", "action": "egress", "rule_settings": {"egress": {"ipv4": "203.0.113.10"}}},
          {"name": "Then default", "action": "egress"}
        ]"#,
    )
    .unwrap();
    let out = tmp.path().join("out.toml");
    let err = import_to(&rules, &out);
    assert!(err.contains("no `precedence`"), "{err}");
    let p = policies(&out);
    assert_eq!(str_of(&p[0], "name"), Some("Second listed first"));
    assert_eq!(p[0]["precedence"].as_integer(), Some(1000));
    assert_eq!(p[1]["precedence"].as_integer(), Some(2000));
    assert_eq!(str_of(&p[0], "ipv4"), Some("ams-1"));
    assert!(p[0].get("ipv6").is_none());
    assert_eq!(str_of(&p[1], "egress"), Some("default"));
}

#[test]
fn invalid_json_is_an_input_error_with_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    fs::write(
        &bad,
        "{\n  \"result\": [\n    {\"name\": \"x\",, \"action\": \"egress\"}\n  ]\n}\n",
    )
    .unwrap();
    let out = tmp.path().join("out.toml");
    let o = run(&[
        "rules",
        "import",
        s(&bad),
        "--scenario",
        SCENARIO,
        "-o",
        s(&out),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:3:18", bad.display())), "{err}");
    assert!(err.contains("is not a valid rule listing"), "{err}");
    assert!(!out.exists());
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_wrongly_typed_field_is_located_too() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    fs::write(
        &bad,
        "[\n  {\"name\": \"x\", \"precedence\": \"high\"}\n]\n",
    )
    .unwrap();
    let o = run(&["rules", "import", s(&bad), "--scenario", SCENARIO]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:2:", bad.display())), "{err}");
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn missing_files_and_non_listings_are_input_errors() {
    let o = run(&[
        "rules",
        "import",
        "no/such/rules.json",
        "--scenario",
        SCENARIO,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot read `no/such/rules.json`"),
        "{}",
        stderr(&o)
    );

    let o = run(&["rules", "import", FIXTURE, "--scenario", "no/such.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let o = run(&["rules", "export", "no/such.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other.json");
    fs::write(&other, r#"{"rules": [], "count": 0}"#).unwrap();
    let o = run(&["rules", "import", s(&other), "--scenario", SCENARIO]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("expected a Gateway rule listing"), "{err}");
}

#[test]
fn no_egress_rules_gives_a_scenario_without_policies() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.json");
    fs::write(
        &rules,
        r#"{"success": true, "result": [{"name": "Block gambling", "action": "block", "precedence": 1}]}"#,
    )
    .unwrap();
    let out = tmp.path().join("out.toml");
    let err = import_to(&rules, &out);
    assert!(err.contains("has no egress rules"), "{err}");
    assert!(policies(&out).is_empty());
    let check = run(&["check", s(&out)]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

#[test]
fn nothing_importable_is_an_input_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.json");
    fs::write(
        &rules,
        r#"[{"name": "Nowhere", "action": "egress", "precedence": 1,
             "rule_settings": {"egress": {"ipv4": "192.0.2.99"}}}]"#,
    )
    .unwrap();
    let out = tmp.path().join("out.toml");
    let o = run(&[
        "rules",
        "import",
        s(&rules),
        "--scenario",
        SCENARIO,
        "-o",
        s(&out),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`Nowhere` left out"), "{err}");
    assert!(err.contains("192.0.2.99"), "{err}");
    assert!(err.contains("the only egress rule in"), "{err}");
    assert!(!out.exists());
}

const WITH_LISTS: &str = "tests/fixtures/gateway-rules-with-lists.json";
const LISTS: &str = "tests/fixtures/gateway-lists.json";

/// Rules that use lists (`in $<uuid>`) are imported with each list's items inlined when the
/// account's lists are given; a reference to a list the file lacks leaves only that rule out.
#[test]
fn lists_given_with_lists_are_inlined() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("imported.toml");
    let o = run(&[
        "rules",
        "import",
        WITH_LISTS,
        "--scenario",
        SCENARIO,
        "--lists",
        LISTS,
        "-o",
        s(&out),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let p = policies(&out);
    let names: Vec<&str> = p.iter().map(|t| str_of(t, "name").unwrap()).collect();
    assert_eq!(
        names,
        [
            "Bank via London",
            "Office networks via Amsterdam",
            "Admins via Washington",
            "Everything else: default egress"
        ]
    );
    assert_eq!(
        str_of(&p[0], "traffic"),
        Some(r#"any(net.fqdn.domains[*] in {"bank.example" "payments.example"})"#)
    );
    assert_eq!(
        str_of(&p[1], "traffic"),
        Some("net.src.ip in {192.0.2.0/24 198.51.100.128/25 2001:db8:1000::/40}")
    );
    assert_eq!(
        str_of(&p[2], "identity"),
        Some(
            r#"identity.email in {"u17@example.com" "u4242@example.com"} or any(identity.groups.name[*] in {"qa"})"#
        )
    );
    assert!(
        err.contains("note: rule `Office networks via Amsterdam`: inlined list `Office networks` (IP, 3 items)"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: rule `Partners via Washington` left out: its `traffic` expression uses list \
             `$9a9a9a9a-0000-4000-8000-00000000dead`, which is not in `gateway-lists.json`"
        ),
        "{err}"
    );
    assert_eq!(
        err.lines().last(),
        Some(
            "imported 4 egress policies; skipped 1 non-egress rule; 1 rule left out: \
             `Partners via Washington`"
        ),
        "{err}"
    );
    // The result runs: the inlined sets compile and match.
    let o = run(&["check", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Without `--lists`, each rule that uses a list is left out with the reason and the fix.
#[test]
fn without_lists_each_rule_using_one_says_how_to_resolve_it() {
    let tmp = tempfile::tempdir().unwrap();
    let err = import_to(&root().join(WITH_LISTS), &tmp.path().join("imported.toml"));
    for rule in [
        "Bank via London",
        "Office networks via Amsterdam",
        "Admins via Washington",
        "Partners via Washington",
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("warning: rule `{rule}` left out:")))
            .unwrap_or_else(|| panic!("no warning for `{rule}` in:\n{err}"));
        assert!(
            line.contains("give the account's lists with `--lists FILE`"),
            "{line}"
        );
    }
    assert!(!err.contains("are not supported"), "{err}");
}

/// A lists file that is not a list listing is a located input error (exit 2), and nothing is written.
#[test]
fn a_bad_lists_file_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("lists.json");
    fs::write(&bad, "{\n  \"result\": [\n    {\"id\": 7}\n  ]\n}\n").unwrap();
    let out = tmp.path().join("imported.toml");
    let o = run(&[
        "rules",
        "import",
        WITH_LISTS,
        "--scenario",
        SCENARIO,
        "--lists",
        s(&bad),
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("lists.json:3:"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not a valid lists listing"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}
