//! Type checking and lowering of an [`Expr`] into a [`CompiledExpr`].
//!
//! Type errors are compile errors, never silent non-matches: a value of the wrong kind, an ordering
//! operator on a non-integer, a regex on a non-string, an array field used without `any`/`all` (or a
//! scalar inside them) and an invalid regex are all rejected with the span of the offending text.
//!
//! Names are resolved against the scenario's [`Universe`] here, once: group names/ids/emails and posture
//! check ids become bit masks, virtual-network names become indexes, and regexes over those are
//! evaluated against the declared names. A name the universe does not declare is a [`Warning`], not an
//! error (policies may mention groups no simulated user has); it simply never matches.
//!
//! Semantics where the reference is silent:
//! - `all(...)` over an empty array is true (vacuous truth, as in Cloudflare's `all()`); `any(...)` over
//!   an empty array is false.
//! - `!=` and `not in` inside `any`/`all` negate the per-element test: `any(identity.groups.name[*] !=
//!   "a")` means "the user has some group other than `a`".
//! - A device with no virtual network fails every positive `net.vnet_id` test and passes `!=`/`not in`.
//! - String comparison is exact and case-sensitive; suspicious literals (lowercase country codes,
//!   uppercase host names, unknown protocols) get a warning because they can never match.
//! - A CIDR with host bits set (`192.0.2.7/24`) means its network (`192.0.2.0/24`), with a warning.
//! - IPv4 addresses never match IPv6 values (no IPv4-mapped equivalence).

use std::net::IpAddr;

use regex::RegexBuilder;

use super::ast::{CompareOp, Comparison, Expr, Literal, Rhs, Span, Value};
use super::error::{ExprError, Warning};
use super::eval::{self, CompiledExpr, Leaf, Node, Quant, StrMatcher};
use super::field::{Field, FieldSet, ScalarType, ValueType};
use super::sets::{cidr_bounds, BitSet256, IntSet, IpSet, StrSet};
use super::MAX_DEPTH;

/// Most groups a universe may declare (they are indexed by a [`BitSet256`]).
pub const MAX_GROUPS: usize = 256;
/// Most posture checks a universe may declare.
pub const MAX_POSTURE_CHECKS: usize = 256;
/// Most virtual networks a universe may declare (indexes are `u16`).
pub const MAX_VNETS: usize = 65_535;
/// Compiled size limit for each regex, so a hostile pattern cannot exhaust memory.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One identity group a scenario declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupDef {
    /// `identity.groups.name`.
    pub name: String,
    /// `identity.groups.id`.
    pub id: String,
    /// `identity.groups.email`.
    pub email: String,
}

/// The names a scenario declares up front. Compilation maps names to small indexes into these lists,
/// and [`Facts`](super::Facts) refer to the same indexes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Universe {
    /// Identity groups (at most [`MAX_GROUPS`]); index `i` is bit `i` of `Facts::groups`.
    pub groups: Vec<GroupDef>,
    /// Posture check ids (at most [`MAX_POSTURE_CHECKS`]); index `i` is bit `i` of `Facts::posture_passed`.
    pub posture_checks: Vec<String>,
    /// Virtual network ids or names (at most [`MAX_VNETS`]); `Facts::vnet` is an index into this list.
    pub vnets: Vec<String>,
}

