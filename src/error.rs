//! Errors a user can cause (bad input: exit code 2) and failures of the machine (exit code 1).
//!
//! Input errors carry enough context to point at the offending text the way a compiler does: file,
//! line, column, the source line with a caret, what was expected, and a suggestion where one exists.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Exit code for bad input (scenario file, command-line value, rules file).
pub const EXIT_INPUT: i32 = 2;
/// Exit code for internal failures (I/O while writing results, a bug).
pub const EXIT_INTERNAL: i32 = 1;

/// A text source that errors can point into.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path as the user gave it (shown in messages).
    pub path: PathBuf,
    /// Whole file contents.
    pub text: String,
}

impl Source {
    /// Wraps file contents read from `path`.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads a file, turning I/O failures into input errors (a missing scenario is the user's mistake).
    pub fn read(path: &Path) -> Result<Self, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::new(path, text)),
            Err(e) => Err(Error::Input(
                InputError::new(format!("cannot read `{}`: {e}", path.display())).with_help(
                    if e.kind() == std::io::ErrorKind::NotFound {
                        "check the path; shipped scenarios live in `scenarios/`"
                    } else {
                        "check that the file is readable UTF-8 text"
                    },
                ),
            )),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// The whole line starting at byte `start`.
    pub fn line_span(&self, start: usize) -> Range<usize> {
        let start = floor_char_boundary(&self.text, start.min(self.text.len()));
        let len = self.text[start..].lines().next().map_or(0, str::len);
        start..start + len
    }

    /// Where `value` appears on the line starting at `start` (the whole line if it cannot be found).
    pub fn field_span(&self, start: usize, value: &str) -> Range<usize> {
        let line = self.line_span(start);
        match self.text[line.clone()].find(value) {
            Some(i) if !value.is_empty() => line.start + i..line.start + i + value.len(),
            _ => line,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A located input error: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// What was wrong, including what was expected.
    pub message: String,
    /// File the error is in, when it comes from a file.
    pub file: Option<PathBuf>,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
    /// The source line and a caret marker, when known.
    pub snippet: Option<String>,
    /// A suggestion ("did you mean `LHR` (London)?").
    pub help: Option<String>,
}

impl InputError {
    /// An error with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            file: None,
            line_col: None,
            snippet: None,
            help: None,
        }
    }

    /// An error pointing at a byte span of `source`.
    pub fn at(source: &Source, span: Range<usize>, message: impl Into<String>) -> Self {
        let mut e = Self::new(message);
        e.locate(source, span);
        e
    }

    /// An error about a whole file (no useful position).
    pub fn in_file(source: &Source, message: impl Into<String>) -> Self {
        let mut e = Self::new(message);
        e.file = Some(source.path.clone());
        e
    }

    /// Adds file, line, column and a caret snippet for `span`.
    pub fn locate(&mut self, source: &Source, span: Range<usize>) {
        let (line, col) = source.line_col(span.start);
        self.file = Some(source.path.clone());
        self.line_col = Some((line, col));
        let text = source.text.lines().nth(line - 1).unwrap_or("");
        let start = floor_char_boundary(&source.text, span.start.min(source.text.len()));
        let end = floor_char_boundary(&source.text, span.end.min(source.text.len())).max(start);
        let width = source.text[start..end]
            .lines()
            .next()
            .map_or(1, |s| s.chars().count().max(1));
        let gutter = line.to_string().len();
        self.snippet = Some(format!(
            "{:gutter$} |\n{line} | {text}\n{:gutter$} | {}{}",
            "",
            "",
            " ".repeat(col - 1),
            "^".repeat(width.min(text.chars().count().saturating_sub(col - 1).max(1))),
        ));
    }

    /// Adds a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        let h = help.into();
        if !h.is_empty() {
            self.help = Some(h);
        }
        self
    }

    /// Adds a suggestion only when there is one.
    pub fn with_optional_help(self, help: Option<String>) -> Self {
        match help {
            Some(h) => self.with_help(h),
            None => self,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        match (&self.file, self.line_col) {
            (Some(file), Some((l, c))) => write!(f, "\n  --> {}:{l}:{c}", file.display())?,
            (Some(file), None) => write!(f, "\n  --> {}", file.display())?,
            _ => {}
        }
        if let Some(s) = &self.snippet {
            write!(f, "\n{s}")?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// Every failure the library reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: exit code 2.
    #[error("{0}")]
    Input(InputError),
    /// Several input errors found in one pass (all are shown, exit code 2).
    #[error("{}", join_errors(.0))]
    Inputs(Vec<InputError>),
    /// An I/O failure while writing results (exit code 1).
    #[error("error: {context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// Anything else that is not the user's fault (exit code 1).
    #[error("internal error: {0}")]
    Internal(String),
    /// An error with the warnings that explain it, shown before it (exit code of the error).
    #[error("{}{error}", lines(.warnings))]
    Explained {
        /// Shown first, one per line.
        warnings: Vec<String>,
        /// The error itself.
        error: Box<Error>,
    },
    /// An error whose command still has a result for standard output, printed before the error
    /// (`check --format json` describes the errors as JSON for scripts); exit code of the error.
    #[error("{error}")]
    WithOutput {
        /// For standard output.
        text: String,
        /// The error itself (standard error).
        error: Box<Error>,
    },
}

fn lines(warnings: &[String]) -> String {
    warnings.iter().map(|w| format!("{w}\n")).collect()
}

fn join_errors(errors: &[InputError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&e.to_string());
    }
    if errors.len() > 1 {
        out.push_str(&format!("\n\n{} errors found", errors.len()));
    }
    out
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Inputs(_) => EXIT_INPUT,
            Error::Io { .. } | Error::Internal(_) => EXIT_INTERNAL,
            Error::Explained { error, .. } | Error::WithOutput { error, .. } => error.exit_code(),
        }
    }

    /// One input error as itself, several as [`Error::Inputs`].
    pub fn inputs(mut errors: Vec<InputError>) -> Self {
        if errors.len() == 1 {
            Error::Input(errors.remove(0))
        } else {
            Error::Inputs(errors)
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let src = Source::new("s.toml", "a = 1\nbé = \"LON\"\n");
        let off = src.text.find("\"LON\"").unwrap();
        assert_eq!(src.line_col(off), (2, 6));
        assert_eq!(src.line_col(0), (1, 1));
    }

    #[test]
    fn rendered_error_has_location_caret_and_help() {
        let src = Source::new("s.toml", "[[egress]]\ndatacenter = \"LON\"\n");
        let off = src.text.find("\"LON\"").unwrap();
        let e = InputError::at(&src, off..off + 5, "unknown data center `LON`")
            .with_help("did you mean `LHR` (London)?");
        let s = e.to_string();
        assert!(s.contains("--> s.toml:2:14"), "{s}");
        assert!(s.contains("2 | datacenter = \"LON\""), "{s}");
        assert!(s.contains("|              ^^^^^"), "{s}");
        assert!(s.ends_with("= help: did you mean `LHR` (London)?"), "{s}");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Error::Input(InputError::new("x")).exit_code(), 2);
        assert_eq!(Error::Internal("x".into()).exit_code(), 1);
    }
}
