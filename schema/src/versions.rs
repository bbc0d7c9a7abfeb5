//! What a statement of the desired schema needs of the server's version.
//! When a statement fails on a server older than a feature it uses (the
//! dev server runs PostgreSQL 13 and schema.sql says `UNIQUE NULLS NOT
//! DISTINCT`), the error says so instead of leaving the user with the
//! server's `syntax error at or near "NOT"`.

use retort_core::split::Dialect;

use crate::lex::{Token, code_tokens};

/// A PostgreSQL feature newer than 13 (the oldest version retort supports):
/// its name in messages, the major version that added it, and the words
/// that spell it, matched as consecutive keywords outside strings and
/// comments.
struct Feature {
    name: &'static str,
    since: u32,
    words: &'static [&'static str],
}

const POSTGRES: &[Feature] = &[
    Feature {
        name: "`NULLS NOT DISTINCT`",
        since: 15,
        words: &["NULLS", "NOT", "DISTINCT"],
    },
    Feature {
        name: "`NULLS DISTINCT`",
        since: 15,
        words: &["NULLS", "DISTINCT"],
    },
    Feature {
        name: "column `COMPRESSION`",
        since: 14,
        words: &["COMPRESSION"],
    },
    Feature {
        name: "virtual generated columns (`VIRTUAL`)",
        since: 18,
        words: &[")", "VIRTUAL"],
    },
    Feature {
        name: "`WITHOUT OVERLAPS`",
        since: 18,
        words: &["WITHOUT", "OVERLAPS"],
    },
];

/// PostgreSQL's major version in a `version` label (`13` for `PostgreSQL
/// 13.23`).
pub(crate) fn postgres_major(version: &str) -> Option<u32> {
    let number = version.strip_prefix("PostgreSQL ")?;
    let digits: String = number.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Why `sql` failed on the server `version` (`PostgreSQL 13.23`) if it
/// uses a feature that version lacks: "`NULLS NOT DISTINCT` needs
/// PostgreSQL 15 or later". `None` when nothing is known.
pub(crate) fn too_new(dialect: Dialect, version: &str, sql: &str) -> Option<String> {
    if dialect != Dialect::Postgres {
        return None;
    }
    let major = postgres_major(version)?;
    let tokens = code_tokens(sql, dialect);
    let feature = POSTGRES
        .iter()
        .filter(|f| major < f.since)
        .find(|f| spells(&tokens, f.words))?;
    Some(format!(
        "{} needs PostgreSQL {} or later, and the dev server runs {version}",
        feature.name, feature.since
    ))
}

/// Whether `words` occur as consecutive tokens (keywords, or punctuation).
fn spells(tokens: &[Token<'_>], words: &[&str]) -> bool {
    tokens.windows(words.len()).any(|w| {
        w.iter()
            .zip(words)
            .all(|(t, word)| t.is_word(word) || t.is_punct(word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NND: &str = "CREATE TABLE t (a INT, CONSTRAINT t_a UNIQUE NULLS NOT DISTINCT (a));";

    #[test]
    fn a_feature_newer_than_the_server_is_named() {
        let note = too_new(Dialect::Postgres, "PostgreSQL 13.23", NND).expect("a note");
        assert_eq!(
            note,
            "`NULLS NOT DISTINCT` needs PostgreSQL 15 or later, and the dev server runs PostgreSQL 13.23"
        );
        let virt = "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) VIRTUAL);";
        let note = too_new(Dialect::Postgres, "PostgreSQL 17.2", virt).expect("a note");
        assert!(note.starts_with("virtual generated columns"), "{note}");
    }

    #[test]
    fn nothing_is_said_when_the_server_has_the_feature_or_it_is_only_text() {
        assert_eq!(too_new(Dialect::Postgres, "PostgreSQL 15.4", NND), None);
        assert_eq!(too_new(Dialect::MySql, "MariaDB 10.11.6", NND), None);
        let quoted = "CREATE TABLE t (a TEXT DEFAULT 'NULLS NOT DISTINCT'); -- VIRTUAL";
        assert_eq!(too_new(Dialect::Postgres, "PostgreSQL 13.23", quoted), None);
        // A column named `virtual` is no generated column.
        let column = "CREATE TABLE t (id INT, virtual INT);";
        assert_eq!(too_new(Dialect::Postgres, "PostgreSQL 13.23", column), None);
    }

    #[test]
    fn majors_are_read_from_the_label() {
        assert_eq!(postgres_major("PostgreSQL 13.23"), Some(13));
        assert_eq!(postgres_major("PostgreSQL 18beta1"), Some(18));
        assert_eq!(postgres_major("MariaDB 10.11"), None);
    }
}