/// Type-checks `expr` and compiles it against `universe`. Returns the compiled form and any warnings
/// (names the universe does not declare, literals that can never match).
pub fn compile(
    expr: &Expr,
    universe: &Universe,
) -> Result<(CompiledExpr, Vec<Warning>), ExprError> {
    for (what, n, max) in [
        ("groups", universe.groups.len(), MAX_GROUPS),
        (
            "posture checks",
            universe.posture_checks.len(),
            MAX_POSTURE_CHECKS,
        ),
        ("virtual networks", universe.vnets.len(), MAX_VNETS),
    ] {
        if n > max {
            return Err(ExprError::new(
                Span::default(),
                format!("expected at most {max} {what} in the scenario, found {n}"),
            ));
        }
    }
    let mut c = Compiler {
        universe,
        nodes: Vec::new(),
        costs: Vec::new(),
        children: Vec::new(),
        warnings: Vec::new(),
        fields: FieldSet::EMPTY,
        depth: 0,
    };
    let root = c.expr(expr)?;
    let compiled = CompiledExpr {
        nodes: c.nodes.into_boxed_slice(),
        children: c.children.into_boxed_slice(),
        root,
        fields: c.fields,
    };
    Ok((compiled, c.warnings))
}

/// Parses and compiles in one step.
pub fn compile_str(
    src: &str,
    universe: &Universe,
) -> Result<(CompiledExpr, Vec<Warning>), ExprError> {
    compile(&super::parse(src)?, universe)
}

struct Compiler<'u> {
    universe: &'u Universe,
    nodes: Vec<Node>,
    /// Estimated evaluation cost of each node, parallel to `nodes`.
    costs: Vec<u32>,
    children: Vec<u32>,
    warnings: Vec<Warning>,
    fields: FieldSet,
    depth: usize,
}

/// Tree depth the compiler accepts: parsed trees stay far below it (each nesting level adds at most
/// four tree levels), but hand-built trees could be arbitrarily deep.
const MAX_TREE_DEPTH: usize = 4 * MAX_DEPTH + 4;

fn type_error(lit: &Literal, field: Field, expected: &str) -> ExprError {
    let mut e = ExprError::new(
        lit.span,
        match &lit.value {
            Value::Str(_) => format!(
                "expected {expected} for `{field}`, found a string {}",
                lit.value
            ),
            v => format!(
                "expected {expected} for `{field}`, found {} `{v}`",
                v.describe()
            ),
        },
    );
    if let Value::Str(s) = &lit.value {
        if s.parse::<i64>().is_ok() || s.parse::<IpAddr>().is_ok() {
            e = e.with_hint(format!("remove the quotes: {s}"));
        }
    } else if expected.starts_with("a string") {
        e = e.with_hint(format!("quote it: \"{}\"", lit.value));
    }
    e
}

