//! Compiling `[[policy]]` tables: filter expressions (text or dashboard rows), precedence and actions.

use std::collections::HashSet;

use toml::Spanned;

use super::compile::Ctx;
use super::raw::{RawConditionRow, RawPolicy};
use crate::catalog::DataCenter;
use crate::error::{InputError, Source};
use crate::policy::expr::{self, ConditionRow, Expr, ExprError, Join, Universe};
use crate::policy::{Action, Condition, Fallback, FilterKind, Policy};
use crate::suggest;
use crate::world::{DcId, Egress, EgressId};

/// Most policies a scenario may have (per-user policy bookkeeping is a 256-bit set, one slot unmatched).
pub const MAX_POLICIES: usize = 255;

/// Byte offset in the file of byte `offset` inside the TOML string value at `span`, when the value is
/// written without escapes (the usual case for expressions); otherwise the start of the value.
fn offset_in_file(src: &Source, span: &std::ops::Range<usize>, offset: usize) -> usize {
    let raw = &src.text[span.clone()];
    let delim = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else {
        1
    };
    let mut start = span.start + delim;
    if delim == 3 {
        if src.text[start..].starts_with("\r\n") {
            start += 2;
        } else if src.text[start..].starts_with('\n') {
            start += 1;
        }
    }
    if raw.starts_with('\'') || !raw.contains('\\') {
        (start + offset).min(span.end)
    } else {
        span.start
    }
}

fn expr_error(cx: &mut Ctx, value: &Spanned<String>, policy: &str, kind: &str, e: &ExprError) {
    let at = offset_in_file(cx.src, &value.span(), e.offset);
    let mut err = InputError::at(
        cx.src,
        at..at + e.len.max(1),
        format!("in `{kind}` of policy `{policy}`: {}", e.message),
    );
    err.help = e.hint.clone();
    cx.errors.push(err);
}

/// The filter a field belongs to in Gateway's rule shape.
fn kind_of_field(f: expr::Field) -> FilterKind {
    let name = f.name();
    if name.starts_with("identity.") {
        FilterKind::Identity
    } else if name.starts_with("device_posture.") {
        FilterKind::DevicePosture
    } else {
        FilterKind::Traffic
    }
}

fn fields_of(e: &Expr, out: &mut Vec<expr::Field>) {
    match e {
        Expr::Or { operands, .. } | Expr::Xor { operands, .. } | Expr::And { operands, .. } => {
            operands.iter().for_each(|o| fields_of(o, out))
        }
        Expr::Not { operand, .. } => fields_of(operand, out),
        Expr::Compare(c) | Expr::Any { cmp: c, .. } | Expr::All { cmp: c, .. } => out.push(c.field),
    }
}

fn row_values(row: &RawConditionRow) -> Result<Vec<String>, String> {
    let one = |v: &toml::Value| match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        other => Err(format!(
            "condition values must be strings or integers, found {}",
            other.type_str()
        )),
    };
    match (&row.value, &row.values) {
        (Some(v), None) => Ok(vec![one(v)?]),
        (None, Some(vs)) => vs.iter().map(one).collect(),
        (Some(_), Some(_)) => Err("give either `value` or `values`, not both".into()),
        (None, None) => {
            Err("a condition needs `value = ...` (or `values = [...]` for `in`)".into())
        }
    }
}

/// `join` of a policy's `conditions` rows (default `and`); `None` after an error.
fn join(cx: &mut Ctx, p: &RawPolicy) -> Option<Join> {
    match p.join.as_ref().map(|j| j.get_ref().to_ascii_lowercase()) {
        None => Some(Join::And),
        Some(j) if j == "and" => Some(Join::And),
        Some(j) if j == "or" => Some(Join::Or),
        Some(j) => {
            if let Some(s) = &p.join {
                cx.err_help(
                    s.span(),
                    format!("unknown `join` `{j}`"),
                    Some("use `and` or `or`".into()),
                );
            }
            None
        }
    }
}

