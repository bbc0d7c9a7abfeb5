//! PostgreSQL (13 and later): the system catalogs, one set-based query per
//! kind of object, and the server's own printers (`format_type`,
//! `pg_get_expr`, `pg_get_constraintdef`, `pg_get_indexdef`,
//! `pg_get_viewdef`, `pg_get_triggerdef`, `pg_get_functiondef`) for every
//! text, so definitions compare as the server normalised them.
//!
//! Version notes: PostgreSQL 18 adds virtual generated columns
//! (`attgenerated = 'v'`, read here as `stored: false`) and records NOT
//! NULL as constraints of type `n` (skipped: nullability comes from
//! `attnotnull`, as on earlier versions).

use std::collections::{BTreeMap, BTreeSet};

use retort_core::split::Dialect;
use sqlx::PgConnection;

use super::catalog::{query_error, view_dependencies};
use super::scope::Scope;
use crate::error::Error;
use crate::model::{
    Check, Column, EnumType, FkAction, ForeignKey, Function, Generated, Identity, Index, IndexKind,
    Key, Schema, Sequence, Table, Trigger, View,
};

const D: Dialect = Dialect::Postgres;

/// Objects that belong to an extension, which are the extension's business.
const NOT_EXTENSION: &str =
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')";

type RelationRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    bool,
    bool,
    bool,
);
type SequenceRow = (String, String, String, i64, i64, i64, i64, i64, bool);

/// Reads schema `scope.schema` of a PostgreSQL connection.
pub async fn postgres(conn: &mut PgConnection, scope: &Scope) -> Result<Schema, Error> {
    let nsp = scope.schema.as_str();
    let mut schema = Schema::new(D);
    // Relations.
    let rels: Vec<RelationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.oid::int8, c.relname::text, c.relkind::text, obj_description(c.oid, 'pg_class'), \
                c.relpersistence::text, c.relispartition, c.relrowsecurity, \
                EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {NOT_EXTENSION} \
         ORDER BY c.relname"
    )))
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("relations"))?;
    let mut tables: BTreeMap<i64, Table> = BTreeMap::new();
    let mut views: BTreeMap<i64, View> = BTreeMap::new();
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    for (oid, name, kind, comment, persistence, partition, rls, inherits) in rels {
        names.insert(oid, name.clone());
        if scope.excludes(D, &name) {
            continue;
        }
        match kind.as_str() {
            "r" if partition => schema.not_compared("partition", &name),
            "r" => {
                if persistence == "u" {
                    schema.not_compared("unlogged setting of table", &name);
                }
                if rls {
                    schema.not_compared("row level security of table", &name);
                }
                if inherits {
                    schema.not_compared("inheritance of table", &name);
                }
                let mut t = Table::new(name);
                t.comment = comment;
                tables.insert(oid, t);
            }
            "p" => schema.not_compared("partitioned table", &name),
            "f" => schema.not_compared("foreign table", &name),
            _ => {
                views.insert(
                    oid,
                    View {
                        name,
                        definition: String::new(),
                        materialized: kind == "m",
                        depends_on: Vec::new(),
                        comment,
                    },
                );
            }
        }
    }
    let owned = columns(conn, nsp, &mut tables).await?;
    for (kind, name) in constraints(conn, nsp, &mut tables, &names).await? {
        schema.not_compared(kind, name);
    }
    indexes(conn, nsp, &mut tables, &mut schema, scope).await?;
    let defs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT c.oid::int8, pg_get_viewdef(c.oid, true) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("views"))?;
    for (oid, def) in defs {
        if let Some(v) = views.get_mut(&oid) {
            v.definition = def.trim().trim_end_matches(';').trim_end().to_owned();
        }
    }
    for t in tables.into_values() {
        schema.insert_table(t);
    }
    for v in views.into_values() {
        schema.insert_view(v);
    }
    triggers(conn, nsp, &mut schema, scope).await?;
    routines(conn, nsp, &mut schema).await?;
    types(conn, nsp, &mut schema).await?;
    sequences(conn, nsp, &owned, &mut schema).await?;
    others(conn, nsp, &mut schema).await?;
    view_dependencies(&mut schema);
    schema.finish();
    Ok(schema)
}

