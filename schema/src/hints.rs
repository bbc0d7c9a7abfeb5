//! Rename hints: how the desired schema says "this was renamed", so a
//! rename keeps its data instead of reading as a drop and an add.
//!
//! ```text
//! hint     = "--" [spaces] "retort:renamed-from" spaces old-name [spaces] [free text]
//! old-name = a name as the dialect writes it, plain or quoted
//! ```
//!
//! A hint stands on the line before what it renames (comment lines and
//! blank lines may come between), or at the end of a column's line:
//!
//! ```sql
//! -- retort:renamed-from users
//! CREATE TABLE accounts (
//!     id BIGINT PRIMARY KEY,
//!     -- retort:renamed-from email
//!     login TEXT NOT NULL,
//!     nick TEXT  -- retort:renamed-from nickname
//! );
//! ALTER TABLE posts
//!     -- retort:renamed-from body
//!     ADD COLUMN text TEXT;                      -- the hint before ADD COLUMN
//! -- retort:renamed-from order_seq
//! CREATE SEQUENCE order_number_seq;              -- PostgreSQL
//! -- retort:renamed-from mood
//! CREATE TYPE feeling AS ENUM ('sad', 'ok');     -- PostgreSQL
//! ```
//!
//! It may stand before `CREATE TABLE`, a column definition inside it,
//! `ALTER TABLE ... ADD [COLUMN]`, `CREATE SEQUENCE` or `CREATE TYPE`;
//! anywhere else it is an error. A column hint inside a renamed table
//! names the column's old name in the old table. Once the rename is
//! applied (the old name is gone and the new one exists) the hint is
//! satisfied and does nothing; it can then be deleted. A hint whose old
//! name exists nowhere, or whose old and new names both exist, is an
//! error naming its file and line.

use retort_core::split::Dialect;

use crate::error::Error;
use crate::lex::{self, Kind, Token};
use crate::model::{Schema, key, member_key};
use crate::renames::Renames;

/// The marker that starts a hint, after `--`.
pub const MARKER: &str = "retort:renamed-from";

/// What a hint renames.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HintTarget {
    /// A table.
    Table,
    /// A column of the table (its new name).
    Column {
        /// The table, by its new name.
        table: String,
    },
    /// A PostgreSQL sequence.
    Sequence,
    /// A PostgreSQL enum type.
    Type,
}

/// One rename hint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenameHint {
    /// What it renames.
    pub target: HintTarget,
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
    /// The file it stands in.
    pub file: String,
    /// Its line.
    pub line: u32,
}

/// The rename hints of a desired schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// The hints, in file order.
    pub renames: Vec<RenameHint>,
}

impl Hints {
    /// No hints.
    pub fn none() -> Self {
        Self::default()
    }
}

fn hint_error(file: &str, line: u32, message: String) -> Error {
    Error::Hint {
        file: file.to_owned(),
        line,
        message,
    }
}

const PLACES: &str = "a rename hint must stand before CREATE TABLE, a column definition, ALTER TABLE ... ADD COLUMN, CREATE SEQUENCE or CREATE TYPE";

/// The old name a hint comment names, if it is a hint: `Ok(None)` for an
/// ordinary comment.
fn hint_name(
    comment: &str,
    dialect: Dialect,
    file: &str,
    line: u32,
) -> Result<Option<String>, Error> {
    let body = comment
        .trim_start_matches("--")
        .trim_start_matches('#')
        .trim_start();
    let Some(rest) = body.strip_prefix(MARKER) else {
        if body.to_ascii_lowercase().starts_with("retort:") && !body.starts_with("retort: ") {
            return Err(hint_error(
                file,
                line,
                format!(
                    "unknown retort directive `{}`: the rename hint is `-- {MARKER} OLD_NAME`",
                    body.split_whitespace().next().unwrap_or(body)
                ),
            ));
        }
        return Ok(None);
    };
    let tokens = lex::code_tokens(rest, dialect);
    match tokens.first().and_then(|t| t.ident()) {
        Some(name) if rest.starts_with(char::is_whitespace) => Ok(Some(name.into_owned())),
        _ => Err(hint_error(
            file,
            line,
            format!("`-- {MARKER}` must be followed by the old name, e.g. `-- {MARKER} old_name`"),
        )),
    }
}

