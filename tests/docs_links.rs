//! The documentation a user reads points only at things that ship in the repository: every relative
//! Markdown link (and its `#anchor`) resolves, and the README never sends a reader outside the
//! repository (`../shared/`).

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files a user may read.
fn documents() -> Vec<PathBuf> {
    let r = root();
    let mut docs: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"]
        .iter()
        .map(|f| r.join(f))
        .collect();
    for dir in ["docs", "data", "data/measurements", "scenarios"] {
        if let Ok(entries) = fs::read_dir(r.join(dir)) {
            docs.extend(
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "md")),
            );
        }
    }
    docs.sort();
    docs
}

/// The targets of `[text](target)` and `![alt](target)` outside code blocks and code spans.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop code spans: `[a](b)` inside backticks is not a link.
        let plain: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = plain.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(&l.trim_start_matches('#').replace('`', "")))
        .collect()
}

fn check_link(doc: &Path, target: &str) -> Result<(), String> {
    if target.starts_with("http://")
        || target.starts_with("https://")
        || target.starts_with("mailto:")
    {
        return Ok(());
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        doc.to_path_buf()
    } else {
        doc.parent().unwrap().join(path)
    };
    let inside = fs::canonicalize(&file)
        .map_err(|_| format!("`{target}`: {} does not exist", file.display()))?;
    if !inside.starts_with(fs::canonicalize(root()).unwrap()) {
        return Err(format!("`{target}` points outside the repository"));
    }
    if let Some(a) = anchor {
        let text = fs::read_to_string(&inside).map_err(|e| format!("`{target}`: {e}"))?;
        if !anchors(&text).iter().any(|h| h == a) {
            return Err(format!("`{target}`: no heading with anchor `#{a}`"));
        }
    }
    Ok(())
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let mut problems = Vec::new();
    let mut links = 0;
    for doc in documents() {
        let text = fs::read_to_string(&doc).unwrap();
        for target in link_targets(&text) {
            links += 1;
            if let Err(e) = check_link(&doc, &target) {
                problems.push(format!("{}: {e}", doc.display()));
            }
        }
    }
    assert!(links > 5, "the scan found links ({links})");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_never_sends_a_reader_outside_the_repository() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    assert!(!readme.contains("../shared"), "README mentions ../shared");
    // The references the README names ship too.
    for shipped in [
        "docs/gateway-semantics.md",
        "data/README.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
    ] {
        assert!(readme.contains(shipped), "README should point at {shipped}");
        assert!(root().join(shipped).exists(), "{shipped} ships");
    }
    // Elsewhere, `../shared` is only the developer tool's default input folder.
    for doc in documents() {
        let text = fs::read_to_string(&doc).unwrap();
        for line in text.lines().filter(|l| l.contains("../shared")) {
            assert!(
                line.contains("derive_data")
                    || line.contains("--shared")
                    || line.contains("local copy"),
                "{}: {line}",
                doc.display()
            );
        }
    }
}

#[test]
fn the_link_scanner_sees_links_and_skips_code() {
    let t = "a [x](docs/a.md) `[no](b.md)` ![img](docs/p.png#top)\n```\n[no](c.md)\n```\n";
    assert_eq!(link_targets(t), ["docs/a.md", "docs/p.png#top"]);
    assert_eq!(slug("Real user lists (GeoIP)"), "real-user-lists-geoip");
    assert_eq!(
        slug("`[[policy]]`: an egress policy"),
        "policy-an-egress-policy"
    );
}
