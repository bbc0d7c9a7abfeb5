//! SQLite statements. What `ALTER TABLE` cannot do is a
//! [rebuild](crate::rebuild); everything else is plain DDL.

use retort_core::split::Dialect;

use super::clauses::{create_table_sql, index_sql, table_constraints};
use crate::change::Change;
use crate::error::Error;
use crate::model::{Column, Identity, Table, member_key};
use crate::quote::quote_ident;
use crate::rebuild;

const D: Dialect = Dialect::Sqlite;

fn q(name: &str) -> String {
    quote_ident(D, name)
}

/// A default as SQLite wants it: literals bare, expressions parenthesised.
pub(crate) fn default_sql(default: &str) -> String {
    if rebuild::is_literal(default) {
        default.to_owned()
    } else {
        format!("({default})")
    }
}

/// A column definition; `inline_pk` puts `PRIMARY KEY AUTOINCREMENT` on it.
pub(crate) fn column_def(c: &Column, inline_pk: bool) -> String {
    let mut s = q(&c.name);
    if !c.data_type.is_empty() {
        s.push(' ');
        s.push_str(&c.data_type);
    }
    if inline_pk {
        s.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(" DEFAULT ");
        s.push_str(&default_sql(d));
    }
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {}", q(coll)));
    }
    if let Some(g) = &c.generated {
        let kind = if g.stored { "STORED" } else { "VIRTUAL" };
        s.push_str(&format!(" GENERATED ALWAYS AS ({}) {kind}", g.expression));
    }
    s
}

/// `CREATE TABLE` for `table` under the name `name`.
pub(crate) fn create_table(table: &Table, name: &str) -> String {
    let autoincrement = table
        .columns
        .iter()
        .find(|c| c.identity == Some(Identity::AutoIncrement))
        .map(|c| c.name.clone());
    let mut elements: Vec<String> = table
        .columns
        .iter()
        .map(|c| column_def(c, Some(&c.name) == autoincrement.as_ref()))
        .collect();
    elements.extend(table_constraints(D, table, autoincrement.is_some()));
    let tail = if table.options.is_empty() {
        String::new()
    } else {
        format!(" {}", table.options.join(", "))
    };
    create_table_sql(D, name, &elements, &tail)
}

/// Steps 4 to 7 of a [rebuild](crate::rebuild): the new table, the copy, the drop and the rename.
fn rebuild_statements(from: &Table, to: &Table) -> Vec<String> {
    let temp = rebuild::temp_name(&to.name);
    let kept: Vec<String> = to
        .columns
        .iter()
        .filter(|c| c.generated.is_none())
        .filter(|c| {
            from.columns
                .iter()
                .any(|f| member_key(D, &f.name) == member_key(D, &c.name) && f.generated.is_none())
        })
        .map(|c| q(&c.name))
        .collect();
    let mut out = vec![create_table(to, &temp)];
    if !kept.is_empty() {
        let list = kept.join(", ");
        out.push(format!(
            "INSERT INTO {} ({list}) SELECT {list} FROM {}",
            q(&temp),
            q(&from.name)
        ));
    }
    out.push(format!("DROP TABLE {}", q(&from.name)));
    out.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        q(&temp),
        q(&to.name)
    ));
    out
}

pub(super) fn render(change: &Change) -> Result<Vec<String>, Error> {
    Ok(match change {
        Change::RenameTable { from, to } => {
            vec![format!("ALTER TABLE {} RENAME TO {}", q(from), q(to))]
        }
        Change::RenameColumn { table, from, to } => vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            q(table),
            q(from),
            q(to)
        )],
        Change::CreateTable { table } => {
            let mut out = vec![create_table(table, &table.name)];
            out.extend(table.indexes.iter().map(|i| index_sql(D, &table.name, i)));
            out
        }
        Change::DropTable { table } => vec![format!("DROP TABLE {}", q(&table.name))],
        Change::RebuildTable { from, to } => rebuild_statements(from, to),
        Change::AddColumn { table, column } => vec![format!(
            "ALTER TABLE {} ADD COLUMN {}",
            q(table),
            column_def(column, false)
        )],
        Change::DropColumn { table, column } => vec![format!(
            "ALTER TABLE {} DROP COLUMN {}",
            q(table),
            q(&column.name)
        )],
        Change::CreateIndex { table, index } => vec![index_sql(D, table, index)],
        Change::DropIndex { index, .. } => vec![format!("DROP INDEX {}", q(&index.name))],
        Change::CreateView { view } => {
            vec![format!("CREATE VIEW {} {}", q(&view.name), view.definition)]
        }
        Change::DropView { view } => vec![format!("DROP VIEW {}", q(&view.name))],
        Change::CreateTrigger { trigger } => vec![trigger.definition.clone()],
        Change::DropTrigger { trigger } => vec![format!("DROP TRIGGER {}", q(&trigger.name))],
        // The diff folds everything else into a rebuild on SQLite, or it
        // does not exist there.
        other => {
            return Err(Error::Unsupported(format!(
                "SQLite cannot express `{other}` outside a table rebuild"
            )));
        }
    })
}
