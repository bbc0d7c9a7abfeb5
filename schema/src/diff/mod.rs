//! Comparing two schemas: the [`Change`]s that take one to the other, in
//! no particular order yet ([`order`](crate::order) sorts them).
//!
//! Tables and columns are matched by name only: a name that disappears on
//! one side and appears on the other is a drop and an add (with a warning
//! saying how to ask for a rename), never a guessed rename. Indexes and
//! constraints, which hold no data, are also matched by definition, so one
//! whose name alone changed is renamed.

mod table;

use std::collections::BTreeSet;

pub(crate) use table::{compared_fk_name, is_mysql_auto_check_name, is_mysql_auto_fk_name};

use retort_core::split::Dialect;

use crate::change::Change;
use crate::model::{EnumType, Schema, Table, key};
use crate::renames::{self, Renames};

/// The changes and the warnings to write into the revision.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    pub(crate) changes: Vec<Change>,
    pub(crate) warnings: Vec<String>,
}

/// The changes that take `current` to `desired`, renames first.
pub(crate) fn diff(current: &Schema, desired: &Schema, renames: &Renames) -> Diff {
    let d = desired.dialect;
    let mut out = Diff::default();
    for (from, to) in &renames.tables {
        out.changes.push(Change::RenameTable {
            from: from.clone(),
            to: to.clone(),
        });
    }
    for (table, from, to) in &renames.columns {
        out.changes.push(Change::RenameColumn {
            table: table.clone(),
            from: from.clone(),
            to: to.clone(),
        });
    }
    for (from, to) in &renames.sequences {
        out.changes.push(Change::RenameSequence {
            from: from.clone(),
            to: to.clone(),
        });
    }
    for (from, to) in &renames.enums {
        out.changes.push(Change::RenameEnum {
            from: from.clone(),
            to: to.clone(),
        });
    }
    let cur = renames::apply(current, renames);
    let mut touched: BTreeSet<String> = BTreeSet::new();
    for (old, new) in &renames.tables {
        touched.insert(key(d, old));
        touched.insert(key(d, new));
    }
    for (table, _, _) in &renames.columns {
        touched.insert(key(d, table));
    }
    enums(&cur, desired, &mut out.changes, &mut touched);
    sequences(&cur, desired, &mut out.changes);
    for (sig, f) in &desired.functions {
        if cur
            .functions
            .get(sig)
            .is_none_or(|c| c.definition != f.definition)
        {
            out.changes.push(Change::CreateFunction {
                function: f.clone(),
            });
        }
    }
    for (sig, f) in &cur.functions {
        if !desired.functions.contains_key(sig) {
            out.changes.push(Change::DropFunction {
                function: f.clone(),
            });
        }
    }
    let rebuilt = tables(&cur, desired, &mut out, &mut touched);
    let recreated_views = views(&cur, desired, &touched, &mut out.changes);
    triggers(&cur, desired, &recreated_views, &rebuilt, &mut out.changes);
    out
}

fn enums(cur: &Schema, desired: &Schema, out: &mut Vec<Change>, touched: &mut BTreeSet<String>) {
    for (name, to) in &desired.enums {
        match cur.enums.get(name) {
            None => out.push(Change::CreateEnum { ty: to.clone() }),
            Some(from) if from.values == to.values => {}
            Some(from) if is_subsequence(&from.values, &to.values) => {
                for (i, v) in to.values.iter().enumerate() {
                    if from.values.contains(v) {
                        continue;
                    }
                    let before = to.values[i + 1..]
                        .iter()
                        .find(|n| from.values.contains(n))
                        .cloned();
                    out.push(Change::AddEnumValue {
                        name: name.clone(),
                        value: v.clone(),
                        before,
                    });
                }
            }
            Some(from) => {
                let columns = enum_columns(cur, desired, to);
                for (t, _) in &columns {
                    touched.insert(key(desired.dialect, t));
                }
                out.push(Change::RecreateEnum {
                    from: from.clone(),
                    to: to.clone(),
                    columns,
                });
            }
        }
    }
    for (name, from) in &cur.enums {
        if !desired.enums.contains_key(name) {
            out.push(Change::DropEnum { ty: from.clone() });
        }
    }
}

