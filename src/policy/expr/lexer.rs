//! Splits expression source into tokens, lazily, so that the first error in source order is the one
//! reported.
//!
//! Values such as `10.0.0.0/8`, `2001:db8::1`, `fe80::1..fe80::9` and `8000..8080` are lexed as one
//! [`Tok::Word`] together with field names and keywords, because an IPv6 address may start with letters
//! and so cannot be told apart from an identifier by its first character. The parser decides what a
//! word is from where it stands (field position or value position).

use super::ast::Span;
use super::error::ExprError;

/// A token kind. Words borrow from the source; strings own their unescaped text.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) enum Tok<'a> {
    /// A field name, keyword, number, address, CIDR or range.
    Word(&'a str),
    /// A string literal (normal or raw), escapes resolved.
    Str(String),
    /// A list reference `$name` (the name without `$`); rejected by the parser.
    List(&'a str),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Star,
    Comma,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    XorXor,
    Bang,
    Tilde,
    Eof,
}

impl Tok<'_> {
    /// How the token is named in "found ..." messages.
    pub(super) fn describe(&self) -> String {
        let sym = match self {
            Tok::Word(w) => return format!("`{}`", truncate(w)),
            Tok::Str(s) => return format!("string \"{}\"", truncate(s)),
            Tok::List(name) => return format!("list reference `${}`", truncate(name)),
            Tok::Eof => return "end of input".to_string(),
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Star => "*",
            Tok::Comma => ",",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::XorXor => "^^",
            Tok::Bang => "!",
            Tok::Tilde => "~",
        };
        format!("`{sym}`")
    }
}

/// Shortens long text for messages, on a char boundary.
fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// The list references (`$name`) of an expression, as (byte range of `$name`, name) in source
/// order. Stops at the first lexing error, which the parser reports when the text is parsed.
/// `rules import --lists` replaces each reference with the list's items before parsing.
pub fn list_references(src: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut lexer = Lexer::new(src);
    let mut out = Vec::new();
    while let Ok(t) = lexer.next_token() {
        match t.tok {
            Tok::Eof => break,
            Tok::List(name) => out.push((t.span.start..t.span.end, name)),
            _ => {}
        }
    }
    out
}

/// A token and where it is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(super) struct Token<'a> {
    pub tok: Tok<'a>,
    pub span: Span,
}

/// The lexer state: a byte position and the char column that goes with it.
pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Chars before `pos` (0-based column).
    col: usize,
}