impl Compiler<'_> {
    fn push(&mut self, node: Node) -> u32 {
        let cost = match &node {
            Node::Leaf(leaf) => leaf.cost(),
            Node::Not(c) => self.cost_of(*c),
            Node::And { start, len } | Node::Or { start, len } | Node::Xor { start, len } => {
                let (start, len) = (*start as usize, *len as usize);
                self.children
                    .get(start..start + len)
                    .unwrap_or(&[])
                    .iter()
                    .fold(0u32, |acc, c| acc.saturating_add(self.cost_of(*c)))
            }
        };
        self.nodes.push(node);
        self.costs.push(cost);
        // The arena holds at most one node per source token (≤ 16 KiB of source), far below u32::MAX.
        u32::try_from(self.nodes.len() - 1).unwrap_or(u32::MAX)
    }

    fn cost_of(&self, id: u32) -> u32 {
        self.costs.get(id as usize).copied().unwrap_or(0)
    }

    fn warn(&mut self, span: Span, message: String) {
        self.warnings.push(Warning {
            message,
            offset: span.start,
        });
    }

    fn expr(&mut self, e: &Expr) -> Result<u32, ExprError> {
        self.depth += 1;
        if self.depth > MAX_TREE_DEPTH {
            return Err(ExprError::new(
                e.span(),
                format!("expected at most {MAX_TREE_DEPTH} levels of expression tree, found more"),
            ));
        }
        let id = match e {
            Expr::Or { operands, .. } => {
                self.chain(operands, true, |start, len| Node::Or { start, len })?
            }
            Expr::And { operands, .. } => {
                self.chain(operands, true, |start, len| Node::And { start, len })?
            }
            Expr::Xor { operands, .. } => {
                self.chain(operands, false, |start, len| Node::Xor { start, len })?
            }
            Expr::Not { operand, .. } => {
                let inner = self.expr(operand)?;
                self.push(Node::Not(inner))
            }
            Expr::Compare(cmp) => {
                let leaf = self.leaf(cmp, None)?;
                self.push(Node::Leaf(leaf))
            }
            Expr::Any { cmp, span } => {
                let leaf = self.leaf(cmp, Some((Quant::Any, *span)))?;
                self.push(Node::Leaf(leaf))
            }
            Expr::All { cmp, span } => {
                let leaf = self.leaf(cmp, Some((Quant::All, *span)))?;
                self.push(Node::Leaf(leaf))
            }
        };
        self.depth -= 1;
        Ok(id)
    }

    /// Compiles the operands of a chain. Operands of `and`/`or` are pure, so they are reordered
    /// cheapest first (stable, so equal costs keep written order): short-circuiting then skips the
    /// expensive tests (regexes, array scans) whenever a cheap one already decides.
    fn chain(
        &mut self,
        operands: &[Expr],
        short_circuits: bool,
        make: fn(u32, u32) -> Node,
    ) -> Result<u32, ExprError> {
        let mut ids = operands
            .iter()
            .map(|o| self.expr(o))
            .collect::<Result<Vec<_>, _>>()?;
        if short_circuits {
            ids.sort_by_key(|id| self.cost_of(*id));
        }
        let start = u32::try_from(self.children.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        self.children.extend(ids);
        Ok(self.push(make(start, len)))
    }

    /// Type-checks one comparison and builds its leaf.
    fn leaf(&mut self, c: &Comparison, quant: Option<(Quant, Span)>) -> Result<Leaf, ExprError> {
        let field = c.field;
        self.fields.insert(field);
        let vt = field.value_type();
        match (vt, quant) {
            (ValueType::Array(_), None) => {
                return Err(ExprError::new(
                    c.field_span,
                    format!("expected a single-valued field, found `{field}`, which is an {vt}"),
                )
                .with_hint(format!("wrap it: any({field}[*] {} {})", c.op, c.rhs)));
            }
            (ValueType::Scalar(_), Some((q, span))) => {
                let name = if q == Quant::Any { "any" } else { "all" };
                return Err(ExprError::new(
                    if c.field_span == Span::default() {
                        span
                    } else {
                        c.field_span
                    },
                    format!(
                        "expected an array field inside {name}(...), found `{field}`, which is {}",
                        vt.element().describe()
                    ),
                )
                .with_hint(format!("compare it directly: {field} {} {}", c.op, c.rhs)));
            }
            _ => {}
        }
        let elem = vt.element();
        self.check_operator(c, elem)?;
        let negate = matches!(c.op, CompareOp::Ne | CompareOp::NotIn);
        let values: &[Literal] = match &c.rhs {
            Rhs::Value(l) => std::slice::from_ref(l),
            Rhs::Set { items, span } => {
                if !c.op.takes_set() {
                    return Err(ExprError::new(
                        *span,
                        format!("expected a single value after `{}`, found a set", c.op),
                    )
                    .with_hint(format!("use `in` to test membership: {field} in {}", c.rhs)));
                }
                items
            }
        };
        if !c.op.takes_set() {
            if let Some(l) = values
                .iter()
                .find(|l| matches!(l.value, Value::IntRange(..) | Value::IpRange(..)))
            {
                return Err(ExprError::new(
                    l.span,
                    format!("expected a single value after `{}`, found a range", c.op),
                )
                .with_hint(format!(
                    "ranges are only allowed inside a set: {field} in {{{}}}",
                    l.value
                )));
            }
        }
        let q = quant.map_or(Quant::Any, |(q, _)| q);
        match elem {
            ScalarType::Ip => self.ip_leaf(field, c.op, values, negate),
            ScalarType::Int => self.int_leaf(field, c.op, values, negate, q),
            ScalarType::Str => self.str_leaf(field, c.op, values, negate, q),
        }
    }

    fn check_operator(&self, c: &Comparison, elem: ScalarType) -> Result<(), ExprError> {
        let field = c.field;
        match c.op {
            CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge
                if elem != ScalarType::Int =>
            {
                let mut e = ExprError::new(
                    c.op_span,
                    format!(
                        "expected an integer field for `{}`, found `{field}`, which is {}",
                        c.op,
                        elem.describe()
                    ),
                );
                if elem == ScalarType::Ip {
                    e = e.with_hint(format!("test address ranges with a set: {field} in {{10.0.0.0/8 192.0.2.1..192.0.2.9}}"));
                }
                Err(e)
            }
            CompareOp::Matches if elem != ScalarType::Str => {
                let hint = match elem {
                    ScalarType::Ip => {
                        format!("match addresses with CIDRs or ranges: {field} in {{10.0.0.0/8}}")
                    }
                    _ => format!("match numbers with a set or range: {field} in {{8000..8080}}"),
                };
                Err(ExprError::new(
                    c.op_span,
                    format!(
                        "expected a string field for `matches`, found `{field}`, which is {}",
                        elem.describe()
                    ),
                )
                .with_hint(hint))
            }
            _ => Ok(()),
        }
    }

    fn ip_leaf(
        &mut self,
        field: Field,
        op: CompareOp,
        values: &[Literal],
        negate: bool,
    ) -> Result<Leaf, ExprError> {
        let mut ranges = Vec::with_capacity(values.len());
        for lit in values {
            ranges.push(match lit.value {
                Value::Ip(ip) => (ip, ip),
                Value::Cidr(ip, prefix) => {
                    let (lo, hi) = cidr_bounds(ip, prefix);
                    if lo != ip {
                        self.warn(
                            lit.span,
                            format!("`{}` has host bits set; it means {lo}/{prefix}", lit.value),
                        );
                    }
                    (lo, hi)
                }
                Value::IpRange(lo, hi) => (lo, hi),
                _ => {
                    let expected = if op.takes_set() {
                        "an IP address, CIDR or address range"
                    } else {
                        "an IP address or CIDR"
                    };
                    return Err(type_error(lit, field, expected));
                }
            });
        }
        let Some(ip_field) = eval::ip_field(field) else {
            return Err(ExprError::new(
                values.first().map_or(Span::default(), |l| l.span),
                format!("`{field}` is not an IP field"),
            ));
        };
        Ok(Leaf::Ip {
            field: ip_field,
            set: IpSet::from_ranges(ranges),
            negate,
        })
    }

    fn int_leaf(
        &mut self,
        field: Field,
        op: CompareOp,
        values: &[Literal],
        negate: bool,
        quant: Quant,
    ) -> Result<Leaf, ExprError> {
        let (min, max, what) = if field == Field::AppIds {
            (0, i64::from(u32::MAX), "application id")
        } else {
            (0, i64::from(u16::MAX), "port")
        };
        let mut ranges = Vec::with_capacity(values.len());
        for lit in values {
            // An empty range (`< i64::MIN`, `> i64::MAX`) is written (1, 0).
            let (lo, hi) = match (&lit.value, op) {
                (Value::Int(v), CompareOp::Lt) => {
                    v.checked_sub(1).map_or((1, 0), |h| (i64::MIN, h))
                }
                (Value::Int(v), CompareOp::Le) => (i64::MIN, *v),
                (Value::Int(v), CompareOp::Gt) => {
                    v.checked_add(1).map_or((1, 0), |l| (l, i64::MAX))
                }
                (Value::Int(v), CompareOp::Ge) => (*v, i64::MAX),
                (Value::Int(v), _) => (*v, *v),
                (Value::IntRange(lo, hi), _) => (*lo, *hi),
                _ => {
                    let expected = if op.takes_set() {
                        "an integer or integer range"
                    } else {
                        "an integer"
                    };
                    return Err(type_error(lit, field, expected));
                }
            };
            if lo > hi || hi < min || lo > max {
                let shown = match op {
                    CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge => {
                        format!("{op} {}", lit.value)
                    }
                    _ => lit.value.to_string(),
                };
                self.warn(
                    lit.span,
                    format!("`{shown}` cannot match any {what} ({min}..={max})"),
                );
            }
            ranges.push((lo, hi));
        }
        let set = IntSet::from_ranges(ranges);
        if field == Field::AppIds {
            return Ok(Leaf::AppIds { quant, set, negate });
        }
        match eval::port_field(field) {
            Some(pf) => Ok(Leaf::Port {
                field: pf,
                set,
                negate,
            }),
            None => Err(ExprError::new(
                values.first().map_or(Span::default(), |l| l.span),
                format!("`{field}` is not an integer field"),
            )),
        }
    }

    fn str_leaf(
        &mut self,
        field: Field,
        op: CompareOp,
        values: &[Literal],
        negate: bool,
        quant: Quant,
    ) -> Result<Leaf, ExprError> {
        let mut strings = Vec::with_capacity(values.len());
        for lit in values {
            match &lit.value {
                Value::Str(s) => strings.push((s.as_str(), lit.span)),
                _ => return Err(type_error(lit, field, "a string")),
            }
        }
        let matcher = if op == CompareOp::Matches {
            let (pattern, span) = strings.first().copied().unwrap_or(("", Span::default()));
            StrMatcher::Regex(build_regex(pattern, span)?)
        } else {
            for (s, span) in &strings {
                if let Some(why) = suspicious(field, s) {
                    self.warn(
                        *span,
                        format!("`{field}` compared with \"{s}\": {why}; it never matches"),
                    );
                }
            }
            match strings.as_slice() {
                [(one, _)] => StrMatcher::Eq((*one).into()),
                many => StrMatcher::In(StrSet::new(many.iter().map(|(s, _)| s.to_string()))),
            }
        };
        let values_span = values.first().map_or(Span::default(), |l| l.span);
        match field {
            Field::VnetId => Ok(self.vnet_leaf(&matcher, &strings, negate, values_span)),
            Field::GroupNames | Field::GroupIds | Field::GroupEmails | Field::PosturePassed => {
                Ok(self.bits_leaf(field, &matcher, &strings, negate, quant, values_span))
            }
            Field::Domains => Ok(Leaf::Domains {
                quant,
                matcher,
                negate,
            }),
            _ => match eval::str_field(field) {
                Some(sf) => Ok(Leaf::Str {
                    field: sf,
                    matcher,
                    negate,
                }),
                None => Err(ExprError::new(
                    values_span,
                    format!("`{field}` is not a string field"),
                )),
            },
        }
    }

    /// The names a universe-backed field is matched against, with the field's noun for warnings.
    fn universe_names(&self, field: Field) -> (Vec<&str>, &'static str) {
        let u = self.universe;
        match field {
            Field::GroupNames => (
                u.groups.iter().map(|g| g.name.as_str()).collect(),
                "group name",
            ),
            Field::GroupIds => (u.groups.iter().map(|g| g.id.as_str()).collect(), "group id"),
            Field::GroupEmails => (
                u.groups.iter().map(|g| g.email.as_str()).collect(),
                "group email",
            ),
            Field::PosturePassed => (
                u.posture_checks.iter().map(String::as_str).collect(),
                "posture check",
            ),
            _ => (
                u.vnets.iter().map(String::as_str).collect(),
                "virtual network",
            ),
        }
    }

    /// Indexes of the universe names the matcher accepts, warning about literals (or a regex) that
    /// match none of them.
    fn resolve(
        &mut self,
        field: Field,
        matcher: &StrMatcher,
        literals: &[(&str, Span)],
        span: Span,
    ) -> Vec<usize> {
        let (names, noun) = self.universe_names(field);
        let hits: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| matcher.matches(n))
            .map(|(i, _)| i)
            .collect();
        let mut warnings = Vec::new();
        if let StrMatcher::Regex(re) = matcher {
            if hits.is_empty() {
                warnings.push((span, format!("regex \"{re}\" matches no {noun} declared in the scenario; it never matches")));
            }
        } else {
            for (lit, lit_span) in literals {
                if !names.contains(lit) {
                    warnings.push((
                        *lit_span,
                        format!(
                            "no {noun} \"{lit}\" is declared in the scenario; it never matches"
                        ),
                    ));
                }
            }
        }
        for (s, m) in warnings {
            self.warn(s, m);
        }
        hits
    }

    fn vnet_leaf(
        &mut self,
        matcher: &StrMatcher,
        literals: &[(&str, Span)],
        negate: bool,
        span: Span,
    ) -> Leaf {
        let hits = self.resolve(Field::VnetId, matcher, literals, span);
        // `compile` rejected universes with more than u16::MAX vnets, so every index fits.
        let set: Box<[u16]> = hits
            .into_iter()
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        if set.is_empty() && !negate {
            return Leaf::Const(false);
        }
        Leaf::Vnet { set, negate }
    }

    fn bits_leaf(
        &mut self,
        field: Field,
        matcher: &StrMatcher,
        literals: &[(&str, Span)],
        negate: bool,
        quant: Quant,
        span: Span,
    ) -> Leaf {
        let hits = self.resolve(field, matcher, literals, span);
        let universe_size = self.universe_names(field).0.len();
        let mask: BitSet256 = hits
            .into_iter()
            .filter_map(|i| u8::try_from(i).ok())
            .collect();
        // The element test is "member is in mask" (or not in it, when negated); facts only ever hold
        // declared members, so the complement is taken within the declared ones.
        let mask = if negate {
            BitSet256::first_n(universe_size).difference(&mask)
        } else {
            mask
        };
        if field == Field::PosturePassed {
            Leaf::Posture { quant, mask }
        } else {
            Leaf::Groups { quant, mask }
        }
    }
}

