//! Rendering changes as SQL statements of one dialect.
//!
//! Each [`Change`] becomes one or more statements (without the final `;`),
//! each with the notes (`-- retort: ...` comments) that go before it.

mod clauses;
mod mysql;
mod postgres;
mod sqlite;

use retort_core::split::Dialect;

use crate::change::Change;
use crate::error::Error;

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
