//! What the engine's verbs share: the version rows as ids, the unfinished
//! step as a report, drift, and the revisions recovered from the history.

use std::time::{Duration, Instant};

use retort_core::plan::Direction;
use retort_core::{MigrationSet, Revision};

use crate::drift::{self, Drift};
use crate::driver::{Attempt, DbState, Driver, NewHistory};
use crate::error::Error;
use crate::history::{HistoryEntry, Operation, Status};
use crate::report::FailedStep;

/// The target of a run's span and of its steps' events, which the CLI's
/// live display and log pipelines rely on (`docs/output.md`).
pub const RUN_TARGET: &str = "retort_runtime::run";

pub(super) fn row_ids(state: &DbState) -> Vec<&str> {
    state.rows.iter().map(|r| r.version.as_str()).collect()
}

pub(super) fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// `set` extended with the applied revisions only the history table knows
/// (see [`crate::recorded`]), when some row is not in `set`.
pub(super) async fn with_recorded<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    rows: &[&str],
) -> Result<Option<MigrationSet>, Error> {
    if rows.iter().all(|r| set.get(r).is_some()) {
        return Ok(None);
    }
    let history = d.read_history().await?;
    crate::recorded::extend(set, rows, &history)
}

pub(super) fn refuse_unfinished(set: &MigrationSet, state: &DbState) -> Result<(), Error> {
    let Some(attempt) = &state.unfinished else {
        return Ok(());
    };
    Err(failed_step(set, attempt).into())
}

pub(super) fn failed_step(set: &MigrationSet, attempt: &Attempt) -> FailedStep {
    let revision = set.get(&attempt.revision);
    let direction = if attempt.operation == Operation::Downgrade {
        Direction::Downgrade
    } else {
        Direction::Upgrade
    };
    let stamp_hint = match direction {
        Direction::Upgrade => attempt.revision.clone(),
        Direction::Downgrade => revision
            .map(|r| match r.parents().collect::<Vec<_>>().join(" ") {
                parents if parents.is_empty() => "base".to_owned(),
                parents => parents,
            })
            .unwrap_or_else(|| "<parent revision>".to_owned()),
    };
    FailedStep {
        revision: attempt.revision.clone(),
        file: revision.map(|r| r.path().to_owned()),
        direction,
        statement: (attempt.statements_done + 1).min(attempt.statement_count.max(1)),
        statement_count: attempt.statement_count,
        error: attempt.error.clone(),
        interrupted: attempt.status == Status::Running,
        stamp_hint,
    }
}

/// Whether anything applied was edited: one lineage comparison per row;
/// the full scan (reading the history) only when one differs.
pub(super) async fn drift_of<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    state: &DbState,
) -> Result<Drift, Error> {
    if drift::quick(set, &state.rows) {
        return Ok(Drift::default());
    }
    let history = d.read_history().await?;
    Ok(drift_with(set, state, &history))
}

/// [`drift_of`] with the history at hand.
pub(super) fn drift_with(set: &MigrationSet, state: &DbState, history: &[HistoryEntry]) -> Drift {
    if drift::quick(set, &state.rows) {
        return Drift::default();
    }
    let drift = drift::full(set, &state.rows, history);
    let unverified: Vec<&str> = state
        .rows
        .iter()
        .filter(|r| r.lineage.is_none() && set.get(&r.version).is_some())
        .map(|r| r.version.as_str())
        .collect();
    if !unverified.is_empty() {
        tracing::warn!(revisions = ?unverified, "no checksum recorded for these applied revisions (applied by another tool?); they cannot be checked for drift until `repair` records them");
    }
    drift
}

fn parents(rev: &Revision) -> String {
    rev.parents().collect::<Vec<_>>().join(" ")
}

/// Recorded instead of the lineage hash for revisions applied over drift
/// (with `verify_checksums(false)`): it matches no revision, so the quick
/// check keeps failing over to the full scan, which keeps reporting the
/// drift until `repair` records the real hashes.
const UNVERIFIED_LINEAGE: &str = "unverified";

/// Where history rows take their lineage hashes from.
#[derive(Clone, Copy)]
pub(crate) enum Lineages<'a> {
    /// The set the plan came from: the applied revisions were verified.
    Of(&'a MigrationSet),
    /// The applied revisions were found edited and not repaired (and
    /// verification is off): [`UNVERIFIED_LINEAGE`].
    Unverified,
}

impl<'a> Lineages<'a> {
    /// The set's hashes when the drift check `verified` the applied
    /// revisions, the marker otherwise.
    pub(crate) fn new(set: &'a MigrationSet, verified: bool) -> Self {
        if verified {
            Self::Of(set)
        } else {
            Self::Unverified
        }
    }

    fn hex(self, rev: &Revision) -> String {
        match self {
            Self::Of(set) => set
                .lineage(rev.id())
                .map_or_else(|| UNVERIFIED_LINEAGE.to_owned(), |l| l.to_hex()),
            Self::Unverified => UNVERIFIED_LINEAGE.to_owned(),
        }
    }
}

/// A history row for `rev`, with its lineage hash from `lineages`.
pub(crate) fn history<'a>(
    rev: &'a Revision,
    operation: Operation,
    status: Status,
    count: usize,
    lineages: Lineages<'_>,
) -> NewHistory<'a> {
    NewHistory {
        revision: rev.id(),
        operation,
        status,
        parents: parents(rev),
        checksum: rev.checksum().to_hex(),
        lineage: lineages.hex(rev),
        statement_count: i64::try_from(count).unwrap_or(i64::MAX),
        statements_done: if status == Status::Applied {
            i64::try_from(count).unwrap_or(i64::MAX)
        } else {
            0
        },
        error: None,
        // A Rust revision's downgrade is code this row cannot carry.
        downgrade_sql: rev.downgrade_sql().filter(|_| !rev.is_code()),
        nonce: crate::chain::nonce(),
        started: Some(Instant::now()),
    }
}

/// `d` in whole milliseconds.
pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