/// Why comparing `field` with the literal `s` can never match, if it obviously cannot.
fn suspicious(field: Field, s: &str) -> Option<&'static str> {
    match field {
        Field::SrcCountry | Field::DstCountry
            if !(s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())) =>
        {
            Some("country codes are two uppercase letters (ISO 3166-1 alpha-2)")
        }
        Field::SrcContinent | Field::DstContinent
            if !["AF", "AN", "AS", "EU", "NA", "OC", "SA"].contains(&s) =>
        {
            Some("continent codes are AF, AN, AS, EU, NA, OC or SA")
        }
        Field::Protocol if !["tcp", "udp", "icmp"].contains(&s) => {
            Some("protocols are \"tcp\", \"udp\" or \"icmp\"")
        }
        Field::Host | Field::Domains
            if s.bytes().any(|b| b.is_ascii_uppercase()) || s.ends_with('.') =>
        {
            Some("host names are lowercase without a trailing dot")
        }
        _ => None,
    }
}

fn build_regex(pattern: &str, span: Span) -> Result<regex::Regex, ExprError> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => ExprError::new(
                span,
                format!(
                    "expected a regex that compiles to at most {limit} bytes, found a larger one"
                ),
            )
            .with_hint(
                "simplify the pattern; large counted repetitions such as {1000} are expensive",
            ),
            other => {
                let text = other.to_string();
                // Syntax errors render their own multi-line caret diagram; keep only the reason.
                let reason = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("error: "))
                    .unwrap_or(text.trim())
                    .to_string();
                ExprError::new(
                    span,
                    format!("expected a valid regex, found an invalid one: {reason}"),
                )
                .with_hint("the syntax is Rust's regex crate (https://docs.rs/regex)")
            }
        })
}
