//! Ordering changes by their dependencies: renames first; then what goes
//! away, dependents before what they depend on (triggers, views, foreign
//! keys, keys and indexes, tables, columns); then what comes, in reverse
//! (types and functions, tables with referenced tables first, columns,
//! keys and indexes, foreign keys, views over their tables, triggers);
//! types, sequences and functions that went away last, once nothing uses
//! them.

use std::collections::{BTreeMap, BTreeSet};

use retort_core::split::Dialect;

use crate::change::Change;
use crate::model::{Identity, key};

fn phase(d: Dialect, c: &Change) -> u8 {
    let auto = |i: &Option<Identity>| *i == Some(Identity::AutoIncrement);
    match c {
        Change::RenameTable { .. }
        | Change::RenameColumn { .. }
        | Change::RenameSequence { .. }
        | Change::RenameEnum { .. } => 0,
        Change::DropTrigger { .. } => 1,
        Change::DropView { .. } => 2,
        Change::DropForeignKey { .. } => 3,
        // MySQL: an AUTO_INCREMENT column must stay a key while it is one.
        Change::AlterColumn { from, to, .. }
            if d == Dialect::MySql && auto(&from.identity) && !auto(&to.identity) =>
        {
            4
        }
        Change::DropIndex { .. }
        | Change::DropUnique { .. }
        | Change::DropCheck { .. }
        | Change::DropPrimaryKey { .. }
        | Change::RenameIndex { .. }
        | Change::RenameConstraint { .. } => 5,
        Change::DropTable { .. } => 6,
        Change::DropColumn { .. } => 7,
        Change::CreateEnum { .. }
        | Change::AddEnumValue { .. }
        | Change::RecreateEnum { .. }
        | Change::CreateSequence { .. }
        | Change::AlterSequence { .. }
        | Change::CreateFunction { .. } => 8,
        Change::CreateTable { .. } => 9,
        Change::AlterColumn { from, to, .. }
            if d == Dialect::MySql && !auto(&from.identity) && auto(&to.identity) =>
        {
            13
        }
        Change::TableOptions { .. } => 10,
        Change::AddColumn { .. }
        | Change::AddKeyedColumn { .. }
        | Change::AlterColumn { .. }
        | Change::RebuildTable { .. } => 11,
        Change::TableComment { .. } | Change::ColumnComment { .. } => 12,
        Change::AddPrimaryKey { .. }
        | Change::AddUnique { .. }
        | Change::AddCheck { .. }
        | Change::CreateIndex { .. } => 12,
        Change::AddForeignKey { .. } => 14,
        Change::CreateView { .. } => 15,
        Change::CreateTrigger { .. } => 16,
        Change::DropEnum { .. } | Change::DropSequence { .. } | Change::DropFunction { .. } => 17,
    }
}

