//! Recursive-descent parser from source text to [`Expr`].
//!
//! Grammar (lowest precedence first; chains are left-associative and n-ary):
//!
//! ```text
//! expr     := xor_expr (("or" | "||") xor_expr)*
//! xor_expr := and_expr (("xor" | "^^") and_expr)*
//! and_expr := unary (("and" | "&&") unary)*
//! unary    := ("not" | "!") unary | primary
//! primary  := "(" expr ")" | ("any" | "all") "(" FIELD "[*]" tail ")" | FIELD tail
//! tail     := ("==" | "eq" | "!=" | "ne" | "<" | "lt" | "<=" | "le" | ">" | "gt" | ">=" | "ge") value
//!           | ("in" | "not" "in") "{" item ("," ? item)* "}"
//!           | ("matches" | "~") string
//! ```
//!
//! The parser checks syntax and field names only; whether a value suits a field is the compiler's job
//! (see `compile.rs`), so a hand-built tree and a parsed one get the same checks.
//!
//! Robustness: input is capped at [`MAX_SOURCE_LEN`] bytes and nesting (parentheses, `not`, `any`/`all`)
//! at [`MAX_DEPTH`] levels before recursion goes deeper, so no input can overflow the stack; every
//! slice index is a char boundary produced by the lexer, so no input can panic.

use std::net::IpAddr;

use super::ast::{CompareOp, Comparison, Expr, Literal, Rhs, Span, Value};
use super::error::ExprError;
use super::field::{Field, ScalarType, ValueType};
use super::lexer::{Lexer, Tok, Token};
use super::{MAX_DEPTH, MAX_SOURCE_LEN};

/// Words with a meaning of their own; never field names or values.
const KEYWORDS: [&str; 14] = [
    "and", "or", "xor", "not", "eq", "ne", "lt", "le", "gt", "ge", "in", "matches", "any", "all",
];

fn is_keyword(w: &str) -> bool {
    KEYWORDS.contains(&w)
}

fn is_kw(tok: &Tok<'_>, kw: &str) -> bool {
    matches!(tok, Tok::Word(w) if *w == kw)
}

/// Parses a filter expression. See the module docs for the grammar.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    if src.len() > MAX_SOURCE_LEN {
        let mut at = MAX_SOURCE_LEN;
        while !src.is_char_boundary(at) {
            at -= 1;
        }
        let column = src[..at].chars().count() + 1;
        return Err(ExprError::new(
            Span {
                start: at,
                end: src.len(),
                column,
            },
            format!(
                "expected at most {MAX_SOURCE_LEN} bytes of expression, found {}",
                src.len()
            ),
        )
        .with_hint("split the condition over several policies"));
    }
    let mut p = Parser {
        lexer: Lexer::new(src),
        peeked: None,
        depth: 0,
    };
    let expr = p.or_chain()?;
    let t = p.next()?;
    match t.tok {
        Tok::Eof => Ok(expr),
        Tok::RParen => Err(ExprError::new(
            t.span,
            "expected `and`, `or`, `xor` or end of input, found `)` without a matching `(`",
        )),
        tok => {
            let err = ExprError::new(
                t.span,
                format!(
                    "expected `and`, `or`, `xor` or end of input, found {}",
                    tok.describe()
                ),
            );
            Err(with_case_hint(err, &tok))
        }
    }
}

