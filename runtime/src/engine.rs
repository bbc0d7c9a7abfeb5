//! The shared engine: locking, drift checks, planning and the step
//! protocol, over any [`Driver`].

use retort_core::MigrationSet;
use retort_core::plan::{Direction, StampPlan};

use crate::config::Config;
use crate::drift::{self, Drift};
use crate::driver::{Attempt, DbState, Driver, HistoryEntry, Op};
use crate::error::Error;
use crate::report::{CheckReport, PlannedStep, Report};
use retort_core::split::split;

mod step;

use step::execute;
#[cfg(feature = "cli")]
pub(crate) use step::history;
#[cfg(not(feature = "cli"))]
use step::history;

/// Operations that run under the migration lock.
pub(crate) enum Locked<'t> {
    Upgrade(&'t str),
    Downgrade(&'t str),
    Stamp { targets: &'t [&'t str], purge: bool },
    Repair,
}

/// The target of a run's span and of its steps' events, which the CLI's
/// live display and log pipelines rely on (`docs/output.md`).
pub(crate) const RUN_TARGET: &str = "retort_runtime::run";

impl Locked<'_> {
    /// The span around a run: the operation and what it was asked for.
    pub(crate) fn span(&self) -> tracing::Span {
        let (operation, target) = match self {
            Self::Upgrade(target) => ("upgrade", (*target).to_owned()),
            Self::Downgrade(target) => ("downgrade", (*target).to_owned()),
            Self::Stamp { targets, .. } => ("stamp", targets.join(" ")),
            Self::Repair => ("repair", String::new()),
        };
        tracing::info_span!(target: RUN_TARGET, "migrate", operation, target = target.as_str())
    }
}

fn row_ids(state: &DbState) -> Vec<&str> {
    state.rows.iter().map(|r| r.version.as_str()).collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// `upgrade head`/`heads` when the database is already there: answered
/// from the version table alone, without the lock, in time independent of
/// the number of revisions.
async fn already_at_head<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    config: &Config,
    target: &str,
) -> Result<Option<Report>, Error> {
    let single = set.heads().len() == 1;
    if !(target == "heads" || (target == "head" && single)) {
        return Ok(None);
    }
    let Some(state) = d.peek_state().await? else {
        return Ok(None);
    };
    if state.unfinished.is_some() || state.rows.len() != set.heads().len() {
        return Ok(None);
    }
    let mut rows = row_ids(&state);
    rows.sort_unstable();
    if !rows.iter().copied().eq(set.heads()) {
        return Ok(None);
    }
    if config.verify_checksums && !drift::quick(set, &state.rows) {
        return Ok(None);
    }
    let heads: Vec<String> = rows.iter().map(|r| (*r).to_owned()).collect();
    Ok(Some(Report {
        direction: Some(Direction::Upgrade),
        steps: Vec::new(),
        heads_before: heads.clone(),
        heads_after: heads,
    }))
}

/// Runs `op` under the migration lock, which is released on every path
/// (and by the server when the process dies: the lock lives on a dedicated
/// connection or file descriptor).
pub(crate) async fn locked<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    config: &Config,
    op: Locked<'_>,
) -> Result<Report, Error> {
    if let Locked::Upgrade(target) = op
        && let Some(report) = already_at_head(d, set, config, target).await?
    {
        tracing::info!(heads = ?report.heads_after, "database is already at head");
        return Ok(report);
    }
    d.lock(config.lock_timeout).await?;
    let result = run_locked(d, set, config, op).await;
    let unlocked = d.unlock().await;
    if let Err(e) = &unlocked {
        // The lock lives on a dedicated connection (or file descriptor)
        // that is closed next, which releases it anyway.
        tracing::warn!(error = %e, "could not release the migration lock explicitly; closing its connection releases it");
    }
    result
}

async fn run_locked<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    config: &Config,
    op: Locked<'_>,
) -> Result<Report, Error> {
    d.ensure_tables().await?;
    let state = d.read_state().await?;
    match op {
        Locked::Upgrade(target) => {
            refuse_unfinished(set, &state)?;
            let drift = drift_of(d, set, &state).await?;
            let verified = drift.is_empty();
            if !verified {
                if config.verify_checksums {
                    return Err(Error::Drift(drift));
                }
                tracing::warn!(%drift, "checksum verification is off: upgrading despite drift, which stays reported until `repair`");
            }
            let plan = set.plan_upgrade(&row_ids(&state), target)?;
            execute(d, config, plan, verified).await
        }
        Locked::Downgrade(target) => {
            refuse_unfinished(set, &state)?;
            let rows = row_ids(&state);
            let extended = with_recorded(d, set, &rows).await?;
            let plan = extended
                .as_ref()
                .unwrap_or(set)
                .plan_downgrade(&rows, target)?;
            execute(d, config, plan, true).await
        }
        Locked::Stamp { targets, purge } => stamp(d, set, &state, targets, purge).await,
        Locked::Repair => repair(d, set, &state).await,
    }
}

