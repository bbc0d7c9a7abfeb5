//! Comparing two versions of one table.

use retort_core::split::Dialect;

use crate::change::{Change, ConstraintKind};
use crate::model::{Check, Column, ForeignKey, Key, Table, member_key};

/// How two lists pair up: equal items, items equal but for their name,
/// and what is left on either side.
pub(super) struct Pairing {
    pub(super) renamed: Vec<(usize, usize)>,
    pub(super) dropped: Vec<usize>,
    pub(super) added: Vec<usize>,
}

/// Pairs `from` with `to`: first by name and definition, then (for the
/// rest) by definition alone, which reads as a rename.
pub(super) fn pair<T>(
    d: Dialect,
    from: &[T],
    to: &[T],
    name: impl Fn(&T) -> Option<&str>,
    same: impl Fn(&T, &T) -> bool,
) -> Pairing {
    let names_match = |a: &T, b: &T| match (name(a), name(b)) {
        (Some(x), Some(y)) => member_key(d, x) == member_key(d, y),
        (None, None) => true,
        _ => false,
    };
    let mut used_from = vec![false; from.len()];
    let mut used_to = vec![false; to.len()];
    for (i, a) in from.iter().enumerate() {
        if let Some(j) =
            (0..to.len()).find(|&j| !used_to[j] && names_match(a, &to[j]) && same(a, &to[j]))
        {
            used_from[i] = true;
            used_to[j] = true;
        }
    }
    let mut renamed = Vec::new();
    for (i, a) in from.iter().enumerate() {
        if used_from[i] {
            continue;
        }
        if let Some(j) = (0..to.len()).find(|&j| !used_to[j] && same(a, &to[j])) {
            used_from[i] = true;
            used_to[j] = true;
            renamed.push((i, j));
        }
    }
    Pairing {
        renamed,
        dropped: (0..from.len()).filter(|&i| !used_from[i]).collect(),
        added: (0..to.len()).filter(|&j| !used_to[j]).collect(),
    }
}

/// The name a foreign key is compared by: `None` for the names MySQL
/// makes up (`<table>_ibfk_<n>`), which depend on creation order.
pub(crate) fn compared_fk_name<'f>(
    d: Dialect,
    table: &str,
    fk: &'f crate::model::ForeignKey,
) -> Option<&'f str> {
    let name = fk.name.as_deref()?;
    if d == Dialect::MySql && is_mysql_auto_fk_name(table, name) {
        return None;
    }
    Some(name)
}

/// The name a check constraint is compared by: `None` for the names
/// MariaDB makes up, `CONSTRAINT_<n>` (which depends on creation order)
/// and, for a check written on a column, the column's name (`is_column`).
pub(crate) fn compared_check_name<'c>(
    d: Dialect,
    check: &'c crate::model::Check,
    is_column: &dyn Fn(&str) -> bool,
) -> Option<&'c str> {
    let name = check.name.as_deref()?;
    if d == Dialect::MySql && (is_mysql_auto_check_name(name) || is_column(name)) {
        return None;
    }
    Some(name)
}

