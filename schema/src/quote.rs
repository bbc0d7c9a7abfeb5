//! Quoting identifiers and literals for each dialect: PostgreSQL and SQLite
//! names are quoted only when they must be (upper case, unusual characters,
//! reserved words); MySQL names always get backticks, as the server's own
//! `SHOW CREATE TABLE` writes them.

use retort_core::split::Dialect;

/// PostgreSQL's reserved words, and the non-reserved ones that cannot be
/// every kind of name (quoting too many is harmless).
const POSTGRES: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// SQLite's keywords (<https://sqlite.org/lang_keywords.html>).
const SQLITE: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];

/// True when `word` (any case) is a keyword of `dialect` that an
/// identifier must not be spelled as unquoted.
pub(crate) fn is_keyword(dialect: Dialect, word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    let list = match dialect {
        Dialect::Postgres => POSTGRES,
        Dialect::Sqlite => SQLITE,
        Dialect::MySql => return true,
    };
    list.binary_search(&lower.as_str()).is_ok()
}

fn simple(name: &str, lower_only: bool) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| {
        c == '_' || c.is_ascii_lowercase() || (!lower_only && c.is_ascii_uppercase())
    }) && chars.all(|c| {
        c == '_'
            || c.is_ascii_digit()
            || c.is_ascii_lowercase()
            || (!lower_only && c.is_ascii_uppercase())
    })
}

/// `name` as an identifier of `dialect`.
///
/// ```
/// use retort_schema::{quote_ident, Dialect};
/// assert_eq!(quote_ident(Dialect::Postgres, "users"), "users");
/// assert_eq!(quote_ident(Dialect::Postgres, "User"), "\"User\"");
/// assert_eq!(quote_ident(Dialect::Postgres, "order"), "\"order\"");
/// assert_eq!(quote_ident(Dialect::MySql, "a`b"), "`a``b`");
/// assert_eq!(quote_ident(Dialect::Sqlite, "Users"), "Users");
/// ```
pub fn quote_ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{}`", name.replace('`', "``")),
        // PostgreSQL folds unquoted names to lower case; SQLite keeps
        // them as written and compares them case-insensitively.
        Dialect::Postgres | Dialect::Sqlite => {
            if simple(name, dialect == Dialect::Postgres) && !is_keyword(dialect, name) {
                name.to_owned()
            } else {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
        }
    }
}

/// Identifiers joined with `, `.
pub(crate) fn ident_list(dialect: Dialect, names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(dialect, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` as a string literal of `dialect`.
pub fn quote_literal(dialect: Dialect, text: &str) -> String {
    let doubled = text.replace('\'', "''");
    match dialect {
        Dialect::MySql => format!("'{}'", doubled.replace('\\', "\\\\")),
        Dialect::Postgres if text.contains('\\') => format!("E'{}'", doubled.replace('\\', "\\\\")),
        _ => format!("'{doubled}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_lists_are_sorted_for_binary_search() {
        for list in [POSTGRES, SQLITE] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    #[test]
    fn literals() {
        assert_eq!(quote_literal(Dialect::Postgres, "it's"), "'it''s'");
        assert_eq!(quote_literal(Dialect::Postgres, "a\\b"), "E'a\\\\b'");
        assert_eq!(quote_literal(Dialect::MySql, "a\\b'"), "'a\\\\b'''");
        assert_eq!(quote_ident(Dialect::Sqlite, "key"), "\"key\"");
        assert_eq!(quote_ident(Dialect::Postgres, "a b"), "\"a b\"");
        assert_eq!(quote_ident(Dialect::Postgres, "_x1"), "_x1");
    }
}
