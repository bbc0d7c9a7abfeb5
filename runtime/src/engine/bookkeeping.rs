//! The verbs that change only the bookkeeping: `stamp` (the version table,
//! without running SQL) and `repair` (accepting edits, resolving a failed
//! step, re-sealing a broken history chain).

use std::time::Instant;

use retort_core::MigrationSet;
use retort_core::plan::StampPlan;

use super::{history, row_ids, sorted};
use crate::chain::{self, BrokenRow};
use crate::drift::{self, Drift};
use crate::driver::{Attempt, DbState, Driver, NewHistory, Op};
use crate::error::Error;
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
                ops.push(Op::History(history(rev, "stamp", "applied", 0, true)));
            }
        }
    }
    ops
}

/// True when `op` writes nothing.
fn is_noop(op: &Op<'_>) -> bool {
    matches!(op, Op::Version(change) if change.is_empty())
}

/// A `resolve` row: the step that did not finish is resolved by `verb`
/// (the user says what is applied). A row of its own, so that the failed
/// attempt's row is never rewritten.
fn resolution<'a>(set: &'a MigrationSet, attempt: &'a Attempt, verb: &str) -> NewHistory<'a> {
    let rev = set.get(&attempt.revision);
    NewHistory {
        revision: &attempt.revision,
        operation: "resolve",
        status: "applied",
        parents: rev
            .map(|r| r.parents().collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
        checksum: rev.map(|r| r.checksum().to_hex()).unwrap_or_default(),
        lineage: rev.map(|r| r.lineage().to_hex()).unwrap_or_default(),
        statement_count: attempt.statement_count,
        statements_done: attempt.statements_done,
        error: Some(format!(
            "resolved by `{verb}`: the {} of `{}` had {} after {} of {} statement(s)",
            attempt.operation,
            attempt.revision,
            if attempt.status == "running" {
                "been interrupted"
            } else {
                "failed"
            },
            attempt.statements_done,
            attempt.statement_count
        )),
        downgrade_sql: None,
        nonce: chain::nonce(),
        started: Some(Instant::now()),
    }
}

/// A `reseal` row: `repair` accepted the history as it stood, broken at
/// `broken`.
fn reseal_row(broken: &BrokenRow) -> NewHistory<'_> {
    NewHistory {
        revision: &broken.revision,
        operation: "reseal",
        status: "applied",
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
        ops.push(Op::History(resolution(set, attempt, "stamp")));
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
    let history_rows = d.read_history().await?;
    let drift = drift::full(set, &state.rows, &history_rows);
    if !drift.unknown.is_empty() {
        return Err(Error::Drift(Drift {
            unknown: drift.unknown,
            ..Drift::default()
        }));
    }
    let mut ops: Vec<Op<'_>> = Vec::new();
    let broken = chain::verify(&history_rows).broken;
    if let Some(broken) = &broken {
        ops.extend(
            chain::reseal(&history_rows)
                .into_iter()
                .map(|(id, prev, hash)| Op::Reseal { id, prev, hash }),
        );
        ops.push(Op::History(reseal_row(broken)));
    }
    if let Some(attempt) = &state.unfinished {
        ops.push(Op::History(resolution(set, attempt, "repair")));
    }
    let mut repaired: Vec<&str> = drift.edited.iter().map(|e| e.revision.as_str()).collect();
    for row in &state.rows {
        if let Some(rev) = set.get(&row.version)
            && row.lineage.as_deref() != Some(rev.lineage().to_hex().as_str())
            && !repaired.contains(&rev.id())
        {
            repaired.push(rev.id());
        }
    }
    for id in &repaired {
        if let Some(rev) = set.get(id) {
            ops.push(Op::History(history(rev, "repair", "applied", 0, true)));
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
