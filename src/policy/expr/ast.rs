//! The syntax tree of a filter expression, and its canonical printing.
//!
//! The tree keeps grouping exactly as written: `a and b and c` is one `And` with three operands, while
//! `a and (b and c)` is an `And` whose second operand is another `And`. That makes printing a faithful
//! inverse of parsing (`parse(&e.to_string())` gives `e` back, spans aside) without an explicit
//! parenthesis node, and keeps the tree's depth bounded by the written nesting, not by chain length.
//!
//! Every node carries a [`Span`] into the source so that later stages (type checking) can point at the
//! offending text. Trees built without source text (the dashboard rows) use [`Span::default`].

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use super::field::Field;

/// A region of the expression source.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// 1-based char column of `start` (0 when the node has no source text).
    pub column: usize,
}

impl Span {
    /// The span from the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end.max(self.start),
            column: self.column,
        }
    }
}

/// A literal value written in an expression.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Value {
    /// A quoted string (escapes already resolved).
    Str(String),
    /// A decimal integer.
    Int(i64),
    /// An inclusive integer range `lo..hi` (only inside sets; `lo <= hi`).
    IntRange(i64, i64),
    /// A single IP address.
    Ip(IpAddr),
    /// A network in CIDR notation, kept as written (host bits are masked off when compiling).
    Cidr(IpAddr, u8),
    /// An inclusive address range `lo..hi` (only inside sets; same family, `lo <= hi`).
    IpRange(IpAddr, IpAddr),
}

impl Value {
    /// A human description of the value's kind, with an article ("a string").
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::IntRange(..) => "an integer range",
            Value::Ip(_) => "an IP address",
            Value::Cidr(..) => "a CIDR network",
            Value::IpRange(..) => "an IP address range",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write_quoted(f, s),
            Value::Int(i) => write!(f, "{i}"),
            Value::IntRange(lo, hi) => write!(f, "{lo}..{hi}"),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::Cidr(ip, prefix) => write!(f, "{ip}/{prefix}"),
            Value::IpRange(lo, hi) => write!(f, "{lo}..{hi}"),
        }
    }
}

/// Writes `s` as a double-quoted string literal that the lexer reads back to exactly `s`.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            // Control characters are legal inside strings but invisible; print them escaped.
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// A value with its position in the source.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Literal {
    /// The value.
    pub value: Value,
    /// Where it was written.
    pub span: Span,
}

impl Literal {
    /// A literal without source position.
    pub fn new(value: Value) -> Self {
        Literal {
            value,
            span: Span::default(),
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Rhs {
    /// One value (`== 443`, `matches "^a"`).
    Value(Literal),
    /// A set `{a b c}` (at least one element), for `in` and `not in`.
    Set {
        /// The elements, in written order.
        items: Vec<Literal>,
        /// From `{` to `}`.
        span: Span,
    },
}

impl fmt::Display for Rhs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rhs::Value(lit) => write!(f, "{}", lit.value),
            Rhs::Set { items, .. } => {
                f.write_char('{')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    write!(f, "{}", item.value)?;
                }
                f.write_char('}')
            }
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CompareOp {
    /// `==` / `eq`.
    Eq,
    /// `!=` / `ne`.
    Ne,
    /// `<` / `lt`.
    Lt,
    /// `<=` / `le`.
    Le,
    /// `>` / `gt`.
    Gt,
    /// `>=` / `ge`.
    Ge,
    /// `in {...}`.
    In,
    /// `not in {...}` written after the field (`x not in {...}`); `not x in {...}` is instead a
    /// [`Expr::Not`] around an `In`.
    NotIn,
    /// `matches "regex"` / `~`.
    Matches,
}

impl CompareOp {
    /// The canonical spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::In => "in",
            CompareOp::NotIn => "not in",
            CompareOp::Matches => "matches",
        }
    }

    /// Whether the operator takes a set on its right.
    pub fn takes_set(self) -> bool {
        matches!(self, CompareOp::In | CompareOp::NotIn)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// `field OP value`. Inside `any(...)`/`all(...)` the field is written `field[*]` and the comparison
/// applies to each element.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Comparison {
    /// The field tested.
    pub field: Field,
    /// Where the field name was written.
    pub field_span: Span,
    /// The operator.
    pub op: CompareOp,
    /// Where the operator was written.
    pub op_span: Span,
    /// The value or set compared with.
    pub rhs: Rhs,
    /// The whole comparison.
    pub span: Span,
}

impl Comparison {
    /// A comparison without source positions.
    pub fn new(field: Field, op: CompareOp, rhs: Rhs) -> Self {
        let span = Span::default();
        Comparison {
            field,
            field_span: span,
            op,
            op_span: span,
            rhs,
            span,
        }
    }

