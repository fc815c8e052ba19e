//! Shell completion scripts and manual pages, generated from the same argument definitions as
//! `--help`.

mod common;
use common::*;

const COMMANDS: [&str; 10] = [
    "run",
    "check",
    "latency",
    "calibrate",
    "explain",
    "compare",
    "rules",
    "geoip",
    "completions",
    "man",
];

#[test]
fn completion_scripts_name_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.len() > 1000, "{shell}: {script}");
        assert!(script.contains("egress-sim"), "{shell}");
        for c in COMMANDS {
            assert!(script.contains(c), "{shell} script lacks `{c}`");
        }
        // Options of subcommands too, e.g. run's.
        assert!(script.contains("per-user-cases"), "{shell}");
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("possible values: bash"),
        "{}",
        stderr(&o)
    );
}

/// Checks that `page` is a roff manual page: title, sections, and only roff requests at line
/// starts.
fn assert_roff(page: &str, name: &str) {
    assert!(
        page.lines()
            .any(|l| l.starts_with(&format!(".TH {name} 1"))),
        "title of {name}: {page}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS"] {
        assert!(page.contains(section), "{name} lacks {section}");
    }
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let request = line[1..].split_whitespace().next().unwrap_or("");
        assert!(
            [
                "TH", "SH", "SS", "TP", "PP", "IP", "RS", "RE", "ie", "el", "br", "B", "I", "EX",
                "EE", "nf", "fi"
            ]
            .contains(&request),
            "{name}: unexpected roff line `{line}`"
        );
    }
}

#[test]
fn the_manual_page_is_roff_with_every_command() {
    let o = run(&["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert_roff(&page, "egress-sim");
    assert!(page.contains(".SH SUBCOMMANDS"), "{page}");
    for c in COMMANDS {
        assert!(
            page.contains(&format!("egress\\-sim\\-{}(1)", c.replace('-', "\\-"))),
            "lacks {c}: {page}"
        );
    }
}

#[test]
fn man_out_writes_one_page_per_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let o = run(&["man", "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in [
        "egress-sim",
        "egress-sim-run",
        "egress-sim-rules-import",
        "egress-sim-geoip-stats",
    ] {
        let page = std::fs::read_to_string(dir.join(format!("{name}.1"))).unwrap();
        assert_roff(&page, name);
    }
    let run_page = std::fs::read_to_string(dir.join("egress-sim-run.1")).unwrap();
    assert!(run_page.contains("per\\-user\\-cases"), "{run_page}");
}
