//! `rules import`: a Gateway rule listing (API JSON) becomes the scenario's `[[policy]]` tables.
//!
//! The work is split so that everything but file I/O is a pure function of texts: [`read_listing`]
//! (JSON → rules), [`plan`] (rules + scenario egress IPs → policies and a report), [`render`] (scenario
//! text + policies → new scenario text), and a final compile of the result as proof that it is valid.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use super::lists::Lists;
use super::{json, write_atomic, ImportOptions};
use crate::error::{Error, InputError, Result, Source};
use crate::policy::expr::{self, GroupDef, Universe};
use crate::policy::FilterKind;
use crate::printed::Printed;
use crate::scenario::{self, Loaded, Overrides, MAX_POLICIES};
use crate::world::{Egress, World};

/// A rule as the API lists it. Only the fields egress policies use are read; serde ignores the rest
/// (`created_at`, `schedule`, other actions' settings, ...), and `null` reads as absent because real
/// listings write `null` for unused settings.
#[derive(Debug, Clone, Default, Deserialize)]
struct ApiRule {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    precedence: Option<i64>,
    enabled: Option<bool>,
    action: Option<String>,
    traffic: Option<String>,
    identity: Option<String>,
    device_posture: Option<String>,
    rule_settings: Option<ApiRuleSettings>,
}

/// `rule_settings`: only `egress` matters here.
#[derive(Debug, Clone, Default, Deserialize)]
struct ApiRuleSettings {
    egress: Option<ApiEgress>,
}

/// `rule_settings.egress`: addresses, not ids.
#[derive(Debug, Clone, Default, Deserialize)]
struct ApiEgress {
    ipv4: Option<String>,
    ipv6: Option<String>,
    ipv4_fallback: Option<String>,
}

/// Where an imported policy's IPv4 traffic goes when its primary is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FallbackTarget {
    /// `0.0.0.0`: default Cloudflare egress.
    DefaultEgress,
    /// An egress IP, by index into the scenario's egress list.
    Egress(usize),
}

/// An imported policy's action, with scenario egress indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Default Cloudflare egress.
    Default,
    /// Dedicated egress IPs; `ipv6: None` leaves the scenario's default (the primary's range).
    Dedicated {
        ipv4: usize,
        fallback: Option<FallbackTarget>,
        ipv6: Option<usize>,
    },
}

/// One policy ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Imported {
    id: Option<String>,
    name: String,
    description: String,
    precedence: i64,
    enabled: bool,
    /// Canonical expression texts, in `FilterKind::ALL` order.
    filters: [Option<String>; 3],
    target: Target,
}

/// What happened to each rule, for standard error.
#[derive(Debug, Default)]
struct Report {
    /// Egress rules in the listing.
    egress_rules: usize,
    /// Non-egress rules: (display name, action).
    skipped: Vec<(String, String)>,
    /// Egress rules that could not be imported: (display name, reasons).
    left_out: Vec<(String, Vec<String>)>,
    /// Things changed on the way in that the user should know about (renames, precedence).
    notes: Vec<String>,
    /// Compiler warnings about the imported policies.
    warnings: Vec<String>,
}

