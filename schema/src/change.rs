//! The operations a diff produces, independent of any dialect, and how a
//! person reads them (`retort check`, the stairway test).

use std::fmt;

use crate::model::{
    Check, Column, EnumType, ForeignKey, Function, Index, Key, Sequence, Table, Trigger, View,
};

/// The kind of a renamable constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    /// A primary key.
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A check constraint.
    Check,
    /// A foreign key.
    ForeignKey,
}

impl ConstraintKind {
    fn as_str(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::Check => "check constraint",
            ConstraintKind::ForeignKey => "foreign key",
        }
    }
}

/// One schema change. Names are those in force when the change runs
/// (renames come first).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// `ALTER TABLE .. RENAME TO ..` (from a rename hint).
    RenameTable {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE .. RENAME COLUMN` (from a rename hint).
    RenameColumn {
        /// The table (its new name).
        table: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Renames a sequence (from a rename hint).
    RenameSequence {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Renames an enum type (from a rename hint).
    RenameEnum {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Renames an index whose definition did not change.
    RenameIndex {
        /// The table.
        table: String,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Renames a constraint whose definition did not change.
    RenameConstraint {
        /// The table.
        table: String,
        /// The constraint's kind.
        kind: ConstraintKind,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// Creates a table with its columns and keys.
    CreateTable {
        /// The table; `foreign_keys` are those created with it.
        table: Table,
    },
    /// Drops a table and its data.
    DropTable {
        /// The table.
        table: Table,
    },
    /// SQLite: rebuilds a table that `ALTER TABLE` cannot change.
    RebuildTable {
        /// The table as it is.
        from: Table,
        /// The table as it becomes.
        to: Table,
    },
    /// Adds a column.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// MySQL: adds an `AUTO_INCREMENT` column and the key it needs in one
    /// statement, which numbers the rows already there.
    AddKeyedColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
        /// Its primary key or unique constraint.
        key: Key,
    },
    /// Drops a column and its data.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// Changes a column's type, nullability, default, identity, generated
    /// expression or collation.
    AlterColumn {
        /// The table.
        table: String,
        /// The column as it is.
        from: Column,
        /// The column as it becomes.
        to: Column,
    },
    /// Adds a primary key.
    AddPrimaryKey {
        /// The table.
        table: String,
        /// The key.
        key: Key,
    },
    /// Drops a primary key.
    DropPrimaryKey {
        /// The table.
        table: String,
        /// The key.
        key: Key,
    },
    /// Adds a unique constraint.
    AddUnique {
        /// The table.
        table: String,
        /// The constraint.
        key: Key,
    },
    /// Drops a unique constraint.
    DropUnique {
        /// The table.
        table: String,
        /// The constraint.
        key: Key,
    },
    /// Adds a check constraint.
    AddCheck {
        /// The table.
        table: String,
        /// The constraint.
        check: Check,
    },
    /// Drops a check constraint.
    DropCheck {
        /// The table.
        table: String,
        /// The constraint.
        check: Check,
    },
    /// Adds a foreign key.
    AddForeignKey {
        /// The table.
        table: String,
        /// The foreign key.
        fk: ForeignKey,
    },
    /// Drops a foreign key.
    DropForeignKey {
        /// The table.
        table: String,
        /// The foreign key.
        fk: ForeignKey,
    },
    /// Creates an index.
    CreateIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// Drops an index.
    DropIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// Sets or removes a table comment.
    TableComment {
        /// The table.
        table: String,
        /// The new comment.
        comment: Option<String>,
    },
    /// Sets or removes a column comment.
    ColumnComment {
        /// The table.
        table: String,
        /// The column as it becomes (MySQL restates the whole column).
        column: Column,
    },
    /// Changes table options (MySQL engine or collation).
    TableOptions {
        /// The table.
        table: String,
        /// The options as they are.
        from: Vec<String>,
        /// The options as they become.
        to: Vec<String>,
    },
    /// Creates a view.
    CreateView {
        /// The view.
        view: View,
    },
    /// Drops a view.
    DropView {
        /// The view.
        view: View,
    },
    /// Creates a trigger.
    CreateTrigger {
        /// The trigger.
        trigger: Trigger,
    },
    /// Drops a trigger.
    DropTrigger {
        /// The trigger.
        trigger: Trigger,
    },
    /// Creates (or replaces) a function.
    CreateFunction {
        /// The function.
        function: Function,
    },
    /// Drops a function.
    DropFunction {
        /// The function.
        function: Function,
    },
    /// Creates an enum type.
    CreateEnum {
        /// The type.
        ty: EnumType,
    },
    /// Drops an enum type.
    DropEnum {
        /// The type.
        ty: EnumType,
    },
    /// Adds a value to an enum type.
    AddEnumValue {
        /// The type's name.
        name: String,
        /// The value.
        value: String,
        /// The existing value it goes before (`None`: at the end).
        before: Option<String>,
    },
    /// Rebuilds an enum type whose values were removed or reordered, and
    /// converts the columns that use it.
    RecreateEnum {
        /// The type as it is.
        from: EnumType,
        /// The type as it becomes.
        to: EnumType,
        /// The columns of that type: (table, column as it becomes).
        columns: Vec<(String, Column)>,
    },
    /// Creates a sequence.
    CreateSequence {
        /// The sequence.
        sequence: Sequence,
    },
    /// Drops a sequence.
    DropSequence {
        /// The sequence.
        sequence: Sequence,
    },
    /// Changes a sequence's options.
    AlterSequence {
        /// The sequence as it is.
        from: Sequence,
        /// The sequence as it becomes.
        to: Sequence,
    },
}

impl Change {
    /// Whether the change destroys data (rows, column values, or values a
    /// narrower type cannot hold).
    pub fn is_destructive(&self) -> bool {
        match self {
            Change::DropTable { .. } | Change::DropColumn { .. } => true,
            Change::AlterColumn { from, to, .. } => from.data_type != to.data_type,
            Change::RebuildTable { from, to } => from.columns.iter().any(|c| {
                to.columns
                    .iter()
                    .find(|n| n.name.eq_ignore_ascii_case(&c.name))
                    .is_none_or(|n| n.data_type != c.data_type)
            }),
            Change::RecreateEnum { from, to, .. } => {
                from.values.iter().any(|v| !to.values.contains(v))
            }
            _ => false,
        }
    }
}

fn opt(text: &Option<String>) -> &str {
    text.as_deref().unwrap_or("(none)")
}

fn column_summary(c: &Column) -> String {
    let mut s = format!("{} {}", c.name, c.data_type);
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED AS ({})", g.expression));
    }
    if let Some(i) = &c.identity {
        s.push_str(&format!(" {i:?}"));
    }
    s
}

fn column_changes(from: &Column, to: &Column) -> String {
    let mut parts = Vec::new();
    if from.data_type != to.data_type {
        parts.push(format!("type {} -> {}", from.data_type, to.data_type));
    }
    if from.nullable != to.nullable {
        parts.push(
            if to.nullable {
                "drop NOT NULL"
            } else {
                "set NOT NULL"
            }
            .to_owned(),
        );
    }
    if from.default != to.default {
        parts.push(format!(
            "default {} -> {}",
            opt(&from.default),
            opt(&to.default)
        ));
    }
    let identity_same = match (&from.identity, &to.identity) {
        (Some(a), Some(b)) => a.same(b),
        (a, b) => a.is_none() && b.is_none(),
    };
    if !identity_same {
        parts.push(format!("identity {:?} -> {:?}", from.identity, to.identity));
    }
    if from.generated != to.generated {
        let g = |g: &Option<crate::model::Generated>| {
            g.as_ref()
                .map_or("(none)".to_owned(), |g| g.expression.clone())
        };
        parts.push(format!(
            "generated {} -> {}",
            g(&from.generated),
            g(&to.generated)
        ));
    }
    if from.collation != to.collation {
        parts.push(format!(
            "collation {} -> {}",
            opt(&from.collation),
            opt(&to.collation)
        ));
    }
    parts.join(", ")
}

fn name_of(name: &Option<String>) -> String {
    name.as_ref().map_or(String::new(), |n| format!("{n} "))
}

impl fmt::Display for Change {
    /// One line a person reads: `+` adds, `-` removes, `~` changes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::RenameTable { from, to } => write!(f, "~ rename table {from} to {to}"),
            Change::RenameColumn { table, from, to } => {
                write!(f, "~ rename column {table}.{from} to {to}")
            }
            Change::RenameSequence { from, to } => write!(f, "~ rename sequence {from} to {to}"),
            Change::RenameEnum { from, to } => write!(f, "~ rename type {from} to {to}"),
            Change::RenameIndex { table, from, to } => {
                write!(f, "~ rename index {from} on {table} to {to}")
            }
            Change::RenameConstraint {
                table,
                kind,
                from,
                to,
            } => write!(f, "~ rename {} {from} on {table} to {to}", kind.as_str()),
            Change::CreateTable { table } => write!(f, "+ table {}", table.name),
            Change::DropTable { table } => write!(f, "- table {}", table.name),
            Change::RebuildTable { from, .. } => write!(f, "~ rebuild table {}", from.name),
            Change::AddColumn { table, column } => {
                write!(f, "+ column {table}.{}", column_summary(column))
            }
            Change::AddKeyedColumn { table, column, key } => {
                write!(
                    f,
                    "+ column {table}.{} with {}",
                    column_summary(column),
                    key.definition
                )
            }
            Change::DropColumn { table, column } => write!(f, "- column {table}.{}", column.name),
            Change::AlterColumn { table, from, to } => {
                write!(
                    f,
                    "~ column {table}.{}: {}",
                    to.name,
                    column_changes(from, to)
                )
            }
            Change::AddPrimaryKey { table, key } | Change::AddUnique { table, key } => {
                write!(f, "+ {}{} on {table}", name_of(&key.name), key.definition)
            }
            Change::DropPrimaryKey { table, key } | Change::DropUnique { table, key } => {
                write!(f, "- {}{} on {table}", name_of(&key.name), key.definition)
            }
            Change::AddCheck { table, check } => {
                write!(
                    f,
                    "+ {}{} on {table}",
                    name_of(&check.name),
                    check.definition
                )
            }
            Change::DropCheck { table, check } => {
                write!(
                    f,
                    "- {}{} on {table}",
                    name_of(&check.name),
                    check.definition
                )
            }
            Change::AddForeignKey { table, fk } => write!(
                f,
                "+ foreign key {}{table} ({}) -> {} ({})",
                name_of(&fk.name),
                fk.columns.join(", "),
                fk.ref_table,
                fk.ref_columns.join(", ")
            ),
            Change::DropForeignKey { table, fk } => write!(
                f,
                "- foreign key {}{table} ({}) -> {}",
                name_of(&fk.name),
                fk.columns.join(", "),
                fk.ref_table
            ),
            Change::CreateIndex { table, index } => {
                write!(f, "+ index {} on {table} {}", index.name, index.definition)
            }
            Change::DropIndex { table, index } => write!(f, "- index {} on {table}", index.name),
            Change::TableComment { table, comment } => {
                write!(f, "~ comment on table {table}: {}", opt(comment))
            }
            Change::ColumnComment { table, column } => write!(
                f,
                "~ comment on column {table}.{}: {}",
                column.name,
                opt(&column.comment)
            ),
            Change::TableOptions { table, from, to } => write!(
                f,
                "~ table {table} options: {} -> {}",
                from.join(" "),
                to.join(" ")
            ),
            Change::CreateView { view } => write!(f, "+ view {}", view.name),
            Change::DropView { view } => write!(f, "- view {}", view.name),
            Change::CreateTrigger { trigger } => {
                write!(f, "+ trigger {} on {}", trigger.name, trigger.table)
            }
            Change::DropTrigger { trigger } => {
                write!(f, "- trigger {} on {}", trigger.name, trigger.table)
            }
            Change::CreateFunction { function } => write!(f, "+ function {}", function.signature),
            Change::DropFunction { function } => write!(f, "- function {}", function.signature),
            Change::CreateEnum { ty } => {
                write!(f, "+ type {} enum ({})", ty.name, ty.values.join(", "))
            }
            Change::DropEnum { ty } => write!(f, "- type {}", ty.name),
            Change::AddEnumValue { name, value, .. } => {
                write!(f, "+ value '{value}' of type {name}")
            }
            Change::RecreateEnum { from, to, .. } => write!(
                f,
                "~ type {}: ({}) -> ({})",
                to.name,
                from.values.join(", "),
                to.values.join(", ")
            ),
            Change::CreateSequence { sequence } => write!(f, "+ sequence {}", sequence.name),
            Change::DropSequence { sequence } => write!(f, "- sequence {}", sequence.name),
            Change::AlterSequence { to, .. } => write!(f, "~ sequence {}", to.name),
        }
    }
}