type ColumnRow = (
    i64,
    String,
    String,
    bool,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Reads the columns; returns the names of the sequences that columns own
/// as serial or identity sequences.
async fn columns(
    conn: &mut PgConnection,
    nsp: &str,
    tables: &mut BTreeMap<i64, Table>,
) -> Result<BTreeSet<String>, Error> {
    let rows: Vec<ColumnRow> = sqlx::query_as(
        "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, \
                col_description(a.attrelid, a.attnum), \
                CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END, \
                s.seqrelid::regclass::text, \
                CASE WHEN s.seqrelid IS NOT NULL THEN concat_ws(' ', \
                    CASE WHEN s.seqstart <> CASE WHEN s.seqincrement > 0 THEN s.seqmin ELSE s.seqmax END THEN 'START WITH ' || s.seqstart END, \
                    CASE WHEN s.seqincrement <> 1 THEN 'INCREMENT BY ' || s.seqincrement END, \
                    CASE WHEN s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END, \
                    CASE WHEN s.seqcycle THEN 'CYCLE' END) END \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_depend dep ON dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum \
              AND dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i') \
              AND EXISTS (SELECT 1 FROM pg_class sc WHERE sc.oid = dep.objid AND sc.relkind = 'S') \
         LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid \
         WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("columns"))?;
    let mut owned = BTreeSet::new();
    for (
        oid,
        name,
        data_type,
        notnull,
        default,
        identity,
        generated,
        comment,
        collation,
        sequence,
        options,
    ) in rows
    {
        let mut c = Column::new(name, data_type);
        c.nullable = !notnull;
        c.comment = comment;
        c.collation = collation;
        match (identity.as_str(), generated.as_str()) {
            ("a", _) => c.identity = Some(Identity::Always(options.unwrap_or_default())),
            ("d", _) => c.identity = Some(Identity::ByDefault(options.unwrap_or_default())),
            (_, "s" | "v") => {
                c.generated = Some(Generated {
                    expression: default.clone().unwrap_or_default(),
                    stored: generated == "s",
                })
            }
            _ => {}
        }
        if c.generated.is_none() {
            c.default = default;
        }
        if let Some(seq) = sequence {
            let serial_default = format!("nextval('{}'::regclass)", seq.replace('\'', "''"));
            if c.identity.is_some() {
                owned.insert(seq);
            } else if c.default.as_deref() == Some(serial_default.as_str()) {
                c.default = None;
                c.identity = Some(Identity::Serial {
                    sequence: seq.clone(),
                });
                owned.insert(seq);
            }
        }
        // Columns of excluded tables still own their sequences.
        if let Some(table) = tables.get_mut(&oid) {
            table.columns.push(c);
        }
    }
    Ok(owned)
}

type ConstraintRow = (
    i64,
    String,
    String,
    String,
    Vec<i16>,
    Option<i64>,
    Option<Vec<i16>>,
    String,
    String,
    String,
    bool,
    bool,
    bool,
);

/// Reads keys, checks and foreign keys; returns the constraints it does
/// not model (exclusion constraints, constraint triggers).
async fn constraints(
    conn: &mut PgConnection,
    nsp: &str,
    tables: &mut BTreeMap<i64, Table>,
    names: &BTreeMap<i64, String>,
) -> Result<Vec<(&'static str, String)>, Error> {
    let rows: Vec<ConstraintRow> = sqlx::query_as(
        "SELECT con.conrelid::int8, con.conname::text, con.contype::text, pg_get_constraintdef(con.oid), \
                coalesce(con.conkey, '{}'), con.confrelid::int8, con.confkey, con.confupdtype::text, \
                con.confdeltype::text, con.confmatchtype::text, con.condeferrable, con.condeferred, con.convalidated \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'c', 'f', 'x', 't') \
         ORDER BY con.conrelid, con.conname",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("constraints"))?;
    let attnames = attribute_names(conn, nsp).await?;
    let cols = |rel: i64, nums: &[i16]| -> Vec<String> {
        nums.iter()
            .map(|n| {
                attnames
                    .get(&(rel, *n))
                    .cloned()
                    .unwrap_or_else(|| format!("#{n}"))
            })
            .collect()
    };
    let mut not_compared = Vec::new();
    for (
        rel,
        name,
        kind,
        def,
        key,
        frel,
        fkey,
        upd,
        del,
        matching,
        deferrable,
        deferred,
        validated,
    ) in rows
    {
        let Some(table) = tables.get_mut(&rel) else {
            continue;
        };
        match kind.as_str() {
            "p" => {
                table.primary_key = Some(Key {
                    name: Some(name),
                    columns: cols(rel, &key),
                    definition: def,
                })
            }
            "u" => table.uniques.push(Key {
                name: Some(name),
                columns: cols(rel, &key),
                definition: def,
            }),
            "c" => table.checks.push(Check {
                name: Some(name),
                definition: def,
            }),
            "f" => {
                let frel = frel.unwrap_or_default();
                let mut options = Vec::new();
                if matching == "f" {
                    options.push("MATCH FULL");
                }
                if deferrable {
                    options.push(if deferred {
                        "DEFERRABLE INITIALLY DEFERRED"
                    } else {
                        "DEFERRABLE"
                    });
                }
                if !validated {
                    options.push("NOT VALID");
                }
                let action = |c: &str| match c {
                    "r" => FkAction::Restrict,
                    "c" => FkAction::Cascade,
                    "n" => FkAction::SetNull,
                    "d" => FkAction::SetDefault,
                    _ => FkAction::NoAction,
                };
                table.foreign_keys.push(ForeignKey {
                    name: Some(name),
                    columns: cols(rel, &key),
                    ref_table: names
                        .get(&frel)
                        .cloned()
                        .unwrap_or_else(|| format!("#{frel}")),
                    ref_columns: cols(frel, &fkey.unwrap_or_default()),
                    on_update: action(&upd),
                    on_delete: action(&del),
                    options: options.join(" "),
                });
            }
            "x" => not_compared.push(("exclusion constraint", format!("{}.{name}", table.name))),
            _ => not_compared.push(("constraint trigger", format!("{}.{name}", table.name))),
        }
    }
    Ok(not_compared)
}

async fn attribute_names(
    conn: &mut PgConnection,
    nsp: &str,
) -> Result<BTreeMap<(i64, i16), String>, Error> {
    let rows: Vec<(i64, i16, String)> = sqlx::query_as(
        "SELECT a.attrelid::int8, a.attnum, a.attname::text FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("column names"))?;
    Ok(rows
        .into_iter()
        .map(|(r, n, name)| ((r, n), name))
        .collect())
}

async fn indexes(
    conn: &mut PgConnection,
    nsp: &str,
    tables: &mut BTreeMap<i64, Table>,
    schema: &mut Schema,
    scope: &Scope,
) -> Result<(), Error> {
    let rows: Vec<(i64, String, String, bool, String)> = sqlx::query_as(
        "SELECT i.indrelid::int8, ic.relname::text, pg_get_indexdef(i.indexrelid), i.indisunique, t.relname::text \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid \
               AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY ic.relname",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("indexes"))?;
    for (rel, name, def, unique, table_name) in rows {
        let Some(table) = tables.get_mut(&rel) else {
            if !scope.excludes(D, &table_name) {
                schema.not_compared("index", format!("{name} on {table_name}"));
            }
            continue;
        };
        let definition = def
            .find(" USING ")
            .map_or(def.clone(), |at| def[at + 1..].to_owned());
        let columns: Vec<String> = crate::normalise::idents(D, &definition)
            .into_iter()
            .filter(|n| table.columns.iter().any(|c| &c.name == n))
            .collect();
        table.indexes.push(Index {
            name,
            kind: if unique {
                IndexKind::Unique
            } else {
                IndexKind::Plain
            },
            definition,
            columns,
        });
    }
    Ok(())
}

async fn triggers(
    conn: &mut PgConnection,
    nsp: &str,
    schema: &mut Schema,
    scope: &Scope,
) -> Result<(), Error> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid, true), p.proname::text \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_proc p ON p.oid = t.tgfoid \
         WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY c.relname, t.tgname",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("triggers"))?;
    for (name, table, definition, function) in rows {
        if scope.excludes(D, &table) {
            continue;
        }
        schema.insert_trigger(Trigger {
            name,
            table,
            definition,
            function: Some(function),
        });
    }
    Ok(())
}

async fn routines(conn: &mut PgConnection, nsp: &str, schema: &mut Schema) -> Result<(), Error> {
    let rows: Vec<(String, String, String, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.proname::text, pg_get_function_identity_arguments(c.oid), c.prokind::text, \
                CASE WHEN c.prokind IN ('f', 'p') THEN pg_get_functiondef(c.oid) END \
         FROM pg_proc c JOIN pg_namespace n ON n.oid = c.pronamespace \
         WHERE n.nspname = $1 AND {NOT_EXTENSION} ORDER BY 1, 2"
        )))
        .bind(nsp)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("functions"))?;
    for (name, args, kind, definition) in rows {
        let signature = format!("{}({args})", crate::quote::quote_ident(D, &name));
        match (kind.as_str(), definition) {
            (k @ ("f" | "p"), Some(definition)) => {
                schema.functions.insert(
                    signature.clone(),
                    Function {
                        signature,
                        name,
                        definition: definition.trim_end().to_owned(),
                        kind: if k == "p" { "PROCEDURE" } else { "FUNCTION" },
                    },
                );
            }
            ("a", _) => schema.not_compared("aggregate", signature),
            _ => schema.not_compared("function", signature),
        }
    }
    Ok(())
}

