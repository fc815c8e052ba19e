//! Turns `toml`/serde parse errors into located, friendly input errors.

use crate::error::{InputError, Source};
use crate::suggest;

/// Converts a TOML parse or type error into an [`InputError`] with a suggestion for misspelt keys.
pub fn convert(source: &Source, e: &toml::de::Error) -> InputError {
    let raw = e.message().trim().to_string();
    let (message, help) = explain(&raw);
    match e.span() {
        Some(span) => InputError::at(source, span, message),
        None => InputError::in_file(source, message),
    }
    .with_optional_help(help)
}

/// Rewrites serde's wording into what a scenario author needs to read.
fn explain(raw: &str) -> (String, Option<String>) {
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            let help = suggest::closest(field, expected.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| {
                    (!expected.is_empty()).then(|| {
                        format!(
                            "allowed keys here: {}",
                            expected
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                });
            let hint = match field {
                "policy" => Some(
                    "egress policies (`[[policy]]`) are not supported by this version yet"
                        .to_string(),
                ),
                _ => help,
            };
            return (format!("unknown key `{field}`"), hint);
        }
    }
    if let Some(field) = raw
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return (
            format!("missing required key `{field}`"),
            Some(format!(
                "add `{field} = ...` to this table (see the scenario reference in README.md)"
            )),
        );
    }
    if raw.contains("untagged enum RawAccess") {
        return (
            "invalid `access`: expected a preset name or a table".into(),
            Some("use one of \"office\", \"fiber\", \"cable\", \"dsl\", \"mobile\", or { median_ms = 12.0, sigma = 0.4 }".into()),
        );
    }
    if let Some(rest) = raw.strip_prefix("invalid type: ") {
        return (format!("wrong type: found {}", plain_types(rest)), None);
    }
    if let Some(rest) = raw.strip_prefix("invalid value: ") {
        return (format!("invalid value: {}", plain_types(rest)), None);
    }
    (raw.to_string(), None)
}

/// Replaces Rust type names in serde messages with words a scenario author knows.
fn plain_types(s: &str) -> String {
    let mut out = s.to_string();
    for (rust, plain) in [
        ("expected i64", "expected an integer"),
        ("expected u64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array `[...]`"),
        ("expected a map", "expected a table"),
    ] {
        out = out.replace(rust, plain);
    }
    if let Some(i) = out.find("expected struct Raw") {
        out.replace_range(i.., "expected a table");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_gets_a_suggestion() {
        let (m, h) = explain("unknown field `usrs`, expected one of `name`, `users`, `share`");
        assert_eq!(m, "unknown key `usrs`");
        assert_eq!(h.as_deref(), Some("did you mean `users`?"));
    }

    #[test]
    fn missing_field_is_reworded() {
        let (m, _) = explain("missing field `datacenter`");
        assert_eq!(m, "missing required key `datacenter`");
    }
}
