//! The module graph, enforced: no dependency cycle between the top-level modules of `src/`, and no
//! forbidden reach from an output layer into the engine ("reports never simulate").
//!
//! How the graph is built (a small reader, not a Rust parser):
//! - every `src/**/*.rs` file belongs to the top-level module named by its first path component
//!   (`src/engine/route.rs` → `engine`; `src/world.rs` → `world`); `src/main.rs` is the binary, a separate
//!   crate that uses the library through `egress_sim::`, so it is not part of the graph;
//! - comments and string literals are blanked first, so doc links and messages do not count;
//! - an edge `a → b` is any path `crate::b…`, `$crate::b…`, `crate::{b…, …}` in a file of `a`, or a
//!   `super::` chain (inline `mod x { … }` blocks included) that climbs to the crate root and then names `b`;
//! - **test code is excluded**: an item under `#[cfg(test)]` (an inline `mod tests { … }`, a function, an
//!   `impl`, or a `mod tests;` declaration, whose file is then skipped whole). Tests may build a World from
//!   a scenario or run the engine to check a lower layer end to end; that reach never ships in the library.
//!
//! The checker has its own tests (`checker_*`) on small synthetic crates, so a broken checker cannot pass
//! silently.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Files under a path prefix that must not use a top-level module. Extend this list as layers appear.
/// Outputs never simulate; the scenario compiler builds the World without running the engine.
const FORBIDDEN: &[(&str, &str)] = &[
    ("src/report/", "engine"),
    ("src/output/", "engine"),
    ("src/scenario/", "engine"),
];

/// Files that still break a [`FORBIDDEN`] rule while the results layer is being built (issue 10). The
/// test fails when a file not listed here breaks a rule, and when a listed file no longer does (so this
/// list can only shrink); it must end empty.
const PENDING: &[&str] = &[];

/// One use of another top-level module.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    /// `path:line` of the use.
    at: String,
    /// The file's path relative to the crate root.
    file: String,
}

