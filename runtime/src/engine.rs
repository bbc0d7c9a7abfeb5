//! The shared engine: locking, drift checks, planning and the step
//! protocol, over any [`Driver`].

use std::time::{Duration, Instant};

use retort_core::plan::{Direction, Plan, Step, VersionChange};
use retort_core::{MigrationSet, Revision};

use crate::config::{Config, TransactionMode};
use crate::drift::{self, Drift};
use crate::driver::{Attempt, DbState, Driver, HistoryEntry, NewHistory, Op, TxFailure};
use crate::error::{Error, describe};
use crate::report::{CheckReport, PlannedStep, Report, StepReport};
use crate::split::split;

/// Operations that run under the migration lock.
pub(crate) enum Locked<'t> {
    Upgrade(&'t str),
    Downgrade(&'t str),
    Stamp { targets: &'t [&'t str], purge: bool },
    Repair,
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
    let state = d.read_state().await?;
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
            let history = match rows.iter().any(|r| set.get(r).is_none()) {
                true => d.read_history().await?,
                false => Vec::new(),
            };
            let extended = crate::recorded::extend(set, &rows, &history)?;
            let set = extended.as_ref().unwrap_or(set);
            let plan = set.plan_downgrade(&rows, target)?;
            execute(d, config, plan, true).await
        }
        Locked::Stamp { targets, purge } => stamp(d, set, &state, targets, purge).await,
        Locked::Repair => repair(d, set, &state).await,
    }
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

fn parents(rev: &Revision) -> String {
    rev.parents().collect::<Vec<_>>().join(" ")
}

/// Recorded instead of the lineage hash for revisions applied over drift
/// (with `verify_checksums(false)`): it matches no revision, so the quick
/// check keeps failing over to the full scan, which keeps reporting the
/// drift until `repair` records the real hashes.
const UNVERIFIED_LINEAGE: &str = "unverified";

/// A history row; `verified` is false when the applied revisions below
/// `rev` were found edited and not repaired.
fn history<'a>(
    rev: &'a Revision,
    operation: &'static str,
    status: &'static str,
    count: usize,
    verified: bool,
) -> NewHistory<'a> {
    NewHistory {
        revision: rev.id(),
        operation,
        status,
        parents: parents(rev),
        checksum: rev.checksum().to_hex(),
        lineage: if verified {
            rev.lineage().to_hex()
        } else {
            UNVERIFIED_LINEAGE.to_owned()
        },
        statement_count: i64::try_from(count).unwrap_or(i64::MAX),
        statements_done: if status == "applied" {
            i64::try_from(count).unwrap_or(i64::MAX)
        } else {
            0
        },
        downgrade_sql: rev.downgrade_sql(),
        started: Some(Instant::now()),
    }
}

fn statement_error(
    step: &Step<'_>,
    index: usize,
    line: u32,
    rolled_back: bool,
    source: sqlx::Error,
) -> Error {
    let (code, message) = describe(&source);
    let section_line = match step.direction {
        Direction::Upgrade => step.revision.upgrade_span().line,
        Direction::Downgrade => step.revision.downgrade_span().map_or(1, |s| s.line),
    };
    Error::Statement {
        revision: step.revision.id().to_owned(),
        file: step.revision.path().to_owned(),
        direction: step.direction,
        statement: index + 1,
        line: section_line + line.saturating_sub(1),
        code,
        message,
        rolled_back,
        source,
    }
}

fn operation(direction: Direction) -> &'static str {
    direction.as_str()
}

async fn execute<D: Driver>(
    d: &mut D,
    config: &Config,
    plan: Plan<'_>,
    verified: bool,
) -> Result<Report, Error> {
    let mut report = Report {
        direction: Some(plan.direction),
        steps: Vec::with_capacity(plan.steps.len()),
        heads_before: plan.heads_before.clone(),
        heads_after: plan.heads_before.clone(),
    };
    if plan.steps.is_empty() {
        tracing::info!(heads = ?plan.heads_before, "nothing to {}", plan.direction.as_str());
        return Ok(report);
    }
    if config.transaction_mode == TransactionMode::Single && plan.steps.len() > 1 {
        return execute_single(d, plan, report, verified).await;
    }
    let total = plan.steps.len();
    for (n, step) in plan.steps.iter().enumerate() {
        let started = Instant::now();
        run_step(d, step, verified).await?;
        let duration = started.elapsed();
        log_step(step, n, total, duration);
        report.steps.push(StepReport::new(step, duration));
        apply_rows(&mut report.heads_after, &step.version);
    }
    report.heads_after = sorted(report.heads_after);
    Ok(report)
}

fn log_step(step: &Step<'_>, n: usize, total: usize, duration: Duration) {
    tracing::info!(
        revision = step.revision.id(),
        direction = step.direction.as_str(),
        file = step.revision.path(),
        step = n + 1,
        of = total,
        duration_ms = duration.as_secs_f64() * 1000.0,
        "{} {}: {}",
        step.direction.as_str(),
        step.revision.id(),
        step.revision.message()
    );
}

fn apply_rows(rows: &mut Vec<String>, change: &VersionChange) {
    if let Some((from, to)) = &change.update {
        rows.retain(|r| r != from);
        rows.push(to.clone());
    }
    rows.retain(|r| !change.delete.contains(r));
    rows.extend(change.insert.iter().cloned());
}

