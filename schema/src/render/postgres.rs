//! PostgreSQL statements.

use retort_core::split::Dialect;

use super::clauses::{
    check_clause, constraint_name, create_table_sql, fk_body, index_sql, key_clause,
    table_constraints,
};
use crate::change::Change;
use crate::error::Error;
use crate::model::{Column, Identity, Sequence, Table};
use crate::quote::{quote_ident, quote_literal};

const D: Dialect = Dialect::Postgres;

fn q(name: &str) -> String {
    quote_ident(D, name)
}

fn lit(text: &str) -> String {
    quote_literal(D, text)
}

fn comment(text: &Option<String>) -> String {
    text.as_deref().map_or("NULL".to_owned(), lit)
}

/// The type to write: `serial` for serial columns.
fn column_type(c: &Column) -> String {
    if let Some(Identity::Serial { .. }) = c.identity {
        return match c.data_type.as_str() {
            "bigint" => "bigserial".to_owned(),
            "smallint" => "smallserial".to_owned(),
            _ => "serial".to_owned(),
        };
    }
    c.data_type.clone()
}

fn identity_clause(identity: &Identity) -> Option<String> {
    let (kind, options) = match identity {
        Identity::Always(o) => ("ALWAYS", o),
        Identity::ByDefault(o) => ("BY DEFAULT", o),
        _ => return None,
    };
    Some(if options.is_empty() {
        format!("GENERATED {kind} AS IDENTITY")
    } else {
        format!("GENERATED {kind} AS IDENTITY ({options})")
    })
}

/// `(ALWAYS or BY DEFAULT, options)` of an identity column.
fn identity_parts(identity: Option<&Identity>) -> Option<(&'static str, &str)> {
    match identity? {
        Identity::Always(o) => Some(("ALWAYS", o)),
        Identity::ByDefault(o) => Some(("BY DEFAULT", o)),
        _ => None,
    }
}

fn column_def(c: &Column) -> String {
    let mut s = format!("{} {}", q(&c.name), column_type(c));
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {}", q(coll)));
    }
    if let Some(g) = &c.generated {
        // PostgreSQL 18 adds VIRTUAL generated columns (and makes them the
        // default kind): the kind is always written out.
        let kind = if g.stored { "STORED" } else { "VIRTUAL" };
        s.push_str(&format!(" GENERATED ALWAYS AS ({}) {kind}", g.expression));
    }
    if let Some(clause) = c.identity.as_ref().and_then(identity_clause) {
        s.push(' ');
        s.push_str(&clause);
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    s
}

fn comments(table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    if table.comment.is_some() {
        out.push(format!(
            "COMMENT ON TABLE {} IS {}",
            q(&table.name),
            comment(&table.comment)
        ));
    }
    for c in table.columns.iter().filter(|c| c.comment.is_some()) {
        out.push(format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            q(&table.name),
            q(&c.name),
            comment(&c.comment)
        ));
    }
    out
}