/// Sorts `changes` for execution in dialect `d`. Foreign keys of new
/// tables that reference a table created later (or a cycle) move out of
/// `CREATE TABLE` into `ADD FOREIGN KEY` statements (not on SQLite, which
/// checks references only when rows change); tables dropped in a cycle
/// lose their foreign keys first.
pub(crate) fn order(d: Dialect, mut changes: Vec<Change>) -> Vec<Change> {
    // Tables created: referenced first.
    let created: Vec<usize> = indexes_of(&changes, |c| matches!(c, Change::CreateTable { .. }));
    let deps = |c: &Change| -> Vec<String> {
        match c {
            Change::CreateTable { table } | Change::DropTable { table } => table
                .foreign_keys
                .iter()
                .map(|f| key(d, &f.ref_table))
                .collect(),
            Change::CreateView { view } | Change::DropView { view } => view.depends_on.clone(),
            _ => Vec::new(),
        }
    };
    let name = |c: &Change| -> String {
        match c {
            Change::CreateTable { table } | Change::DropTable { table } => key(d, &table.name),
            Change::CreateView { view } | Change::DropView { view } => key(d, &view.name),
            _ => String::new(),
        }
    };
    let sorted = topo(&created, &changes, &name, &deps);
    let mut extra = Vec::new();
    if d != Dialect::Sqlite {
        let mut done: BTreeSet<String> = BTreeSet::new();
        let all: BTreeSet<String> = created.iter().map(|&i| name(&changes[i])).collect();
        for &i in &sorted {
            let me = name(&changes[i]);
            if let Change::CreateTable { table } = &mut changes[i] {
                let (keep, later): (Vec<_>, Vec<_>) = std::mem::take(&mut table.foreign_keys)
                    .into_iter()
                    .partition(|f| {
                        let r = key(d, &f.ref_table);
                        r == me || done.contains(&r) || !all.contains(&r)
                    });
                table.foreign_keys = keep;
                extra.extend(later.into_iter().map(|fk| Change::AddForeignKey {
                    table: table.name.clone(),
                    fk,
                }));
            }
            done.insert(me);
        }
    }
    // Tables dropped: referencing first; in a cycle, foreign keys first.
    let dropped: Vec<usize> = indexes_of(&changes, |c| matches!(c, Change::DropTable { .. }));
    let mut drop_sorted = topo(&dropped, &changes, &name, &deps);
    drop_sorted.reverse();
    if d != Dialect::Sqlite {
        // A foreign key whose referenced table goes before its own table
        // (a cycle) would block that drop: it goes first.
        let mut gone: BTreeSet<String> = BTreeSet::new();
        for &i in &drop_sorted {
            if let Change::DropTable { table } = &changes[i] {
                let me = key(d, &table.name);
                for fk in &table.foreign_keys {
                    let r = key(d, &fk.ref_table);
                    if r != me && gone.contains(&r) {
                        extra.push(Change::DropForeignKey {
                            table: table.name.clone(),
                            fk: fk.clone(),
                        });
                    }
                }
                gone.insert(me);
            }
        }
    }
    let view_created = indexes_of(&changes, |c| matches!(c, Change::CreateView { .. }));
    let view_sorted = topo(&view_created, &changes, &name, &deps);
    let view_dropped = indexes_of(&changes, |c| matches!(c, Change::DropView { .. }));
    let mut view_drop_sorted = topo(&view_dropped, &changes, &name, &deps);
    view_drop_sorted.reverse();
    // Rank: position within its topological order where one applies.
    let mut rank: BTreeMap<usize, usize> = BTreeMap::new();
    for list in [&sorted, &drop_sorted, &view_sorted, &view_drop_sorted] {
        for (r, &i) in list.iter().enumerate() {
            rank.insert(i, r);
        }
    }
    let mut keyed: Vec<(u8, usize, usize, Change)> = changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| (phase(d, &c), rank.get(&i).copied().unwrap_or(0), i, c))
        .collect();
    let base = keyed.len();
    keyed.extend(
        extra
            .into_iter()
            .enumerate()
            .map(|(n, c)| (phase(d, &c), 0, base + n, c)),
    );
    keyed.sort_by_key(|(p, r, i, _)| (*p, *r, *i));
    keyed.into_iter().map(|(_, _, _, c)| c).collect()
}

fn indexes_of(changes: &[Change], pick: impl Fn(&Change) -> bool) -> Vec<usize> {
    changes
        .iter()
        .enumerate()
        .filter(|(_, c)| pick(c))
        .map(|(i, _)| i)
        .collect()
}

/// Orders `items` (indexes into `changes`) so each comes after the items
/// it depends on; cycles are broken in input order.
fn topo(
    items: &[usize],
    changes: &[Change],
    name: &dyn Fn(&Change) -> String,
    deps: &dyn Fn(&Change) -> Vec<String>,
) -> Vec<usize> {
    let by_name: BTreeMap<String, usize> = items.iter().map(|&i| (name(&changes[i]), i)).collect();
    let mut out = Vec::with_capacity(items.len());
    let mut state: BTreeMap<usize, u8> = BTreeMap::new();
    fn visit(
        i: usize,
        changes: &[Change],
        by_name: &BTreeMap<String, usize>,
        deps: &dyn Fn(&Change) -> Vec<String>,
        state: &mut BTreeMap<usize, u8>,
        out: &mut Vec<usize>,
    ) {
        match state.get(&i) {
            Some(_) => return,
            None => {
                state.insert(i, 1);
            }
        }
        for dep in deps(&changes[i]) {
            if let Some(&j) = by_name.get(&dep)
                && j != i
            {
                visit(j, changes, by_name, deps, state, out);
            }
        }
        state.insert(i, 2);
        out.push(i);
    }
    for &i in items {
        visit(i, changes, &by_name, deps, &mut state, &mut out);
    }
    out
}