async fn run_step<D: Driver>(d: &mut D, step: &Step<'_>, verified: bool) -> Result<(), Error> {
    let statements = split(step.sql(), d.dialect());
    let rev = step.revision;
    if rev.is_transactional() && d.transactional_ddl() {
        let mut ops: Vec<Op<'_>> = statements.iter().map(|s| Op::Sql(s.sql)).collect();
        ops.push(Op::Version(&step.version));
        ops.push(Op::History(history(
            rev,
            operation(step.direction),
            "applied",
            statements.len(),
            verified,
        )));
        return d
            .transaction(&ops)
            .await
            .map_err(|TxFailure { op, source }| match op {
                Some(i) if i < statements.len() => {
                    statement_error(step, i, statements[i].line, true, source)
                }
                _ => Error::database(
                    format!(
                        "recording {} of revision `{}`",
                        step.direction.as_str(),
                        rev.id()
                    ),
                    source,
                ),
            });
    }
    // Outside a transaction: record the attempt, then progress statement
    // by statement, so a failure (or a crash) is reported precisely and
    // blocks later runs until resolved.
    let record = |source| {
        Error::database(
            format!(
                "recording {} of revision `{}`",
                step.direction.as_str(),
                rev.id()
            ),
            source,
        )
    };
    let started = Instant::now();
    let attempt = history(
        rev,
        operation(step.direction),
        "running",
        statements.len(),
        verified,
    );
    let id = d
        .autocommit(&Op::History(attempt))
        .await
        .map_err(record)?
        .unwrap_or_default();
    for (k, statement) in statements.iter().enumerate() {
        tracing::debug!(
            revision = rev.id(),
            statement = k + 1,
            line = statement.line,
            "executing"
        );
        if let Err(source) = d.autocommit(&Op::Sql(statement.sql)).await {
            let error = statement_error(step, k, statement.line, false, source);
            let finish = Op::Finish {
                id,
                status: "failed",
                done: i64::try_from(k).unwrap_or(i64::MAX),
                error: Some(error.to_string()),
                duration_ms: millis(started.elapsed()),
            };
            if let Err(e) = d.autocommit(&finish).await {
                tracing::error!(error = %e, "could not record the failure in the history table");
            }
            return Err(error);
        }
        let done = i64::try_from(k + 1).unwrap_or(i64::MAX);
        if k + 1 < statements.len() {
            d.autocommit(&Op::Progress { id, done })
                .await
                .map_err(record)?;
        }
    }
    let finish = Op::Finish {
        id,
        status: "applied",
        done: i64::try_from(statements.len()).unwrap_or(i64::MAX),
        error: None,
        duration_ms: millis(started.elapsed()),
    };
    d.transaction(&[Op::Version(&step.version), finish])
        .await
        .map_err(|f| record(f.source))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn execute_single<D: Driver>(
    d: &mut D,
    plan: Plan<'_>,
    mut report: Report,
    verified: bool,
) -> Result<Report, Error> {
    if !d.transactional_ddl() {
        return Err(Error::Unsupported(
            "a single transaction for the whole run is not possible on MySQL/MariaDB, where DDL commits implicitly; use the per-revision mode".to_owned(),
        ));
    }
    if let Some(step) = plan.steps.iter().find(|s| !s.revision.is_transactional()) {
        return Err(Error::Unsupported(format!(
            "revision `{}` ({}) is `Transactional: false` and cannot run inside the single transaction of the whole run; use the per-revision mode",
            step.revision.id(),
            step.revision.path()
        )));
    }
    let dialect = d.dialect();
    let statements: Vec<Vec<crate::split::Statement<'_>>> =
        plan.steps.iter().map(|s| split(s.sql(), dialect)).collect();
    let mut ops = Vec::new();
    let mut owner = Vec::new();
    for (n, (step, stmts)) in plan.steps.iter().zip(&statements).enumerate() {
        for (k, s) in stmts.iter().enumerate() {
            ops.push(Op::Sql(s.sql));
            owner.push((n, Some(k)));
        }
        ops.push(Op::Version(&step.version));
        ops.push(Op::History(history(
            step.revision,
            operation(step.direction),
            "applied",
            stmts.len(),
            verified,
        )));
        owner.push((n, None));
        owner.push((n, None));
    }
    let started = Instant::now();
    d.transaction(&ops)
        .await
        .map_err(
            |TxFailure { op, source }| match op.and_then(|i| owner.get(i)) {
                Some(&(n, Some(k))) => {
                    statement_error(&plan.steps[n], k, statements[n][k].line, true, source)
                }
                _ => Error::database("recording the run", source),
            },
        )?;
    let total = plan.steps.len();
    for (n, step) in plan.steps.iter().enumerate() {
        log_step(step, n, total, Duration::ZERO);
        report.steps.push(StepReport::new(step, Duration::ZERO));
        apply_rows(&mut report.heads_after, &step.version);
    }
    tracing::info!(
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        steps = total,
        "committed the run's single transaction"
    );
    report.heads_after = sorted(report.heads_after);
    Ok(report)
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
    let mut ops: Vec<Op<'_>> = Vec::new();
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
    // The stamp resolves an unfinished attempt: the user says what is applied.
    ops.push(Op::ResolveUnfinished);
    d.transaction(&ops)
        .await
        .map_err(|f| Error::database("stamping the version table", f.source))?;
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
    d.transaction(&ops)
        .await
        .map_err(|f| Error::database("recording the repair", f.source))?;
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