async fn types(conn: &mut PgConnection, nsp: &str, schema: &mut Schema) -> Result<(), Error> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.typname::text, c.typtype::text, e.enumlabel::text \
         FROM pg_type c JOIN pg_namespace n ON n.oid = c.typnamespace \
         LEFT JOIN pg_enum e ON e.enumtypid = c.oid \
         WHERE n.nspname = $1 AND {NOT_EXTENSION} AND c.typtype IN ('e', 'd', 'r', 'm', 'c') \
           AND (c.typtype <> 'c' OR (SELECT r.relkind FROM pg_class r WHERE r.oid = c.typrelid) = 'c') \
         ORDER BY c.typname, e.enumsortorder"
    )))
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("types"))?;
    for (name, kind, label) in rows {
        match (kind.as_str(), label) {
            ("e", Some(label)) => schema
                .enums
                .entry(name.clone())
                .or_insert_with(|| EnumType {
                    name,
                    values: Vec::new(),
                })
                .values
                .push(label),
            ("e", None) => {
                schema.enums.insert(
                    name.clone(),
                    EnumType {
                        name,
                        values: Vec::new(),
                    },
                );
            }
            ("d", _) => schema.not_compared("domain", name),
            ("c", _) => schema.not_compared("composite type", name),
            _ => schema.not_compared("range type", name),
        }
    }
    Ok(())
}

