//! Renames the user asked for (rename hints), resolved against the two
//! schemas, and applied to the current schema before comparing it, so a
//! renamed table or column compares equal to its new self instead of
//! reading as a drop and an add.

use retort_core::split::Dialect;

use crate::model::{Schema, key, member_key};
use crate::normalise::rename_idents;

/// Resolved renames, old name to new name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Renames {
    /// Tables: (old, new).
    pub(crate) tables: Vec<(String, String)>,
    /// Columns: (table's new name, old column, new column).
    pub(crate) columns: Vec<(String, String, String)>,
    /// PostgreSQL sequences: (old, new).
    pub(crate) sequences: Vec<(String, String)>,
    /// PostgreSQL enum types: (old, new).
    pub(crate) enums: Vec<(String, String)>,
}

impl Renames {
    /// True when there is nothing to rename.
    pub(crate) fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.columns.is_empty()
            && self.sequences.is_empty()
            && self.enums.is_empty()
    }

    /// The renames that undo these (for the downgrade).
    pub(crate) fn reversed(&self) -> Renames {
        let flip = |v: &[(String, String)]| v.iter().map(|(a, b)| (b.clone(), a.clone())).collect();
        let old_table = |new: &str| {
            self.tables
                .iter()
                .find(|(_, n)| n == new)
                .map_or_else(|| new.to_owned(), |(o, _)| o.clone())
        };
        Renames {
            tables: flip(&self.tables),
            columns: self
                .columns
                .iter()
                .map(|(t, a, b)| (old_table(t), b.clone(), a.clone()))
                .collect(),
            sequences: flip(&self.sequences),
            enums: flip(&self.enums),
        }
    }

    /// The new name of table `old`, if renamed.
    fn table(&self, d: Dialect, old: &str) -> Option<&str> {
        let k = key(d, old);
        self.tables
            .iter()
            .find(|(o, _)| key(d, o) == k)
            .map(|(_, n)| n.as_str())
    }

    /// The new name of column `old` of table `table` (its new name).
    fn column(&self, d: Dialect, table: &str, old: &str) -> Option<&str> {
        let (t, c) = (key(d, table), member_key(d, old));
        self.columns
            .iter()
            .find(|(tt, o, _)| key(d, tt) == t && member_key(d, o) == c)
            .map(|(_, _, n)| n.as_str())
    }
}

/// `schema` as it reads once `renames` are done.
pub(crate) fn apply(schema: &Schema, renames: &Renames) -> Schema {
    if renames.is_empty() {
        return schema.clone();
    }
    let d = schema.dialect;
    let mut out = schema.clone();
    // Tables and what names them.
    out.tables = std::mem::take(&mut out.tables)
        .into_values()
        .map(|mut t| {
            if let Some(new) = renames.table(d, &t.name) {
                // MySQL renames its made-up foreign key names with the table.
                for fk in &mut t.foreign_keys {
                    if let Some(name) = &mut fk.name
                        && crate::diff::is_mysql_auto_fk_name(&t.name, name)
                        && d == Dialect::MySql
                    {
                        *name = format!("{new}{}", &name[t.name.len()..]);
                    }
                }
                t.name = new.to_owned();
            }
            for fk in &mut t.foreign_keys {
                if let Some(new) = renames.table(d, &fk.ref_table) {
                    fk.ref_table = new.to_owned();
                }
            }
            (key(d, &t.name), t)
        })
        .collect();
    let triggers = std::mem::take(&mut out.triggers);
    for (_, mut trigger) in triggers {
        if let Some(new) = renames.table(d, &trigger.table) {
            let old = trigger.table.clone();
            trigger.definition = rename_idents(d, &trigger.definition, &|n| {
                (key(d, n) == key(d, &old)).then(|| new.to_owned())
            });
            trigger.table = new.to_owned();
        }
        out.insert_trigger(trigger);
    }
    // Columns, and the definitions that mention them.
    for table in out.tables.values_mut() {
        let tname = table.name.clone();
        let rename = |n: &str| renames.column(d, &tname, n).map(str::to_owned);
        let rename_all = |v: &mut Vec<String>| {
            for c in v.iter_mut() {
                if let Some(new) = rename(c) {
                    *c = new;
                }
            }
        };
        for c in &mut table.columns {
            if let Some(new) = rename(&c.name) {
                c.name = new;
            }
            if let Some(g) = &mut c.generated {
                g.expression = rename_idents(d, &g.expression, &rename);
            }
        }
        for k in table.primary_key.iter_mut().chain(table.uniques.iter_mut()) {
            rename_all(&mut k.columns);
            k.definition = rename_idents(d, &k.definition, &rename);
        }
        for c in &mut table.checks {
            c.definition = rename_idents(d, &c.definition, &rename);
        }
        for i in &mut table.indexes {
            rename_all(&mut i.columns);
            i.definition = rename_idents(d, &i.definition, &rename);
        }
        for fk in &mut table.foreign_keys {
            rename_all(&mut fk.columns);
        }
    }
    // Referenced columns of foreign keys, in every table.
    for table in out.tables.values_mut() {
        for fk in &mut table.foreign_keys {
            for c in &mut fk.ref_columns {
                if let Some(new) = renames.column(d, &fk.ref_table, c) {
                    *c = new.to_owned();
                }
            }
        }
    }
    for (old, new) in &renames.sequences {
        if let Some(mut s) = out.sequences.remove(old) {
            s.name = new.clone();
            out.sequences.insert(new.clone(), s);
        }
    }
    for (old, new) in &renames.enums {
        if let Some(mut e) = out.enums.remove(old) {
            e.name = new.clone();
            out.enums.insert(new.clone(), e);
        }
        let (old_q, new_q) = (
            crate::quote::quote_ident(d, old),
            crate::quote::quote_ident(d, new),
        );
        for table in out.tables.values_mut() {
            for c in &mut table.columns {
                for (from, to) in [(&old_q, &new_q), (old, new)] {
                    if c.data_type == *from {
                        c.data_type = to.clone();
                    } else if c.data_type == format!("{from}[]") {
                        c.data_type = format!("{to}[]");
                    }
                }
            }
        }
    }
    out
}