/// Adds a hint when a word is a keyword written in the wrong case (`AND`).
fn with_case_hint(err: ExprError, tok: &Tok<'_>) -> ExprError {
    match tok {
        Tok::Word(w) if is_keyword(&w.to_ascii_lowercase()) && !is_keyword(w) => err.with_hint(
            format!("keywords are lowercase: `{}`", w.to_ascii_lowercase()),
        ),
        _ => err,
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    depth: usize,
}

/// The binary chain levels, loosest first.
#[derive(Clone, Copy)]
enum Level {
    Or,
    Xor,
    And,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<&Token<'a>, ExprError> {
        let t = match self.peeked.take() {
            Some(t) => t,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(t))
    }

    fn next(&mut self) -> Result<Token<'a>, ExprError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next_token(),
        }
    }

    /// Enters one nesting level, refusing to go past [`MAX_DEPTH`].
    fn enter(&mut self, span: Span) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                span,
                format!("expected at most {MAX_DEPTH} levels of nesting (parentheses, `not`, any/all), found more"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn or_chain(&mut self) -> Result<Expr, ExprError> {
        self.chain(Level::Or)
    }

    fn chain(&mut self, level: Level) -> Result<Expr, ExprError> {
        let first = self.chain_operand(level)?;
        if !self.at_chain_op(level)? {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at_chain_op(level)? {
            self.next()?;
            operands.push(self.chain_operand(level)?);
        }
        let span = match (operands.first(), operands.last()) {
            (Some(a), Some(b)) => a.span().to(b.span()),
            _ => Span::default(),
        };
        Ok(match level {
            Level::Or => Expr::Or { operands, span },
            Level::Xor => Expr::Xor { operands, span },
            Level::And => Expr::And { operands, span },
        })
    }

    fn chain_operand(&mut self, level: Level) -> Result<Expr, ExprError> {
        match level {
            Level::Or => self.chain(Level::Xor),
            Level::Xor => self.chain(Level::And),
            Level::And => self.unary(),
        }
    }

    fn at_chain_op(&mut self, level: Level) -> Result<bool, ExprError> {
        let tok = &self.peek()?.tok;
        Ok(match level {
            Level::Or => is_kw(tok, "or") || *tok == Tok::OrOr,
            Level::Xor => is_kw(tok, "xor") || *tok == Tok::XorXor,
            Level::And => is_kw(tok, "and") || *tok == Tok::AndAnd,
        })
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let tok = &self.peek()?.tok;
        if is_kw(tok, "not") || *tok == Tok::Bang {
            let t = self.next()?;
            self.enter(t.span)?;
            let operand = self.unary()?;
            self.leave();
            let span = t.span.to(operand.span());
            return Ok(Expr::Not {
                operand: Box::new(operand),
                span,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let t = self.next()?;
        match t.tok {
            Tok::LParen => {
                self.enter(t.span)?;
                let e = self.or_chain()?;
                self.expect_close(t.span, "(")?;
                self.leave();
                Ok(e)
            }
            Tok::Word(w @ ("any" | "all")) => self.quantified(w == "any", t.span),
            Tok::Word(w) if !is_keyword(w) => {
                let field = resolve_field(w, t.span)?;
                if self.peek()?.tok == Tok::LBracket {
                    let span = self.peek()?.span;
                    return Err(ExprError::new(
                        span,
                        format!("expected a comparison operator after `{field}`, found `[`"),
                    )
                    .with_hint(format!("`[*]` is only valid inside any(...) or all(...): any({field}[*] == ...)")));
                }
                let cmp = self.comparison(field, t.span)?;
                Ok(Expr::Compare(cmp))
            }
            tok => Err(ExprError::new(
                t.span,
                format!(
                    "expected a comparison such as `net.dst.port == 443`, `(`, `not`, `any(` or `all(`, found {}",
                    tok.describe()
                ),
            )),
        }
    }

    fn expect_close(&mut self, open: Span, what: &str) -> Result<Token<'a>, ExprError> {
        let t = self.next()?;
        if t.tok == Tok::RParen {
            return Ok(t);
        }
        let err = ExprError::new(
            t.span,
            format!(
                "expected `)` to close the `{what}` at column {}, found {}",
                open.column,
                t.tok.describe()
            ),
        );
        Err(with_case_hint(err, &t.tok))
    }

    /// `any(FIELD[*] tail)` / `all(...)`, the keyword already consumed.
    fn quantified(&mut self, is_any: bool, kw: Span) -> Result<Expr, ExprError> {
        let name = if is_any { "any" } else { "all" };
        let open = self.next()?;
        if open.tok != Tok::LParen {
            return Err(ExprError::new(
                open.span,
                format!("expected `(` after `{name}`, found {}", open.tok.describe()),
            )
            .with_hint(format!("{name}(identity.groups.name[*] == \"x\")")));
        }
        self.enter(kw)?;
        let ft = self.next()?;
        let field = match ft.tok {
            Tok::Word(w) if !is_keyword(w) => resolve_field(w, ft.span)?,
            tok => {
                return Err(ExprError::new(
                    ft.span,
                    format!("expected an array field such as `identity.groups.name[*]` inside {name}(...), found {}", tok.describe()),
                ))
            }
        };
        for want in [Tok::LBracket, Tok::Star, Tok::RBracket] {
            let t = self.next()?;
            if t.tok != want {
                return Err(ExprError::new(
                    t.span,
                    format!(
                        "expected `[*]` after `{field}` inside {name}(...), found {}",
                        t.tok.describe()
                    ),
                )
                .with_hint(format!("{name}({field}[*] == ...)")));
            }
        }
        let cmp = self.comparison(field, ft.span)?;
        let close = self.expect_close(open.span, &format!("{name}("))?;
        self.leave();
        let span = kw.to(close.span);
        Ok(if is_any {
            Expr::Any { cmp, span }
        } else {
            Expr::All { cmp, span }
        })
    }

    /// The operator and right-hand side after a field.
    fn comparison(&mut self, field: Field, field_span: Span) -> Result<Comparison, ExprError> {
        let t = self.next()?;
        let op = match &t.tok {
            Tok::EqEq => CompareOp::Eq,
            Tok::Ne => CompareOp::Ne,
            Tok::Lt => CompareOp::Lt,
            Tok::Le => CompareOp::Le,
            Tok::Gt => CompareOp::Gt,
            Tok::Ge => CompareOp::Ge,
            Tok::Tilde => CompareOp::Matches,
            Tok::Word("eq") => CompareOp::Eq,
            Tok::Word("ne") => CompareOp::Ne,
            Tok::Word("lt") => CompareOp::Lt,
            Tok::Word("le") => CompareOp::Le,
            Tok::Word("gt") => CompareOp::Gt,
            Tok::Word("ge") => CompareOp::Ge,
            Tok::Word("in") => CompareOp::In,
            Tok::Word("matches") => CompareOp::Matches,
            Tok::Word("not") => CompareOp::NotIn,
            tok => {
                return Err(ExprError::new(
                    t.span,
                    format!(
                        "expected a comparison operator (==, !=, <, <=, >, >=, in, not in, matches) after `{field}`, found {}",
                        tok.describe()
                    ),
                )
                .with_hint(format!("fields are not booleans; compare the field, for example {}", example(field))));
            }
        };
        let mut op_span = t.span;
        if op == CompareOp::NotIn {
            let t2 = self.next()?;
            if !is_kw(&t2.tok, "in") {
                return Err(ExprError::new(
                    t2.span,
                    format!("expected `in` after `not`, found {}", t2.tok.describe()),
                ));
            }
            op_span = op_span.to(t2.span);
        }
        let rhs = if op.takes_set() {
            self.set(op)?
        } else if op == CompareOp::Matches {
            self.regex()?
        } else {
            self.single_value(field, op)?
        };
        let end = match &rhs {
            Rhs::Value(l) => l.span,
            Rhs::Set { span, .. } => *span,
        };
        Ok(Comparison {
            field,
            field_span,
            op,
            op_span,
            rhs,
            span: field_span.to(end),
        })
    }

    fn single_value(&mut self, field: Field, op: CompareOp) -> Result<Rhs, ExprError> {
        let t = self.next()?;
        let value = match t.tok {
            Tok::Str(s) => Value::Str(s),
            Tok::Word(w) if !is_keyword(w) => {
                let v = classify(w, t.span)?;
                if matches!(v, Value::IntRange(..) | Value::IpRange(..)) {
                    return Err(ExprError::new(
                        t.span,
                        format!("expected a single value after `{op}`, found the range `{w}`"),
                    )
                    .with_hint(format!(
                        "ranges are only allowed inside a set: {field} in {{{w}}}"
                    )));
                }
                v
            }
            Tok::List(name) => return Err(list_error(name, t.span)),
            Tok::LBrace => {
                return Err(ExprError::new(
                    t.span,
                    format!("expected a single value after `{op}`, found `{{`"),
                )
                .with_hint(format!(
                    "use `in` to test membership in a set: {field} in {{...}}"
                )))
            }
            tok => {
                return Err(ExprError::new(
                    t.span,
                    format!("expected a value after `{op}`, found {}", tok.describe()),
                ))
            }
        };
        Ok(Rhs::Value(Literal {
            value,
            span: t.span,
        }))
    }

    fn regex(&mut self) -> Result<Rhs, ExprError> {
        let t = self.next()?;
        match t.tok {
            Tok::Str(s) => Ok(Rhs::Value(Literal {
                value: Value::Str(s),
                span: t.span,
            })),
            tok => Err(ExprError::new(
                t.span,
                format!(
                    "expected a quoted regex after `matches`, found {}",
                    tok.describe()
                ),
            )
            .with_hint("quote the pattern: matches \"^api\\\\.\"  or  matches r\"^api\\.\"")),
        }
    }

    /// `{ item (,? item)* }`.
    fn set(&mut self, op: CompareOp) -> Result<Rhs, ExprError> {
        let open = self.next()?;
        match open.tok {
            Tok::LBrace => {}
            Tok::List(name) => return Err(list_error(name, open.span)),
            tok => {
                return Err(ExprError::new(
                    open.span,
                    format!("expected `{{` after `{op}`, found {}", tok.describe()),
                )
                .with_hint("sets are written in braces: in {443 8443}"))
            }
        }
        let mut items = Vec::new();
        let mut after_item = false;
        loop {
            let t = self.next()?;
            let value = match t.tok {
                Tok::RBrace if !items.is_empty() => {
                    return Ok(Rhs::Set {
                        items,
                        span: open.span.to(t.span),
                    });
                }
                Tok::RBrace => {
                    return Err(ExprError::new(
                        t.span,
                        "expected at least one value in the set, found `}`",
                    ));
                }
                Tok::Comma if after_item => {
                    after_item = false;
                    continue;
                }
                Tok::Str(s) => Value::Str(s),
                Tok::Word(w) if !is_keyword(w) => classify(w, t.span)?,
                Tok::List(name) => return Err(list_error(name, t.span)),
                Tok::Eof => {
                    return Err(ExprError::new(
                        t.span,
                        format!(
                            "expected `}}` to close the set at column {}, found end of input",
                            open.span.column
                        ),
                    ))
                }
                tok => {
                    return Err(ExprError::new(
                        t.span,
                        format!(
                            "expected a value or `}}` in the set, found {}",
                            tok.describe()
                        ),
                    ))
                }
            };
            items.push(Literal {
                value,
                span: t.span,
            });
            after_item = true;
        }
    }
}

fn list_error(name: &str, span: Span) -> ExprError {
    ExprError::new(span, format!("list references (${name}) are not supported"))
        .with_hint("write the values inline: in {\"a\" \"b\"}")
}

/// An example comparison on `field`, for hints.
fn example(field: Field) -> String {
    match field.value_type() {
        ValueType::Scalar(ScalarType::Ip) => format!("`{field} == 192.0.2.1`"),
        ValueType::Scalar(ScalarType::Int) => format!("`{field} == 443`"),
        ValueType::Scalar(ScalarType::Str) => format!("`{field} == \"...\"`"),
        ValueType::Array(ScalarType::Int) => format!("`any({field}[*] == 505)`"),
        ValueType::Array(_) => format!("`any({field}[*] == \"...\")`"),
    }
}

fn resolve_field(w: &str, span: Span) -> Result<Field, ExprError> {
    if let Some(f) = Field::from_name(w) {
        return Ok(f);
    }
    let looks_like_value = w.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == ':');
    let mut err = ExprError::new(
        span,
        if looks_like_value {
            format!("expected a field name, found `{w}`")
        } else {
            format!("expected a field name, found unknown field `{w}`")
        },
    );
    let lower = w.to_ascii_lowercase();
    if is_keyword(&lower) && lower != w {
        err = err.with_hint(format!("keywords are lowercase: `{lower}`"));
    } else if let Some(f) = Field::suggest(w) {
        err = err.with_hint(format!("did you mean `{f}`?"));
    } else if looks_like_value {
        err = err.with_hint("put the field on the left: net.dst.port == 443");
    }
    Err(err)
}

/// A sub-span of a word token, `from..to` in bytes (words are ASCII, so bytes are columns).
fn sub_span(span: Span, from: usize, to: usize) -> Span {
    Span {
        start: span.start + from,
        end: span.start + to,
        column: span.column + from,
    }
}

/// Interprets a word in value position: integer, IP, CIDR, or a `lo..hi` range of either.
pub(super) fn classify(w: &str, span: Span) -> Result<Value, ExprError> {
    let Some(i) = w.find("..") else {
        return scalar(w, span);
    };
    let (a, b) = (&w[..i], &w[i + 2..]);
    if a.is_empty() || b.is_empty() {
        return Err(ExprError::new(
            span,
            format!("expected a value on both sides of `..`, found `{w}`"),
        ));
    }
    let lo = scalar(a, sub_span(span, 0, i))?;
    let hi = scalar(b, sub_span(span, i + 2, w.len()))?;
    match (lo, hi) {
        (Value::Int(l), Value::Int(h)) if l <= h => Ok(Value::IntRange(l, h)),
        (Value::Int(l), Value::Int(h)) => Err(ExprError::new(span, format!("expected the low end first in range `{w}`, found {l} > {h}"))
            .with_hint(format!("write {h}..{l}"))),
        (Value::Ip(l), Value::Ip(h)) => match (l, h) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) if l <= h => Ok(Value::IpRange(l, h)),
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                Err(ExprError::new(span, format!("expected the low end first in range `{w}`, found {l} > {h}"))
                    .with_hint(format!("write {h}..{l}")))
            }
            _ => Err(ExprError::new(span, format!("expected both ends of range `{w}` in the same IP family, found IPv4 and IPv6"))),
        },
        (Value::Cidr(..), _) | (_, Value::Cidr(..)) => Err(ExprError::new(
            span,
            format!("expected plain addresses at the ends of range `{w}`, found a CIDR network"),
        )),
        (l, h) => Err(ExprError::new(
            span,
            format!("expected both ends of range `{w}` to be integers or both IP addresses, found {} and {}", l.describe(), h.describe()),
        )),
    }
}