fn sequence_options(s: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        s.data_type,
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

fn alter(table: &str, action: String) -> String {
    format!("ALTER TABLE {} {action}", q(table))
}

fn alter_column(table: &str, from: &Column, to: &Column) -> Vec<String> {
    let col = q(&to.name);
    let ac = |what: String| alter(table, format!("ALTER COLUMN {col} {what}"));
    let mut out = Vec::new();
    let serial_from = matches!(from.identity, Some(Identity::Serial { .. }));
    let serial_to = matches!(to.identity, Some(Identity::Serial { .. }));
    let identity_changes = match (&from.identity, &to.identity) {
        (Some(a), Some(b)) => !a.same(b),
        (a, b) => a.is_some() || b.is_some(),
    };
    // Defaults that stand in the way: of a type change, of an identity.
    let drop_default = from.default.is_some()
        && (from.default != to.default || from.data_type != to.data_type || to.identity.is_some());
    if drop_default {
        out.push(ac("DROP DEFAULT".to_owned()));
    }
    if identity_changes {
        match &from.identity {
            Some(Identity::Serial { sequence }) if !serial_to => {
                out.push(ac("DROP DEFAULT".to_owned()));
                out.push(format!("DROP SEQUENCE {}", q(sequence)));
            }
            Some(Identity::Always(_) | Identity::ByDefault(_))
                if !matches!(
                    to.identity,
                    Some(Identity::Always(_) | Identity::ByDefault(_))
                ) =>
            {
                out.push(ac("DROP IDENTITY".to_owned()));
            }
            _ => {}
        }
    }
    if from.generated.is_some() && to.generated.is_none() {
        out.push(ac("DROP EXPRESSION".to_owned()));
    }
    if from.data_type != to.data_type || from.collation != to.collation {
        let collate = to
            .collation
            .as_ref()
            .map_or(String::new(), |c| format!(" COLLATE {}", q(c)));
        out.push(ac(format!(
            "TYPE {}{collate} USING {col}::{}",
            to.data_type, to.data_type
        )));
    }
    if from.nullable != to.nullable {
        out.push(ac(if to.nullable {
            "DROP NOT NULL"
        } else {
            "SET NOT NULL"
        }
        .to_owned()));
    }
    if identity_changes {
        match (
            identity_parts(from.identity.as_ref()),
            identity_parts(to.identity.as_ref()),
            &to.identity,
        ) {
            (Some((_, a)), Some((kind, new)), _) => {
                let mut what = format!("SET GENERATED {kind}");
                // Changes the options without restarting the sequence.
                for part in split_options(new, a) {
                    what.push_str(&format!(" SET {part}"));
                }
                out.push(ac(what));
            }
            (None, Some(_), Some(b)) => {
                if let Some(clause) = identity_clause(b) {
                    out.push(ac(format!("ADD {clause}")));
                }
            }
            (_, _, Some(Identity::Serial { sequence })) if !serial_from => {
                out.push(format!(
                    "CREATE SEQUENCE {} AS {} OWNED BY {}.{col}",
                    q(sequence),
                    to.data_type,
                    q(table)
                ));
                out.push(format!(
                    "SELECT setval({}, COALESCE(max({col}), 0) + 1, false) FROM {}",
                    lit(&q(sequence)),
                    q(table)
                ));
                out.push(ac(format!(
                    "SET DEFAULT nextval({}::regclass)",
                    lit(&q(sequence))
                )));
            }
            _ => {}
        }
    }
    if let Some(d) = &to.default
        && (drop_default || from.default.is_none())
    {
        out.push(ac(format!("SET DEFAULT {d}")));
    }
    out
}

/// The identity options to set: each option of `new` (canonical,
/// `START WITH 10 INCREMENT BY 2`) that `old` lacks; options `new` drops go
/// back to their defaults.
fn split_options(new: &str, old: &str) -> Vec<String> {
    let parts = |s: &str| -> Vec<String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        words.chunks(3).map(|c| c.join(" ")).collect()
    };
    let (n, o) = (parts(new), parts(old));
    let mut out: Vec<String> = n.iter().filter(|p| !o.contains(p)).cloned().collect();
    for p in &o {
        let head: String = p.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        if !n.iter().any(|x| x.starts_with(&head)) {
            out.push(match head.as_str() {
                "START WITH" => "START WITH 1".to_owned(),
                "INCREMENT BY" => "INCREMENT BY 1".to_owned(),
                _ => continue,
            });
        }
    }
    out
}

fn create_table(table: &Table) -> Vec<String> {
    let mut elements: Vec<String> = table.columns.iter().map(column_def).collect();
    elements.extend(table_constraints(D, table, false));
    let mut out = vec![create_table_sql(D, &table.name, &elements, "")];
    out.extend(table.indexes.iter().map(|i| index_sql(D, &table.name, i)));
    out.extend(comments(table));
    out
}

