//! MySQL and MariaDB statements. Column changes restate the whole column
//! (`MODIFY COLUMN`), as MySQL requires.

use retort_core::split::Dialect;

use super::clauses::{
    check_clause, create_table_sql, fk_body, index_sql, key_clause, table_constraints,
};
use crate::change::Change;
use crate::error::Error;
use crate::model::{Column, Identity, Index, IndexKind, Table};
use crate::quote::{quote_ident, quote_literal};

const D: Dialect = Dialect::MySql;

fn q(name: &str) -> String {
    quote_ident(D, name)
}

/// A full column definition, as `ADD COLUMN` and `MODIFY COLUMN` take it.
pub(crate) fn column_def(c: &Column) -> String {
    let mut s = format!("{} {}", q(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(g) = &c.generated {
        let kind = if g.stored { "STORED" } else { "VIRTUAL" };
        s.push_str(&format!(" GENERATED ALWAYS AS ({}) {kind}", g.expression));
    } else {
        s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT {d}"));
        }
        if c.identity == Some(Identity::AutoIncrement) {
            s.push_str(" AUTO_INCREMENT");
        }
    }
    if let Some(comment) = &c.comment {
        s.push_str(&format!(" COMMENT {}", quote_literal(D, comment)));
    }
    s
}

/// An index as a `CREATE TABLE` element.
fn index_element(index: &Index) -> String {
    let kind = match index.kind {
        IndexKind::Plain => "KEY",
        IndexKind::Unique => "UNIQUE KEY",
        IndexKind::Fulltext => "FULLTEXT KEY",
        IndexKind::Spatial => "SPATIAL KEY",
    };
    format!("{kind} {} {}", q(&index.name), index.definition)
}

fn table_options(table: &Table) -> String {
    let mut tail: Vec<String> = table.options.clone();
    if let Some(c) = &table.comment {
        tail.push(format!("COMMENT={}", quote_literal(D, c)));
    }
    if tail.is_empty() {
        String::new()
    } else {
        format!(" {}", tail.join(" "))
    }
}

/// Indexes go inside `CREATE TABLE`, so MySQL does not add an index of
/// its own for a foreign key that an index of the table already serves.
fn create_table(table: &Table) -> String {
    let mut elements: Vec<String> = table.columns.iter().map(column_def).collect();
    elements.extend(table.indexes.iter().map(index_element));
    elements.extend(table_constraints(D, table, false));
    create_table_sql(D, &table.name, &elements, &table_options(table))
}

fn alter(table: &str, action: String) -> String {
    format!("ALTER TABLE {} {action}", q(table))
}

/// Table options as they become; an option that goes away returns to its
/// default (`ENGINE=InnoDB`, the database's character set).
fn options_change(from: &[String], to: &[String]) -> String {
    let mut parts = Vec::new();
    for o in to.iter().filter(|o| !from.contains(o)) {
        match o.strip_prefix("COLLATE=") {
            // The table's default alone would leave its columns as they
            // were: CONVERT changes both.
            Some(collation) => {
                let charset = collation.split('_').next().unwrap_or(collation);
                parts.push(format!(
                    "CONVERT TO CHARACTER SET {charset} COLLATE {collation}"
                ));
            }
            None => parts.push(o.clone()),
        }
    }
    for o in from {
        let name = o.split('=').next().unwrap_or_default();
        if to.iter().any(|t| t.split('=').next() == Some(name)) {
            continue;
        }
        match name {
            "ENGINE" => parts.push("ENGINE=InnoDB".to_owned()),
            "COLLATE" => parts.push("CONVERT TO CHARACTER SET DEFAULT".to_owned()),
            _ => {}
        }
    }
    parts.join(", ")
}

pub(super) fn render(change: &Change) -> Result<Vec<String>, Error> {
    Ok(match change {
        Change::RenameTable { from, to } => vec![format!("RENAME TABLE {} TO {}", q(from), q(to))],
        Change::RenameColumn { table, from, to } => {
            vec![alter(
                table,
                format!("RENAME COLUMN {} TO {}", q(from), q(to)),
            )]
        }
        Change::RenameIndex { table, from, to } => {
            vec![alter(
                table,
                format!("RENAME INDEX {} TO {}", q(from), q(to)),
            )]
        }
        Change::CreateTable { table } => vec![create_table(table)],
        Change::DropTable { table } => vec![format!("DROP TABLE {}", q(&table.name))],
        Change::AddColumn { table, column } => {
            vec![alter(table, format!("ADD COLUMN {}", column_def(column)))]
        }
        Change::AddKeyedColumn { table, column, key } => vec![alter(
            table,
            format!(
                "ADD COLUMN {}, ADD {}",
                column_def(column),
                key_clause(D, key)
            ),
        )],
        Change::DropColumn { table, column } => {
            vec![alter(table, format!("DROP COLUMN {}", q(&column.name)))]
        }
        Change::AlterColumn { table, to, .. } | Change::ColumnComment { table, column: to } => {
            vec![alter(table, format!("MODIFY COLUMN {}", column_def(to)))]
        }
        Change::AddPrimaryKey { table, key } => {
            vec![alter(table, format!("ADD {}", key.definition))]
        }
        Change::DropPrimaryKey { table, .. } => vec![alter(table, "DROP PRIMARY KEY".to_owned())],
        Change::AddUnique { table, key } => {
            vec![alter(table, format!("ADD {}", key_clause(D, key)))]
        }
        Change::DropUnique { table, key } => {
            vec![alter(
                table,
                format!("DROP INDEX {}", q(key.name.as_deref().unwrap_or_default())),
            )]
        }
        Change::AddCheck { table, check } => {
            vec![alter(table, format!("ADD {}", check_clause(D, check)))]
        }
        Change::DropCheck { table, check } => {
            vec![alter(
                table,
                format!(
                    "DROP CONSTRAINT {}",
                    q(check.name.as_deref().unwrap_or_default())
                ),
            )]
        }
        Change::AddForeignKey { table, fk } => {
            let name = match &fk.name {
                Some(n) if !crate::diff::is_mysql_auto_fk_name(table, n) => {
                    format!("CONSTRAINT {} ", q(n))
                }
                _ => String::new(),
            };
            vec![alter(table, format!("ADD {name}{}", fk_body(D, fk)))]
        }
        Change::DropForeignKey { table, fk } => {
            vec![alter(
                table,
                format!(
                    "DROP FOREIGN KEY {}",
                    q(fk.name.as_deref().unwrap_or_default())
                ),
            )]
        }
        Change::CreateIndex { table, index } => vec![index_sql(D, table, index)],
        Change::DropIndex { table, index } => {
            vec![format!("DROP INDEX {} ON {}", q(&index.name), q(table))]
        }
        Change::TableComment { table, comment } => vec![alter(
            table,
            format!(
                "COMMENT = {}",
                quote_literal(D, comment.as_deref().unwrap_or_default())
            ),
        )],
        Change::TableOptions { table, from, to } => vec![alter(table, options_change(from, to))],
        Change::CreateView { view } => vec![format!(
            "CREATE VIEW {} AS {}",
            q(&view.name),
            view.definition
        )],
        Change::DropView { view } => vec![format!("DROP VIEW {}", q(&view.name))],
        Change::CreateTrigger { trigger } => vec![trigger.definition.clone()],
        Change::DropTrigger { trigger } => vec![format!("DROP TRIGGER {}", q(&trigger.name))],
        other => {
            return Err(Error::Unsupported(format!(
                "MySQL has no equivalent of `{other}`"
            )));
        }
    })
}