/// Replaces comments, string and character literals with spaces (newlines kept, so line numbers hold).
fn blank_comments_and_literals(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            let end = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if let Some(end) = raw_string_end(b, i) {
            blank(&mut out, i, end);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, (j + 1).min(b.len()));
            i = j + 1;
        } else if c == b'\'' {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            let end = if next == Some(b'\\') {
                // Skip the escaped character itself (it may be a quote).
                b[i + 3..]
                    .iter()
                    .position(|&x| x == b'\'')
                    .map(|p| i + 3 + p + 1)
            } else if b.get(i + 2) == Some(&b'\'') {
                Some(i + 3)
            } else {
                // Multi-byte UTF-8 character literal.
                let s = &src[i + 1..];
                let ch = s.chars().next().map_or(1, char::len_utf8);
                (s.as_bytes().get(ch) == Some(&b'\'')).then_some(i + 1 + ch + 1)
            };
            match end {
                Some(e) => {
                    blank(&mut out, i, e);
                    i = e;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 (only ASCII bytes replaced whole)")
}

/// End of a raw (byte) string literal starting at `i` (`r"…"`, `r#"…"#`, `br#"…"#`), if one starts there.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && is_ident_byte(Some(b[i - 1])) {
        return None;
    }
    let mut j = i;
    if b[j] == b'b' {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    if b.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    let closing: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    let p = b[j..]
        .windows(closing.len())
        .position(|w| w == closing.as_slice())?;
    Some(j + p + closing.len())
}

fn is_ident_byte(c: Option<u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Blanks every item under `#[cfg(test)]`; returns the names of `#[cfg(test)] mod x;` declarations.
fn blank_test_items(text: &mut String) -> Vec<String> {
    let mut test_mods = Vec::new();
    let mut bytes = std::mem::take(text).into_bytes();
    let mut from = 0;
    while let Some(p) = find(&bytes, b"#[cfg(test)]", from) {
        let mut j = p + b"#[cfg(test)]".len();
        // Further attributes before the item.
        loop {
            j = skip_space(&bytes, j);
            if bytes.get(j) == Some(&b'#') {
                j = matching(&bytes, j + 1).map_or(bytes.len(), |e| e + 1);
            } else {
                break;
            }
        }
        let item = ident_words(&bytes, j);
        let end = item_end(&bytes, j, &item);
        if let [.., kw, name] = item.as_slice() {
            if kw == "mod" && bytes[..end].ends_with(b";") {
                test_mods.push(name.clone());
            }
        }
        for c in &mut bytes[p..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    *text = String::from_utf8(bytes).expect("ASCII blanking keeps UTF-8");
    test_mods
}

/// The leading words of an item (`pub`, `mod`, `tests`), up to the first non-word character.
fn ident_words(b: &[u8], mut j: usize) -> Vec<String> {
    let mut words = Vec::new();
    loop {
        j = skip_space(b, j);
        let start = j;
        while is_ident_byte(b.get(j).copied()) {
            j += 1;
        }
        if start == j {
            // `pub(crate)`: skip the parenthesis and go on.
            if b.get(j) == Some(&b'(') && words.last().is_some_and(|w| w == "pub") {
                j = matching(b, j).map_or(b.len(), |e| e + 1);
                continue;
            }
            return words;
        }
        words.push(String::from_utf8_lossy(&b[start..j]).into_owned());
        if words.len() >= 4 {
            return words;
        }
    }
}

/// End (exclusive) of the item starting at `j`: its `;`, or the `}` closing its body.
fn item_end(b: &[u8], j: usize, words: &[String]) -> usize {
    let semicolon_only = words
        .iter()
        .any(|w| matches!(w.as_str(), "use" | "const" | "static" | "type"));
    let mut depth = 0i32;
    let mut k = j;
    while k < b.len() {
        match b[k] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth -= 1,
            b'}' => {
                depth -= 1;
                if depth == 0 && !semicolon_only {
                    return k + 1;
                }
            }
            b';' if depth == 0 => return k + 1,
            _ => {}
        }
        k += 1;
    }
    b.len()
}

/// Index of the bracket closing the one at `open` (`(`, `[` or `{`).
fn matching(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (k, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

fn skip_space(b: &[u8], mut j: usize) -> usize {
    while b.get(j).is_some_and(u8::is_ascii_whitespace) {
        j += 1;
    }
    j
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Reads an identifier at `j`; returns it and the index after it.
fn ident_at(b: &[u8], j: usize) -> Option<(String, usize)> {
    let mut k = j;
    while is_ident_byte(b.get(k).copied()) {
        k += 1;
    }
    (k > j).then(|| (String::from_utf8_lossy(&b[j..k]).into_owned(), k))
}

/// Top-level modules named right after a crate-root prefix ending at `j` (`x` or `{x::…, y, …}`).
fn names_after_root(b: &[u8], j: usize) -> Vec<String> {
    if b.get(j) == Some(&b'{') {
        let Some(close) = matching(b, j) else {
            return Vec::new();
        };
        let mut names = Vec::new();
        let mut depth = 0;
        let mut start = j + 1;
        for k in j + 1..=close {
            match b[k] {
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                b',' | b'}' if depth == 0 => {
                    if let Some((name, _)) = ident_at(b, skip_space(b, start)) {
                        names.push(name);
                    }
                    start = k + 1;
                }
                _ => {}
            }
        }
        names
    } else {
        ident_at(b, j).map(|(n, _)| vec![n]).unwrap_or_default()
    }
}

/// The module path of a file relative to `src/`: `engine/route.rs` → `[engine, route]`.
fn module_path(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The top-level modules one file uses, with line numbers. `rel` is relative to `src/`.
fn uses_of_file(rel: &str, text: &str) -> Vec<(String, usize)> {
    let b = text.as_bytes();
    let file_mod = module_path(rel);
    // Inline `mod x {` blocks open deeper module paths (for `super::`).
    let mut inline: Vec<(String, i32)> = Vec::new();
    let mut depth = 0i32;
    let mut line = 1;
    let mut out = Vec::new();
    let mut k = 0;
    while k < b.len() {
        let c = b[k];
        if c == b'\n' {
            line += 1;
        } else if c == b'{' {
            depth += 1;
        } else if c == b'}' {
            depth -= 1;
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
        }
        let word_start = !is_ident_byte(k.checked_sub(1).map(|p| b[p]));
        if !word_start || !(c.is_ascii_alphabetic() || c == b'$') {
            k += 1;
            continue;
        }
        let (word, after) = if c == b'$' {
            match ident_at(b, k + 1) {
                Some((w, a)) => (format!("${w}"), a),
                None => {
                    k += 1;
                    continue;
                }
            }
        } else {
            ident_at(b, k).expect("starts with a letter")
        };
        if word == "mod" {
            let j = skip_space(b, after);
            if let Some((name, a)) = ident_at(b, j) {
                if b.get(skip_space(b, a)) == Some(&b'{') {
                    inline.push((name, depth));
                }
            }
        }
        let here: Vec<String> = file_mod
            .iter()
            .cloned()
            .chain(inline.iter().map(|(n, _)| n.clone()))
            .collect();
        let base: Option<(Vec<String>, usize)> = match word.as_str() {
            "crate" | "$crate" if b[after..].starts_with(b"::") => Some((Vec::new(), after + 2)),
            "super" if b[after..].starts_with(b"::") => {
                let mut up = 1;
                let mut j = after + 2;
                while b[j..].starts_with(b"super::") {
                    up += 1;
                    j += b"super::".len();
                }
                Some((here[..here.len().saturating_sub(up)].to_vec(), j))
            }
            _ => None,
        };
        if let Some((base, j)) = base {
            let tops = match base.first() {
                Some(top) => vec![top.clone()],
                None => names_after_root(b, j),
            };
            out.extend(tops.into_iter().map(|t| (t, line)));
        }
        k = after;
    }
    out
}

/// Builds the graph of a crate given as (path relative to `src/`, source text) pairs.
fn graph_of(files: &[(String, String)]) -> Vec<Edge> {
    let mut cleaned: BTreeMap<String, String> = BTreeMap::new();
    let mut test_files: BTreeSet<String> = BTreeSet::new();
    for (rel, text) in files {
        let mut t = blank_comments_and_literals(text);
        let dir = match module_path(rel).as_slice() {
            [] => String::new(),
            parts => format!("{}/", parts.join("/")),
        };
        for m in blank_test_items(&mut t) {
            test_files.insert(format!("{dir}{m}.rs"));
            test_files.insert(format!("{dir}{m}/mod.rs"));
        }
        cleaned.insert(rel.clone(), t);
    }
    // A test file's own submodules are test code too.
    let is_test = |rel: &str| {
        test_files.iter().any(|t| {
            rel == t
                || rel.starts_with(&format!(
                    "{}/",
                    t.trim_end_matches(".rs").trim_end_matches("/mod")
                ))
        })
    };
    let top_modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(rel, _)| module_path(rel).first().cloned())
        .collect();
    let mut edges = Vec::new();
    for (rel, text) in &cleaned {
        if rel == "main.rs" || rel == "lib.rs" || is_test(rel) {
            continue;
        }
        let from = module_path(rel)[0].clone();
        for (to, line) in uses_of_file(rel, text) {
            if to != from && top_modules.contains(&to) {
                edges.push(Edge {
                    from: from.clone(),
                    to,
                    at: format!("src/{rel}:{line}"),
                    file: format!("src/{rel}"),
                });
            }
        }
    }
    edges
}

/// Every strongly connected component with more than one module, each with the edges inside it.
fn cycles(edges: &[Edge]) -> Vec<(Vec<String>, Vec<&Edge>)> {
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        adj.entry(&e.from).or_default().insert(&e.to);
        adj.entry(&e.to).or_default();
    }
    let reach = |start: &str| {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            for &m in &adj[n] {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&str, BTreeSet<&str>> = adj.keys().map(|&n| (n, reach(n))).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for &n in adj.keys() {
        if done.contains(n) || !reachable[n].contains(n) {
            continue;
        }
        let scc: Vec<String> = adj
            .keys()
            .filter(|&&m| reachable[n].contains(m) && reachable[m].contains(n))
            .map(|m| m.to_string())
            .collect();
        done.extend(adj.keys().filter(|m| scc.contains(&m.to_string())));
        let inside = edges
            .iter()
            .filter(|e| scc.contains(&e.from) && scc.contains(&e.to))
            .collect();
        out.push((scc, inside));
    }
    out
}

/// Uses that break a rule of [`FORBIDDEN`].
fn forbidden<'e>(edges: &'e [Edge], rules: &[(&str, &str)]) -> Vec<&'e Edge> {
    edges
        .iter()
        .filter(|e| {
            rules
                .iter()
                .any(|(prefix, m)| e.file.starts_with(prefix) && e.to == *m)
        })
        .collect()
}

fn read_crate(src: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("src/ is readable") {
            let p = entry.expect("directory entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(src)
                .expect("under src/")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(&p).expect("source is UTF-8"))
        })
        .collect()
}

fn describe(edges: &[&Edge]) -> String {
    let mut by_pair: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for e in edges {
        by_pair.entry((&e.from, &e.to)).or_default().push(&e.at);
    }
    by_pair
        .iter()
        .map(|((a, b), at)| format!("  {a} → {b}: {}", at.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn crate_graph() -> Vec<Edge> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph_of(&read_crate(&src));
    assert!(
        edges.len() > 20,
        "the checker found only {} module uses in src/; is it reading the right files?",
        edges.len()
    );
    edges
}

#[test]
fn no_cycle_between_top_level_modules() {
    let edges = crate_graph();
    let found = cycles(&edges);
    let text: Vec<String> = found
        .iter()
        .map(|(scc, inside)| format!("cycle among {}:\n{}", scc.join(", "), describe(inside)))
        .collect();
    assert!(
        found.is_empty(),
        "module cycles in src/:\n{}",
        text.join("\n")
    );
}

#[test]
fn no_forbidden_module_use() {
    let edges = crate_graph();
    let bad = forbidden(&edges, FORBIDDEN);
    let new: Vec<&Edge> = bad
        .iter()
        .copied()
        .filter(|e| !PENDING.contains(&e.file.as_str()))
        .collect();
    assert!(new.is_empty(), "forbidden module uses:\n{}", describe(&new));
    let stale: Vec<&&str> = PENDING
        .iter()
        .filter(|f| !bad.iter().any(|e| e.file == **f))
        .collect();
    assert!(
        stale.is_empty(),
        "these files no longer break a rule; remove them from PENDING: {stale:?}"
    );
}

/// Prints the module graph (`cargo test --test architecture -- --ignored --nocapture`).
#[test]
#[ignore = "prints the graph; run by hand"]
fn print_module_graph() {
    let edges = crate_graph();
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &edges {
        adj.entry(&e.from).or_default().insert(&e.to);
    }
    for (from, to) in adj {
        println!("{from} → {}", to.into_iter().collect::<Vec<_>>().join(", "));
    }
}

// --- the checker's own tests, on small synthetic crates ---

fn synthetic(files: &[(&str, &str)]) -> Vec<Edge> {
    graph_of(
        &files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect::<Vec<_>>(),
    )
}

fn pairs(edges: &[Edge]) -> BTreeSet<(String, String)> {
    edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone()))
        .collect()
}

#[test]
fn checker_finds_a_cycle_through_use_paths_groups_and_super() {
    let edges = synthetic(&[
        ("lib.rs", "pub mod a; pub mod b; pub mod c;"),
        ("a.rs", "use crate::{b::X, c};"),
        ("b/mod.rs", "pub mod inner;"),
        ("b/inner.rs", "fn f() { super::super::c::g(); }"),
        ("c.rs", "mod deep { fn h() { super::super::a::k(); } }"),
    ]);
    assert_eq!(
        pairs(&edges),
        [("a", "b"), ("a", "c"), ("b", "c"), ("c", "a")]
            .iter()
            .map(|(x, y)| (x.to_string(), y.to_string()))
            .collect()
    );
    let found = cycles(&edges);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, ["a", "b", "c"]);
}

#[test]
fn checker_ignores_comments_strings_and_test_code() {
    let edges = synthetic(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a.rs", "use crate::b::Y;"),
        (
            "b.rs",
            r##"
//! See [`crate::a::Z`].
/* crate::a::Z */
const S: &str = "crate::a::Z";
const R: &str = r#"crate::a::Z"#;
fn lifetime<'a>(x: &'a str) -> char { let _ = x; 'c' }
#[cfg(test)]
mod tests { use crate::a::Z; }
#[cfg(test)]
fn helper() { crate::a::z(); }
#[cfg(test)]
mod more;
"##,
        ),
        ("b/more.rs", "use crate::a::Z;"),
    ]);
    assert_eq!(
        pairs(&edges),
        [("a".to_string(), "b".to_string())].into_iter().collect()
    );
    assert!(cycles(&edges).is_empty());
}

#[test]
fn checker_flags_a_forbidden_use() {
    let edges = synthetic(&[
        ("lib.rs", "pub mod engine; pub mod report;"),
        ("engine/mod.rs", ""),
        ("report/charts/mod.rs", "use crate::engine::route;"),
    ]);
    let bad = forbidden(&edges, FORBIDDEN);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].at, "src/report/charts/mod.rs:1");
}