    /// Writes the comparison, with `[*]` after the field when `element` is set.
    fn write(&self, f: &mut fmt::Formatter<'_>, element: bool) -> fmt::Result {
        let star = if element { "[*]" } else { "" };
        match &self.rhs {
            // A hand-built `in` with a single value still prints as parseable text.
            Rhs::Value(l) if self.op.takes_set() => {
                write!(f, "{}{star} {} {{{}}}", self.field, self.op, l.value)
            }
            rhs => write!(f, "{}{star} {} {rhs}", self.field, self.op),
        }
    }
}

/// A filter expression.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Expr {
    /// True when any operand is (`or`, `||`); at least two operands.
    Or {
        /// The operands, in written order.
        operands: Vec<Expr>,
        /// The whole disjunction.
        span: Span,
    },
    /// True when an odd number of operands are (`xor`, `^^`); at least two operands.
    Xor {
        /// The operands, in written order.
        operands: Vec<Expr>,
        /// The whole expression.
        span: Span,
    },
    /// True when all operands are (`and`, `&&`); at least two operands.
    And {
        /// The operands, in written order.
        operands: Vec<Expr>,
        /// The whole conjunction.
        span: Span,
    },
    /// Negation (`not`, `!`).
    Not {
        /// The negated expression.
        operand: Box<Expr>,
        /// From the `not` to the end of the operand.
        span: Span,
    },
    /// A comparison on a scalar field.
    Compare(Comparison),
    /// `any(field[*] OP value)`: some element satisfies the comparison (false for an empty array).
    Any {
        /// The per-element comparison.
        cmp: Comparison,
        /// From `any` to `)`.
        span: Span,
    },
    /// `all(field[*] OP value)`: every element satisfies the comparison (true for an empty array).
    All {
        /// The per-element comparison.
        cmp: Comparison,
        /// From `all` to `)`.
        span: Span,
    },
}

/// Binding strength for printing: higher binds tighter.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    Xor,
    And,
    Not,
    Atom,
}

impl Expr {
    /// The source region of the whole expression.
    pub fn span(&self) -> Span {
        match self {
            Expr::Or { span, .. }
            | Expr::Xor { span, .. }
            | Expr::And { span, .. }
            | Expr::Not { span, .. }
            | Expr::Any { span, .. }
            | Expr::All { span, .. } => *span,
            Expr::Compare(c) => c.span,
        }
    }

    /// A copy with every span reset to [`Span::default`], for comparing trees by structure only.
    #[must_use]
    pub fn without_spans(&self) -> Expr {
        let none = Span::default();
        let strip_cmp = |c: &Comparison| Comparison {
            field: c.field,
            field_span: none,
            op: c.op,
            op_span: none,
            rhs: match &c.rhs {
                Rhs::Value(l) => Rhs::Value(Literal::new(l.value.clone())),
                Rhs::Set { items, .. } => Rhs::Set {
                    items: items
                        .iter()
                        .map(|l| Literal::new(l.value.clone()))
                        .collect(),
                    span: none,
                },
            },
            span: none,
        };
        let strip_all = |ops: &[Expr]| ops.iter().map(Expr::without_spans).collect();
        match self {
            Expr::Or { operands, .. } => Expr::Or {
                operands: strip_all(operands),
                span: none,
            },
            Expr::Xor { operands, .. } => Expr::Xor {
                operands: strip_all(operands),
                span: none,
            },
            Expr::And { operands, .. } => Expr::And {
                operands: strip_all(operands),
                span: none,
            },
            Expr::Not { operand, .. } => Expr::Not {
                operand: Box::new(operand.without_spans()),
                span: none,
            },
            Expr::Compare(c) => Expr::Compare(strip_cmp(c)),
            Expr::Any { cmp, .. } => Expr::Any {
                cmp: strip_cmp(cmp),
                span: none,
            },
            Expr::All { cmp, .. } => Expr::All {
                cmp: strip_cmp(cmp),
                span: none,
            },
        }
    }

    fn prec(&self) -> Prec {
        match self {
            Expr::Or { .. } => Prec::Or,
            Expr::Xor { .. } => Prec::Xor,
            Expr::And { .. } => Prec::And,
            Expr::Not { .. } => Prec::Not,
            Expr::Compare(_) | Expr::Any { .. } | Expr::All { .. } => Prec::Atom,
        }
    }

    /// Writes a chain `a OP b OP c`. An operand of the same or a looser level is parenthesised: a
    /// looser one because precedence requires it, the same level because the tree records explicit
    /// grouping (`a and (b and c)`) that an unparenthesised print would flatten.
    fn write_chain(
        f: &mut fmt::Formatter<'_>,
        operands: &[Expr],
        op: &str,
        level: Prec,
    ) -> fmt::Result {
        for (i, e) in operands.iter().enumerate() {
            if i > 0 {
                write!(f, " {op} ")?;
            }
            if e.prec() <= level {
                write!(f, "({e})")?;
            } else {
                write!(f, "{e}")?;
            }
        }
        Ok(())
    }
}

