//! The verbs that change only the bookkeeping: `stamp` (the version table,
//! without running SQL, resolving a failed step) and `repair` (accepting
//! edits, resolving a failed step, re-sealing a broken history chain).

use std::time::Instant;

use retort_core::MigrationSet;
use retort_core::plan::StampPlan;

use super::common::{Lineages, history};
use super::common::{row_ids, sorted};
use crate::chain::{self, BrokenRow};
use crate::drift::{self, Drift};
use crate::driver::{Attempt, DbState, Driver, NewHistory, Op};
use crate::error::Error;
use crate::history::{HistoryEntry, Operation, Status};
use crate::report::Report;

/// The bookkeeping of a stamp, in order: the purge if asked, then each
/// version change with a `stamp` history row for each revision it adds.
/// Run by [`stamp`], written out by the offline `--sql` script.
pub(crate) fn stamp_ops<'a>(
    set: &'a MigrationSet,
    plan: &'a StampPlan,
    purge: bool,
) -> Vec<Op<'a>> {
    let mut ops: Vec<Op<'a>> = Vec::new();
    if purge {
        ops.push(Op::PurgeVersions);
    }
    for change in &plan.changes {
        ops.push(Op::Version(change));
        let added = change
            .insert
            .iter()
            .chain(change.update.as_ref().map(|u| &u.1));
        for id in added {
            if let Some(rev) = set.get(id) {
                ops.push(Op::History(history(
                    rev,
                    Operation::Stamp,
                    Status::Applied,
                    0,
                    Lineages::Of(set),
                )));
            }
        }
    }
    ops
}

/// True when `op` writes nothing.
fn is_noop(op: &Op<'_>) -> bool {
    matches!(op, Op::Version(change) if change.is_empty())
}

/// Marks the step that did not finish `resolved` (the user says what is
/// applied), in `history` too, and returns the op that does so in the
/// table. The row is the last one, so rows written after it chain onto its
/// new hash. A row written before the chain stays without hash, and a row
/// whose hash did not match its content keeps that hash: a resolution
/// never hides an edit.
fn resolve(history: &mut [HistoryEntry], attempt: &Attempt) -> Op<'static> {
    let Some(entry) = history.iter_mut().find(|entry| entry.id == attempt.id) else {
        return Op::Resolve {
            id: attempt.id,
            hash: None,
        };
    };
    let intact = entry
        .row_hash
        .as_ref()
        .is_some_and(|hash| *hash == chain::Content::of(entry).hash());
    entry.status = Status::Resolved;
    if intact {
        entry.row_hash = Some(chain::Content::of(entry).hash());
    }
    Op::Resolve {
        id: attempt.id,
        hash: entry.row_hash.clone(),
    }
}

/// A `reseal` row: `repair` accepted the history as it stood, broken at
/// `broken`.
fn reseal_row(broken: &BrokenRow) -> NewHistory<'_> {
    NewHistory {
        revision: &broken.revision,
        operation: Operation::Reseal,
        status: Status::Applied,
        parents: String::new(),
        checksum: String::new(),
        lineage: String::new(),
        statement_count: 0,
        statements_done: 0,
        error: Some(format!(
            "`repair` accepted the history as it stood, re-sealing the chain from row {}: {broken}",
            broken.id
        )),
        downgrade_sql: None,
        nonce: chain::nonce(),
        started: Some(Instant::now()),
    }
}

/// Creates the tables if needed and runs `ops` in one transaction.
async fn write<D: Driver>(
    d: &mut D,
    state: &DbState,
    ops: &[Op<'_>],
    what: &str,
) -> Result<(), Error> {
    d.ensure_tables(state.layout).await?;
    d.transaction(ops, true).await.map_err(|f| {
        f.lock_lost_or_self(None)
            .unwrap_or_else(|f| Error::database(what, f.source))
    })
}

pub(super) async fn stamp<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    state: &DbState,
    targets: &[&str],
    purge: bool,
) -> Result<Report, Error> {
    let current = row_ids(state);
    let plan = set.plan_stamp(&current, targets, purge)?;
    let mut ops: Vec<Op<'_>> = Vec::new();
    if let Some(attempt) = &state.unfinished {
        let mut history = d.read_history().await?;
        ops.push(resolve(&mut history, attempt));
    }
    ops.extend(
        stamp_ops(set, &plan, purge)
            .into_iter()
            .filter(|op| !(is_noop(op) || (matches!(op, Op::PurgeVersions) && current.is_empty()))),
    );
    let report = Report {
        direction: None,
        steps: Vec::new(),
        heads_before: sorted(current.iter().map(|s| (*s).to_owned()).collect()),
        heads_after: plan.heads_after.clone(),
    };
    if ops.is_empty() {
        tracing::info!(heads = ?report.heads_after, "nothing to stamp");
        return Ok(report);
    }
    write(d, state, &ops, "stamping the version table").await?;
    tracing::info!(heads = ?report.heads_after, "stamped");
    Ok(report)
}

pub(super) async fn repair<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    state: &DbState,
) -> Result<Report, Error> {
    let mut history_rows = d.read_history().await?;
    let drift = drift::full(set, &state.rows, &history_rows);
    if !drift.unknown.is_empty() {
        return Err(Error::Drift(Drift {
            unknown: drift.unknown,
            ..Drift::default()
        }));
    }
    let mut ops: Vec<Op<'_>> = Vec::new();
    // First, while the unfinished step's row is the last one.
    if let Some(attempt) = &state.unfinished {
        ops.push(resolve(&mut history_rows, attempt));
    }
    let broken = chain::verify(&history_rows).broken;
    if let Some(broken) = &broken {
        ops.extend(
            chain::reseal(&history_rows)
                .into_iter()
                .map(|(id, prev, hash)| Op::Reseal { id, prev, hash }),
        );
        ops.push(Op::History(reseal_row(broken)));
    }
    let mut repaired: Vec<&str> = drift.edited.iter().map(|e| e.revision.as_str()).collect();
    for row in &state.rows {
        if let Some(rev) = set.get(&row.version)
            && row.lineage.as_deref() != set.lineage(rev.id()).map(|l| l.to_hex()).as_deref()
            && !repaired.contains(&rev.id())
        {
            repaired.push(rev.id());
        }
    }
    for id in &repaired {
        if let Some(rev) = set.get(id) {
            ops.push(Op::History(history(
                rev,
                Operation::Repair,
                Status::Applied,
                0,
                Lineages::Of(set),
            )));
        }
    }
    let rows: Vec<String> = sorted(state.rows.iter().map(|r| r.version.clone()).collect());
    let report = Report {
        direction: None,
        steps: Vec::new(),
        heads_before: rows.clone(),
        heads_after: rows,
    };
    if ops.is_empty() {
        tracing::info!("nothing to repair");
        return Ok(report);
    }
    write(d, state, &ops, "recording the repair").await?;
    if let Some(broken) = &broken {
        tracing::warn!(
            row = broken.id,
            "accepted the history as it stood and re-sealed its chain: {broken}"
        );
    }
    if let Some(attempt) = &state.unfinished {
        tracing::warn!(revision = %attempt.revision, "marked the unfinished {} as resolved", attempt.operation);
    }
    tracing::info!(revisions = ?repaired, "recorded current checksums");
    Ok(report)
}
