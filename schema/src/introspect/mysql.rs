//! MySQL and MariaDB: `information_schema` of the connection's database,
//! one query per kind of object. Types, defaults, check clauses, generated
//! expressions and view definitions are the server's own spelling.
//!
//! Tested on MariaDB 10.11. MySQL 8 differs in ways handled here: literal
//! defaults come unquoted (expressions are flagged `DEFAULT_GENERATED`),
//! functional index parts sit in `STATISTICS.EXPRESSION`, and check
//! constraints are named per database (joined through
//! `TABLE_CONSTRAINTS`).

use std::collections::BTreeMap;

use retort_core::split::Dialect;
use sqlx::MySqlConnection;

use super::catalog::{query_error, view_dependencies};
use super::scope::Scope;
use crate::error::Error;
use crate::model::{
    Check, Column, FkAction, ForeignKey, Generated, Identity, Index, IndexKind, Key, Schema, Table,
    Trigger, View,
};
use crate::quote::{quote_ident, quote_literal};

const D: Dialect = Dialect::MySql;

fn q(name: &str) -> String {
    quote_ident(D, name)
}

type TableRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// An index being read: unique, parts, columns, type, comment.
type IndexParts = (bool, Vec<String>, Vec<String>, String, String);

/// Reads the connection's current database.
pub async fn mysql(conn: &mut MySqlConnection, scope: &Scope) -> Result<Schema, Error> {
    let (version, db, db_collation, engine): (String, String, String, String) = sqlx::query_as(
        "SELECT CAST(VERSION() AS CHAR), CAST(DATABASE() AS CHAR), \
                CAST((SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()) AS CHAR), \
                CAST(@@default_storage_engine AS CHAR)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(query_error("the database"))?;
    let mariadb = version.contains("MariaDB");
    let mut schema = Schema::new(D);
    let rows: Vec<TableRow> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR), CAST(ENGINE AS CHAR), CAST(TABLE_COLLATION AS CHAR), \
                CAST(COALESCE(TABLE_COMMENT, '') AS CHAR), CAST(COALESCE(CREATE_OPTIONS, '') AS CHAR) \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("tables"))?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut collations: BTreeMap<String, String> = BTreeMap::new();
    for (name, kind, table_engine, collation, comment, options) in rows {
        if scope.excludes(D, &name) {
            continue;
        }
        match kind.as_str() {
            "BASE TABLE" => {
                let mut t = Table::new(name.clone());
                if let Some(e) = table_engine.filter(|e| !e.eq_ignore_ascii_case(&engine)) {
                    t.options.push(format!("ENGINE={e}"));
                }
                if let Some(c) = &collation
                    && *c != db_collation
                {
                    t.options.push(format!("COLLATE={c}"));
                }
                if options.to_ascii_lowercase().contains("partitioned") {
                    schema.not_compared("partitioning of table", &name);
                }
                t.comment = Some(comment).filter(|c| !c.is_empty());
                collations.insert(name.clone(), collation.unwrap_or(db_collation.clone()));
                tables.insert(name, t);
            }
            "VIEW" => {}
            "SEQUENCE" => schema.not_compared("sequence", &name),
            other => schema.not_compared(&other.to_ascii_lowercase(), &name),
        }
    }
    for column in columns(conn, mariadb, &mut tables, &collations).await? {
        schema.not_compared("invisible attribute of column", column);
    }
    keys(conn, mariadb, &mut tables).await?;
    foreign_keys(conn, &mut tables).await?;
    checks(conn, mariadb, &mut tables).await?;
    for t in tables.into_values() {
        schema.insert_table(t);
    }
    views(conn, &db, &mut schema).await?;
    triggers(conn, scope, &mut schema).await?;
    let others: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(LOWER(ROUTINE_TYPE) AS CHAR), CAST(ROUTINE_NAME AS CHAR) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() \
         UNION ALL SELECT 'event', CAST(EVENT_NAME AS CHAR) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("routines and events"))?;
    for (kind, name) in others {
        schema.not_compared(&kind, name);
    }
    view_dependencies(&mut schema);
    schema.finish();
    Ok(schema)
}

type ColumnRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// Reads the columns; returns the invisible ones (`table.column`), whose
/// invisibility is not compared.
async fn columns(
    conn: &mut MySqlConnection,
    mariadb: bool,
    tables: &mut BTreeMap<String, Table>,
    collations: &BTreeMap<String, String>,
) -> Result<Vec<String>, Error> {
    let mut invisible = Vec::new();
    let rows: Vec<ColumnRow> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
                CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), CAST(GENERATION_EXPRESSION AS CHAR), \
                CAST(COLLATION_NAME AS CHAR), CAST(COLUMN_COMMENT AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("columns"))?;
    for (table, name, data_type, nullable, default, extra, generation, collation, comment) in rows {
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        let extra_lower = extra.to_ascii_lowercase();
        let mut c = Column::new(name, data_type);
        c.nullable = nullable == "YES";
        c.comment = Some(comment).filter(|c| !c.is_empty());
        c.collation = collation.filter(|c| Some(c) != collations.get(&table));
        if extra_lower.contains("generated") && !extra_lower.contains("default_generated") {
            c.generated = Some(Generated {
                expression: generation.unwrap_or_default(),
                stored: extra_lower.contains("stored"),
            });
            // The server reports generated columns as nullable.
            c.nullable = true;
        } else {
            c.default = match default {
                // MariaDB writes `NULL` for "no default" on nullable columns.
                Some(d) if mariadb && d == "NULL" => None,
                Some(d) if mariadb => Some(d),
                Some(d) if extra_lower.contains("default_generated") => Some(mysql8_expression(&d)),
                Some(d) => Some(quote_literal(D, &d)),
                None => None,
            };
            if let Some(at) = extra_lower.find("on update ") {
                let expr = extra[at + "on update ".len()..].trim().to_owned();
                c.default = Some(format!(
                    "{} ON UPDATE {expr}",
                    c.default.as_deref().unwrap_or("NULL")
                ));
            }
        }
        if extra_lower.contains("auto_increment") {
            c.identity = Some(Identity::AutoIncrement);
        }
        if extra_lower.contains("invisible") {
            invisible.push(format!("{table}.{}", c.name));
        }
        t.columns.push(c);
    }
    Ok(invisible)
}

/// A MySQL 8 expression default as `DEFAULT` takes it.
fn mysql8_expression(d: &str) -> String {
    if d.to_ascii_uppercase().starts_with("CURRENT_TIMESTAMP") {
        d.to_owned()
    } else {
        format!("({d})")
    }
}

type StatRow = (
    String,
    String,
    i64,
    String,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
);

async fn keys(
    conn: &mut MySqlConnection,
    mariadb: bool,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), Error> {
    let expression = if mariadb {
        "NULL"
    } else {
        "CAST(EXPRESSION AS CHAR)"
    };
    let rows: Vec<StatRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
                CAST(COALESCE(COLUMN_NAME, '') AS CHAR), CAST(SUB_PART AS SIGNED), CAST(INDEX_TYPE AS CHAR), \
                CAST(COALESCE(INDEX_COMMENT, '') AS CHAR), CAST(COLLATION AS CHAR), {expression} \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("indexes"))?;
    let mut found: BTreeMap<(String, String), IndexParts> = BTreeMap::new();
    for (table, index, non_unique, column, sub_part, kind, comment, collation, expr) in rows {
        let entry = found
            .entry((table, index))
            .or_insert_with(|| (non_unique == 0, Vec::new(), Vec::new(), kind, comment));
        let mut part = match expr {
            Some(e) if column.is_empty() => format!("({e})"),
            _ => q(&column),
        };
        if let Some(n) = sub_part {
            part.push_str(&format!("({n})"));
        }
        if collation.as_deref() == Some("D") {
            part.push_str(" DESC");
        }
        entry.1.push(part);
        if !column.is_empty() {
            entry.2.push(column);
        }
    }
    for ((table, name), (unique, parts, columns, kind, comment)) in found {
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        let mut definition = format!("({})", parts.join(", "));
        let index_kind = match kind.as_str() {
            "FULLTEXT" => IndexKind::Fulltext,
            "SPATIAL" => IndexKind::Spatial,
            _ if unique => IndexKind::Unique,
            _ => IndexKind::Plain,
        };
        if kind == "HASH" {
            definition.push_str(" USING HASH");
        }
        if !comment.is_empty() {
            definition.push_str(&format!(" COMMENT {}", quote_literal(D, &comment)));
        }
        if name == "PRIMARY" {
            t.primary_key = Some(Key {
                name: None,
                columns,
                definition: format!("PRIMARY KEY {definition}"),
            });
        } else if index_kind == IndexKind::Unique {
            t.uniques.push(Key {
                name: Some(name),
                columns,
                definition: format!("UNIQUE {definition}"),
            });
        } else {
            t.indexes.push(Index {
                name,
                kind: index_kind,
                definition,
                columns,
            });
        }
    }
    Ok(())
}