/// Finds the hints in one file of the desired schema.
pub(crate) fn parse(file: &str, text: &str, dialect: Dialect) -> Result<Vec<RenameHint>, Error> {
    let tokens = lex::tokens(text, dialect);
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Comment {
            continue;
        }
        let Some(from) = hint_name(t.text, dialect, file, t.line)? else {
            continue;
        };
        let before = tokens[..i].iter().rev().find(|p| p.kind != Kind::Comment);
        let trailing = before.is_some_and(|p| p.line == t.line && !p.is_punct(";"));
        let (target, to) = if trailing {
            let at = tokens[..i]
                .iter()
                .rposition(|p| p.kind != Kind::Comment && !p.is_punct(","))
                .unwrap_or(0);
            place(&tokens, at, dialect, true).ok_or_else(|| {
                hint_error(
                    file,
                    t.line,
                    format!("{PLACES} (or at the end of a column's line)"),
                )
            })?
        } else {
            let Some(at) = tokens[i + 1..]
                .iter()
                .position(|n| n.kind != Kind::Comment)
                .map(|p| p + i + 1)
            else {
                return Err(hint_error(
                    file,
                    t.line,
                    format!("{PLACES}; nothing follows it"),
                ));
            };
            place(&tokens, at, dialect, false).ok_or_else(|| {
                hint_error(
                    file,
                    t.line,
                    format!("{PLACES}; found `{}`", tokens[at].text),
                )
            })?
        };
        out.push(RenameHint {
            target,
            from,
            to,
            file: file.to_owned(),
            line: t.line,
        });
    }
    Ok(out)
}

/// The statement start before token `at` (just after the previous `;`).
fn statement_start(tokens: &[Token<'_>], at: usize) -> usize {
    tokens[..at]
        .iter()
        .rposition(|t| t.is_punct(";"))
        .map_or(0, |p| p + 1)
}

fn code_from<'t, 'a>(tokens: &'t [Token<'a>], start: usize) -> Vec<(usize, &'t Token<'a>)> {
    tokens
        .iter()
        .enumerate()
        .skip(start)
        .filter(|(_, t)| t.kind != Kind::Comment)
        .take_while(|(_, t)| !t.is_punct(";"))
        .collect()
}

/// What token `at` starts (or, `inside`, lies in): returns the target and
/// the new name.
fn place(
    tokens: &[Token<'_>],
    at: usize,
    dialect: Dialect,
    inside: bool,
) -> Option<(HintTarget, String)> {
    let start = statement_start(tokens, at);
    let code = code_from(tokens, start);
    let words: Vec<&Token<'_>> = code.iter().map(|(_, t)| *t).collect();
    let pos = code.iter().position(|(i, _)| *i == at)?;
    let word = |k: usize, w: &str| words.get(k).is_some_and(|t| t.is_word(w));
    // CREATE [OR REPLACE] [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name
    let mut k = 1;
    if !word(0, "CREATE") {
        return alter_add_column(&words, pos, inside);
    }
    if word(k, "OR") && word(k + 1, "REPLACE") {
        k += 2;
    }
    while ["TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL"]
        .iter()
        .any(|w| word(k, w))
    {
        k += 1;
    }
    let kind = words.get(k)?;
    k += 1;
    if word(k, "IF") && word(k + 1, "NOT") && word(k + 2, "EXISTS") {
        k += 3;
    }
    let (name, after) = qualified_name(&words, k)?;
    if pos == 0 && !inside {
        return match () {
            _ if kind.is_word("TABLE") => Some((HintTarget::Table, name)),
            _ if kind.is_word("SEQUENCE") && dialect == Dialect::Postgres => {
                Some((HintTarget::Sequence, name))
            }
            _ if kind.is_word("TYPE") && dialect == Dialect::Postgres => {
                Some((HintTarget::Type, name))
            }
            _ => None,
        };
    }
    if !kind.is_word("TABLE") || !words.get(after)?.is_punct("(") {
        return None;
    }
    // Column elements of the body: split at top-level commas.
    let mut depth = 0;
    let mut element_start = after + 1;
    for (n, t) in words.iter().enumerate().skip(after + 1) {
        let ends = depth == 0 && (t.is_punct(",") || t.is_punct(")"));
        if ends {
            let hit = if inside {
                (element_start..n).contains(&pos)
            } else {
                pos == element_start
            };
            if hit {
                return column_element(&words[element_start..n])
                    .map(|c| (HintTarget::Column { table: name }, c));
            }
            if t.is_punct(")") {
                return None;
            }
            element_start = n + 1;
        } else if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth -= 1;
        }
    }
    None
}

