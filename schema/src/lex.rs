//! A small SQL tokenizer, per dialect: enough to parse SQLite's stored
//! `CREATE` statements, find rename hints, normalise expressions and spot
//! the identifiers a view or trigger mentions. It never fails: anything it
//! does not recognise becomes a one-character [`Kind::Other`] token.

use std::borrow::Cow;

use retort_core::split::Dialect;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An unquoted word: a keyword or an identifier.
    Word,
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`).
    Quoted,
    /// A string literal, prefix included (`'a''b'`, `E'x'`, `X'00'`, `$$..$$`).
    String,
    /// A numeric literal.
    Number,
    /// Punctuation or an operator (`(`, `,`, `::`, `<=`, ...).
    Punct,
    /// A comment (`-- ...`, `/* ... */`, `# ...` in MySQL).
    Comment,
    /// Anything else (parameters, stray characters).
    Other,
}

/// One token: its kind, its text in the source and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    /// Byte offset of the first character.
    pub(crate) start: usize,
    /// 1-based line of the first character.
    pub(crate) line: u32,
}

impl<'a> Token<'a> {
    /// True for the unquoted word `word` (ASCII case-insensitive).
    pub(crate) fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// True for the punctuation `p`.
    pub(crate) fn is_punct(&self, p: &str) -> bool {
        self.kind == Kind::Punct && self.text == p
    }

    /// The identifier this token names: a word as written, a quoted
    /// identifier unquoted; `None` for other tokens.
    pub(crate) fn ident(&self) -> Option<Cow<'a, str>> {
        match self.kind {
            Kind::Word => Some(Cow::Borrowed(self.text)),
            Kind::Quoted => Some(unquote(self.text)),
            _ => None,
        }
    }

    /// Byte offset just past the token.
    pub(crate) fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// The content of a quoted identifier, doubled quotes undone.
pub(crate) fn unquote(text: &str) -> Cow<'_, str> {
    let (open, close) = match text.as_bytes().first() {
        Some(b'"') => ('"', '"'),
        Some(b'`') => ('`', '`'),
        Some(b'[') => ('[', ']'),
        _ => return Cow::Borrowed(text),
    };
    let inner = text
        .strip_prefix(open)
        .and_then(|t| t.strip_suffix(close))
        .unwrap_or(&text[1..]);
    if close != ']' && inner.contains(close) {
        Cow::Owned(inner.replace(&format!("{close}{close}"), &close.to_string()))
    } else {
        Cow::Borrowed(inner)
    }
}

/// The content of a plain string literal (`'a''b'` is `a'b`); `None` for
/// other spellings (prefixed, dollar-quoted, with backslash escapes).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn string_value(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.contains('\\') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// Splits `sql` into tokens (comments included, whitespace dropped).
pub(crate) fn tokens(sql: &str, dialect: Dialect) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line = 1u32;
    while pos < bytes.len() {
        let b = bytes[pos];
        if b.is_ascii_whitespace() {
            if b == b'\n' {
                line += 1;
            }
            pos += 1;
            continue;
        }
        let start = pos;
        let kind = match b {
            b'-' if bytes.get(pos + 1) == Some(&b'-') => {
                pos = line_end(bytes, pos);
                Kind::Comment
            }
            b'#' if dialect == Dialect::MySql => {
                pos = line_end(bytes, pos);
                Kind::Comment
            }
            b'/' if bytes.get(pos + 1) == Some(&b'*') => {
                pos = block_comment_end(bytes, pos, dialect == Dialect::Postgres);
                Kind::Comment
            }
            b'\'' => {
                pos = quoted_end(bytes, pos, b'\'', dialect == Dialect::MySql);
                Kind::String
            }
            b'"' if dialect == Dialect::MySql => {
                pos = quoted_end(bytes, pos, b'"', true);
                Kind::String
            }
            b'"' => {
                pos = quoted_end(bytes, pos, b'"', false);
                Kind::Quoted
            }
            b'`' if dialect != Dialect::Postgres => {
                pos = quoted_end(bytes, pos, b'`', false);
                Kind::Quoted
            }
            b'[' if dialect == Dialect::Sqlite => {
                pos = bytes[pos..]
                    .iter()
                    .position(|&c| c == b']')
                    .map_or(bytes.len(), |i| pos + i + 1);
                Kind::Quoted
            }
            b'$' if dialect == Dialect::Postgres => match dollar_end(bytes, pos) {
                Some(end) => {
                    pos = end;
                    Kind::String
                }
                None => {
                    pos += 1;
                    while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                        pos += 1;
                    }
                    Kind::Other
                }
            },
            b'0'..=b'9' => {
                pos = number_end(bytes, pos);
                Kind::Number
            }
            b'.' if bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) => {
                pos = number_end(bytes, pos);
                Kind::Number
            }
            _ if is_word_start(b) => {
                while pos < bytes.len() && is_word_byte(bytes[pos]) {
                    pos += 1;
                }
                // String prefixes: E'..', X'..', B'..', N'..' (one word).
                if pos - start == 1
                    && bytes.get(pos) == Some(&b'\'')
                    && matches!(b.to_ascii_uppercase(), b'E' | b'X' | b'B' | b'N')
                {
                    let backslash = dialect == Dialect::MySql || b.eq_ignore_ascii_case(&b'e');
                    pos = quoted_end(bytes, pos, b'\'', backslash);
                    Kind::String
                } else {
                    Kind::Word
                }
            }
            _ => {
                pos += punct_len(&bytes[pos..]);
                if pos - start == 1 && !b"(),.;=<>+-*/%|&!~^:?@".contains(&b) {
                    Kind::Other
                } else {
                    Kind::Punct
                }
            }
        };
        // Never split a UTF-8 character.
        while pos < bytes.len() && !sql.is_char_boundary(pos) {
            pos += 1;
        }
        let text = &sql[start..pos.min(bytes.len())];
        out.push(Token {
            kind,
            text,
            start,
            line,
        });
        line += u32::try_from(text.bytes().filter(|&c| c == b'\n').count()).unwrap_or(0);
    }
    out
}

