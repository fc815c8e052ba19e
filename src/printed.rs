//! What a command gives back to print: its text for standard output and its warnings for standard
//! error. The library never prints; `main.rs` does.

/// What a command prints: its output (standard output) and warnings (standard error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    /// For standard output.
    pub text: String,
    /// For standard error, one per line group, printed before the output.
    pub warnings: Vec<String>,
}

impl From<String> for Printed {
    fn from(text: String) -> Self {
        Self {
            text,
            warnings: Vec::new(),
        }
    }
}

/// How a command prints its result: for people, or as one JSON object for scripts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// Text for people (the default).
    #[default]
    Text,
    /// One JSON object on standard output (fields documented in README.md, "JSON output").
    Json,
}

/// `value` as pretty-printed JSON followed by a newline.
pub fn json<T: serde::Serialize>(value: &T) -> crate::error::Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| crate::error::Error::Internal(format!("cannot write JSON: {e}")))
}
