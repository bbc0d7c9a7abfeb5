//! The clauses every dialect's statements share: constraint names, keys,
//! checks, foreign keys, the table-level constraints of a `CREATE TABLE`
//! and `CREATE INDEX`.

use retort_core::split::Dialect;

use crate::model::{Check, FkAction, ForeignKey, Index, IndexKind, Key, Table};
use crate::quote::{ident_list, quote_ident as q};

/// `CONSTRAINT name ` when named.
pub(super) fn constraint_name(d: Dialect, name: &Option<String>) -> String {
    name.as_ref()
        .map_or(String::new(), |n| format!("CONSTRAINT {} ", q(d, n)))
}

pub(super) fn key_clause(d: Dialect, key: &Key) -> String {
    format!("{}{}", constraint_name(d, &key.name), key.definition)
}

pub(super) fn check_clause(d: Dialect, check: &Check) -> String {
    let auto = d == Dialect::MySql
        && check
            .name
            .as_deref()
            .is_some_and(crate::diff::is_mysql_auto_check_name);
    if auto {
        return check.definition.clone();
    }
    format!("{}{}", constraint_name(d, &check.name), check.definition)
}

/// `FOREIGN KEY (...) REFERENCES ...`, without the constraint name.
pub(super) fn fk_body(d: Dialect, fk: &ForeignKey) -> String {
    let mut s = format!(
        "FOREIGN KEY ({}) REFERENCES {}",
        ident_list(d, &fk.columns),
        q(d, &fk.ref_table)
    );
    if !fk.ref_columns.is_empty() {
        s.push_str(&format!(" ({})", ident_list(d, &fk.ref_columns)));
    }
    let options = fk.options.trim();
    // PostgreSQL's own order: MATCH, then the actions, then DEFERRABLE.
    let (matching, rest) = match options.strip_prefix("MATCH ") {
        Some(after) => {
            let (kind, rest) = after.split_once(' ').unwrap_or((after, ""));
            (format!(" MATCH {kind}"), rest.trim())
        }
        None => (String::new(), options),
    };
    s.push_str(&matching);
    if fk.on_update != FkAction::NoAction {
        s.push_str(&format!(" ON UPDATE {}", fk.on_update.as_sql()));
    }
    if fk.on_delete != FkAction::NoAction {
        s.push_str(&format!(" ON DELETE {}", fk.on_delete.as_sql()));
    }
    if !rest.is_empty() {
        s.push(' ');
        s.push_str(rest);
    }
    s
}

/// The table-level clauses of a `CREATE TABLE` after the columns: keys,
/// checks and the foreign keys created with the table.
pub(super) fn table_constraints(d: Dialect, table: &Table, skip_pk: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(pk) = &table.primary_key
        && !skip_pk
    {
        out.push(key_clause(d, pk));
    }
    out.extend(table.uniques.iter().map(|k| key_clause(d, k)));
    out.extend(table.checks.iter().map(|c| check_clause(d, c)));
    for fk in &table.foreign_keys {
        let name = match d {
            Dialect::MySql
                if fk
                    .name
                    .as_deref()
                    .is_some_and(|n| crate::diff::is_mysql_auto_fk_name(&table.name, n)) =>
            {
                String::new()
            }
            _ => constraint_name(d, &fk.name),
        };
        out.push(format!("{name}{}", fk_body(d, fk)));
    }
    out
}

/// `CREATE TABLE name (\n    a,\n    b\n)` with `tail` after the `)`.
pub(super) fn create_table_sql(d: Dialect, name: &str, elements: &[String], tail: &str) -> String {
    format!(
        "CREATE TABLE {} (\n    {}\n){tail}",
        q(d, name),
        elements.join(",\n    ")
    )
}

pub(super) fn index_sql(d: Dialect, table: &str, index: &Index) -> String {
    let kind = match index.kind {
        IndexKind::Plain => "",
        IndexKind::Unique => "UNIQUE ",
        IndexKind::Fulltext => "FULLTEXT ",
        IndexKind::Spatial => "SPATIAL ",
    };
    format!(
        "CREATE {kind}INDEX {} ON {} {}",
        q(d, &index.name),
        q(d, table),
        index.definition
    )
}
