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
