//! SQLite: `sqlite_master` for the objects, their stored `CREATE`
//! statements (parsed by [`sqlite_parse`](super::sqlite_parse)) for the
//! details, `pragma_table_list` to tell virtual and shadow tables apart.

use std::collections::HashMap;

use retort_core::split::Dialect;
use sqlx::SqliteConnection;

use super::catalog::{query_error, view_dependencies};
use super::scope::Scope;
use super::sqlite_parse;
use crate::error::Error;
use crate::model::{Column, Index, IndexKind, Schema, Trigger, View};

const D: Dialect = Dialect::Sqlite;

/// Reads the `main` schema of an SQLite connection.
pub async fn sqlite(conn: &mut SqliteConnection, scope: &Scope) -> Result<Schema, Error> {
    let objects: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("sqlite_master"))?;
    let kinds: HashMap<String, String> =
        sqlx::query_as("SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
            .fetch_all(&mut *conn)
            .await
            .map_err(query_error("pragma_table_list"))?
            .into_iter()
            .collect();
    let mut schema = Schema::new(D);
    let bad = |kind: &str, name: &str| {
        let object = format!("{kind} {name}");
        move |message| Error::Introspect { object, message }
    };
    for (kind, name, table, sql) in objects {
        let internal = name.to_ascii_lowercase().starts_with("sqlite_");
        if internal || scope.excludes(D, &table) {
            continue;
        }
        let sql = sql.unwrap_or_default();
        match kind.as_str() {
            "table" => match kinds.get(&name).map(String::as_str) {
                Some("shadow") => {}
                Some("virtual") => schema.not_compared("virtual table", &name),
                _ => match sqlite_parse::create_table(&sql).map_err(bad("table", &name))? {
                    Some(parsed) => {
                        for clause in parsed.ignored {
                            schema.not_compared("clause", format!("{clause} in table {name}"));
                        }
                        schema.insert_table(parsed.table);
                    }
                    None => {
                        let mut t = crate::model::Table::new(name.clone());
                        t.columns = pragma_columns(conn, &name).await?;
                        schema.insert_table(t);
                    }
                },
            },
            // Indexes without SQL back a PRIMARY KEY or UNIQUE constraint.
            "index" if sql.is_empty() => {}
            "index" => {
                let parsed = sqlite_parse::create_index(&sql).map_err(bad("index", &name))?;
                let k = crate::model::key(D, &table);
                match schema.tables.get_mut(&k) {
                    Some(t) => t.indexes.push(Index {
                        name,
                        kind: if parsed.unique {
                            IndexKind::Unique
                        } else {
                            IndexKind::Plain
                        },
                        definition: parsed.definition,
                        columns: parsed.columns,
                    }),
                    None => schema.not_compared("index", format!("{name} on {table}")),
                }
            }
            "view" => {
                let definition =
                    sqlite_parse::after_name(&sql, "VIEW").map_err(bad("view", &name))?;
                schema.insert_view(View {
                    name,
                    definition,
                    materialized: false,
                    depends_on: Vec::new(),
                    comment: None,
                });
            }
            "trigger" => {
                let rest =
                    sqlite_parse::after_name(&sql, "TRIGGER").map_err(bad("trigger", &name))?;
                let definition = format!(
                    "create trigger {} {rest}",
                    crate::quote::quote_ident(D, &name)
                );
                schema.insert_trigger(Trigger {
                    name,
                    table,
                    definition,
                    function: None,
                });
            }
            other => schema.not_compared(other, &name),
        }
    }
    view_dependencies(&mut schema);
    schema.finish();
    Ok(schema)
}

/// Columns of a `CREATE TABLE ... AS SELECT` table, from the pragma.
async fn pragma_columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<Column>, Error> {
    let rows: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_xinfo(?) ORDER BY cid",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("pragma_table_xinfo"))?;
    Ok(rows
        .into_iter()
        .map(|(name, data_type, notnull, default)| {
            let mut c = Column::new(name, data_type.to_ascii_uppercase());
            c.nullable = !notnull;
            c.default = default.map(|d| crate::normalise::canonical(D, &d));
            c
        })
        .collect())
}
