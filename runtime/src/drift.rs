//! Drift: applied revisions whose files changed, or that the code no
//! longer has.

use std::collections::HashMap;
use std::fmt;

use retort_core::MigrationSet;

use crate::driver::Row;
use crate::history::{HistoryEntry, Operation, Status};

/// An applied revision whose file changed since it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub file: String,
    /// The checksum recorded when it was applied.
    pub recorded: String,
    /// The file's checksum now.
    pub actual: String,
}

/// What differs between the database's record and the migration set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drift {
    /// Applied revisions whose files were edited.
    pub edited: Vec<Edited>,
    /// Version-table rows that are not in the migration set.
    pub unknown: Vec<String>,
    /// Heads whose recorded lineage hash differs although no recorded
    /// checksum does (an ancestor's parents or dependencies changed, or a
    /// revision applied by another tool was edited).
    pub lineage_changed: Vec<String>,
}

impl Drift {
    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.edited.is_empty() && self.unknown.is_empty() && self.lineage_changed.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "applied revisions differ from the migration files:")?;
        for e in &self.edited {
            write!(
                f,
                "\n  {}: revision `{}` was edited after it was applied (checksum {} recorded, {} now)",
                e.file,
                e.revision,
                short(&e.recorded),
                short(&e.actual)
            )?;
        }
        for id in &self.unknown {
            write!(
                f,
                "\n  revision `{id}` is applied in the database but is not in this migration set"
            )?;
        }
        for id in &self.lineage_changed {
            write!(f, "\n  the ancestry of applied revision `{id}` changed")?;
        }
        // `repair` refuses while rows are unknown: that comes first.
        if !self.unknown.is_empty() {
            write!(
                f,
                "\ndeploy the code that has the revisions this set lacks, or, if the schema is really at one of this set's revisions, record that with `retort stamp --purge <revision>`"
            )?;
        }
        if !self.edited.is_empty() || !self.lineage_changed.is_empty() {
            write!(
                f,
                "\nrestore the files, or, if the edits are intentional and already reflected in the database, run `retort repair` to record the new checksums"
            )?;
        }
        Ok(())
    }
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

/// The O(1) check: does each row's recorded lineage hash match? Returns
/// `Ok(true)` when verified, `Ok(false)` when something needs the full scan.
pub(crate) fn quick(set: &MigrationSet, rows: &[Row]) -> bool {
    rows.iter()
        .all(|row| match (set.lineage(&row.version), &row.lineage) {
            (Some(lineage), Some(recorded)) => lineage.to_hex() == *recorded,
            _ => false,
        })
}

/// The full scan, naming every offending revision.
pub(crate) fn full(set: &MigrationSet, rows: &[Row], history: &[HistoryEntry]) -> Drift {
    // Latest recorded checksum of every revision that is applied now.
    let mut recorded: HashMap<&str, &str> = HashMap::new();
    for entry in history {
        if entry.status != Status::Applied {
            continue;
        }
        if entry.operation.records_applied() {
            recorded.insert(&entry.revision, &entry.checksum);
        } else if entry.operation == Operation::Downgrade {
            recorded.remove(entry.revision.as_str());
        }
    }
    let mut drift = Drift::default();
    let known: Vec<&str> = rows
        .iter()
        .map(|r| r.version.as_str())
        .filter(|v| set.get(v).is_some())
        .collect();
    drift.unknown = rows
        .iter()
        .filter(|r| set.get(&r.version).is_none())
        .map(|r| r.version.clone())
        .collect();
    let applied: Vec<usize> = match set.graph() {
        Ok(graph) => {
            let ix: Vec<usize> = known.iter().filter_map(|id| set.index_of(id)).collect();
            let member = graph.ancestors(&ix);
            (0..set.len()).filter(|&i| member[i]).collect()
        }
        Err(_) => Vec::new(),
    };
    for i in applied {
        let rev = &set.revisions()[i];
        if let Some(&checksum) = recorded.get(rev.id()) {
            let actual = rev.checksum().to_hex();
            if checksum != actual {
                drift.edited.push(Edited {
                    revision: rev.id().to_owned(),
                    file: rev.path().to_owned(),
                    recorded: checksum.to_owned(),
                    actual,
                });
            }
        }
    }
    if drift.edited.is_empty() {
        drift.lineage_changed = rows
            .iter()
            .filter_map(|row| {
                let lineage = set.lineage(&row.version)?;
                let recorded = row.lineage.as_ref()?;
                (lineage.to_hex() != *recorded).then(|| row.version.clone())
            })
            .collect();
    }
    drift
}