/// Interprets a word without `..`.
fn scalar(w: &str, span: Span) -> Result<Value, ExprError> {
    if let Some(f) = Field::from_name(w) {
        return Err(
            ExprError::new(span, format!("expected a value, found the field `{f}`"))
                .with_hint("comparing two fields is not supported; compare with a literal value"),
        );
    }
    if w.contains(':') || w.contains('.') {
        return ip_or_cidr(w, span);
    }
    let digits = w.strip_prefix('-').unwrap_or(w);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return w.parse::<i64>().map(Value::Int).map_err(|_| {
            ExprError::new(
                span,
                format!(
                    "expected an integer between {} and {}, found `{w}`",
                    i64::MIN,
                    i64::MAX
                ),
            )
        });
    }
    let mut err = ExprError::new(
        span,
        format!(
            "expected a value (a quoted string, integer, IP address, CIDR or range), found `{w}`"
        ),
    );
    if w.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        err = err.with_hint(format!("strings must be quoted: \"{w}\""));
    }
    Err(err)
}

fn ip_or_cidr(w: &str, span: Span) -> Result<Value, ExprError> {
    let (addr_text, prefix_text) = match w.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (w, None),
    };
    let addr: IpAddr = addr_text.parse().map_err(|_| {
        let mut e = ExprError::new(
            sub_span(span, 0, addr_text.len()),
            format!("expected an IP address, found `{addr_text}`"),
        );
        if !w.contains(':')
            && w.split('.').all(|p| {
                p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
        {
            e = e.with_hint(format!(
                "host names and other strings must be quoted: \"{w}\""
            ));
        }
        e
    })?;
    let Some(p) = prefix_text else {
        return Ok(Value::Ip(addr));
    };
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let p_span = sub_span(span, addr_text.len(), w.len());
    match p.parse::<u8>() {
        Ok(bits) if bits <= max && p.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Value::Cidr(addr, bits))
        }
        _ => Err(ExprError::new(
            p_span,
            format!("expected a prefix length 0..={max} after `/`, found `/{p}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Expr {
        match parse(src) {
            Ok(e) => e,
            Err(e) => panic!("{src}: {}", e.render(src)),
        }
    }

    fn err(src: &str) -> ExprError {
        match parse(src) {
            Ok(e) => panic!("{src} parsed as {e}"),
            Err(e) => e,
        }
    }

    /// Asserts the error's caret column and that its message contains `needle`.
    fn err_at(src: &str, column: usize, needle: &str) -> ExprError {
        let e = err(src);
        assert_eq!(e.column, column, "{src}\n{}", e.render(src));
        assert!(
            e.message.contains(needle),
            "{src}: message {:?} lacks {needle:?}",
            e.message
        );
        e
    }

    #[test]
    fn precedence_not_and_xor_or() {
        let e = ok("net.dst.port == 1 or net.dst.port == 2 and not net.dst.port == 3 xor net.dst.port == 4");
        // or( 1, xor( and(2, not 3), 4 ) )
        let Expr::Or { operands, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(operands.len(), 2);
        let Expr::Xor { operands: x, .. } = &operands[1] else {
            panic!()
        };
        assert!(
            matches!(&x[0], Expr::And { operands, .. } if matches!(operands[1], Expr::Not { .. }))
        );
    }

    #[test]
    fn chains_are_flat_but_parentheses_nest() {
        let Expr::And { operands, .. } =
            ok("net.dst.port == 1 and net.dst.port == 2 && net.dst.port == 3")
        else {
            panic!()
        };
        assert_eq!(operands.len(), 3);
        let Expr::And { operands, .. } =
            ok("net.dst.port == 1 and (net.dst.port == 2 and net.dst.port == 3)")
        else {
            panic!()
        };
        assert_eq!(operands.len(), 2);
        assert!(matches!(operands[1], Expr::And { .. }));
    }

    #[test]
    fn spans_point_at_source() {
        let src = "net.src.port == 5000 and net.dst.ip in {10.0.0.0/8}";
        let Expr::And { operands, span } = ok(src) else {
            panic!()
        };
        assert_eq!((span.start, span.end), (0, src.len()));
        let Expr::Compare(c) = &operands[1] else {
            panic!()
        };
        assert_eq!(&src[c.field_span.start..c.field_span.end], "net.dst.ip");
        assert_eq!(&src[c.op_span.start..c.op_span.end], "in");
        let Rhs::Set { items, span } = &c.rhs else {
            panic!()
        };
        assert_eq!(&src[span.start..span.end], "{10.0.0.0/8}");
        assert_eq!(items[0].span.column, src.find("10.").unwrap() + 1);
    }

    #[test]
    fn values() {
        let get = |src: &str| match ok(src) {
            Expr::Compare(Comparison {
                rhs: Rhs::Set { items, .. },
                ..
            }) => items.into_iter().map(|l| l.value).collect::<Vec<_>>(),
            Expr::Compare(Comparison {
                rhs: Rhs::Value(l), ..
            }) => vec![l.value],
            e => panic!("{e:?}"),
        };
        assert_eq!(
            get("net.dst.port in {443, 8000..8080 -1}"),
            vec![Value::Int(443), Value::IntRange(8000, 8080), Value::Int(-1)]
        );
        assert_eq!(
            get("net.dst.ip in {10.0.0.1..10.0.0.9 2001:db8::/32 ::1}"),
            vec![
                Value::IpRange("10.0.0.1".parse().unwrap(), "10.0.0.9".parse().unwrap()),
                Value::Cidr("2001:db8::".parse().unwrap(), 32),
                Value::Ip("::1".parse().unwrap()),
            ]
        );
        assert_eq!(
            get("net.dst.ip == fe80::1"),
            vec![Value::Ip("fe80::1".parse().unwrap())]
        );
        assert_eq!(
            get(r#"net.fqdn.host matches r"^a\.b$""#),
            vec![Value::Str(r"^a\.b$".into())]
        );
        assert_eq!(get(r#"net.fqdn.host ~ "x""#), vec![Value::Str("x".into())]);
        assert_eq!(get("net.dst.port == 080"), vec![Value::Int(80)]);
    }

    #[test]
    fn word_operators_and_not_in() {
        for (src, op) in [
            ("net.dst.port eq 1", CompareOp::Eq),
            ("net.dst.port ne 1", CompareOp::Ne),
            ("net.dst.port lt 1", CompareOp::Lt),
            ("net.dst.port le 1", CompareOp::Le),
            ("net.dst.port gt 1", CompareOp::Gt),
            ("net.dst.port ge 1", CompareOp::Ge),
            ("net.dst.port not in {1}", CompareOp::NotIn),
        ] {
            let Expr::Compare(c) = ok(src) else { panic!() };
            assert_eq!(c.op, op, "{src}");
        }
        assert!(matches!(ok("not net.dst.port in {1}"), Expr::Not { .. }));
        assert!(matches!(ok("!(net.dst.port in {1})"), Expr::Not { .. }));
    }

    #[test]
    fn error_positions() {
        err_at("net.dst.port == ", 17, "found end of input");
        err_at("net.dst.port = 443", 14, "expected `==`");
        err_at(
            "(net.dst.port == 443",
            21,
            "expected `)` to close the `(` at column 1",
        );
        err_at("net.dst.port == 443)", 20, "without a matching `(`");
        err_at(
            "net.dst.port == 443 net.src.port == 1",
            21,
            "expected `and`, `or`, `xor`",
        );
        err_at(
            "net.dst.port in {443",
            21,
            "expected `}` to close the set at column 17",
        );
        err_at("net.dst.port in {}", 18, "at least one value");
        err_at("net.dst.port in 443", 17, "expected `{`");
        err_at("and", 1, "expected a comparison");
        err_at("", 1, "found end of input");
        err_at("   ", 4, "found end of input");
        err_at("net.dst.ip == 10.0.0.256", 15, "expected an IP address");
        err_at("net.dst.ip in {10.0.0.0/33}", 24, "prefix length 0..=32");
        err_at(
            "net.dst.ip in {2001:db8::/129}",
            26,
            "prefix length 0..=128",
        );
        err_at("net.dst.port in {8080..8000}", 18, "low end first");
        err_at("net.dst.ip in {10.0.0.9..10.0.0.1}", 16, "low end first");
        err_at("net.dst.ip in {10.0.0.1..::1}", 16, "same IP family");
        err_at("net.dst.port == 8000..8080", 17, "single value");
        err_at("net.dst.port == {443}", 17, "single value");
        err_at(
            "net.dst.port == 99999999999999999999",
            17,
            "expected an integer",
        );
        err_at("net.protocol == tcp", 17, "quoted string");
        err_at("net.dst.ip == net.src.ip", 15, "found the field");
        err_at("identity.name == \"é\" andd x", 22, "expected `and`");
        err_at("net.src.ip", 11, "comparison operator");
        err_at("net.fqdn.host matches 5", 23, "quoted regex");
        err_at("net.dst.port not 5", 18, "expected `in` after `not`");
        err_at(
            "any identity.groups.name[*] == \"a\"",
            5,
            "expected `(` after `any`",
        );
        err_at("any(identity.groups.name == \"a\")", 26, "expected `[*]`");
        err_at(
            "any(identity.groups.name[*] == \"a\"",
            35,
            "close the `any(`",
        );
        err_at("identity.groups.name[*] == \"a\"", 21, "found `[`");
        err_at("any(80)", 5, "expected a field name");
        err_at("net.dst.port in {443,,80}", 22, "expected a value or `}`");
    }

    #[test]
    fn rendered_errors() {
        let src = "net.dst.port == 443 and (net.src.ip == 10.0.0.1";
        assert_eq!(
            err(src).render(src),
            "net.dst.port == 443 and (net.src.ip == 10.0.0.1\n\
             \x20                                              ^ expected `)` to close the `(` at column 25, found end of input"
        );
        let src = "net.dst.prot in {443}";
        assert_eq!(
            err(src).render(src),
            "net.dst.prot in {443}\n\
             ^^^^^^^^^^^^ expected a field name, found unknown field `net.dst.prot`\n\
             hint: did you mean `net.dst.port`?"
        );
        // Multi-line source: line breaks are shown as spaces, the caret counts chars from the start.
        let src = "net.dst.port == 443\n  and net.fqdn.host == \"café\" or\n  net.src.ip in {10.0.0.0/8 oops}";
        let rendered = err(src).render(src);
        let lines: Vec<&str> = rendered.lines().collect();
        let caret = lines[1].find('^').unwrap_or(0);
        assert_eq!(
            lines[0].chars().skip(caret).take(4).collect::<String>(),
            "oops"
        );
    }

    #[test]
    fn unknown_field_suggests() {
        let e = err_at("net.dst.prot == 443", 1, "unknown field `net.dst.prot`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `net.dst.port`?"));
        assert_eq!(e.len, "net.dst.prot".len());
        let e = err("net.dst.port == 1 AND net.src.port == 2");
        assert_eq!(e.hint.as_deref(), Some("keywords are lowercase: `and`"));
        let e = err("http.request.uri == \"/\"");
        assert_eq!(e.hint, None);
    }

    #[test]
    fn lists_are_rejected_clearly() {
        let e = err_at(
            "net.src.ip in $office_ips",
            15,
            "list references ($office_ips) are not supported",
        );
        assert_eq!(e.len, "$office_ips".len());
        err_at("net.src.ip == $x", 15, "list references ($x)");
        err_at("net.src.ip in {$x}", 16, "list references ($x)");
    }

    #[test]
    fn size_and_depth_limits() {
        let deep = "(".repeat(100_000);
        let e = err(&deep);
        assert!(e.message.contains("at most 16384 bytes"), "{}", e.message);

        let parens = format!("{}net.dst.port == 1{}", "(".repeat(65), ")".repeat(65));
        err_at(&parens, 65, "levels of nesting");
        let ok_parens = format!("{}net.dst.port == 1{}", "(".repeat(64), ")".repeat(64));
        ok(&ok_parens);

        let nots = format!("{}net.dst.port == 1", "not ".repeat(70));
        err_at(&nots, 4 * 64 + 1, "levels of nesting");
        let bangs = format!("{}net.dst.port == 1", "!".repeat(10_000));
        err(&bangs);

        // Exactly at the size limit, deeply nested: still a clean error, no stack overflow.
        let at_limit = "(".repeat(MAX_SOURCE_LEN);
        err(&at_limit);
        // Long flat chains are fine (they do not nest).
        let chain = vec!["net.dst.port == 1"; 700].join(" or ");
        assert!(chain.len() <= MAX_SOURCE_LEN);
        let Expr::Or { operands, .. } = ok(&chain) else {
            panic!()
        };
        assert_eq!(operands.len(), 700);
    }

    #[test]
    fn size_limit_error_lands_on_a_char_boundary() {
        let src = "é".repeat(MAX_SOURCE_LEN);
        let e = err(&src);
        assert!(src.is_char_boundary(e.offset));
        assert_eq!(e.column, MAX_SOURCE_LEN / 2 + 1);
    }
}