fn qualified_name(words: &[&Token<'_>], mut k: usize) -> Option<(String, usize)> {
    let mut name = words.get(k)?.ident()?.into_owned();
    k += 1;
    while words.get(k).is_some_and(|t| t.is_punct(".")) {
        name = words.get(k + 1)?.ident()?.into_owned();
        k += 2;
    }
    Some((name, k))
}

/// The column a table element defines, `None` for a constraint.
fn column_element(element: &[&Token<'_>]) -> Option<String> {
    let first = element.first()?;
    const CONSTRAINTS: [&str; 13] = [
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "CHECK",
        "FOREIGN",
        "KEY",
        "INDEX",
        "FULLTEXT",
        "SPATIAL",
        "EXCLUDE",
        "LIKE",
        "PERIOD",
        "SYSTEM",
    ];
    if first.kind == Kind::Word && CONSTRAINTS.iter().any(|c| first.is_word(c)) {
        return None;
    }
    first.ident().map(|n| n.into_owned())
}

/// `ALTER TABLE name ADD [COLUMN] [IF NOT EXISTS] col`, the hint before
/// `ALTER` or before `ADD`.
fn alter_add_column(
    words: &[&Token<'_>],
    pos: usize,
    inside: bool,
) -> Option<(HintTarget, String)> {
    if inside || !words.first()?.is_word("ALTER") || !words.get(1)?.is_word("TABLE") {
        return None;
    }
    let mut k = 2;
    if words.get(k)?.is_word("IF") {
        k += 2;
    }
    if words.get(k)?.is_word("ONLY") {
        k += 1;
    }
    let (table, mut k) = qualified_name(words, k)?;
    let add = k;
    if !words.get(k)?.is_word("ADD") || (pos != 0 && pos != add) {
        return None;
    }
    k += 1;
    if words.get(k)?.is_word("COLUMN") {
        k += 1;
    }
    if words.get(k)?.is_word("IF") {
        k += 3;
    }
    column_element(&words[k..]).map(|c| (HintTarget::Column { table }, c))
}

/// Resolves hints against the current and desired schemas: the renames to
/// make, or an error naming the hint at fault.
pub(crate) fn resolve(hints: &Hints, current: &Schema, desired: &Schema) -> Result<Renames, Error> {
    let d = desired.dialect;
    let mut renames = Renames::default();
    let err = |h: &RenameHint, message: String| hint_error(&h.file, h.line, message);
    for h in hints
        .renames
        .iter()
        .filter(|h| h.target == HintTarget::Table)
    {
        let (old, new) = (
            current.table(&h.from).is_some(),
            current.table(&h.to).is_some(),
        );
        if desired.table(&h.from).is_some() {
            return Err(err(
                h,
                format!(
                    "table {} is renamed to {} but the desired schema still has a table {}",
                    h.from, h.to, h.from
                ),
            ));
        }
        match (old, new) {
            (true, false) => {
                if renames
                    .tables
                    .iter()
                    .any(|(o, n)| key(d, o) == key(d, &h.from) || key(d, n) == key(d, &h.to))
                {
                    return Err(err(
                        h,
                        format!(
                            "table {} or {} is named by another rename hint too",
                            h.from, h.to
                        ),
                    ));
                }
                renames.tables.push((h.from.clone(), h.to.clone()));
            }
            (false, true) => {} // applied already
            (true, true) => {
                return Err(err(
                    h,
                    format!(
                        "tables {} and {} both exist: drop one before renaming",
                        h.from, h.to
                    ),
                ));
            }
            (false, false) => {
                return Err(err(
                    h,
                    format!("no table {} exists to be renamed to {}", h.from, h.to),
                ));
            }
        }
    }
    for h in &hints.renames {
        match &h.target {
            HintTarget::Table => {}
            HintTarget::Column { table } => {
                let old_table = renames
                    .tables
                    .iter()
                    .find(|(_, n)| key(d, n) == key(d, table))
                    .map_or(table.as_str(), |(o, _)| o.as_str());
                let Some(t) = current.table(old_table) else {
                    return Err(err(
                        h,
                        format!(
                            "table {table} is new: its column {} cannot be renamed from {}",
                            h.to, h.from
                        ),
                    ));
                };
                let (old, new) = (t.column(d, &h.from).is_some(), t.column(d, &h.to).is_some());
                match (old, new) {
                    (true, false) => {
                        let dup = renames.columns.iter().any(|(tt, o, n)| {
                            key(d, tt) == key(d, table)
                                && (member_key(d, o) == member_key(d, &h.from)
                                    || member_key(d, n) == member_key(d, &h.to))
                        });
                        if dup {
                            return Err(err(
                                h,
                                format!(
                                    "column {table}.{} or {} is named by another rename hint too",
                                    h.from, h.to
                                ),
                            ));
                        }
                        renames
                            .columns
                            .push((table.clone(), h.from.clone(), h.to.clone()));
                    }
                    (false, true) => {}
                    (true, true) => {
                        return Err(err(
                            h,
                            format!(
                                "columns {old_table}.{} and {} both exist: drop one before renaming",
                                h.from, h.to
                            ),
                        ));
                    }
                    (false, false) => {
                        return Err(err(
                            h,
                            format!(
                                "table {old_table} has no column {} to be renamed to {}",
                                h.from, h.to
                            ),
                        ));
                    }
                }
            }
            HintTarget::Sequence | HintTarget::Type => {
                let (what, cur, des) = if h.target == HintTarget::Sequence {
                    (
                        "sequence",
                        current.sequences.contains_key(&h.from),
                        current.sequences.contains_key(&h.to),
                    )
                } else {
                    (
                        "type",
                        current.enums.contains_key(&h.from),
                        current.enums.contains_key(&h.to),
                    )
                };
                match (cur, des) {
                    (true, false) if h.target == HintTarget::Sequence => {
                        renames.sequences.push((h.from.clone(), h.to.clone()))
                    }
                    (true, false) => renames.enums.push((h.from.clone(), h.to.clone())),
                    (false, true) => {}
                    (true, true) => {
                        return Err(err(
                            h,
                            format!(
                                "{what}s {} and {} both exist: drop one before renaming",
                                h.from, h.to
                            ),
                        ));
                    }
                    (false, false) => {
                        return Err(err(
                            h,
                            format!("no {what} {} exists to be renamed to {}", h.from, h.to),
                        ));
                    }
                }
            }
        }
    }
    Ok(renames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_pg(text: &str) -> Result<Vec<(HintTarget, String, String, u32)>, Error> {
        Ok(parse("schema.sql", text, Dialect::Postgres)?
            .into_iter()
            .map(|h| (h.target, h.from, h.to, h.line))
            .collect())
    }

    #[test]
    fn every_place_a_hint_may_stand() {
        let text = "-- retort:renamed-from users\n-- another comment\n\nCREATE TABLE accounts (\n  id INT,\n  -- retort:renamed-from email\n  login TEXT,\n  nick TEXT, -- retort:renamed-from nickname\n  PRIMARY KEY (id)\n);\n\
                    ALTER TABLE posts\n  -- retort:renamed-from body\n  ADD COLUMN text TEXT;\n-- retort:renamed-from s1\nCREATE SEQUENCE s2;\n-- retort:renamed-from \"Mood\"\nCREATE TYPE feeling AS ENUM ('a');";
        let col = |t: &str| HintTarget::Column {
            table: t.to_owned(),
        };
        assert_eq!(
            parse_pg(text).expect("parses"),
            [
                (HintTarget::Table, "users".into(), "accounts".into(), 1),
                (col("accounts"), "email".into(), "login".into(), 6),
                (col("accounts"), "nickname".into(), "nick".into(), 8),
                (col("posts"), "body".into(), "text".into(), 12),
                (HintTarget::Sequence, "s1".into(), "s2".into(), 14),
                (HintTarget::Type, "Mood".into(), "feeling".into(), 16),
            ]
        );
    }

    #[test]
    fn misplaced_or_malformed_hints_are_errors() {
        for (text, line, needle) in [
            (
                "-- retort:renamed-from a\nCREATE VIEW v AS SELECT 1;",
                1,
                "found `CREATE`",
            ),
            (
                "CREATE TABLE t (\n  -- retort:renamed-from a\n  PRIMARY KEY (id)\n);",
                2,
                "found `PRIMARY`",
            ),
            (
                "CREATE TABLE t (a INT);\n-- retort:renamed-from x",
                2,
                "nothing follows",
            ),
            (
                "-- retort:renamed-from\nCREATE TABLE t (a INT);",
                1,
                "followed by the old name",
            ),
            (
                "-- retort:renamed_from a\nCREATE TABLE t (a INT);",
                1,
                "unknown retort directive",
            ),
        ] {
            let e = parse_pg(text).expect_err(text).to_string();
            assert!(
                e.starts_with(&format!("schema.sql:{line}: ")) && e.contains(needle),
                "{text}: {e}"
            );
        }
    }
}