impl Report {
    /// Every line to print, ending with the summary.
    fn lines(&self, imported: usize, rules_name: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !self.skipped.is_empty() {
            out.push(format!(
                "skipped {}: {}",
                count(self.skipped.len(), "non-egress rule"),
                self.skipped
                    .iter()
                    .map(|(n, a)| format!("{n} ({a})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for (name, reasons) in &self.left_out {
            match reasons.as_slice() {
                [one] if !one.contains('\n') => {
                    out.push(format!("warning: rule {name} left out: {one}"))
                }
                _ => {
                    let mut s = format!("warning: rule {name} left out:");
                    for r in reasons {
                        s.push_str("\n  - ");
                        s.push_str(r);
                    }
                    out.push(s);
                }
            }
        }
        for n in &self.notes {
            out.push(format!("note: {n}"));
        }
        out.extend(self.warnings.iter().cloned());
        out.push(self.summary(imported, rules_name));
        out
    }

    fn summary(&self, imported: usize, rules_name: &str) -> String {
        let mut parts = vec![format!("imported {}", count(imported, "egress policy"))];
        if self.egress_rules == 0 {
            parts[0].push_str(&format!(
                " (`{rules_name}` has no egress rules, so the scenario now has no policies)"
            ));
        }
        if !self.skipped.is_empty() {
            parts.push(format!(
                "skipped {}",
                count(self.skipped.len(), "non-egress rule")
            ));
        }
        if !self.left_out.is_empty() {
            parts.push(format!(
                "{} left out: {}",
                count(self.left_out.len(), "rule"),
                self.left_out
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// `3 rules`, `1 rule`, `2 egress policies`.
pub(super) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else if let Some(stem) = what.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {what}s")
    }
}

/// Runs `rules import`; returns the text for standard output (the scenario, or a confirmation when
/// it was written with `-o`) and the report for standard error (as warnings).
///
/// Exit status 0 when at least one egress rule was imported or the listing has none (rules that had to
/// be left out are reported as warnings), 2 when the files cannot be read or understood or when every
/// egress rule had to be left out.
pub fn import(opts: &ImportOptions) -> Result<Printed> {
    let rules_src = Source::read(&opts.rules)?;
    let rules = read_listing(&rules_src)?;
    let scenario_src = Source::read(&opts.scenario)?;
    let (base, mut notes) = load_base(&scenario_src)?;
    let lists = match &opts.lists {
        None => Lists::default(),
        Some(path) => Lists::read(&Source::read(path)?, &display_name(path))?,
    };
    let (policies, mut report) = plan(&rules, &base.world, &lists);
    report.notes.splice(0..0, notes.drain(..));
    let rules_name = display_name(&opts.rules);

    if policies.is_empty() && report.egress_rules > 0 {
        // Writing a scenario without any of the listing's policies would silently change what it
        // simulates; nothing usable came out, so this is an input error.
        let mut lines = report.lines(0, &rules_name);
        lines.pop();
        let error = InputError::in_file(
            &rules_src,
            if report.egress_rules == 1 {
                format!("the only egress rule in `{rules_name}` could not be imported")
            } else {
                format!(
                    "none of the {} egress rules in `{rules_name}` could be imported",
                    report.egress_rules
                )
            },
        )
        .with_help("the reasons are listed above; fix the addresses or expressions, or the scenario's `[[egress]]` tables");
        return Err(Error::Explained {
            warnings: lines,
            error: Box::new(error.into()),
        });
    }
    if policies.len() > MAX_POLICIES {
        return Err(InputError::in_file(
            &rules_src,
            format!(
                "`{rules_name}` has {} egress rules; a scenario supports at most {MAX_POLICIES} policies",
                policies.len()
            ),
        )
        .into());
    }

    let text = render(
        &scenario_src.text,
        &policies,
        &base.world.egress,
        &rules_name,
    )
    .map_err(|e| Error::Internal(format!("cannot edit the scenario text: {e}")))?;
    let out_name = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("<standard output>"));
    let compiled = scenario::compile(
        &Source::new(out_name, text.clone()),
        &Overrides::without_sweep(),
    )
    .map_err(|e| {
        Error::Internal(format!(
            "the imported scenario does not compile (a bug in `rules import`):\n{e}"
        ))
    })?;
    report.warnings = new_warnings(&base.warnings, &compiled.warnings);

    let warnings = report.lines(policies.len(), &rules_name);
    let text = match &opts.out {
        None => text,
        Some(out) => {
            write_atomic(out, &text)?;
            format!(
                "wrote {} ({})\n",
                out.display(),
                count(policies.len(), "egress policy")
            )
        }
    };
    Ok(Printed { text, warnings })
}

fn display_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Compiles the scenario whose egress IPs the addresses map to. Its current policies are about to be
/// replaced, so when only they are broken (the usual reason to re-import) the scenario is compiled
/// without them; any other error is the original one, pointing into the original file.
fn load_base(src: &Source) -> Result<(Loaded, Vec<String>)> {
    let original = match scenario::compile(src, &Overrides::without_sweep()) {
        Ok(loaded) => return Ok((loaded, Vec::new())),
        Err(e) => e,
    };
    let Ok(mut doc) = src.text.parse::<DocumentMut>() else {
        return Err(original);
    };
    if doc.remove("policy").is_none() {
        return Err(original);
    }
    match scenario::compile(&Source::new(src.path.clone(), doc.to_string()), &Overrides::without_sweep()) {
        Ok(loaded) => Ok((
            loaded,
            vec![format!(
                "the current policies of `{}` do not compile; they are replaced by the imported ones",
                src.path.display()
            )],
        )),
        Err(_) => Err(original),
    }
}

/// Warnings of the new scenario that the original did not have (compared without their locations,
/// which differ between the two files), so the user sees only what the import caused.
fn new_warnings(before: &[String], after: &[String]) -> Vec<String> {
    fn unlocated(w: &str) -> &str {
        w.rfind(" (").map_or(w, |i| &w[..i])
    }
    let old: HashSet<&str> = before.iter().map(|w| unlocated(w)).collect();
    after
        .iter()
        .filter(|w| !old.contains(unlocated(w)))
        .cloned()
        .collect()
}

/// Parses the rule listing: the API envelope or a bare array (see [`json::read_listing`]).
fn read_listing(src: &Source) -> Result<Vec<ApiRule>> {
    json::read_listing(src, &json::RULES)
}

/// `` `name` `` for messages, or the rule's position and id when it has no name.
fn rule_label(rule: &ApiRule, index: usize) -> String {
    match rule.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => format!("`{n}`"),
        _ => match rule.id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => format!("#{} (id `{id}`)", index + 1),
            None => format!("#{}", index + 1),
        },
    }
}

/// The expression universe of the scenario, so that imported expressions are type-checked exactly as
/// the scenario compiler will check them.
fn universe(world: &World) -> Universe {
    Universe {
        groups: world
            .groups
            .iter()
            .map(|g| GroupDef {
                name: g.name.clone(),
                id: g.id.clone(),
                email: g.email.clone(),
            })
            .collect(),
        posture_checks: world.posture_checks.clone(),
        vnets: world.vnets.clone(),
    }
}

/// Decides, rule by rule, what is imported; returns the policies in precedence order and the report.
fn plan(rules: &[ApiRule], world: &World, lists: &Lists) -> (Vec<Imported>, Report) {
    let universe = universe(world);
    let mut report = Report::default();
    // (listing index, rule) of the egress rules, so precedence can follow listing order.
    let egress_rules: Vec<(usize, &ApiRule)> = rules
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            let action = r.action.as_deref().unwrap_or("").trim();
            if action.eq_ignore_ascii_case("egress") {
                return true;
            }
            let shown = if action.is_empty() {
                "no action"
            } else {
                action
            };
            report.skipped.push((rule_label(r, *i), shown.to_string()));
            false
        })
        .collect();
    report.egress_rules = egress_rules.len();

    let mut names: HashSet<String> = HashSet::new();
    // In listing order, with the precedence as given; explicit ones are assigned below, over the
    // rules actually imported, so left-out rules do not leave gaps or notes.
    let mut out: Vec<(Option<i64>, Imported)> = Vec::new();
    for (i, rule) in &egress_rules {
        let label = rule_label(rule, *i);
        let mut problems = Vec::new();
        let name = rule.name.as_deref().unwrap_or("").trim().to_string();
        if name.is_empty() {
            problems.push("it has no `name`, which a scenario policy needs".to_string());
        }
        let (filters, used) = rule_filters(rule, lists, &universe, &mut problems);
        let settings = rule.rule_settings.as_ref().and_then(|s| s.egress.as_ref());
        let target = match map_target(&world.egress, settings) {
            Ok((t, notes)) => {
                report
                    .notes
                    .extend(notes.into_iter().map(|n| format!("rule {label}: {n}")));
                Some(t)
            }
            Err(mut why) => {
                problems.append(&mut why);
                None
            }
        };
        let (Some(target), true) = (target, problems.is_empty()) else {
            report.left_out.push((label, problems));
            continue;
        };
        if !used.is_empty() {
            report.notes.push(format!(
                "rule {label}: inlined list{} {}",
                super::json::plural(used.len()),
                used.join(", ")
            ));
        }
        let name = unique_name(&mut names, name, &mut report.notes);
        out.push((
            rule.precedence,
            Imported {
                id: rule
                    .id
                    .clone()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
                name,
                description: rule.description.clone().unwrap_or_default(),
                precedence: 0,
                enabled: rule.enabled.unwrap_or(true),
                filters,
                target,
            },
        ));
    }
    let given: Vec<Option<i64>> = out.iter().map(|(p, _)| *p).collect();
    let (precedences, note) = assign_precedence(&given);
    report.notes.extend(note);
    let mut policies: Vec<Imported> = out
        .into_iter()
        .zip(precedences)
        .map(|((_, p), precedence)| Imported { precedence, ..p })
        .collect();
    // Stable sort: listing order breaks precedence ties, as in Gateway and the scenario compiler.
    policies.sort_by_key(|p| p.precedence);
    (policies, report)
}

/// The rule's three filters in the scenario's canonical form, with the lists inlined into them;
/// anything that cannot be imported is added to `problems`.
fn rule_filters(
    rule: &ApiRule,
    lists: &Lists,
    universe: &Universe,
    problems: &mut Vec<String>,
) -> ([Option<String>; 3], Vec<String>) {
    let mut filters: [Option<String>; 3] = [None, None, None];
    // Lists inlined into this rule's expressions, for a note when it is imported.
    let mut used: Vec<String> = Vec::new();
    for kind in FilterKind::ALL {
        let text = match kind {
            FilterKind::Traffic => &rule.traffic,
            FilterKind::Identity => &rule.identity,
            FilterKind::DevicePosture => &rule.device_posture,
        };
        let resolved = match lists.resolve(text.as_deref().unwrap_or("")) {
            Ok(r) => r,
            Err(why) => {
                problems.extend(
                    why.iter()
                        .map(|w| format!("its `{}` expression {w}", kind.name())),
                );
                continue;
            }
        };
        for u in resolved.used {
            if !used.contains(&u) {
                used.push(u);
            }
        }
        match canonical_filter(&resolved.text, universe) {
            Ok(f) => filters[kind as usize] = f,
            Err(why) => problems.push(format!("its `{}` expression {why}", kind.name())),
        }
    }
    (filters, used)
}

/// Scenario policy names must be unique; Gateway's need not be. A suffix keeps every rule (and so the
/// evaluation order) rather than dropping one.
fn unique_name(names: &mut HashSet<String>, name: String, notes: &mut Vec<String>) -> String {
    if names.insert(name.clone()) {
        return name;
    }
    let mut n = 2;
    loop {
        let candidate = format!("{name} ({n})");
        if names.insert(candidate.clone()) {
            notes.push(format!(
                "two rules are named `{name}`; the later one is imported as `{candidate}`"
            ));
            return candidate;
        }
        n += 1;
    }
}

/// Explicit precedences for every imported rule (the scenario compiler rejects a mix of given and
/// missing ones). Missing ones follow listing order: all missing → 1000, 2000, ...; some missing → each
/// goes right after the rule listed before it (or before the first rule that has one).
fn assign_precedence(given: &[Option<i64>]) -> (Vec<i64>, Option<String>) {
    let missing = given.iter().filter(|p| p.is_none()).count();
    if missing == 0 {
        return (given.iter().map(|p| p.unwrap_or_default()).collect(), None);
    }
    if missing == given.len() {
        let out = (1..=given.len() as i64)
            .map(|i| i.saturating_mul(1000))
            .collect();
        return (
            out,
            Some("the rules have no `precedence`; they are numbered 1000, 2000, ... in listing order".into()),
        );
    }
    let leading = given.iter().take_while(|p| p.is_none()).count();
    let first = given.iter().flatten().next().copied().unwrap_or(0);
    let mut out = Vec::with_capacity(given.len());
    let mut last: i64 = 0;
    for (i, p) in given.iter().enumerate() {
        let v = match p {
            Some(v) => *v,
            None if i < leading => first.saturating_sub((leading - i) as i64),
            None => last.saturating_add(1),
        };
        out.push(v);
        last = v;
    }
    (
        out,
        Some(format!(
            "{} without `precedence` placed right after the rule listed before {}",
            count(missing, "rule"),
            if missing == 1 { "it" } else { "each" }
        )),
    )
}

/// Parses and type-checks one filter; `Ok(None)` when the filter is empty. The error says what is
/// wrong, with the expression and a caret under the offending text.
fn canonical_filter(text: &str, universe: &Universe) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let tree =
        expr::parse(text).map_err(|e| format!("does not parse:\n{}", indent(&e.render(text))))?;
    expr::compile(&tree, universe)
        .map_err(|e| format!("is not valid:\n{}", indent(&e.render(text))))?;
    Ok(Some(tree.to_string()))
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `None` for absent, `null` and blank fields, which the API uses interchangeably for "unset".
fn field(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Maps `rule_settings.egress` to an action. Collects every problem rather than stopping at the first,
/// so one run names all the addresses to fix. The notes report lenient matches.
fn map_target(
    egress: &[Egress],
    settings: Option<&ApiEgress>,
) -> Result<(Target, Vec<String>), Vec<String>> {
    let Some(s) = settings else {
        return Ok((Target::Default, Vec::new()));
    };
    let (v4, v6, fb) = (field(&s.ipv4), field(&s.ipv6), field(&s.ipv4_fallback));
    let Some(v4) = v4 else {
        if v6.is_none() && fb.is_none() {
            return Ok((Target::Default, Vec::new()));
        }
        return Err(vec![
            "`rule_settings.egress` has no `ipv4`, which dedicated egress needs (and is not empty, which would mean default egress)".into(),
        ]);
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let ipv4 = map_ipv4(egress, v4)
        .map_err(|e| problems.push(format!("`ipv4` {e}")))
        .ok();
    let ipv6 = match v6 {
        None => None,
        Some(t) => match map_ipv6(egress, t) {
            Ok((id, note)) => {
                notes.extend(note);
                Some(id)
            }
            Err(e) => {
                problems.push(format!("`ipv6` {e}"));
                None
            }
        },
    };
    let fallback = match fb {
        None => None,
        Some(t) => match map_fallback(egress, t) {
            Ok(f) => Some(f),
            Err(e) => {
                problems.push(format!("`ipv4_fallback` {e}"));
                None
            }
        },
    };
    if let (Some(p), Some(FallbackTarget::Egress(f))) = (ipv4, fallback) {
        // The scenario compiler refuses these (Cloudflare requires another location).
        if f == p {
            problems.push(format!(
                "`ipv4_fallback` {} is the primary address itself (egress `{}`)",
                egress[f].ipv4, egress[f].id
            ));
        } else if egress[f].datacenter == egress[p].datacenter {
            problems.push(format!(
                "`ipv4_fallback` {} (egress `{}`) is in the same data center as the primary (egress `{}`); Cloudflare requires another location",
                egress[f].ipv4, egress[f].id, egress[p].id
            ));
        }
    }
    match ipv4 {
        Some(ipv4) if problems.is_empty() => Ok((
            Target::Dedicated {
                ipv4,
                fallback,
                ipv6,
            },
            notes,
        )),
        _ => Err(problems),
    }
}

fn egress_v4_list(egress: &[Egress]) -> String {
    egress
        .iter()
        .map(|e| format!("{} {}", e.id, e.ipv4))
        .collect::<Vec<_>>()
        .join(", ")
}

fn egress_v6_list(egress: &[Egress]) -> String {
    let list: Vec<String> = egress
        .iter()
        .filter_map(|e| e.ipv6.map(|p| format!("{} {p}", e.id)))
        .collect();
    if list.is_empty() {
        "none has an IPv6 range".into()
    } else {
        list.join(", ")
    }
}

/// The egress IP whose IPv4 address is `text`.
fn map_ipv4(egress: &[Egress], text: &str) -> Result<usize, String> {
    let addr: Ipv4Addr = text
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not an IPv4 address", text.trim()))?;
    egress.iter().position(|e| e.ipv4 == addr).ok_or_else(|| {
        format!(
            "{addr} is not the address of any egress IP in the scenario ({})",
            egress_v4_list(egress)
        )
    })
}

/// `ipv4_fallback`: `0.0.0.0` is default egress, anything else an egress IP's address.
fn map_fallback(egress: &[Egress], text: &str) -> Result<FallbackTarget, String> {
    if text.trim().parse::<Ipv4Addr>() == Ok(Ipv4Addr::UNSPECIFIED) {
        return Ok(FallbackTarget::DefaultEgress);
    }
    map_ipv4(egress, text).map(FallbackTarget::Egress)
}

/// `address/length` (a bare address counts as /128) with host bits cleared, as (network, length).
fn parse_v6(text: &str) -> Result<(u128, u8), String> {
    let t = text.trim();
    let (a, l) = t.split_once('/').unwrap_or((t, "128"));
    let addr: Ipv6Addr = a.parse().map_err(|_| {
        format!("`{t}` is not an IPv6 range (expected `address/length`, e.g. `2001:db8:1::/48`)")
    })?;
    let len: u8 = l
        .parse()
        .ok()
        .filter(|l| *l <= 128)
        .ok_or_else(|| format!("`{t}` has an invalid prefix length (0 to 128)"))?;
    Ok((u128::from(addr) & mask(len), len))
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

/// The egress IP whose IPv6 range is `text`, comparing parsed prefixes (so `2001:DB8:A:0::/48` is
/// `2001:db8:a::/48`). A range or address inside exactly one egress range maps to it too, with a note,
/// because the API may list a sub-range of the dedicated range.
fn map_ipv6(egress: &[Egress], text: &str) -> Result<(usize, Option<String>), String> {
    let (net, len) = parse_v6(text)?;
    if let Some(i) = egress.iter().position(|e| {
        e.ipv6
            .is_some_and(|p| u128::from(p.addr) == net && p.len == len)
    }) {
        return Ok((i, None));
    }
    let inside: Vec<usize> = egress
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.ipv6
                .is_some_and(|p| len >= p.len && net & mask(p.len) == u128::from(p.addr))
        })
        .map(|(i, _)| i)
        .collect();
    match inside.as_slice() {
        [i] => {
            let e = &egress[*i];
            let range = e.ipv6.map(|p| p.to_string()).unwrap_or_default();
            Ok((
                *i,
                Some(format!(
                    "`ipv6` {} lies inside {}'s range {range}; imported as `{}`",
                    text.trim(),
                    e.id,
                    e.id
                )),
            ))
        }
        _ => Err(format!(
            "{} is not the IPv6 range of any egress IP in the scenario ({})",
            text.trim(),
            egress_v6_list(egress)
        )),
    }
}

/// A TOML string for an expression: a literal string (`'...'`, no escapes, so quotes inside the
/// expression stay readable) when possible, else a basic string.
fn toml_string(s: &str) -> Value {
    let literal_ok = !s.contains('\'') && !s.chars().any(|c| c.is_control() && c != '\t');
    if literal_ok {
        if let Ok(v) = format!("'{s}'").parse::<Value>() {
            return v;
        }
    }
    // JSON's string escapes are all valid TOML basic-string escapes; this keeps the value on one line
    // (`"a \"b\""`), where toml_edit's own choice would be a multi-line string.
    serde_json::to_string(s)
        .ok()
        .and_then(|json| json.parse::<Value>().ok())
        .unwrap_or_else(|| Value::from(s))
}

/// An egress id with its address as a trailing comment, so the scenario stays auditable against the
/// dashboard.
fn id_value(id: &str, address: &str) -> Value {
    let mut v = Value::from(id);
    v.decor_mut().set_suffix(format!("  # {address}"));
    v
}

/// Marks the block of imported policies; an earlier marker is dropped on re-import so they do not pile up.
const MARKER: &str = "# Policies imported by `egress-sim rules import`";

/// The scenario text with its `[[policy]]` tables replaced by `policies`. The comment block above the
/// first old policy (typically a section heading) is kept; comments inside old policies go with them.
fn render(
    scenario_text: &str,
    policies: &[Imported],
    egress: &[Egress],
    rules_name: &str,
) -> Result<String, toml_edit::TomlError> {
    let mut doc: DocumentMut = scenario_text.parse()?;
    let old = doc.remove("policy");
    let old_first = old
        .as_ref()
        .and_then(Item::as_array_of_tables)
        .and_then(|a| a.get(0));
    let heading: String = old_first
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .unwrap_or("\n")
        .split_inclusive('\n')
        .filter(|l| !l.starts_with(MARKER))
        .collect();
    // Old policies' place in the document when they had one; otherwise after every other table.
    let position = old_first
        .and_then(Table::position)
        .unwrap_or_else(|| max_position(doc.as_table()) + 1);
    let marker = format!("{MARKER} from `{rules_name}`.\n");

    if policies.is_empty() {
        let trailing = doc.trailing().as_str().unwrap_or("").to_string();
        doc.set_trailing(format!(
            "{trailing}{heading}{marker}# `{rules_name}` has no egress rules, so this scenario has no policies.\n"
        ));
        return Ok(doc.to_string());
    }

    let mut tables = ArrayOfTables::new();
    for (i, p) in policies.iter().enumerate() {
        let mut t = policy_table(p, egress);
        t.set_position(position);
        t.decor_mut().set_prefix(if i == 0 {
            format!("{heading}{marker}")
        } else {
            "\n".into()
        });
        tables.push(t);
    }
    doc.insert("policy", Item::ArrayOfTables(tables));
    Ok(doc.to_string())
}

/// Highest document position of any table, so new tables can go last.
fn max_position(table: &Table) -> usize {
    let mut max = table.position().unwrap_or(0);
    for (_, item) in table.iter() {
        match item {
            Item::Table(t) => max = max.max(max_position(t)),
            Item::ArrayOfTables(a) => {
                for t in a.iter() {
                    max = max.max(max_position(t));
                }
            }
            _ => {}
        }
    }
    max
}

fn policy_table(p: &Imported, egress: &[Egress]) -> Table {
    let mut t = Table::new();
    t.insert("name", Item::Value(Value::from(p.name.as_str())));
    if let Some(id) = &p.id {
        t.insert("id", Item::Value(Value::from(id.as_str())));
    }
    if !p.description.is_empty() {
        t.insert(
            "description",
            Item::Value(Value::from(p.description.as_str())),
        );
    }
    t.insert("precedence", Item::Value(Value::from(p.precedence)));
    if !p.enabled {
        t.insert("enabled", Item::Value(Value::from(false)));
    }
    for kind in FilterKind::ALL {
        if let Some(text) = &p.filters[kind as usize] {
            t.insert(kind.name(), Item::Value(toml_string(text)));
        }
    }
    // Indexes come from mapping against this same egress list; `get` keeps a mismatch from panicking.
    let id_of = |i: usize, v6: bool| {
        egress.get(i).map(|e| {
            let addr = if v6 {
                e.ipv6.map_or_else(String::new, |p| p.to_string())
            } else {
                e.ipv4.to_string()
            };
            id_value(&e.id, &addr)
        })
    };
    match p.target {
        Target::Default => {
            t.insert("egress", Item::Value(Value::from("default")));
        }
        Target::Dedicated {
            ipv4,
            fallback,
            ipv6,
        } => {
            if let Some(v) = id_of(ipv4, false) {
                t.insert("ipv4", Item::Value(v));
            }
            match fallback {
                None => {}
                Some(FallbackTarget::DefaultEgress) => {
                    let mut v = Value::from("0.0.0.0");
                    v.decor_mut().set_suffix("  # default Cloudflare egress");
                    t.insert("ipv4_fallback", Item::Value(v));
                }
                Some(FallbackTarget::Egress(i)) => {
                    if let Some(v) = id_of(i, false) {
                        t.insert("ipv4_fallback", Item::Value(v));
                    }
                }
            }
            if let Some(v) = ipv6.and_then(|i| id_of(i, true)) {
                t.insert("ipv6", Item::Value(v));
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{DcId, Ipv6Prefix};

    fn eg(id: &str, v4: &str, v6: Option<&str>) -> Egress {
        Egress {
            id: id.into(),
            datacenter: 0,
            ipv4: v4.parse().unwrap(),
            ipv6: v6.map(|s| s.parse::<Ipv6Prefix>().unwrap()),
            connection_limit: 40_000,
        }
    }

    /// Three egress IPs, each in its own data center.
    fn egress() -> Vec<Egress> {
        let mut out = vec![
            eg("lhr-1", "203.0.113.20", Some("2001:db8:b::/48")),
            eg("ams-1", "203.0.113.10", Some("2001:db8:a::/48")),
            eg("iad-1", "203.0.113.30", None),
        ];
        for (i, e) in out.iter_mut().enumerate() {
            e.datacenter = i as DcId;
        }
        out
    }

    fn settings(v4: &str, v6: &str, fb: &str) -> ApiEgress {
        let s = |x: &str| (!x.is_empty()).then(|| x.to_string());
        ApiEgress {
            ipv4: s(v4),
            ipv6: s(v6),
            ipv4_fallback: s(fb),
        }
    }

    #[test]
    fn ipv4_maps_by_address() {
        assert_eq!(map_ipv4(&egress(), "203.0.113.10"), Ok(1));
        assert_eq!(map_ipv4(&egress(), " 203.0.113.30 "), Ok(2));
        let e = map_ipv4(&egress(), "203.0.113.99").unwrap_err();
        assert!(
            e.contains("203.0.113.99") && e.contains("lhr-1 203.0.113.20"),
            "{e}"
        );
        let e = map_ipv4(&egress(), "lhr-1").unwrap_err();
        assert!(e.contains("not an IPv4 address"), "{e}");
    }

    #[test]
    fn ipv6_compares_parsed_prefixes() {
        assert_eq!(map_ipv6(&egress(), "2001:db8:a::/48"), Ok((1, None)));
        assert_eq!(map_ipv6(&egress(), "2001:0DB8:000A:0::/48"), Ok((1, None)));
        // A sub-range maps to its enclosing range, with a note.
        let (i, note) = map_ipv6(&egress(), "2001:db8:b:1::/64").unwrap();
        assert_eq!(i, 0);
        assert!(note.unwrap().contains("lies inside lhr-1"));
        // A wider range is not inside any egress range.
        assert!(map_ipv6(&egress(), "2001:db8::/32").is_err());
        assert!(map_ipv6(&egress(), "2001:db8:ff::/48")
            .unwrap_err()
            .contains("lhr-1 2001:db8:b::/48"));
        assert!(map_ipv6(&egress(), "2001:db8:a::/129").is_err());
        assert!(map_ipv6(&egress(), "203.0.113.10").is_err());
    }

    #[test]
    fn fallback_zero_is_default_egress() {
        assert_eq!(
            map_fallback(&egress(), "0.0.0.0"),
            Ok(FallbackTarget::DefaultEgress)
        );
        assert_eq!(
            map_fallback(&egress(), "203.0.113.20"),
            Ok(FallbackTarget::Egress(0))
        );
        assert!(map_fallback(&egress(), "198.51.100.1").is_err());
    }

    #[test]
    fn empty_settings_mean_default_egress() {
        assert_eq!(map_target(&egress(), None).unwrap().0, Target::Default);
        let s = settings("", "", "");
        assert_eq!(map_target(&egress(), Some(&s)).unwrap().0, Target::Default);
        let s = settings("  ", "", "");
        assert_eq!(map_target(&egress(), Some(&s)).unwrap().0, Target::Default);
    }

    #[test]
    fn dedicated_settings_map_every_address() {
        let s = settings("203.0.113.20", "2001:db8:b::/48", "203.0.113.10");
        assert_eq!(
            map_target(&egress(), Some(&s)).unwrap().0,
            Target::Dedicated {
                ipv4: 0,
                fallback: Some(FallbackTarget::Egress(1)),
                ipv6: Some(0)
            }
        );
    }

    #[test]
    fn a_fallback_in_the_primarys_data_center_is_left_out() {
        let mut egress = egress();
        egress[1].datacenter = egress[0].datacenter;
        let s = settings("203.0.113.20", "", "203.0.113.10");
        let problems = map_target(&egress, Some(&s)).unwrap_err();
        assert!(
            problems[0].contains("is in the same data center as the primary (egress `lhr-1`)"),
            "{problems:?}"
        );
        let s = settings("203.0.113.20", "", "203.0.113.20");
        let problems = map_target(&egress, Some(&s)).unwrap_err();
        assert!(
            problems[0].contains("is the primary address itself"),
            "{problems:?}"
        );
    }

    #[test]
    fn every_unmapped_address_is_reported() {
        let s = settings("203.0.113.99", "2001:db8:99::/48", "198.51.100.1");
        let problems = map_target(&egress(), Some(&s)).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("`ipv4` 203.0.113.99"));
        assert!(problems[1].starts_with("`ipv6` 2001:db8:99::/48"));
        assert!(problems[2].starts_with("`ipv4_fallback` 198.51.100.1"));
        let s = settings("", "2001:db8:b::/48", "");
        assert!(map_target(&egress(), Some(&s)).unwrap_err()[0].contains("no `ipv4`"));
    }

    #[test]
    fn precedence_given_missing_and_mixed() {
        assert_eq!(assign_precedence(&[Some(5), Some(1)]), (vec![5, 1], None));
        let (p, note) = assign_precedence(&[None, None, None]);
        assert_eq!(p, vec![1000, 2000, 3000]);
        assert!(note.is_some());
        let (p, _) = assign_precedence(&[None, None, Some(100), None, Some(50), None]);
        assert_eq!(p, vec![98, 99, 100, 101, 50, 51]);
        let (p, _) = assign_precedence(&[None, Some(i64::MIN), Some(i64::MAX), None]);
        assert_eq!(p, vec![i64::MIN, i64::MIN, i64::MAX, i64::MAX]);
    }

    #[test]
    fn filters_are_canonical_or_explained() {
        let u = Universe::default();
        assert_eq!(canonical_filter("", &u), Ok(None));
        assert_eq!(canonical_filter("   ", &u), Ok(None));
        assert_eq!(
            canonical_filter("net.dst.port   in {443   8443}", &u),
            Ok(Some("net.dst.port in {443 8443}".into()))
        );
        let e = canonical_filter("net.dst.port in {443", &u).unwrap_err();
        assert!(
            e.starts_with("does not parse:\n    net.dst.port in {443\n"),
            "{e}"
        );
        assert!(e.contains('^'), "{e}");
        let e = canonical_filter("net.dst.port == \"https\"", &u).unwrap_err();
        assert!(e.starts_with("is not valid:"), "{e}");
    }

    #[test]
    fn expression_strings_are_literal_when_possible() {
        assert_eq!(
            toml_string(r#"net.fqdn.host == "a.example""#).to_string(),
            r#"'net.fqdn.host == "a.example"'"#
        );
        let v = toml_string(r#"identity.name == "O'Brien""#);
        assert_eq!(v.as_str(), Some(r#"identity.name == "O'Brien""#));
        assert_eq!(v.to_string().trim(), r#""identity.name == \"O'Brien\"""#);
    }

    #[test]
    fn duplicate_names_get_a_suffix() {
        let mut names = HashSet::new();
        let mut notes = Vec::new();
        assert_eq!(unique_name(&mut names, "A".into(), &mut notes), "A");
        assert_eq!(unique_name(&mut names, "A".into(), &mut notes), "A (2)");
        assert_eq!(unique_name(&mut names, "A".into(), &mut notes), "A (3)");
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn listing_shapes() {
        let src = |t: &str| Source::new("r.json", t);
        let rules = read_listing(&src(
            r#"{"result": [{"name": "a", "action": "egress", "x": {"y": 1}}], "result_info": {}}"#,
        ))
        .unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(
            read_listing(&src(r#"[{"name": "a", "rule_settings": null}]"#))
                .unwrap()
                .len(),
            1
        );
        for bad in [
            r#"{"rules": []}"#,
            r#""x""#,
            r#"{"result": null}"#,
            r#"{"success": false, "errors": [{"code": 10000, "message": "Authentication error"}], "result": null}"#,
        ] {
            let e = read_listing(&src(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        let e = read_listing(&src(
            r#"{"success": false, "errors": [{"code": 10000, "message": "Authentication error"}]}"#,
        ))
        .unwrap_err();
        assert!(e.to_string().contains("10000: Authentication error"), "{e}");
    }

    #[test]
    fn json_errors_are_located() {
        let src = Source::new("r.json", "{\n  \"result\": [\n    {\"name\": 1}\n  ]\n}\n");
        let e = read_listing(&src).unwrap_err().to_string();
        assert!(e.contains("r.json:3:"), "{e}");
        let src = Source::new("r.json", "[\n  {\"name\": \"a\",}\n]");
        let e = read_listing(&src).unwrap_err().to_string();
        assert!(e.contains("r.json:2:"), "{e}");
        assert!(!e.contains("at line"), "{e}");
        assert_eq!(
            read_listing(&Source::new("r.json", "\u{feff}[]"))
                .unwrap()
                .len(),
            0
        );
        let e = read_listing(&Source::new("r.json", "")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn render_replaces_policies_and_keeps_the_rest() {
        let text = "# top\nname = \"x\"\n\n[[egress]]\nid = \"lhr-1\" # keep me\n\n# --- policies ---\n\n[[policy]]\nname = \"old\"\nipv4 = \"lhr-1\"\n\n# about old2\n[[policy]]\nname = \"old2\"\negress = \"default\"\n[[policy.conditions]]\nselector = \"x\"\n\n[[resource]]\nname = \"r\"\n";
        let p = Imported {
            id: Some("abc".into()),
            name: "new".into(),
            description: String::new(),
            precedence: 10,
            enabled: false,
            filters: [Some(r#"net.fqdn.host == "a""#.into()), None, None],
            target: Target::Dedicated {
                ipv4: 0,
                fallback: Some(FallbackTarget::DefaultEgress),
                ipv6: Some(1),
            },
        };
        let out = render(text, &[p], &egress(), "r.json").unwrap();
        assert!(out.starts_with("# top\n"), "{out}");
        assert!(out.contains("id = \"lhr-1\" # keep me"), "{out}");
        assert!(out.contains("# --- policies ---"), "{out}");
        assert!(
            !out.contains("old") && !out.contains("about old2") && !out.contains("selector"),
            "{out}"
        );
        assert!(out.contains("traffic = 'net.fqdn.host == \"a\"'"), "{out}");
        assert!(out.contains("ipv4 = \"lhr-1\"  # 203.0.113.20"), "{out}");
        assert!(out.contains("ipv6 = \"ams-1\"  # 2001:db8:a::/48"), "{out}");
        assert!(out.contains("ipv4_fallback = \"0.0.0.0\""), "{out}");
        assert!(out.contains("enabled = false"), "{out}");
        // The new policy sits where the old ones were, before `[[resource]]`.
        let (pol, res) = (
            out.find("[[policy]]").unwrap(),
            out.find("[[resource]]").unwrap(),
        );
        assert!(pol < res, "{out}");
        // Re-rendering does not pile up markers.
        let again = render(&out, &[], &egress(), "r.json").unwrap();
        assert_eq!(again.matches(MARKER).count(), 1, "{again}");
        assert!(!again.contains("[[policy]]"), "{again}");
    }

    #[test]
    fn report_summary() {
        let r = Report {
            egress_rules: 3,
            skipped: vec![("`Block`".into(), "block".into())],
            left_out: vec![("`Bad`".into(), vec!["x".into()])],
            ..Report::default()
        };
        let lines = r.lines(2, "r.json");
        assert_eq!(lines[0], "skipped 1 non-egress rule: `Block` (block)");
        assert_eq!(lines[1], "warning: rule `Bad` left out: x");
        assert_eq!(
            lines.last().unwrap(),
            "imported 2 egress policies; skipped 1 non-egress rule; 1 rule left out: `Bad`"
        );
        let none = Report::default().summary(0, "r.json");
        assert!(none.contains("has no egress rules"), "{none}");
    }
}
