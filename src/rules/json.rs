//! Reading the API's JSON listings (`{"success": true, "result": [...]}` or a bare array) with
//! located errors: shared by the rule listing of `rules import` and its `--lists` file.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, InputError, Result, Source};

/// What a listing holds, for messages.
pub(super) struct Kind {
    /// `rule listing`.
    pub(super) listing: &'static str,
    /// `rules`.
    pub(super) items: &'static str,
    /// `rule`.
    pub(super) item: &'static str,
}

/// A Gateway rule listing.
pub(super) const RULES: Kind = Kind {
    listing: "rule listing",
    items: "rules",
    item: "rule",
};

/// A Gateway lists listing.
pub(super) const LISTS: Kind = Kind {
    listing: "lists listing",
    items: "lists",
    item: "list",
};

/// The API envelope. `success` and `errors` are checked on the untyped value first.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    result: Vec<T>,
}

/// Parses a listing: the API envelope or a bare array. Syntax and type errors point at the JSON
/// line and column; anything that is not a list of objects of the kind is an input error.
pub(super) fn read_listing<T: DeserializeOwned>(src: &Source, kind: &Kind) -> Result<Vec<T>> {
    // Editors on Windows save JSON with a byte-order mark, which serde_json rejects; positions in
    // messages are then counted from after it, as the user sees the text.
    let stripped;
    let src = match src.text.strip_prefix('\u{feff}') {
        Some(rest) => {
            stripped = Source::new(src.path.clone(), rest);
            &stripped
        }
        None => src,
    };
    let value: serde_json::Value =
        serde_json::from_str(&src.text).map_err(|e| json_error(src, kind, &e))?;
    let not_a_listing = |found: &str| {
        Error::Input(
            InputError::in_file(
                src,
                format!("expected a Gateway {}, found {found}", kind.listing),
            )
            .with_help(format!(
                "give the API's `{{\"success\": true, \"result\": [{}, ...]}}` or a bare array of {}",
                kind.item, kind.items
            )),
        )
    };
    match &value {
        serde_json::Value::Array(_) => {
            serde_json::from_str::<Vec<T>>(&src.text).map_err(|e| json_error(src, kind, &e))
        }
        serde_json::Value::Object(map) => {
            if map.get("success") == Some(&serde_json::Value::Bool(false)) {
                return Err(InputError::in_file(
                    src,
                    format!(
                        "the listing reports a failed API call: {}",
                        api_errors(map.get("errors"))
                    ),
                )
                .with_help(format!(
                    "fetch the {0} again; this file holds an error response, not {0}",
                    kind.items
                ))
                .into());
            }
            match map.get("result") {
                Some(serde_json::Value::Array(_)) => serde_json::from_str::<Envelope<T>>(&src.text)
                    .map(|e| e.result)
                    .map_err(|e| json_error(src, kind, &e)),
                Some(other) => Err(not_a_listing(&format!(
                    "an object whose `result` is {}",
                    json_kind(other)
                ))),
                None => {
                    let keys: Vec<String> = map.keys().take(8).map(|k| format!("`{k}`")).collect();
                    Err(not_a_listing(&if keys.is_empty() {
                        "an empty object".to_string()
                    } else {
                        format!("an object without `result` (keys: {})", keys.join(", "))
                    }))
                }
            }
        }
        other => Err(not_a_listing(&json_kind(other))),
    }
}

fn json_kind(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(_) => "a boolean".into(),
        serde_json::Value::Number(_) => "a number".into(),
        serde_json::Value::String(_) => "a string".into(),
        serde_json::Value::Array(_) => "an array".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

/// The API's `errors` array (`[{"code": 7003, "message": "..."}]`) as one line.
fn api_errors(errors: Option<&serde_json::Value>) -> String {
    let Some(serde_json::Value::Array(list)) = errors else {
        return "no error details".into();
    };
    if list.is_empty() {
        return "no error details".into();
    }
    list.iter()
        .map(
            |e| match (e.get("code"), e.get("message").and_then(|m| m.as_str())) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (None, Some(m)) => m.to_string(),
                _ => e.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("; ")
}

/// A serde_json error as a located input error. serde_json counts columns in bytes, and `Source`
/// reports characters, so the position goes through a byte offset.
fn json_error(src: &Source, kind: &Kind, e: &serde_json::Error) -> Error {
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let full = e.to_string();
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let message = format!(
        "`{}` is not a valid {}: {message}",
        src.path.display(),
        kind.listing
    );
    let line_start = src
        .text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let offset = (line_start + e.column().saturating_sub(1)).min(src.text.len());
    let line_len = src.text[line_start.min(src.text.len())..]
        .lines()
        .next()
        .map_or(0, str::len);
    let err = if line_len <= 200 {
        InputError::at(src, offset..offset + 1, message)
    } else {
        // Minified JSON is one huge line; printing it under a caret would bury the message.
        let mut err = InputError::in_file(src, message);
        err.line_col = Some(src.line_col(offset));
        err
    };
    Error::Input(err)
}

/// `s` for plurals.
pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
