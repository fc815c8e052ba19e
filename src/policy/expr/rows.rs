//! The dashboard's structured form: rows of (selector, operator, values) joined by And or Or, turned
//! into the same [`Expr`] the equivalent text would parse to.
//!
//! Mapping (what the dashboard generates):
//! - scalar selector: `is` → `f == v`, `is not` → `f != v`, `in` → `f in {..}`,
//!   `not in` → `not f in {..}`, `matches regex` → `f matches "re"`,
//!   `does not match regex` → `not f matches "re"`, ordering → `f > v`;
//! - array selector (groups, domains, applications, posture): the same comparison inside `any(...)`,
//!   and the negative operators negate the whole `any` (`is not` → `not any(f[*] == v)`: "the user is
//!   not in that group", rather than "has some other group").
//!
//! String values are taken verbatim (no quotes needed, no escapes, no trimming); integer and IP values
//! are trimmed and read like text literals, so `8000..8080`, `10.0.0.0/8` and `10.0.0.1..10.0.0.9` work.
//! Each row is type-checked on its own so that errors can name the row (1-based).

use super::ast::{CompareOp, Comparison, Expr, Literal, Rhs, Span, Value};
use super::compile::{compile, Universe};
use super::error::ExprError;
use super::field::{edit_distance, Field, ScalarType};
use super::parser::classify;

/// One condition of the dashboard form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionRow {
    /// A field name (`net.dst.port`) or dashboard label (`Destination Port`, case-insensitive).
    pub selector: String,
    /// `is`, `is not`, `in`, `not in`, `matches regex`, `does not match regex`, `greater than`,
    /// `greater than or equal to`, `less than`, `less than or equal to`, or a symbolic/keyword form
    /// (`==`, `eq`, `!=`, `ne`, `>`, `gt`, `>=`, `ge`, `<`, `lt`, `<=`, `le`, `matches`, `~`).
    pub operator: String,
    /// The values: exactly one, except for `in` / `not in` (one or more).
    pub values: Vec<String>,
}

/// How rows combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    /// Every row must match.
    And,
    /// Some row must match.
    Or,
}

/// The operator of a row, before it is split into comparison and negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowOp {
    Is,
    IsNot,
    In,
    NotIn,
    Matches,
    NotMatches,
    Ordering(CompareOp),
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn parse_operator(op: &str) -> Option<RowOp> {
    Some(match normalize(op).as_str() {
        "is" | "==" | "eq" | "equals" | "is equal to" => RowOp::Is,
        "is not" | "!=" | "ne" | "not equals" | "is not equal to" => RowOp::IsNot,
        "in" | "is in" => RowOp::In,
        "not in" | "is not in" => RowOp::NotIn,
        "matches regex" | "matches" | "~" | "matches regular expression" => RowOp::Matches,
        "does not match regex" | "not matches regex" | "not matches" | "does not match" => {
            RowOp::NotMatches
        }
        "greater than" | ">" | "gt" => RowOp::Ordering(CompareOp::Gt),
        "greater than or equal to" | "greater than or equal" | ">=" | "ge" => {
            RowOp::Ordering(CompareOp::Ge)
        }
        "less than" | "<" | "lt" => RowOp::Ordering(CompareOp::Lt),
        "less than or equal to" | "less than or equal" | "<=" | "le" => {
            RowOp::Ordering(CompareOp::Le)
        }
        _ => return None,
    })
}

/// Extra labels the dashboard or people commonly use, besides [`Field::label`].
const LABEL_ALIASES: [(&str, Field); 7] = [
    ("domains", Field::Domains),
    ("applications", Field::AppIds),
    ("virtual networks", Field::VnetId),
    ("device posture", Field::PosturePassed),
    ("user group ids", Field::GroupIds),
    ("source internal ip", Field::SrcInternalIp),
    ("protocols", Field::Protocol),
];