/// True for `CONSTRAINT_<digits>`.
pub(crate) fn is_mysql_auto_check_name(name: &str) -> bool {
    name.strip_prefix("CONSTRAINT_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// True for `<table>_ibfk_<digits>`.
pub(crate) fn is_mysql_auto_fk_name(table: &str, name: &str) -> bool {
    name.strip_prefix(table)
        .and_then(|rest| rest.strip_prefix("_ibfk_"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// True when the column differs in anything but its comment.
pub(crate) fn column_differs(a: &Column, b: &Column) -> bool {
    let identity_same = match (&a.identity, &b.identity) {
        (Some(x), Some(y)) => x.same(y),
        (x, y) => x.is_none() && y.is_none(),
    };
    a.data_type != b.data_type
        || a.nullable != b.nullable
        || a.default != b.default
        || !identity_same
        || a.generated != b.generated
        || a.collation != b.collation
}

/// The changes that take table `from` to `to` (same name), and warnings.
pub(super) fn diff_table(
    d: Dialect,
    from: &Table,
    to: &Table,
    out: &mut Vec<Change>,
    warnings: &mut Vec<String>,
) {
    let t = || to.name.clone();
    columns(d, from, to, out, warnings);
    // Primary key.
    match (&from.primary_key, &to.primary_key) {
        (Some(a), Some(b)) if a.definition != b.definition => {
            out.push(Change::DropPrimaryKey {
                table: t(),
                key: a.clone(),
            });
            out.push(Change::AddPrimaryKey {
                table: t(),
                key: b.clone(),
            });
        }
        (Some(a), Some(b)) => {
            if let (Some(x), Some(y)) = (&a.name, &b.name)
                && member_key(d, x) != member_key(d, y)
            {
                out.push(Change::RenameConstraint {
                    table: t(),
                    kind: ConstraintKind::PrimaryKey,
                    from: x.clone(),
                    to: y.clone(),
                });
            } else if a.name.is_some() != b.name.is_some() {
                out.push(Change::DropPrimaryKey {
                    table: t(),
                    key: a.clone(),
                });
                out.push(Change::AddPrimaryKey {
                    table: t(),
                    key: b.clone(),
                });
            }
        }
        (Some(a), None) => out.push(Change::DropPrimaryKey {
            table: t(),
            key: a.clone(),
        }),
        (None, Some(b)) => out.push(Change::AddPrimaryKey {
            table: t(),
            key: b.clone(),
        }),
        (None, None) => {}
    }
    // Unique constraints, checks and foreign keys: paired by the name
    // they are compared by, renamed or replaced by their own name.
    let table = t();
    let p = pair(
        d,
        &from.uniques,
        &to.uniques,
        |k| k.name.as_deref(),
        |a, b| a.definition == b.definition,
    );
    let ops = ConstraintOps::<Key> {
        kind: ConstraintKind::Unique,
        name: |k| k.name.as_deref(),
        change: |add, table, key| match add {
            Edit::Add => Change::AddUnique { table, key },
            Edit::Drop => Change::DropUnique { table, key },
        },
    };
    constraint_changes(d, &table, (&from.uniques, &to.uniques), p, &ops, out);
    let p = pair(
        d,
        &from.checks,
        &to.checks,
        |c| {
            compared_check_name(d, c, &|n| {
                from.column(d, n).is_some() || to.column(d, n).is_some()
            })
        },
        |a, b| a.definition == b.definition,
    );
    let ops = ConstraintOps::<Check> {
        kind: ConstraintKind::Check,
        name: |c| c.name.as_deref(),
        change: |add, table, check| match add {
            Edit::Add => Change::AddCheck { table, check },
            Edit::Drop => Change::DropCheck { table, check },
        },
    };
    constraint_changes(d, &table, (&from.checks, &to.checks), p, &ops, out);
    let p = pair(
        d,
        &from.foreign_keys,
        &to.foreign_keys,
        |f| compared_fk_name(d, &to.name, f),
        |a, b| a.same_definition(b, d),
    );
    let ops = ConstraintOps::<ForeignKey> {
        kind: ConstraintKind::ForeignKey,
        name: |f| f.name.as_deref(),
        change: |add, table, fk| match add {
            Edit::Add => Change::AddForeignKey { table, fk },
            Edit::Drop => Change::DropForeignKey { table, fk },
        },
    };
    let lists = (&from.foreign_keys[..], &to.foreign_keys[..]);
    constraint_changes(d, &table, lists, p, &ops, out);
    // Indexes: same name and definition are equal; the same definition
    // under another name is a rename.
    let p = pair(
        d,
        &from.indexes,
        &to.indexes,
        |i| Some(i.name.as_str()),
        |a, b| a.kind == b.kind && a.definition == b.definition,
    );
    for (i, j) in p.renamed {
        let (a, b) = (&from.indexes[i], &to.indexes[j]);
        if d == Dialect::Sqlite {
            out.push(Change::DropIndex {
                table: t(),
                index: a.clone(),
            });
            out.push(Change::CreateIndex {
                table: t(),
                index: b.clone(),
            });
        } else {
            out.push(Change::RenameIndex {
                table: t(),
                from: a.name.clone(),
                to: b.name.clone(),
            });
        }
    }
    out.extend(p.dropped.iter().map(|&i| Change::DropIndex {
        table: t(),
        index: from.indexes[i].clone(),
    }));
    out.extend(p.added.iter().map(|&j| Change::CreateIndex {
        table: t(),
        index: to.indexes[j].clone(),
    }));
    if from.comment != to.comment {
        out.push(Change::TableComment {
            table: t(),
            comment: to.comment.clone(),
        });
    }
    if from.options != to.options {
        out.push(Change::TableOptions {
            table: t(),
            from: from.options.clone(),
            to: to.options.clone(),
        });
    }
}

/// Which way a constraint change goes.
#[derive(Clone, Copy)]
enum Edit {
    Add,
    Drop,
}

/// One kind of named constraint: its kind, its own name, and the change
/// that adds or drops one.
struct ConstraintOps<T> {
    kind: ConstraintKind,
    name: fn(&T) -> Option<&str>,
    change: fn(Edit, String, T) -> Change,
}

/// The changes a pairing of one kind of constraint asks for: a pair equal
/// but for its name is renamed where the backend can, else dropped and
/// added; the rest are dropped or added.
fn constraint_changes<T: Clone>(
    d: Dialect,
    table: &str,
    (from, to): (&[T], &[T]),
    p: Pairing,
    ops: &ConstraintOps<T>,
    out: &mut Vec<Change>,
) {
    let change = |edit, item: &T| (ops.change)(edit, table.to_owned(), item.clone());
    for (i, j) in p.renamed {
        let (a, b) = (&from[i], &to[j]);
        rename_or_replace(
            d,
            table,
            ops.kind,
            (ops.name)(a),
            (ops.name)(b),
            out,
            || [change(Edit::Drop, a), change(Edit::Add, b)],
        );
    }
    out.extend(p.dropped.iter().map(|&i| change(Edit::Drop, &from[i])));
    out.extend(p.added.iter().map(|&j| change(Edit::Add, &to[j])));
}

/// A constraint whose definition stayed and whose name changed: renamed
/// where the backend can (PostgreSQL; MySQL for nothing but indexes),
/// else dropped and added again.
fn rename_or_replace<const N: usize>(
    d: Dialect,
    table: &str,
    kind: ConstraintKind,
    from: Option<&str>,
    to: Option<&str>,
    out: &mut Vec<Change>,
    replace: impl FnOnce() -> [Change; N],
) {
    match (d, from, to) {
        (Dialect::Postgres, Some(a), Some(b)) => out.push(Change::RenameConstraint {
            table: table.to_owned(),
            kind,
            from: a.to_owned(),
            to: b.to_owned(),
        }),
        (Dialect::MySql, Some(a), Some(b)) if kind == ConstraintKind::Unique => {
            out.push(Change::RenameIndex {
                table: table.to_owned(),
                from: a.to_owned(),
                to: b.to_owned(),
            })
        }
        _ => out.extend(replace()),
    }
}

fn columns(
    d: Dialect,
    from: &Table,
    to: &Table,
    out: &mut Vec<Change>,
    warnings: &mut Vec<String>,
) {
    let find = |t: &Table, name: &str| t.column(d, name).cloned();
    let dropped: Vec<&Column> = from
        .columns
        .iter()
        .filter(|c| find(to, &c.name).is_none())
        .collect();
    let added: Vec<&Column> = to
        .columns
        .iter()
        .filter(|c| find(from, &c.name).is_none())
        .collect();
    if !dropped.is_empty() && !added.is_empty() {
        for c in &dropped {
            warnings.push(format!(
                "column {}.{} is dropped and {} added: if one of them is {} renamed, write `-- retort:renamed-from {}` on the line before its definition in the desired schema and autogenerate again",
                to.name,
                c.name,
                added.iter().map(|a| format!("{}.{}", to.name, a.name)).collect::<Vec<_>>().join(", "),
                c.name,
                c.name
            ));
        }
    }
    for c in dropped {
        out.push(Change::DropColumn {
            table: to.name.clone(),
            column: c.clone(),
        });
    }
    for c in added {
        out.push(Change::AddColumn {
            table: to.name.clone(),
            column: c.clone(),
        });
    }
    for b in &to.columns {
        let Some(a) = find(from, &b.name) else {
            continue;
        };
        let structural = column_differs(&a, b);
        if structural && generation_needs_replace(d, &a, b) {
            out.push(Change::DropColumn {
                table: to.name.clone(),
                column: a.clone(),
            });
            out.push(Change::AddColumn {
                table: to.name.clone(),
                column: b.clone(),
            });
            continue;
        }
        if structural {
            out.push(Change::AlterColumn {
                table: to.name.clone(),
                from: a.clone(),
                to: b.clone(),
            });
        }
        if a.comment != b.comment && (d != Dialect::MySql || !structural) {
            out.push(Change::ColumnComment {
                table: to.name.clone(),
                column: b.clone(),
            });
        }
    }
}

/// PostgreSQL cannot change a generation expression in place (before 17),
/// nor make a plain column generated: the column is dropped and added.
/// (A generated column becomes plain with `DROP EXPRESSION`.)
fn generation_needs_replace(d: Dialect, a: &Column, b: &Column) -> bool {
    d == Dialect::Postgres && b.generated.is_some() && a.generated != b.generated
}