/// Prints canonical text: lowercase keywords (`and`, `or`, `xor`, `not`), symbolic comparison
/// operators, space-separated sets, strings with only `\"`, `\\` and `\xHH` (control characters)
/// escaped, and the minimum parentheses that preserve the tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or { operands, .. } => Expr::write_chain(f, operands, "or", Prec::Or),
            Expr::Xor { operands, .. } => Expr::write_chain(f, operands, "xor", Prec::Xor),
            Expr::And { operands, .. } => Expr::write_chain(f, operands, "and", Prec::And),
            Expr::Not { operand, .. } => {
                if operand.prec() < Prec::Not {
                    write!(f, "not ({operand})")
                } else {
                    write!(f, "not {operand}")
                }
            }
            Expr::Compare(c) => c.write(f, false),
            Expr::Any { cmp, .. } => {
                f.write_str("any(")?;
                cmp.write(f, true)?;
                f.write_char(')')
            }
            Expr::All { cmp, .. } => {
                f.write_str("all(")?;
                cmp.write(f, true)?;
                f.write_char(')')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: Field, op: CompareOp, v: Value) -> Comparison {
        Comparison::new(field, op, Rhs::Value(Literal::new(v)))
    }

    #[test]
    fn prints_values() {
        assert_eq!(
            Value::Str("a\"b\\c\n".into()).to_string(),
            r#""a\"b\\c\x0a""#
        );
        assert_eq!(Value::IntRange(8000, 8080).to_string(), "8000..8080");
        assert_eq!(
            Value::Cidr("2001:db8::".parse().unwrap(), 32).to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            Value::IpRange("10.0.0.1".parse().unwrap(), "10.0.0.9".parse().unwrap()).to_string(),
            "10.0.0.1..10.0.0.9"
        );
    }

    #[test]
    fn prints_minimal_parentheses() {
        let a = Expr::Compare(cmp(Field::DstPort, CompareOp::Eq, Value::Int(1)));
        let b = Expr::Compare(cmp(Field::DstPort, CompareOp::Eq, Value::Int(2)));
        let and = Expr::And {
            operands: vec![a.clone(), b.clone()],
            span: Span::default(),
        };
        let or = Expr::Or {
            operands: vec![and.clone(), a.clone()],
            span: Span::default(),
        };
        assert_eq!(
            or.to_string(),
            "net.dst.port == 1 and net.dst.port == 2 or net.dst.port == 1"
        );
        let and2 = Expr::And {
            operands: vec![a.clone(), or.clone()],
            span: Span::default(),
        };
        assert!(and2.to_string().contains("== 1 and (net.dst.port == 1 and"));
        let nested = Expr::And {
            operands: vec![a.clone(), and.clone()],
            span: Span::default(),
        };
        assert_eq!(
            nested.to_string(),
            "net.dst.port == 1 and (net.dst.port == 1 and net.dst.port == 2)"
        );
        let not = Expr::Not {
            operand: Box::new(and),
            span: Span::default(),
        };
        assert_eq!(
            not.to_string(),
            "not (net.dst.port == 1 and net.dst.port == 2)"
        );
        let not_cmp = Expr::Not {
            operand: Box::new(b),
            span: Span::default(),
        };
        assert_eq!(not_cmp.to_string(), "not net.dst.port == 2");
    }

    #[test]
    fn prints_any_all_and_sets() {
        let c = Comparison::new(
            Field::GroupNames,
            CompareOp::In,
            Rhs::Set {
                items: vec![
                    Literal::new(Value::Str("finance".into())),
                    Literal::new(Value::Str("hr".into())),
                ],
                span: Span::default(),
            },
        );
        let any = Expr::Any {
            cmp: c.clone(),
            span: Span::default(),
        };
        assert_eq!(
            any.to_string(),
            r#"any(identity.groups.name[*] in {"finance" "hr"})"#
        );
        let all = Expr::All {
            cmp: Comparison {
                op: CompareOp::NotIn,
                ..c
            },
            span: Span::default(),
        };
        assert_eq!(
            all.to_string(),
            r#"all(identity.groups.name[*] not in {"finance" "hr"})"#
        );
    }

    #[test]
    fn span_to_joins() {
        let a = Span {
            start: 3,
            end: 5,
            column: 4,
        };
        let b = Span {
            start: 9,
            end: 12,
            column: 10,
        };
        assert_eq!(
            a.to(b),
            Span {
                start: 3,
                end: 12,
                column: 4
            }
        );
    }
}
