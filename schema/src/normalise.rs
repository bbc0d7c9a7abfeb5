//! Normalising what a backend reports, so that equal definitions compare
//! equal.
//!
//! PostgreSQL and MySQL/MariaDB print types, defaults and expressions in a
//! canonical form of their own (`varchar(20)` reads back as `character
//! varying(20)`, `now()` as `CURRENT_TIMESTAMP`...): both sides are loaded
//! into the same kind of server, so their texts are compared as the server
//! prints them. SQLite stores statements as written, so SQLite texts go
//! through [`canonical`]: comments dropped, words in lower case, simple
//! quoted names unquoted, one spacing, redundant outer parentheses gone.

use retort_core::split::Dialect;

use crate::lex::{self, Kind, Token};
use crate::quote::{is_keyword, quote_ident};

/// The canonical spelling of SQL text: the same for any two spellings that
/// differ only in comments, white space, the case of keywords and names,
/// and needless quotes around names. Idempotent.
///
/// ```
/// # use retort_schema::{canonical, Dialect};
/// assert_eq!(
///     canonical(Dialect::Sqlite, "CHECK ( \"Price\" >0 ) -- positive"),
///     canonical(Dialect::Sqlite, "check (price > 0)"),
/// );
/// assert_eq!(canonical(Dialect::Sqlite, "DEFAULT ( datetime ( 'now' ) )"), "default(datetime('now'))");
/// ```
pub fn canonical(dialect: Dialect, sql: &str) -> String {
    join(dialect, &lex::code_tokens(sql, dialect))
}

/// The canonical spelling of a run of tokens (see [`canonical`]).
pub(crate) fn join(dialect: Dialect, tokens: &[Token<'_>]) -> String {
    let mut out = String::with_capacity(tokens.iter().map(|t| t.text.len() + 1).sum());
    let mut previous: Option<&Token<'_>> = None;
    for t in tokens {
        if let Some(p) = previous
            && space_between(p, t)
        {
            out.push(' ');
        }
        match t.kind {
            Kind::Word => out.push_str(&t.text.to_ascii_lowercase()),
            Kind::Quoted => {
                let name = lex::unquote(t.text);
                let lower = name.to_ascii_lowercase();
                if is_simple_lower(&lower) && !is_keyword(dialect, &lower) {
                    out.push_str(&lower);
                } else {
                    out.push_str(&quote_ident(dialect, &name));
                }
            }
            _ => out.push_str(t.text),
        }
        previous = Some(t);
    }
    out
}

fn is_simple_lower(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_lowercase())
        && chars.all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn space_between(a: &Token<'_>, b: &Token<'_>) -> bool {
    if a.is_punct("(") || a.is_punct(".") {
        return false;
    }
    if b.is_punct(")") || b.is_punct(",") || b.is_punct(".") || b.is_punct(";") {
        return false;
    }
    if b.is_punct("(") && matches!(a.kind, Kind::Word | Kind::Quoted) {
        return false;
    }
    true
}

/// `text` without parentheses that enclose all of it: `((a > 0))` is
/// `a > 0`, `(a) + (b)` stays.
pub fn strip_outer_parens(dialect: Dialect, text: &str) -> &str {
    let mut t = text.trim();
    while t.starts_with('(') && t.ends_with(')') && closes_at_end(dialect, t) {
        t = t[1..t.len() - 1].trim();
    }
    t
}

/// True when the `(` at the start of `t` is closed by its last character.
fn closes_at_end(dialect: Dialect, t: &str) -> bool {
    let tokens = lex::code_tokens(t, dialect);
    let mut depth = 0i32;
    for (i, tok) in tokens.iter().enumerate() {
        if tok.is_punct("(") {
            depth += 1;
        } else if tok.is_punct(")") {
            depth -= 1;
            if depth == 0 {
                return i + 1 == tokens.len();
            }
        }
    }
    false
}

/// Collapses runs of white space to one space and trims (for texts whose
/// only variation is layout, such as MySQL trigger bodies).
pub fn collapse_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rewrites the names in `text` for which `rename` gives a new name,
/// keeping everything else byte for byte. Used to carry a rename through
/// the definitions that mention the renamed column or table.
pub(crate) fn rename_idents(
    dialect: Dialect,
    text: &str,
    rename: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for t in lex::tokens(text, dialect) {
        let Some(name) = t.ident() else { continue };
        if let Some(new) = rename(&name) {
            out.push_str(&text[last..t.start]);
            let quoted = t.kind == Kind::Quoted
                || dialect == Dialect::MySql
                || (dialect == Dialect::Postgres && new != new.to_ascii_lowercase());
            if quoted {
                out.push_str(&quote_ident(dialect, &new));
            } else {
                out.push_str(&new);
            }
            last = t.end();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// The names (unquoted) that `text` mentions, in order, duplicates kept.
pub(crate) fn idents(dialect: Dialect, text: &str) -> Vec<String> {
    lex::code_tokens(text, dialect)
        .iter()
        .filter_map(|t| t.ident().map(|s| s.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_idempotent_and_spelling_blind() {
        let a = "CREATE VIEW v AS SELECT \"A\".x, [b] FROM t AS \"A\" WHERE x IN (1,2) -- hi";
        let c = canonical(Dialect::Sqlite, a);
        assert_eq!(
            c,
            "create view v as select a.x, b from t as a where x in(1, 2)"
        );
        assert_eq!(canonical(Dialect::Sqlite, &c), c);
        assert_eq!(
            canonical(Dialect::Sqlite, "\"order\" + \"Mixed Case\""),
            "\"order\" + \"Mixed Case\""
        );
        assert_eq!(
            canonical(Dialect::Sqlite, "'It''s' || X'0a'"),
            "'It''s' || X'0a'"
        );
    }

    #[test]
    fn outer_parentheses() {
        assert_eq!(strip_outer_parens(Dialect::Sqlite, "((a > 0))"), "a > 0");
        assert_eq!(
            strip_outer_parens(Dialect::Sqlite, "(a) + (b)"),
            "(a) + (b)"
        );
        assert_eq!(strip_outer_parens(Dialect::Sqlite, "(')')"), "')'");
        assert_eq!(strip_outer_parens(Dialect::Sqlite, "("), "(");
    }

    #[test]
    fn renames_touch_only_names() {
        let r = |n: &str| (n == "a").then(|| "b".to_owned());
        assert_eq!(
            rename_idents(Dialect::Postgres, "CHECK ((a > 0 AND 'a' <> \"a\"))", &r),
            "CHECK ((b > 0 AND 'a' <> b))"
        );
        assert_eq!(rename_idents(Dialect::MySql, "`a` + a2", &r), "`b` + a2");
        assert_eq!(
            idents(Dialect::Sqlite, "select x from [t] -- y"),
            ["select", "x", "from", "t"]
        );
    }
}