/// The tokens of `sql` without comments.
pub(crate) fn code_tokens(sql: &str, dialect: Dialect) -> Vec<Token<'_>> {
    let mut t = tokens(sql, dialect);
    t.retain(|t| t.kind != Kind::Comment);
    t
}

fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn line_end(bytes: &[u8], pos: usize) -> usize {
    bytes[pos..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(bytes.len(), |i| pos + i)
}

fn block_comment_end(bytes: &[u8], mut pos: usize, nests: bool) -> usize {
    let mut depth = 0usize;
    while pos < bytes.len() {
        if bytes[pos] == b'/' && bytes.get(pos + 1) == Some(&b'*') {
            depth = if nests || depth == 0 {
                depth + 1
            } else {
                depth
            };
            pos += 2;
        } else if bytes[pos] == b'*' && bytes.get(pos + 1) == Some(&b'/') {
            depth -= 1;
            pos += 2;
            if depth == 0 {
                return pos;
            }
        } else {
            pos += 1;
        }
    }
    bytes.len()
}

fn quoted_end(bytes: &[u8], mut pos: usize, quote: u8, backslash: bool) -> usize {
    pos += 1;
    while pos < bytes.len() {
        let b = bytes[pos];
        if backslash && b == b'\\' {
            pos += 2;
            continue;
        }
        pos += 1;
        if b == quote {
            if bytes.get(pos) == Some(&quote) {
                pos += 1;
            } else {
                return pos;
            }
        }
    }
    bytes.len()
}

fn dollar_end(bytes: &[u8], pos: usize) -> Option<usize> {
    let rest = &bytes[pos + 1..];
    let tag_len = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80))
        .unwrap_or(rest.len());
    if rest.get(tag_len) != Some(&b'$') || rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let delimiter = &bytes[pos..pos + tag_len + 2];
    let body = pos + tag_len + 2;
    Some(
        bytes[body..]
            .windows(delimiter.len())
            .position(|w| w == delimiter)
            .map_or(bytes.len(), |at| body + at + delimiter.len()),
    )
}

fn number_end(bytes: &[u8], mut pos: usize) -> usize {
    if bytes[pos] == b'0' && matches!(bytes.get(pos + 1), Some(b'x' | b'X')) {
        pos += 2;
        while pos < bytes.len() && bytes[pos].is_ascii_hexdigit() {
            pos += 1;
        }
        return pos;
    }
    while pos < bytes.len() && (bytes[pos].is_ascii_digit() || bytes[pos] == b'.') {
        pos += 1;
    }
    if pos < bytes.len() && matches!(bytes[pos], b'e' | b'E') {
        let mut p = pos + 1;
        if p < bytes.len() && matches!(bytes[p], b'+' | b'-') {
            p += 1;
        }
        if p < bytes.len() && bytes[p].is_ascii_digit() {
            pos = p;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
        }
    }
    pos
}

fn punct_len(rest: &[u8]) -> usize {
    const MULTI: [&[u8]; 12] = [
        b"->>", b"::", b"<=", b">=", b"<>", b"!=", b"||", b"->", b"==", b"<<", b">>", b":=",
    ];
    MULTI
        .iter()
        .find(|m| rest.starts_with(m))
        .map_or(1, |m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, d: Dialect) -> Vec<(Kind, &str)> {
        tokens(sql, d).iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn words_strings_quotes_and_operators() {
        assert_eq!(
            kinds("a::int <> 'x''y' -- c\n\"Q\"\"q\"", Dialect::Postgres),
            [
                (Kind::Word, "a"),
                (Kind::Punct, "::"),
                (Kind::Word, "int"),
                (Kind::Punct, "<>"),
                (Kind::String, "'x''y'"),
                (Kind::Comment, "-- c"),
                (Kind::Quoted, "\"Q\"\"q\""),
            ]
        );
        assert_eq!(unquote("\"Q\"\"q\""), "Q\"q");
        assert_eq!(unquote("[a b]"), "a b");
        assert_eq!(string_value("'x''y'").as_deref(), Some("x'y"));
    }

    #[test]
    fn dialect_specifics() {
        assert_eq!(
            kinds("`a` \"s\" # c", Dialect::MySql),
            [
                (Kind::Quoted, "`a`"),
                (Kind::String, "\"s\""),
                (Kind::Comment, "# c"),
            ]
        );
        assert_eq!(
            kinds("$f$ x; $f$ $1 E'\\''", Dialect::Postgres),
            [
                (Kind::String, "$f$ x; $f$"),
                (Kind::Other, "$1"),
                (Kind::String, "E'\\''"),
            ]
        );
        assert_eq!(
            kinds("[x] X'0A' 1.5e3", Dialect::Sqlite),
            [
                (Kind::Quoted, "[x]"),
                (Kind::String, "X'0A'"),
                (Kind::Number, "1.5e3"),
            ]
        );
    }

    #[test]
    fn lines_and_unterminated_input() {
        let t = tokens("a\n/* x\ny */ b\n'c", Dialect::Sqlite);
        assert_eq!(t.iter().map(|t| t.line).collect::<Vec<_>>(), [1, 2, 3, 4]);
        for text in ["'abc", "\"abc", "$$abc", "/* abc", "`x", "[x", "é'", "0x"] {
            for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
                let _ = tokens(text, d);
            }
        }
    }
}