async fn foreign_keys(
    conn: &mut MySqlConnection,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), Error> {
    let rows: Vec<(String, String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
                CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), \
                CAST(r.UPDATE_RULE AS CHAR), CAST(r.DELETE_RULE AS CHAR) \
         FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("foreign keys"))?;
    for (table, name, column, ref_table, ref_column, update, delete) in rows {
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        match t
            .foreign_keys
            .iter_mut()
            .find(|f| f.name.as_deref() == Some(name.as_str()))
        {
            Some(fk) => {
                fk.columns.push(column);
                fk.ref_columns.push(ref_column);
            }
            None => t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns: vec![column],
                ref_table,
                ref_columns: vec![ref_column],
                on_update: FkAction::parse(&update).unwrap_or(FkAction::Restrict),
                on_delete: FkAction::parse(&delete).unwrap_or(FkAction::Restrict),
                options: String::new(),
            }),
        }
    }
    Ok(())
}

async fn checks(
    conn: &mut MySqlConnection,
    mariadb: bool,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), Error> {
    // MariaDB names checks per table (and has TABLE_NAME); MySQL per database.
    let sql = if mariadb {
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2"
    } else {
        "SELECT CAST(tc.TABLE_NAME AS CHAR), CAST(cc.CONSTRAINT_NAME AS CHAR), CAST(cc.CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc \
           ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK' \
         WHERE cc.CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2"
    };
    let rows: Vec<(String, String, String)> = sqlx::query_as(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("check constraints"))?;
    for (table, name, clause) in rows {
        if let Some(t) = tables.get_mut(&table) {
            t.checks.push(Check {
                name: Some(name),
                definition: format!("CHECK ({clause})"),
            });
        }
    }
    Ok(())
}

async fn views(conn: &mut MySqlConnection, db: &str, schema: &mut Schema) -> Result<(), Error> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(VIEW_DEFINITION AS CHAR), CAST(CHECK_OPTION AS CHAR), CAST(SECURITY_TYPE AS CHAR) \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("views"))?;
    // The server qualifies every name with the database, which differs
    // between the scratch databases.
    let qualifier = format!("{}.", q(db));
    for (name, definition, check, security) in rows {
        let mut definition = definition.replace(&qualifier, "");
        if check != "NONE" {
            definition.push_str(&format!(" WITH {check} CHECK OPTION"));
        }
        if security != "DEFINER" {
            schema.not_compared("SQL SECURITY of view", &name);
        }
        schema.insert_view(View {
            name,
            definition,
            materialized: false,
            depends_on: Vec::new(),
            comment: None,
        });
    }
    Ok(())
}

async fn triggers(
    conn: &mut MySqlConnection,
    scope: &Scope,
    schema: &mut Schema,
) -> Result<(), Error> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(TRIGGER_NAME AS CHAR), CAST(ACTION_TIMING AS CHAR), CAST(EVENT_MANIPULATION AS CHAR), \
                CAST(EVENT_OBJECT_TABLE AS CHAR), CAST(ACTION_STATEMENT AS CHAR) \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("triggers"))?;
    for (name, timing, event, table, body) in rows {
        if scope.excludes(D, &table) {
            continue;
        }
        let definition = format!(
            "CREATE TRIGGER {} {timing} {event} ON {} FOR EACH ROW {}",
            q(&name),
            q(&table),
            body.trim()
        );
        schema.insert_trigger(Trigger {
            name,
            table,
            definition,
            function: None,
        });
    }
    Ok(())
}