fn parse_selector(s: &str) -> Result<Field, Option<String>> {
    if let Some(f) = Field::from_name(s.trim()) {
        return Ok(f);
    }
    let n = normalize(s);
    if let Some(f) = Field::all().iter().find(|f| normalize(f.label()) == n) {
        return Ok(*f);
    }
    if let Some((_, f)) = LABEL_ALIASES.iter().find(|(a, _)| *a == n) {
        return Ok(*f);
    }
    // Suggest the closest name or label.
    let best = Field::all()
        .iter()
        .flat_map(|f| [f.name().to_string(), f.label().to_string()])
        .map(|cand| (edit_distance(&n, &cand.to_lowercase()), cand))
        .filter(|(d, _)| *d <= (n.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    Err(best)
}

fn row_error(index: usize, message: String) -> ExprError {
    ExprError::new(
        Span::default(),
        format!("condition row {}: {message}", index + 1),
    )
}

/// Builds the expression for the rows, joined by `join`. Fails on the first row with an unknown
/// selector or operator, a wrong number of values, a value that does not parse or does not suit the
/// selector's type, or an invalid regex; the message names the row (1-based).
pub fn rows_to_expr(rows: &[ConditionRow], join: Join) -> Result<Expr, ExprError> {
    if rows.is_empty() {
        return Err(ExprError::new(
            Span::default(),
            "expected at least one condition row, found none",
        ));
    }
    let mut operands = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let e = row_to_expr(i, row)?;
        // Type-check the row alone, so that errors can name it. An empty universe only adds warnings.
        if let Err(err) = compile(&e, &Universe::default()) {
            let mut re = row_error(i, err.message);
            re.hint = err.hint;
            return Err(re);
        }
        operands.push(e);
    }
    if operands.len() == 1 {
        if let Some(e) = operands.pop() {
            return Ok(e);
        }
    }
    let span = Span::default();
    Ok(match join {
        Join::And => Expr::And { operands, span },
        Join::Or => Expr::Or { operands, span },
    })
}

fn row_to_expr(i: usize, row: &ConditionRow) -> Result<Expr, ExprError> {
    let field = row_field(i, row)?;
    let op = row_operator(i, row)?;
    let takes_set = matches!(op, RowOp::In | RowOp::NotIn);
    check_value_count(i, row, field, takes_set)?;
    let mut literals = row_literals(i, row, field)?;
    let (cmp_op, negate) = match op {
        RowOp::Is => (CompareOp::Eq, false),
        RowOp::IsNot => (CompareOp::Ne, false),
        RowOp::In => (CompareOp::In, false),
        RowOp::NotIn => (CompareOp::In, true),
        RowOp::Matches => (CompareOp::Matches, false),
        RowOp::NotMatches => (CompareOp::Matches, true),
        RowOp::Ordering(o) => (o, false),
    };
    let rhs = if takes_set {
        Rhs::Set {
            items: literals,
            span: Span::default(),
        }
    } else {
        match literals.pop() {
            Some(l) => Rhs::Value(l),
            None => return Err(row_error(i, "expected a value, found none".to_string())),
        }
    };
    let is_array = field.value_type().is_array();
    // On arrays `is not` means "no element equals", i.e. not any(== v).
    let (cmp_op, negate) = if is_array && cmp_op == CompareOp::Ne {
        (CompareOp::Eq, true)
    } else {
        (cmp_op, negate)
    };
    let cmp = Comparison::new(field, cmp_op, rhs);
    let e = if is_array {
        Expr::Any {
            cmp,
            span: Span::default(),
        }
    } else {
        Expr::Compare(cmp)
    };
    Ok(if negate {
        Expr::Not {
            operand: Box::new(e),
            span: Span::default(),
        }
    } else {
        e
    })
}

/// Row `i`'s selector as a field, or an error with the closest name or label.
fn row_field(i: usize, row: &ConditionRow) -> Result<Field, ExprError> {
    parse_selector(&row.selector).map_err(|suggestion| {
        let e = row_error(
            i,
            format!(
                "expected a selector (a field such as `net.dst.port` or a label such as \"Destination Port\"), found \"{}\"",
                row.selector
            ),
        );
        match suggestion {
            Some(s) => e.with_hint(format!("did you mean \"{s}\"?")),
            None => e,
        }
    })
}

fn row_operator(i: usize, row: &ConditionRow) -> Result<RowOp, ExprError> {
    parse_operator(&row.operator).ok_or_else(|| {
        row_error(
            i,
            format!(
                "expected an operator (is, is not, in, not in, matches regex, does not match regex, greater than, \
                 greater than or equal to, less than, less than or equal to), found \"{}\"",
                row.operator
            ),
        )
    })
}

/// One value, or (for `in` / `not in`) one or more.
fn check_value_count(
    i: usize,
    row: &ConditionRow,
    field: Field,
    takes_set: bool,
) -> Result<(), ExprError> {
    match (takes_set, row.values.len()) {
        (_, 0) => Err(row_error(
            i,
            format!("expected a value for `{}`, found none", field.label()),
        )),
        (false, n) if n > 1 => Err(row_error(
            i,
            format!(
                "expected exactly one value for operator \"{}\", found {n}",
                row.operator
            ),
        )
        .with_hint("use \"in\" to match any of several values")),
        _ => Ok(()),
    }
}

/// The row's values as literals of the field's element type (strings verbatim).
fn row_literals(i: usize, row: &ConditionRow, field: Field) -> Result<Vec<Literal>, ExprError> {
    let elem = field.value_type().element();
    let mut literals = Vec::with_capacity(row.values.len());
    for (j, raw) in row.values.iter().enumerate() {
        let value = match elem {
            ScalarType::Str => Value::Str(raw.clone()),
            ScalarType::Int | ScalarType::Ip => {
                classify(raw.trim(), Span::default()).map_err(|e| {
                    let mut re = row_error(i, format!("value {} \"{raw}\": {}", j + 1, e.message));
                    re.hint = e.hint;
                    re
                })?
            }
        };
        literals.push(Literal::new(value));
    }
    Ok(literals)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn row(selector: &str, operator: &str, values: &[&str]) -> ConditionRow {
        ConditionRow {
            selector: selector.into(),
            operator: operator.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn same(rows: &[ConditionRow], join: Join, text: &str) {
        let from_rows = rows_to_expr(rows, join).unwrap_or_else(|e| panic!("{text}: {e}"));
        let from_text = parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.render(text)));
        assert_eq!(
            from_rows.without_spans(),
            from_text.without_spans(),
            "{text}"
        );
        assert_eq!(from_rows.to_string(), text);
    }

    /// Each (selector, operator, values) row alone builds what `text` parses to.
    fn single_rows(cases: &[(&str, &str, &[&str], &str)]) {
        for (selector, operator, values, text) in cases {
            same(&[row(selector, operator, values)], Join::And, text);
        }
    }

    #[test]
    fn scalar_rows_match_text_form() {
        single_rows(&[
            (
                "Destination Port",
                "in",
                &["443", "8000..8080"],
                "net.dst.port in {443 8000..8080}",
            ),
            ("net.src.ip", "is", &["10.1.2.3"], "net.src.ip == 10.1.2.3"),
            (
                "Source IP",
                "in",
                &["192.0.2.0/24", " 10.0.0.1..10.0.0.9 "],
                "net.src.ip in {192.0.2.0/24 10.0.0.1..10.0.0.9}",
            ),
            (
                "Source Country",
                "not in",
                &["GB", "FR"],
                r#"not net.src.geo.country in {"GB" "FR"}"#,
            ),
            (
                "Host",
                "matches regex",
                &[r"\.example\.com$"],
                r#"net.fqdn.host matches "\\.example\\.com$""#,
            ),
            (
                "Host",
                "does not match regex",
                &["^a"],
                r#"not net.fqdn.host matches "^a""#,
            ),
            (
                "Destination Port",
                "greater than or equal to",
                &["1024"],
                "net.dst.port >= 1024",
            ),
            (
                "Virtual Network",
                "is",
                &["vnet-eu"],
                r#"net.vnet_id == "vnet-eu""#,
            ),
        ]);
    }

    #[test]
    fn array_rows_match_text_form() {
        single_rows(&[
            (
                "User Group Names",
                "in",
                &["finance"],
                r#"any(identity.groups.name[*] in {"finance"})"#,
            ),
            (
                "user group names",
                "is",
                &["finance"],
                r#"any(identity.groups.name[*] == "finance")"#,
            ),
            (
                "User Group Names",
                "is not",
                &["finance"],
                r#"not any(identity.groups.name[*] == "finance")"#,
            ),
            (
                "User Group IDs",
                "not in",
                &["a", "b"],
                r#"not any(identity.groups.id[*] in {"a" "b"})"#,
            ),
            ("Application", "in", &["505"], "any(app.ids[*] in {505})"),
            (
                "Domain",
                "is",
                &["example.com"],
                r#"any(net.fqdn.domains[*] == "example.com")"#,
            ),
            (
                "Passed Device Posture Checks",
                "in",
                &["chk-1"],
                r#"any(device_posture.checks.passed[*] in {"chk-1"})"#,
            ),
        ]);
    }

    #[test]
    fn joined_rows_match_text_form() {
        same(
            &[
                row("Protocol", "is", &["tcp"]),
                row("Destination Port", "is not", &["25"]),
            ],
            Join::And,
            r#"net.protocol == "tcp" and net.dst.port != 25"#,
        );
        same(
            &[
                row("User Email", "==", &["a@example.com"]),
                row("User Name", "eq", &["Ada \"the\" Countess"]),
            ],
            Join::Or,
            r#"identity.email == "a@example.com" or identity.name == "Ada \"the\" Countess""#,
        );
    }

    fn row_err(rows: &[ConditionRow]) -> ExprError {
        match rows_to_expr(rows, Join::And) {
            Ok(e) => panic!("accepted: {e}"),
            Err(e) => e,
        }
    }

    #[test]
    fn errors_name_the_row() {
        let good = row("Protocol", "is", &["tcp"]);
        let e = row_err(&[good.clone(), row("Destination Prot", "is", &["443"])]);
        assert!(
            e.message
                .starts_with("condition row 2: expected a selector"),
            "{}",
            e.message
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean \"Destination Port\"?")
        );

        let e = row_err(&[row("Destination Port", "is about", &["443"])]);
        assert!(
            e.message
                .starts_with("condition row 1: expected an operator"),
            "{}",
            e.message
        );

        let e = row_err(&[
            good.clone(),
            good.clone(),
            row("Destination Port", "is", &["80", "443"]),
        ]);
        assert!(
            e.message
                .starts_with("condition row 3: expected exactly one value"),
            "{}",
            e.message
        );

        let e = row_err(&[row("Destination Port", "in", &[])]);
        assert!(e.message.contains("found none"), "{}", e.message);

        let e = row_err(&[row("Destination Port", "is", &["https"])]);
        assert!(
            e.message.starts_with("condition row 1: value 1 \"https\""),
            "{}",
            e.message
        );

        let e = row_err(&[row("Destination IP", "in", &["10.0.0.0/8", "10.0.0.300"])]);
        assert!(
            e.message.starts_with("condition row 1: value 2"),
            "{}",
            e.message
        );

        let e = row_err(&[row("Destination IP", "is", &["443"])]);
        assert!(
            e.message.contains("expected an IP address or CIDR"),
            "{}",
            e.message
        );

        let e = row_err(&[row("Host", "greater than", &["a"])]);
        assert!(
            e.message.contains("expected an integer field"),
            "{}",
            e.message
        );

        let e = row_err(&[row("Host", "matches regex", &["(unclosed"])]);
        assert!(e.message.contains("invalid"), "{}", e.message);

        let e = row_err(&[]);
        assert!(e.message.contains("at least one condition row"));
    }
}