async fn sequences(
    conn: &mut PgConnection,
    nsp: &str,
    owned: &BTreeSet<String>,
    schema: &mut Schema,
) -> Result<(), Error> {
    let rows: Vec<SequenceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.relname::text, c.oid::regclass::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
                s.seqmin, s.seqmax, s.seqcache, s.seqcycle \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND {NOT_EXTENSION} ORDER BY 1"
    )))
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("sequences"))?;
    for (name, regclass, data_type, start, increment, min, max, cache, cycle) in rows {
        if owned.contains(&regclass) {
            continue;
        }
        schema.sequences.insert(
            name.clone(),
            Sequence {
                name,
                data_type,
                start,
                increment,
                min,
                max,
                cache,
                cycle,
            },
        );
    }
    Ok(())
}

/// What exists and is not compared: extensions, policies, rules.
async fn others(conn: &mut PgConnection, nsp: &str, schema: &mut Schema) -> Result<(), Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'extension', extname::text FROM pg_extension WHERE extname <> 'plpgsql' \
         UNION ALL SELECT 'policy', polname::text || ' on ' || c.relname::text FROM pg_policy p \
              JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 \
         UNION ALL SELECT 'rule', rulename::text || ' on ' || tablename::text FROM pg_rules WHERE schemaname = $1",
    )
    .bind(nsp)
    .fetch_all(&mut *conn)
    .await
    .map_err(query_error("extensions, policies and rules"))?;
    for (kind, name) in rows {
        schema.not_compared(&kind, name);
    }
    Ok(())
}
