//! Errors and warnings with source positions, and their terminal rendering.

use std::fmt;

use super::ast::Span;

/// Why an expression was rejected: where (byte offset, 1-based char column, byte length) and what was
/// expected instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ExprError {
    /// Byte offset of the offending text in the expression source.
    pub offset: usize,
    /// 1-based column of `offset`, counted in chars (not bytes), for aligning a caret.
    pub column: usize,
    /// Byte length of the offending text (0 for "end of input" and for errors without a position).
    pub len: usize,
    /// What was expected and what was found, e.g. "expected `)`, found end of input".
    pub message: String,
    /// A suggestion for fixing it, e.g. "did you mean `net.dst.port`?".
    pub hint: Option<String>,
}

impl ExprError {
    /// An error covering `span`.
    pub(super) fn new(span: Span, message: impl Into<String>) -> Self {
        ExprError {
            offset: span.start,
            column: span.column.max(1),
            len: span.end.saturating_sub(span.start),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub(super) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders the error under its source, for a terminal:
    ///
    /// ```text
    /// net.dst.port == 443 and (net.src.ip == 10.0.0.1
    ///                                                 ^ expected `)` to close the `(` at column 25, found end of input
    /// hint: ...            (only when there is a hint)
    /// ```
    ///
    /// Tabs and line breaks in the source are shown as spaces so that the caret, placed by char column,
    /// stays aligned. Sources longer than [`RENDER_WIDTH`] chars are cut to a window around the error,
    /// with `…` marking the cuts.
    pub fn render(&self, source: &str) -> String {
        let chars: Vec<char> = source
            .chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        let col = self.column.saturating_sub(1).min(chars.len());
        let width = source
            .get(self.offset..self.offset.saturating_add(self.len))
            .map_or(1, |s| s.chars().count())
            .max(1);

        // Show at most RENDER_WIDTH chars, keeping the caret a little left of centre.
        let (start, prefix) = if chars.len() > RENDER_WIDTH && col > RENDER_WIDTH / 3 {
            (col - RENDER_WIDTH / 3, "…")
        } else {
            (0, "")
        };
        let end = (start + RENDER_WIDTH).min(chars.len());
        let suffix = if end < chars.len() { "…" } else { "" };
        let shown: String = chars[start..end].iter().collect();
        let width = width.min(RENDER_WIDTH.saturating_sub(col - start).max(1));

        let pad = " ".repeat(prefix.chars().count() + col - start);
        let mut out = format!(
            "{prefix}{shown}{suffix}\n{pad}{} {}",
            "^".repeat(width),
            self.message
        );
        if let Some(hint) = &self.hint {
            out.push_str("\nhint: ");
            out.push_str(hint);
        }
        out
    }
}

/// How many chars of an expression [`ExprError::render`] shows at most.
pub const RENDER_WIDTH: usize = 100;

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Something legal but suspicious found while compiling, such as a group name the scenario does not
/// declare (that value can never match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// What is suspicious and its consequence.
    pub message: String,
    /// Byte offset in the expression source (0 for expressions built without source text).
    pub offset: usize,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(start: usize, end: usize, column: usize, msg: &str) -> ExprError {
        ExprError::new(Span { start, end, column }, msg)
    }

    #[test]
    fn render_places_caret_under_column() {
        let src = "net.dst.port == x";
        let e = err(16, 17, 17, "expected a value, found `x`");
        assert_eq!(
            e.render(src),
            "net.dst.port == x\n                ^ expected a value, found `x`"
        );
    }

    #[test]
    fn render_spans_len_in_chars_and_aligns_after_multibyte() {
        // "é" is two bytes but one column.
        let src = "identity.name == \"é\" andd x";
        let offset = src.find("andd").unwrap();
        let column = src[..offset].chars().count() + 1;
        let e = err(offset, offset + 4, column, "expected `and`, found `andd`").with_hint("typo?");
        let r = e.render(src);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[1].find('^').map(|b| lines[1][..b].chars().count()),
            Some(column - 1)
        );
        assert!(lines[1].contains("^^^^ expected"));
        assert_eq!(lines[2], "hint: typo?");
    }

    #[test]
    fn render_end_of_input_and_tabs() {
        let src = "(\tnet.src.port == 1";
        let e = err(
            src.len(),
            src.len(),
            src.chars().count() + 1,
            "expected `)`",
        );
        let r = e.render(src);
        assert_eq!(r, "( net.src.port == 1\n                   ^ expected `)`");
    }

    #[test]
    fn render_windows_long_sources() {
        let src = format!("{}net.src.port == x", "net.src.port == 1 and ".repeat(20));
        let offset = src.len() - 1;
        let e = err(offset, offset + 1, offset + 1, "bad");
        let r = e.render(&src);
        let lines: Vec<&str> = r.lines().collect();
        assert!(lines[0].starts_with('…'));
        assert!(lines[0].chars().count() <= RENDER_WIDTH + 2);
        let caret = lines[1].find('^').unwrap();
        assert_eq!(lines[0].chars().nth(caret), Some('x'));
    }

    #[test]
    fn render_tolerates_mismatched_source() {
        let e = err(500, 510, 400, "bad");
        let r = e.render("short");
        assert!(r.contains("^ bad"));
    }

    #[test]
    fn display_includes_column_and_hint() {
        let e = err(0, 1, 1, "boom").with_hint("fix it");
        assert_eq!(e.to_string(), "column 1: boom (hint: fix it)");
    }
}