/// Chars that may continue a word: identifiers (`net.vnet_id`), numbers, IPv4/IPv6, CIDR and `..`.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/')
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            col: 0,
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        self.col += 1;
        Some(c)
    }

    fn span_from(&self, start: usize, start_col: usize) -> Span {
        Span {
            start,
            end: self.pos,
            column: start_col + 1,
        }
    }

    /// Reads the next token; at the end of input, returns [`Tok::Eof`] (repeatedly).
    pub(super) fn next_token(&mut self) -> Result<Token<'a>, ExprError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let (start, start_col) = (self.pos, self.col);
        let Some(c) = self.bump() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: self.span_from(start, start_col),
            });
        };
        let next = self.peek();
        let two = |lexer: &mut Self, tok| {
            lexer.bump();
            tok
        };
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '*' => Tok::Star,
            ',' => Tok::Comma,
            '~' => Tok::Tilde,
            '=' if next == Some('=') => two(self, Tok::EqEq),
            '!' if next == Some('=') => two(self, Tok::Ne),
            '!' => Tok::Bang,
            '<' if next == Some('=') => two(self, Tok::Le),
            '<' => Tok::Lt,
            '>' if next == Some('=') => two(self, Tok::Ge),
            '>' => Tok::Gt,
            '&' if next == Some('&') => two(self, Tok::AndAnd),
            '|' if next == Some('|') => two(self, Tok::OrOr),
            '^' if next == Some('^') => two(self, Tok::XorXor),
            '=' | '&' | '|' | '^' => {
                let span = self.span_from(start, start_col);
                let (want, meaning) = match c {
                    '=' => ("==", "equality"),
                    '&' => ("&&", "logical and"),
                    '|' => ("||", "logical or"),
                    _ => ("^^", "logical xor"),
                };
                return Err(
                    ExprError::new(span, format!("expected `{want}`, found `{c}`"))
                        .with_hint(format!("{meaning} is written `{want}`")),
                );
            }
            '"' => Tok::Str(self.string(start, start_col)?),
            'r' if matches!(next, Some('"' | '#')) => Tok::Str(self.raw_string(start, start_col)?),
            '$' => {
                let name_start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                {
                    self.bump();
                }
                if self.pos == name_start {
                    let span = self.span_from(start, start_col);
                    return Err(ExprError::new(
                        span,
                        format!(
                            "expected a list name after `$`, found {}",
                            self.describe_here()
                        ),
                    ));
                }
                Tok::List(&self.src[name_start..self.pos])
            }
            c if c.is_ascii_alphanumeric()
                || c == '_'
                || c == ':'
                || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) =>
            {
                self.word_tail();
                Tok::Word(&self.src[start..self.pos])
            }
            c => {
                let span = self.span_from(start, start_col);
                let what = if c.is_control() {
                    format!("{:?}", c)
                } else {
                    format!("`{c}`")
                };
                return Err(ExprError::new(
                    span,
                    format!(
                        "expected a field, value or operator, found unexpected character {what}"
                    ),
                ));
            }
        };
        Ok(Token {
            tok,
            span: self.span_from(start, start_col),
        })
    }

    /// What is at the current position, for "found ..." messages.
    fn describe_here(&self) -> String {
        match self.peek() {
            None => "end of input".to_string(),
            Some(c) if c.is_whitespace() => "whitespace".to_string(),
            Some(c) => format!("`{c}`"),
        }
    }

    /// Consumes the rest of a word. A `-` is allowed right after `..` so that ranges of negative
    /// integers lex as one word.
    fn word_tail(&mut self) {
        while let Some(c) = self.peek() {
            let after_dots = self.src[..self.pos].ends_with("..");
            if is_word_char(c)
                || (c == '-' && after_dots && self.peek2().is_some_and(|n| n.is_ascii_digit()))
            {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// Lexes the body of a `"..."` string (the opening quote already consumed).
    fn string(&mut self, start: usize, start_col: usize) -> Result<String, ExprError> {
        let mut out = String::new();
        loop {
            let (esc_start, esc_col) = (self.pos, self.col);
            match self.bump() {
                None => return Err(unterminated(start, start_col, "\"")),
                Some('"') => return Ok(out),
                Some('\\') => {
                    match self.bump() {
                        None => return Err(unterminated(start, start_col, "\"")),
                        Some('"') => out.push('"'),
                        Some('\\') => out.push('\\'),
                        Some('x') => {
                            let hex = self
                                .rest()
                                .get(..2)
                                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                            let byte = hex
                                .and_then(|h| u8::from_str_radix(h, 16).ok())
                                .filter(|b| b.is_ascii());
                            match byte {
                                Some(b) => {
                                    self.bump();
                                    self.bump();
                                    out.push(char::from(b));
                                }
                                None => {
                                    let span = Span {
                                        start: esc_start,
                                        end: self.pos,
                                        column: esc_col + 1,
                                    };
                                    return Err(ExprError::new(span, "invalid escape: expected two hex digits 00..7f after `\\x`"));
                                }
                            }
                        }
                        Some(other) => {
                            let span = self.span_from(esc_start, esc_col);
                            return Err(ExprError::new(
                            span,
                            format!("invalid escape `\\{other}`: expected `\\\"`, `\\\\` or `\\xHH`"),
                        )
                        .with_hint(format!(
                            "for a literal backslash write `\\\\{other}`, or use a raw string: r\"...\\{other}...\""
                        )));
                        }
                    }
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// Lexes a raw string `r"..."` or `r#"..."#` (any number of `#`); the `r` already consumed.
    fn raw_string(&mut self, start: usize, start_col: usize) -> Result<String, ExprError> {
        let mut hashes = 0usize;
        while self.peek() == Some('#') {
            self.bump();
            hashes += 1;
        }
        if self.peek() != Some('"') {
            let span = self.span_from(start, start_col);
            return Err(ExprError::new(
                span,
                format!(
                    "expected `\"` to start a raw string, found {}",
                    self.describe_here()
                ),
            ));
        }
        self.bump();
        let terminator = format!("\"{}", "#".repeat(hashes));
        let Some(len) = self.rest().find(&terminator) else {
            return Err(unterminated(start, start_col, &terminator));
        };
        let body = &self.rest()[..len];
        self.col += body.chars().count() + 1 + hashes;
        self.pos += len + terminator.len();
        Ok(body.to_string())
    }
}

fn unterminated(start: usize, start_col: usize, closing: &str) -> ExprError {
    let span = Span {
        start,
        end: start + 1,
        column: start_col + 1,
    };
    ExprError::new(
        span,
        format!("unterminated string: expected a closing `{closing}`, found end of input"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(src: &str) -> Result<Vec<Tok<'_>>, ExprError> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next_token()?;
            if t.tok == Tok::Eof {
                return Ok(out);
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn words_include_addresses_and_ranges() {
        let toks =
            lex("net.dst.port in {443 8000..8080, -5..-1} 2001:db8::/32 fe80::1..fe80::9 ::1")
                .unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::Word("net.dst.port"),
                Tok::Word("in"),
                Tok::LBrace,
                Tok::Word("443"),
                Tok::Word("8000..8080"),
                Tok::Comma,
                Tok::Word("-5..-1"),
                Tok::RBrace,
                Tok::Word("2001:db8::/32"),
                Tok::Word("fe80::1..fe80::9"),
                Tok::Word("::1"),
            ]
        );
    }

    #[test]
    fn operators() {
        let toks = lex("== != < <= > >= && || ^^ ! ~ [*] ( )").unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::EqEq,
                Tok::Ne,
                Tok::Lt,
                Tok::Le,
                Tok::Gt,
                Tok::Ge,
                Tok::AndAnd,
                Tok::OrOr,
                Tok::XorXor,
                Tok::Bang,
                Tok::Tilde,
                Tok::LBracket,
                Tok::Star,
                Tok::RBracket,
                Tok::LParen,
                Tok::RParen
            ]
        );
        assert_eq!(
            lex("a==1").unwrap(),
            vec![Tok::Word("a"), Tok::EqEq, Tok::Word("1")]
        );
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            lex(r#""a\"b\\c\x41""#).unwrap(),
            vec![Tok::Str("a\"b\\cA".into())]
        );
        assert_eq!(lex(r#""é ✓""#).unwrap(), vec![Tok::Str("é ✓".into())]);
        assert_eq!(
            lex(r##"r"\d+" r#"say "hi""#"##).unwrap(),
            vec![Tok::Str(r"\d+".into()), Tok::Str(r#"say "hi""#.into())]
        );
        let e = lex(r#""\d""#).unwrap_err();
        assert_eq!((e.offset, e.len, e.column), (1, 2, 2));
        assert!(e.message.contains("invalid escape `\\d`"), "{}", e.message);
        assert!(e.hint.is_some());
        assert!(lex(r#""\xff""#).is_err());
        assert!(lex(r#""\x4""#).is_err());
    }

    #[test]
    fn unterminated_strings_point_at_the_opening_quote() {
        let e = lex("identity.name == \"Ada").unwrap_err();
        assert_eq!((e.offset, e.column, e.len), (17, 18, 1));
        assert!(e.message.starts_with("unterminated string"));
        assert!(lex("\"abc\\").is_err());
        let e = lex("x r#\"abc\"").unwrap_err();
        assert!(e.message.contains("`\"#`"), "{}", e.message);
        assert!(lex("r#x").is_err());
    }

    #[test]
    fn lone_operators_explain_themselves() {
        for (src, want) in [
            ("a = 1", "`==`"),
            ("a & b", "`&&`"),
            ("a | b", "`||`"),
            ("a ^ b", "`^^`"),
        ] {
            let e = lex(src).unwrap_err();
            assert!(e.message.contains(want), "{src}: {}", e.message);
            assert_eq!(e.column, src.find(['=', '&', '|', '^']).unwrap() + 1);
        }
    }

    #[test]
    fn columns_count_chars_not_bytes() {
        let src = "\"éé\" #";
        let e = lex(src).unwrap_err();
        assert_eq!(e.offset, src.find('#').unwrap());
        assert_eq!(e.column, 6);
    }

    #[test]
    fn lists_and_bad_characters() {
        assert_eq!(lex("$my_list").unwrap(), vec![Tok::List("my_list")]);
        let src = "net.src.ip in $6f2c-a1 and identity.email in $b.2";
        let refs = list_references(src);
        assert_eq!(refs.len(), 2);
        assert_eq!(
            (&src[refs[0].0.clone()], refs[0].1),
            ("$6f2c-a1", "6f2c-a1")
        );
        assert_eq!((&src[refs[1].0.clone()], refs[1].1), ("$b.2", "b.2"));
        assert!(list_references("net.dst.port in {443 \"unterminated $x").is_empty());
        assert!(lex("$ x").is_err());
        assert!(lex("é").is_err());
        assert!(lex("\u{0}").is_err());
        assert!(lex(".5").is_err());
    }
}