/// Compiles the structured rows into one expression per filter kind.
fn structured(
    cx: &mut Ctx,
    p: &RawPolicy,
    rows: &[Spanned<RawConditionRow>],
) -> [Option<(Expr, std::ops::Range<usize>)>; 3] {
    let mut out: [Option<(Expr, std::ops::Range<usize>)>; 3] = [None, None, None];
    let Some(join) = join(cx, p) else {
        return out;
    };
    let mut by_kind: [Vec<ConditionRow>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut spans: [Option<std::ops::Range<usize>>; 3] = [None, None, None];
    for (i, row) in rows.iter().enumerate() {
        let r = row.get_ref();
        let values = match row_values(r) {
            Ok(v) => v,
            Err(m) => {
                cx.err_help(
                    row.span(),
                    format!("condition {} of policy `{}`: {m}", i + 1, p.name.get_ref()),
                    None,
                );
                continue;
            }
        };
        let cr = ConditionRow {
            selector: r.selector.clone(),
            operator: r.operator.clone(),
            values,
        };
        match expr::rows_to_expr(std::slice::from_ref(&cr), Join::And) {
            Ok(e) => {
                let mut fields = Vec::new();
                fields_of(&e, &mut fields);
                let kind = fields
                    .first()
                    .map_or(FilterKind::Traffic, |f| kind_of_field(*f));
                by_kind[kind as usize].push(cr);
                spans[kind as usize].get_or_insert(row.span());
            }
            Err(e) => cx.err_help(
                row.span(),
                format!(
                    "condition {} of policy `{}`: {}",
                    i + 1,
                    p.name.get_ref(),
                    e.message
                ),
                e.hint.clone(),
            ),
        }
    }
    let used = by_kind.iter().filter(|k| !k.is_empty()).count();
    if join == Join::Or && used > 1 {
        if let Some(first) = rows.first() {
            cx.err_help(
                first.span(),
                format!("policy `{}` joins conditions with `or` across traffic, identity and posture selectors", p.name.get_ref()),
                Some("Gateway ANDs its three filters; write the `or` as a text expression inside one filter instead".into()),
            );
        }
        return out;
    }
    for kind in FilterKind::ALL {
        let rows = &by_kind[kind as usize];
        if rows.is_empty() {
            continue;
        }
        match expr::rows_to_expr(rows, join) {
            Ok(e) => out[kind as usize] = spans[kind as usize].clone().map(|s| (e, s)),
            Err(e) => {
                if let Some(s) = spans[kind as usize].clone() {
                    cx.err_help(
                        s,
                        format!("conditions of policy `{}`: {}", p.name.get_ref(), e.message),
                        e.hint.clone(),
                    );
                }
            }
        }
    }
    out
}

/// Resolves an egress reference: an egress id, its IPv4 address, or (for IPv6) its range.
fn resolve_egress(egress: &[Egress], text: &str) -> Option<EgressId> {
    let t = text.trim();
    egress
        .iter()
        .position(|e| {
            e.id == t
                || e.ipv4.to_string() == t
                || e.ipv6.is_some_and(|p| {
                    p.to_string() == t || t.parse::<crate::world::Ipv6Prefix>() == Ok(p)
                })
        })
        .map(|i| i as EgressId)
}

fn egress_ref(cx: &mut Ctx, egress: &[Egress], v: &Spanned<String>, key: &str) -> Option<EgressId> {
    let found = resolve_egress(egress, v.get_ref());
    if found.is_none() {
        cx.err_help(
            v.span(),
            format!(
                "`{key}` = `{}` is not an egress id or one of their addresses",
                v.get_ref()
            ),
            suggest::closest(v.get_ref(), egress.iter().map(|e| e.id.as_str()))
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| {
                    Some(format!(
                        "egress ids: {}",
                        egress
                            .iter()
                            .map(|e| e.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }),
        );
    }
    found
}

fn action(cx: &mut Ctx, p: &RawPolicy, egress: &[Egress], dcs: &[DataCenter]) -> Option<Action> {
    let name = p.name.get_ref();
    let mode = p.egress.as_ref().map(|e| e.get_ref().to_ascii_lowercase());
    match mode.as_deref() {
        Some("default") => {
            for (v, key) in [
                (&p.ipv4, "ipv4"),
                (&p.ipv4_fallback, "ipv4_fallback"),
                (&p.ipv6, "ipv6"),
            ] {
                if let Some(v) = v {
                    cx.err_help(
                        v.span(),
                        format!("policy `{name}` uses default egress, so `{key}` has no effect"),
                        Some("remove it, or set `egress = \"dedicated\"`".into()),
                    );
                }
            }
            return Some(Action::DefaultEgress);
        }
        Some("dedicated") | None => {}
        Some(other) => {
            if let Some(e) = &p.egress {
                cx.err_help(
                    e.span(),
                    format!("unknown egress method `{other}`"),
                    Some("use `dedicated` (with `ipv4`) or `default`".into()),
                );
            }
            return None;
        }
    }
    let Some(v4) = &p.ipv4 else {
        cx.err_help(
            p.name.span(),
            format!("policy `{name}` has no action"),
            Some(
                "add `ipv4 = \"<egress id>\"` for dedicated egress, or `egress = \"default\"`"
                    .into(),
            ),
        );
        return None;
    };
    let ipv4 = egress_ref(cx, egress, v4, "ipv4")?;
    let fallback = fallback(cx, p, ipv4, egress, dcs)?;
    let ipv6 = match &p.ipv6 {
        None => ipv4,
        Some(v) => egress_ref(cx, egress, v, "ipv6")?,
    };
    if egress[ipv6 as usize].ipv6.is_none() {
        cx.warn(
            p.ipv6.as_ref().unwrap_or(v4).span(),
            format!(
                "policy `{name}`: egress `{}` has no IPv6 range, so IPv6 traffic matching this policy uses default egress",
                egress[ipv6 as usize].id
            ),
        );
    }
    Some(Action::Dedicated {
        ipv4,
        fallback,
        ipv6,
    })
}

/// A dedicated policy's `ipv4_fallback`, checked against Cloudflare's rule that the secondary IPv4 is
/// in a different location than the primary: the primary itself, or an IP in the primary's data
/// center, is an error. No fallback is allowed but warned about (enabled policies only): Cloudflare
/// recommends one for every egress policy, since without it the policy's IPv4 traffic is not routed
/// while the primary's data center is down. `None` after an error.
fn fallback(
    cx: &mut Ctx,
    p: &RawPolicy,
    ipv4: EgressId,
    egress: &[Egress],
    dcs: &[DataCenter],
) -> Option<Fallback> {
    let name = p.name.get_ref();
    let primary = &egress[ipv4 as usize];
    let pdc = &dcs[primary.datacenter as usize];
    let other = nearest_in_other_datacenter(egress, dcs, primary.datacenter);
    let Some(f) = &p.ipv4_fallback else {
        if p.enabled.unwrap_or(true) {
            let at = p.ipv4.as_ref().map_or(p.name.span(), |v| v.span());
            let add = other.as_ref().map_or(String::new(), |e| {
                format!(
                    "`ipv4_fallback = \"{e}\"` (the nearest egress IP in another data center) or "
                )
            });
            cx.warn(
                at,
                format!(
                    "policy `{name}` has no `ipv4_fallback`: its IPv4 traffic is dropped whenever {} ({}) is unavailable (Cloudflare recommends a fallback for every egress policy); add {add}`\"0.0.0.0\"` for default egress",
                    pdc.code, pdc.city
                ),
            );
        }
        return Some(Fallback::None);
    };
    let advice = || {
        format!(
            "Cloudflare requires the secondary IPv4 in another location than the primary: use {}`\"0.0.0.0\"` (default egress)",
            other.as_ref().map_or(String::new(), |e| format!(
                "`{e}` (the nearest egress IP in another data center) or "
            ))
        )
    };
    if matches!(f.get_ref().trim(), "0.0.0.0" | "default") {
        return Some(Fallback::DefaultEgress);
    }
    let fb = egress_ref(cx, egress, f, "ipv4_fallback")?;
    if fb == ipv4 {
        cx.err_help(
            f.span(),
            format!(
                "policy `{name}`: `ipv4_fallback` is the primary `{}` itself, so nothing takes over when it fails",
                primary.id
            ),
            Some(advice()),
        );
        return None;
    }
    if egress[fb as usize].datacenter == primary.datacenter {
        cx.err_help(
            f.span(),
            format!(
                "policy `{name}`: `ipv4_fallback` `{}` is in the same data center ({}, {}) as the primary `{}`, so one data-center failure takes both down",
                egress[fb as usize].id, pdc.code, pdc.city, primary.id
            ),
            Some(advice()),
        );
        return None;
    }
    Some(Fallback::Egress(fb))
}

/// The egress IP nearest to data center `dc` among those in other data centers.
fn nearest_in_other_datacenter(egress: &[Egress], dcs: &[DataCenter], dc: DcId) -> Option<String> {
    let here = dcs[dc as usize].location;
    let km = |e: &Egress| here.distance_km(dcs[e.datacenter as usize].location);
    egress
        .iter()
        .filter(|e| e.datacenter != dc)
        .min_by(|a, b| km(a).total_cmp(&km(b)))
        .map(|e| e.id.clone())
}

/// Compiles every `[[policy]]`, sorted by precedence.
pub(super) fn policies(
    cx: &mut Ctx,
    raw: &[RawPolicy],
    egress: &[Egress],
    dcs: &[DataCenter],
    universe: &Universe,
) -> Vec<Policy> {
    if raw.len() > MAX_POLICIES {
        cx.err_help(
            raw[MAX_POLICIES].name.span(),
            format!("at most {MAX_POLICIES} policies are supported"),
            None,
        );
        return Vec::new();
    }
    let explicit = raw.iter().filter(|p| p.precedence.is_some()).count();
    if explicit > 0 && explicit < raw.len() {
        if let Some(p) = raw.iter().find(|p| p.precedence.is_none()) {
            cx.err_help(
                p.name.span(),
                format!(
                    "policy `{}` has no `precedence` but others do",
                    p.name.get_ref()
                ),
                Some("give every policy a `precedence`, or none (then file order decides)".into()),
            );
        }
    }
    let mut names = HashSet::new();
    let mut seen_precedence: HashSet<i64> = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, p) in raw.iter().enumerate() {
        let name = p.name.get_ref().trim().to_string();
        if name.is_empty() {
            cx.err_help(p.name.span(), "policy `name` must not be empty", None);
        } else if !names.insert(name.clone()) {
            cx.err_help(
                p.name.span(),
                format!("duplicate policy name `{name}`"),
                Some("names identify policies in policies.csv; make them unique".into()),
            );
        }
        let precedence = precedence(cx, p, i, &mut seen_precedence);
        let filters = filters(cx, p, &name, universe);
        let action = action(cx, p, egress, dcs);
        if let (Some(filters), Some(action)) = (filters, action) {
            out.push(Policy {
                id: p.id.clone().unwrap_or_else(|| derived_id(&name)),
                name,
                description: p.description.clone().unwrap_or_default(),
                precedence,
                enabled: p.enabled.unwrap_or(true),
                filters,
                action,
                require_egress_in: None,
            });
        }
    }
    // Stable: equal precedence keeps file order.
    out.sort_by_key(|p| p.precedence);
    out
}

/// The policy's `precedence`, or its position × 1000 when no policy gives one.
fn precedence(cx: &mut Ctx, p: &RawPolicy, index: usize, seen: &mut HashSet<i64>) -> i64 {
    let Some(v) = &p.precedence else {
        return (index as i64 + 1) * 1000;
    };
    if !seen.insert(*v.get_ref()) {
        cx.warn(
            v.span(),
            format!(
                "precedence {} is used twice; file order breaks the tie",
                v.get_ref()
            ),
        );
    }
    *v.get_ref()
}

/// Which filter of which policy is being compiled, and the names it may refer to.
#[derive(Clone, Copy)]
struct FilterAt<'a> {
    policy: &'a str,
    kind: FilterKind,
    universe: &'a Universe,
}

/// A policy's three filters, each from text or from `conditions` rows; `None` after an error.
fn filters(
    cx: &mut Ctx,
    p: &RawPolicy,
    name: &str,
    universe: &Universe,
) -> Option<[Option<Condition>; 3]> {
    let texts = [&p.traffic, &p.identity, &p.device_posture];
    let rows = p.conditions.as_ref().map(|rows| structured(cx, p, rows));
    if p.join.is_some() && p.conditions.is_none() {
        if let Some(j) = &p.join {
            cx.err_help(
                j.span(),
                "`join` applies to `conditions` rows, and this policy has none",
                None,
            );
        }
    }
    let mut filters: [Option<Condition>; 3] = [None, None, None];
    let mut ok = true;
    for kind in FilterKind::ALL {
        let k = kind as usize;
        let at = FilterAt {
            policy: name,
            kind,
            universe,
        };
        let from_rows = rows.as_ref().and_then(|r| r[k].clone());
        match filter(cx, at, texts[k].as_ref(), from_rows) {
            Ok(f) => filters[k] = f,
            Err(()) => ok = false,
        }
    }
    ok.then_some(filters)
}

/// One filter from its text or its rows (`Ok(None)` when the policy has none); `Err` after an error.
fn filter(
    cx: &mut Ctx,
    at: FilterAt,
    text: Option<&Spanned<String>>,
    from_rows: Option<(Expr, std::ops::Range<usize>)>,
) -> Result<Option<Condition>, ()> {
    let (tree, span) = match (text, from_rows) {
        (Some(_), Some((_, rspan))) => {
            cx.err_help(
                rspan,
                format!(
                    "policy `{}` gives `{}` both as text and as `conditions` rows",
                    at.policy,
                    at.kind.name()
                ),
                Some("use one form per filter".into()),
            );
            return Err(());
        }
        (Some(t), None) => {
            if t.get_ref().trim().is_empty() {
                return Ok(None);
            }
            match expr::parse(t.get_ref()) {
                Ok(e) => (e, t.span()),
                Err(e) => {
                    expr_error(cx, t, at.policy, at.kind.name(), &e);
                    return Err(());
                }
            }
        }
        (None, Some((e, s))) => (e, s),
        (None, None) => return Ok(None),
    };
    let mut fields = Vec::new();
    fields_of(&tree, &mut fields);
    if let Some(f) = fields.iter().find(|f| kind_of_field(**f) != at.kind) {
        cx.warn(
            span.clone(),
            format!(
                "policy `{}`: `{}` tests `{}`, which Gateway puts in the `{}` filter",
                at.policy,
                at.kind.name(),
                f.name(),
                kind_of_field(*f).name()
            ),
        );
    }
    compile_filter(cx, at, tree, span, text).map(Some)
}

/// Type-checks a parsed filter against the scenario's names. Errors and warnings point into the
/// text (`text`) when the filter was written as one, else at its first row (`span`).
fn compile_filter(
    cx: &mut Ctx,
    at: FilterAt,
    tree: Expr,
    span: std::ops::Range<usize>,
    text: Option<&Spanned<String>>,
) -> Result<Condition, ()> {
    let name = at.policy;
    match expr::compile(&tree, at.universe) {
        Ok((compiled, warnings)) => {
            for w in warnings {
                let at = match text {
                    Some(t) => offset_in_file(cx.src, &t.span(), w.offset),
                    None => span.start,
                };
                cx.warn(at..at + 1, format!("policy `{name}`: {}", w.message));
            }
            Ok(Condition {
                text: tree.to_string(),
                expr: tree,
                compiled,
            })
        }
        Err(e) => {
            match text {
                Some(t) => expr_error(cx, t, name, at.kind.name(), &e),
                None => cx.err_help(
                    span,
                    format!("conditions of policy `{name}`: {}", e.message),
                    e.hint.clone(),
                ),
            }
            Err(())
        }
    }
}

/// A stable, readable id for a policy that has none: its name in lower case with dashes.
pub fn derived_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}