/// `set` extended with the applied revisions only the history table knows
/// (see [`crate::recorded`]), when some row is not in `set`.
async fn with_recorded<D: Driver>(
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

fn refuse_unfinished(set: &MigrationSet, state: &DbState) -> Result<(), Error> {
    let Some(attempt) = &state.unfinished else {
        return Ok(());
    };
    Err(failed_state(set, attempt))
}

fn failed_state(set: &MigrationSet, attempt: &Attempt) -> Error {
    let revision = set.get(&attempt.revision);
    let direction = if attempt.operation == "downgrade" {
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
    Error::FailedState {
        revision: attempt.revision.clone(),
        file: revision.map_or_else(|| "unknown file".to_owned(), |r| r.path().to_owned()),
        direction,
        statement: (attempt.statements_done + 1).min(attempt.statement_count.max(1)),
        count: attempt.statement_count,
        error: attempt.error.clone(),
        interrupted: attempt.status == "running",
        stamp_hint,
    }
}

/// Whether anything applied was edited: one lineage comparison per row;
/// the full scan only when one differs.
async fn drift_of<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    state: &DbState,
) -> Result<Drift, Error> {
    if drift::quick(set, &state.rows) {
        return Ok(Drift::default());
    }
    let history = d.read_history().await?;
    let drift = drift::full(set, &state.rows, &history);
    let unverified: Vec<&str> = state
        .rows
        .iter()
        .filter(|r| r.lineage.is_none() && set.get(&r.version).is_some())
        .map(|r| r.version.as_str())
        .collect();
    if !unverified.is_empty() {
        tracing::warn!(revisions = ?unverified, "no checksum recorded for these applied revisions (applied by another tool?); they cannot be checked for drift until `repair` records them");
    }
    Ok(drift)
}

/// The bookkeeping of a stamp, in order: the purge if asked, each version
/// change with a `stamp` history row for each revision it adds, and the
/// resolution of an unfinished attempt (the user says what is applied).
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
    ops.push(Op::ResolveUnfinished);
    ops
}

async fn stamp<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    state: &DbState,
    targets: &[&str],
    purge: bool,
) -> Result<Report, Error> {
    let current = row_ids(state);
    let plan = set.plan_stamp(&current, targets, purge)?;
    let ops = stamp_ops(set, &plan, purge);
    d.transaction(&ops, true).await.map_err(|f| {
        f.lock_lost_or_self(None)
            .unwrap_or_else(|f| Error::database("stamping the version table", f.source))
    })?;
    tracing::info!(heads = ?plan.heads_after, "stamped");
    Ok(Report {
        direction: None,
        steps: Vec::new(),
        heads_before: sorted(current.iter().map(|s| (*s).to_owned()).collect()),
        heads_after: plan.heads_after,
    })
}

async fn repair<D: Driver>(
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
    let mut ops: Vec<Op<'_>> = vec![Op::ResolveUnfinished];
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
    d.transaction(&ops, true).await.map_err(|f| {
        f.lock_lost_or_self(None)
            .unwrap_or_else(|f| Error::database("recording the repair", f.source))
    })?;
    if let Some(attempt) = &state.unfinished {
        tracing::warn!(revision = %attempt.revision, "marked the unfinished {} as resolved", attempt.operation);
    }
    tracing::info!(revisions = ?repaired, "recorded current checksums");
    let rows: Vec<String> = sorted(state.rows.iter().map(|r| r.version.clone()).collect());
    Ok(Report {
        direction: None,
        steps: Vec::new(),
        heads_before: rows.clone(),
        heads_after: rows,
    })
}

/// `current`: the version-table rows, sorted.
pub(crate) async fn current<D: Driver>(d: &mut D) -> Result<Vec<String>, Error> {
    let state = d.read_state().await?;
    Ok(sorted(state.rows.into_iter().map(|r| r.version).collect()))
}

/// `history`: the history table, oldest first.
pub(crate) async fn history_of<D: Driver>(d: &mut D) -> Result<Vec<HistoryEntry>, Error> {
    d.read_history().await
}

/// `check`: drift, heads, pending revisions and unfinished attempts.
pub(crate) async fn check<D: Driver>(d: &mut D, set: &MigrationSet) -> Result<CheckReport, Error> {
    let state = d.read_state().await?;
    let drift = drift_of(d, set, &state).await?;
    let pending = if drift.unknown.is_empty() {
        set.plan_upgrade(&row_ids(&state), "heads")?
            .steps
            .iter()
            .map(|s| s.revision.id().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    Ok(CheckReport {
        current: sorted(state.rows.iter().map(|r| r.version.clone()).collect()),
        heads: set.heads().map(str::to_owned).collect(),
        pending,
        drift,
        failed: state
            .unfinished
            .as_ref()
            .map(|a| failed_state(set, a).to_string()),
    })
}

/// A dry run: the steps and their statements, without executing or locking.
pub(crate) async fn plan<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    direction: Direction,
    target: &str,
) -> Result<Vec<PlannedStep>, Error> {
    let state = d.read_state().await?;
    let rows = row_ids(&state);
    let extended = match direction {
        Direction::Upgrade => None,
        Direction::Downgrade => with_recorded(d, set, &rows).await?,
    };
    let set = extended.as_ref().unwrap_or(set);
    let plan = match direction {
        Direction::Upgrade => set.plan_upgrade(&rows, target)?,
        Direction::Downgrade => set.plan_downgrade(&rows, target)?,
    };
    let dialect = d.dialect();
    Ok(plan
        .steps
        .iter()
        .map(|step| PlannedStep {
            revision: step.revision.id().to_owned(),
            file: step.revision.path().to_owned(),
            direction: step.direction,
            transactional: step.revision.is_transactional(),
            statements: split(step.sql(), dialect)
                .iter()
                .map(|s| s.sql.to_owned())
                .collect(),
            version: step.version.clone(),
        })
        .collect())
}
