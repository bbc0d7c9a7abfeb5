//! Rendering changes as SQL statements of one dialect.
//!
//! Each [`Change`] becomes one or more statements (without the final `;`),
//! each with the notes (`-- retort: ...` comments) that go before it.

mod mysql;
mod postgres;
pub(crate) mod sqlite;

use crate::Dialect;
use crate::change::Change;
use crate::error::Error;
use crate::model::{Check, FkAction, ForeignKey, IndexKind, Key, Table};
use crate::quote::{ident_list, quote_ident as q};

/// One statement and the comment lines before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) notes: Vec<String>,
    pub(crate) sql: String,
}

/// The statements of `change` in dialect `d`.
pub(crate) fn render(d: Dialect, change: &Change) -> Result<Vec<Statement>, Error> {
    let sql = match d {
        Dialect::Postgres => postgres::render(change)?,
        Dialect::MySql => mysql::render(change)?,
        Dialect::Sqlite => sqlite::render(change)?,
    };
    let mut out: Vec<Statement> = sql
        .into_iter()
        .map(|sql| Statement {
            notes: Vec::new(),
            sql,
        })
        .collect();
    if let (Some(first), Some(note)) = (out.first_mut(), destructive_note(change)) {
        first.notes.push(note);
    }
    Ok(out)
}

fn destructive_note(change: &Change) -> Option<String> {
    if !change.is_destructive() {
        return None;
    }
    Some(match change {
        Change::DropTable { table } => {
            format!("destructive: drops table {} and its rows", table.name)
        }
        Change::DropColumn { table, column } => {
            format!(
                "destructive: drops column {table}.{} and its values",
                column.name
            )
        }
        Change::AlterColumn { table, from, to } => format!(
            "destructive: changes the type of {table}.{} from {} to {}: values the new type cannot hold fail or are converted",
            to.name, from.data_type, to.data_type
        ),
        Change::RebuildTable { from, to } => {
            let mut what = Vec::new();
            for c in &from.columns {
                match to
                    .columns
                    .iter()
                    .find(|n| n.name.eq_ignore_ascii_case(&c.name))
                {
                    None => what.push(format!("drops column {} and its values", c.name)),
                    Some(n) if n.data_type != c.data_type => what.push(format!(
                        "converts column {} from {} to {} (values take the new type's affinity)",
                        c.name, c.data_type, n.data_type
                    )),
                    Some(_) => {}
                }
            }
            format!(
                "destructive: rebuilds table {}: {}",
                from.name,
                what.join("; ")
            )
        }
        Change::RecreateEnum { from, to, .. } => {
            let gone: Vec<&str> = from
                .values
                .iter()
                .filter(|v| !to.values.contains(v))
                .map(String::as_str)
                .collect();
            format!(
                "destructive: type {} loses value(s) {}: rows holding them make the conversion fail",
                to.name,
                gone.join(", ")
            )
        }
        other => format!("destructive: {other}"),
    })
}

/// `CONSTRAINT name ` when named.
fn constraint_name(d: Dialect, name: &Option<String>) -> String {
    name.as_ref()
        .map_or(String::new(), |n| format!("CONSTRAINT {} ", q(d, n)))
}

fn key_clause(d: Dialect, key: &Key) -> String {
    format!("{}{}", constraint_name(d, &key.name), key.definition)
}

fn check_clause(d: Dialect, check: &Check) -> String {
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
fn fk_body(d: Dialect, fk: &ForeignKey) -> String {
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
fn table_constraints(d: Dialect, table: &Table, skip_pk: bool) -> Vec<String> {
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
fn create_table_sql(d: Dialect, name: &str, elements: &[String], tail: &str) -> String {
    format!(
        "CREATE TABLE {} (\n    {}\n){tail}",
        q(d, name),
        elements.join(",\n    ")
    )
}

fn index_sql(d: Dialect, table: &str, index: &crate::model::Index) -> String {
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
