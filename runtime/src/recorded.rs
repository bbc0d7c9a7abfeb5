//! Revisions this build does not have, recovered from the history table,
//! so an older binary can still roll back a newer deploy: every applied
//! step records its revision's parents and downgrade SQL.

use std::collections::HashMap;

use retort_core::plan::PlanError;
use retort_core::{MigrationSet, Revision};

use crate::error::Error;
use crate::history::{HistoryEntry, Status};

/// `set` plus the applied revisions among `rows` (and their unknown
/// ancestors) that only the history table knows; `None` when every row is
/// known.
pub(crate) fn extend(
    set: &MigrationSet,
    rows: &[&str],
    history: &[HistoryEntry],
) -> Result<Option<MigrationSet>, Error> {
    let mut pending: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|r| set.get(r).is_none())
        .collect();
    if pending.is_empty() {
        return Ok(None);
    }
    // The downgrade SQL below runs: only from a history whose chain holds.
    if let Some(broken) = crate::chain::verify(history).broken {
        return Err(Error::BrokenHistory(broken));
    }
    let mut latest: HashMap<&str, &HistoryEntry> = HashMap::new();
    for entry in history {
        if entry.status == Status::Applied && entry.operation.records_applied() {
            latest.insert(&entry.revision, entry);
        }
    }
    let mut revisions = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut missing = Vec::new();
    while let Some(id) = pending.pop() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(entry) = latest.get(id) else {
            missing.push(id.to_owned());
            continue;
        };
        let parents: Vec<&str> = entry.parents.split_whitespace().collect();
        pending.extend(parents.iter().copied().filter(|p| set.get(p).is_none()));
        revisions.push(Revision::recovered(
            id,
            &parents,
            entry.downgrade_sql.as_deref(),
        ));
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(PlanError::UnknownApplied { ids: missing }.into());
    }
    tracing::warn!(revisions = ?seen, "using downgrade SQL recorded in the history table for revisions this build does not have");
    revisions.extend(set.revisions().iter().cloned());
    MigrationSet::from_revisions(revisions)
        .map(Some)
        .map_err(|errors| PlanError::Graph(errors).into())
}