fn is_subsequence(short: &[String], long: &[String]) -> bool {
    let mut it = long.iter();
    short.iter().all(|s| it.any(|l| l == s))
}

/// Columns of type `ty` that exist on both sides (they are converted when
/// the type is rebuilt).
fn enum_columns(
    cur: &Schema,
    desired: &Schema,
    ty: &EnumType,
) -> Vec<(String, crate::model::Column)> {
    let d = desired.dialect;
    let names = [ty.name.clone(), crate::quote::quote_ident(d, &ty.name)];
    let mut out = Vec::new();
    for (k, table) in &desired.tables {
        let Some(old) = cur.tables.get(k) else {
            continue;
        };
        for c in &table.columns {
            let of_type = |t: &str| names.iter().any(|n| n == t);
            if of_type(&c.data_type)
                && old
                    .column(d, &c.name)
                    .is_some_and(|o| of_type(&o.data_type))
            {
                out.push((table.name.clone(), c.clone()));
            }
        }
    }
    out
}

fn sequences(cur: &Schema, desired: &Schema, out: &mut Vec<Change>) {
    for (name, to) in &desired.sequences {
        match cur.sequences.get(name) {
            None => out.push(Change::CreateSequence {
                sequence: to.clone(),
            }),
            Some(from) if from != to => out.push(Change::AlterSequence {
                from: from.clone(),
                to: to.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, from) in &cur.sequences {
        if !desired.sequences.contains_key(name) {
            out.push(Change::DropSequence {
                sequence: from.clone(),
            });
        }
    }
}

/// Tables; returns the keys of tables SQLite rebuilds.
fn tables(
    cur: &Schema,
    desired: &Schema,
    out: &mut Diff,
    touched: &mut BTreeSet<String>,
) -> BTreeSet<String> {
    let d = desired.dialect;
    let dropped: Vec<&Table> = cur
        .tables
        .iter()
        .filter(|(k, _)| !desired.tables.contains_key(*k))
        .map(|(_, t)| t)
        .collect();
    let created: Vec<&Table> = desired
        .tables
        .iter()
        .filter(|(k, _)| !cur.tables.contains_key(*k))
        .map(|(_, t)| t)
        .collect();
    if !dropped.is_empty() && !created.is_empty() {
        let names: Vec<&str> = created.iter().map(|t| t.name.as_str()).collect();
        for t in &dropped {
            out.warnings.push(format!(
                "table {} is dropped and {} created: if one of them is {} renamed, write `-- retort:renamed-from {}` on the line before its CREATE TABLE in the desired schema and autogenerate again",
                t.name,
                names.join(", "),
                t.name,
                t.name
            ));
        }
    }
    for t in dropped {
        touched.insert(key(d, &t.name));
        out.changes.push(Change::DropTable { table: t.clone() });
    }
    for t in created {
        touched.insert(key(d, &t.name));
        out.changes.push(Change::CreateTable { table: t.clone() });
    }
    let mut rebuilt = BTreeSet::new();
    let mut type_changes: Vec<(String, String)> = Vec::new();
    for (k, to) in &desired.tables {
        let Some(from) = cur.tables.get(k) else {
            continue;
        };
        let mut changes = Vec::new();
        table::diff_table(d, from, to, &mut changes, &mut out.warnings);
        if changes.is_empty() {
            continue;
        }
        touched.insert(k.clone());
        if d == Dialect::Sqlite && !crate::rebuild::alterable(&changes) {
            rebuilt.insert(k.clone());
            out.changes.push(Change::RebuildTable {
                from: from.clone(),
                to: to.clone(),
            });
            for index in &to.indexes {
                out.changes.push(Change::CreateIndex {
                    table: to.name.clone(),
                    index: index.clone(),
                });
            }
            continue;
        }
        for c in &changes {
            if let Change::AlterColumn { table, from, to } = c
                && from.data_type != to.data_type
            {
                type_changes.push((key(d, table), crate::model::member_key(d, &to.name)));
            }
        }
        out.changes.extend(changes);
    }
    if d == Dialect::MySql {
        foreign_keys_over_type_changes(cur, desired, &type_changes, &mut out.changes);
    }
    rebuilt
}

/// MySQL refuses to change the type of a column a foreign key uses: such
/// foreign keys are dropped first and added back after.
fn foreign_keys_over_type_changes(
    cur: &Schema,
    desired: &Schema,
    changed: &[(String, String)],
    out: &mut Vec<Change>,
) {
    let d = desired.dialect;
    let hit = |table: &str, cols: &[String]| {
        cols.iter()
            .any(|c| changed.contains(&(key(d, table), crate::model::member_key(d, c))))
    };
    for (k, to) in &desired.tables {
        let Some(from) = cur.tables.get(k) else {
            continue;
        };
        for fk in &to.foreign_keys {
            let name = compared_fk_name(d, &to.name, fk);
            let Some(old) = from
                .foreign_keys
                .iter()
                .find(|f| f.same_definition(fk, d) && compared_fk_name(d, &to.name, f) == name)
            else {
                continue;
            };
            if hit(&to.name, &fk.columns) || hit(&fk.ref_table, &fk.ref_columns) {
                out.push(Change::DropForeignKey {
                    table: to.name.clone(),
                    fk: old.clone(),
                });
                out.push(Change::AddForeignKey {
                    table: to.name.clone(),
                    fk: fk.clone(),
                });
            }
        }
    }
}

/// Views: new, gone, changed, or reading something that changes (then
/// dropped before and created after). Returns the keys of the views
/// dropped.
fn views(
    cur: &Schema,
    desired: &Schema,
    touched: &BTreeSet<String>,
    out: &mut Vec<Change>,
) -> BTreeSet<String> {
    let mut recreate: BTreeSet<String> = BTreeSet::new();
    for (k, from) in &cur.views {
        let changed = desired.views.get(k).is_none_or(|to| {
            to.definition != from.definition
                || to.materialized != from.materialized
                || to.comment != from.comment
        });
        if changed || from.depends_on.iter().any(|t| touched.contains(t)) {
            recreate.insert(k.clone());
        }
    }
    // Views over recreated views are recreated too.
    loop {
        let more: Vec<String> = cur
            .views
            .iter()
            .filter(|(k, v)| {
                !recreate.contains(*k) && v.depends_on.iter().any(|t| recreate.contains(t))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        recreate.extend(more);
    }
    for k in &recreate {
        out.push(Change::DropView {
            view: cur.views[k].clone(),
        });
    }
    for (k, to) in &desired.views {
        if recreate.contains(k) || !cur.views.contains_key(k) {
            out.push(Change::CreateView { view: to.clone() });
        }
    }
    recreate
}

/// Triggers: new, gone, changed, on a view dropped and created again or a
/// table SQLite rebuilds (dropped with it), or naming a rebuilt table (the
/// rebuild's final rename would fail over it).
fn triggers(
    cur: &Schema,
    desired: &Schema,
    views: &BTreeSet<String>,
    rebuilt: &BTreeSet<String>,
    out: &mut Vec<Change>,
) {
    let d = desired.dialect;
    let names_rebuilt = |def: &str| {
        crate::normalise::idents(d, def)
            .iter()
            .any(|n| rebuilt.contains(&key(d, n)))
    };
    let mut recreate = BTreeSet::new();
    for (k, from) in &cur.triggers {
        let changed = desired
            .triggers
            .get(k)
            .is_none_or(|to| to.definition != from.definition);
        if changed
            || rebuilt.contains(&k.0)
            || names_rebuilt(&from.definition)
            || views.contains(&k.0)
        {
            recreate.insert(k.clone());
            out.push(Change::DropTrigger {
                trigger: from.clone(),
            });
        }
    }
    for (k, to) in &desired.triggers {
        if recreate.contains(k) || !cur.triggers.contains_key(k) {
            out.push(Change::CreateTrigger {
                trigger: to.clone(),
            });
        }
    }
}