pub(super) fn render(change: &Change) -> Result<Vec<String>, Error> {
    Ok(match change {
        Change::RenameTable { from, to } => {
            vec![format!("ALTER TABLE {} RENAME TO {}", q(from), q(to))]
        }
        Change::RenameColumn { table, from, to } => {
            vec![alter(
                table,
                format!("RENAME COLUMN {} TO {}", q(from), q(to)),
            )]
        }
        Change::RenameSequence { from, to } => {
            vec![format!("ALTER SEQUENCE {} RENAME TO {}", q(from), q(to))]
        }
        Change::RenameEnum { from, to } => {
            vec![format!("ALTER TYPE {} RENAME TO {}", q(from), q(to))]
        }
        Change::RenameIndex { from, to, .. } => {
            vec![format!("ALTER INDEX {} RENAME TO {}", q(from), q(to))]
        }
        Change::RenameConstraint {
            table, from, to, ..
        } => {
            vec![alter(
                table,
                format!("RENAME CONSTRAINT {} TO {}", q(from), q(to)),
            )]
        }
        Change::CreateTable { table } => create_table(table),
        Change::DropTable { table } => vec![format!("DROP TABLE {}", q(&table.name))],
        Change::AddColumn { table, column } => {
            let mut out = vec![alter(table, format!("ADD COLUMN {}", column_def(column)))];
            if column.comment.is_some() {
                out.push(format!(
                    "COMMENT ON COLUMN {}.{} IS {}",
                    q(table),
                    q(&column.name),
                    comment(&column.comment)
                ));
            }
            out
        }
        Change::AddKeyedColumn { table, column, key } => vec![
            alter(table, format!("ADD COLUMN {}", column_def(column))),
            alter(table, format!("ADD {}", key_clause(D, key))),
        ],
        Change::DropColumn { table, column } => {
            vec![alter(table, format!("DROP COLUMN {}", q(&column.name)))]
        }
        Change::AlterColumn { table, from, to } => alter_column(table, from, to),
        Change::AddPrimaryKey { table, key } | Change::AddUnique { table, key } => {
            vec![alter(table, format!("ADD {}", key_clause(D, key)))]
        }
        Change::DropPrimaryKey { table, key } | Change::DropUnique { table, key } => {
            vec![alter(
                table,
                format!(
                    "DROP CONSTRAINT {}",
                    q(key.name.as_deref().unwrap_or_default())
                ),
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
            vec![alter(
                table,
                format!("ADD {}{}", constraint_name(D, &fk.name), fk_body(D, fk)),
            )]
        }
        Change::DropForeignKey { table, fk } => {
            vec![alter(
                table,
                format!(
                    "DROP CONSTRAINT {}",
                    q(fk.name.as_deref().unwrap_or_default())
                ),
            )]
        }
        Change::CreateIndex { table, index } => vec![index_sql(D, table, index)],
        Change::DropIndex { index, .. } => vec![format!("DROP INDEX {}", q(&index.name))],
        Change::TableComment { table, comment: c } => {
            vec![format!("COMMENT ON TABLE {} IS {}", q(table), comment(c))]
        }
        Change::ColumnComment { table, column } => vec![format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            q(table),
            q(&column.name),
            comment(&column.comment)
        )],
        Change::TableOptions { table, .. } => {
            return Err(Error::Unsupported(format!(
                "PostgreSQL table options of {table} are not compared"
            )));
        }
        Change::CreateView { view } => {
            let kind = if view.materialized {
                "MATERIALIZED VIEW"
            } else {
                "VIEW"
            };
            let mut out = vec![format!(
                "CREATE {kind} {} AS\n{}",
                q(&view.name),
                view.definition
            )];
            if view.comment.is_some() {
                let on = if view.materialized {
                    "MATERIALIZED VIEW"
                } else {
                    "VIEW"
                };
                out.push(format!(
                    "COMMENT ON {on} {} IS {}",
                    q(&view.name),
                    comment(&view.comment)
                ));
            }
            out
        }
        Change::DropView { view } => {
            let kind = if view.materialized {
                "MATERIALIZED VIEW"
            } else {
                "VIEW"
            };
            vec![format!("DROP {kind} {}", q(&view.name))]
        }
        Change::CreateTrigger { trigger } => vec![trigger.definition.clone()],
        Change::DropTrigger { trigger } => {
            vec![format!(
                "DROP TRIGGER {} ON {}",
                q(&trigger.name),
                q(&trigger.table)
            )]
        }
        Change::CreateFunction { function } => vec![function.definition.clone()],
        Change::DropFunction { function } => {
            vec![format!("DROP {} {}", function.kind, function.signature)]
        }
        Change::CreateEnum { ty } => {
            let values: Vec<String> = ty.values.iter().map(|v| lit(v)).collect();
            vec![format!(
                "CREATE TYPE {} AS ENUM ({})",
                q(&ty.name),
                values.join(", ")
            )]
        }
        Change::DropEnum { ty } => vec![format!("DROP TYPE {}", q(&ty.name))],
        Change::AddEnumValue {
            name,
            value,
            before,
        } => {
            let position = before
                .as_ref()
                .map_or(String::new(), |b| format!(" BEFORE {}", lit(b)));
            vec![format!(
                "ALTER TYPE {} ADD VALUE {}{position}",
                q(name),
                lit(value)
            )]
        }
        Change::RecreateEnum { from, to, columns } => recreate_enum(from, to, columns),
        Change::CreateSequence { sequence } => {
            vec![format!(
                "CREATE SEQUENCE {} {}",
                q(&sequence.name),
                sequence_options(sequence)
            )]
        }
        Change::DropSequence { sequence } => vec![format!("DROP SEQUENCE {}", q(&sequence.name))],
        Change::AlterSequence { to, .. } => {
            vec![format!(
                "ALTER SEQUENCE {} {}",
                q(&to.name),
                sequence_options(to)
            )]
        }
        Change::RebuildTable { from, .. } => {
            return Err(Error::Unsupported(format!(
                "table rebuilds are for SQLite only (table {})",
                from.name
            )));
        }
    })
}

/// An enum losing or reordering values: the old type is renamed out of
/// the way, the new one created, each column converted through text, the
/// old type dropped.
fn recreate_enum(
    from: &crate::model::EnumType,
    to: &crate::model::EnumType,
    columns: &[(String, Column)],
) -> Vec<String> {
    let old = format!("{}__retort_old", from.name);
    let values: Vec<String> = to.values.iter().map(|v| lit(v)).collect();
    let mut out = vec![
        format!("ALTER TYPE {} RENAME TO {}", q(&from.name), q(&old)),
        format!(
            "CREATE TYPE {} AS ENUM ({})",
            q(&to.name),
            values.join(", ")
        ),
    ];
    for (table, c) in columns {
        let col = q(&c.name);
        out.push(alter(table, format!("ALTER COLUMN {col} DROP DEFAULT")));
        out.push(alter(
            table,
            format!(
                "ALTER COLUMN {col} TYPE {} USING {col}::text::{}",
                c.data_type, c.data_type
            ),
        ));
        if let Some(d) = &c.default {
            out.push(alter(table, format!("ALTER COLUMN {col} SET DEFAULT {d}")));
        }
    }
    out.push(format!("DROP TYPE {}", q(&old)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_option_changes() {
        assert_eq!(
            split_options("START WITH 10 INCREMENT BY 2", "START WITH 10"),
            ["INCREMENT BY 2"]
        );
        assert_eq!(split_options("", "INCREMENT BY 5"), ["INCREMENT BY 1"]);
    }
}
