//! Running the steps of a plan: each revision in a transaction with its
//! bookkeeping where the database allows, else statement by statement with
//! its progress recorded.

use std::time::{Duration, Instant};

use retort_core::Revision;
use retort_core::plan::{Direction, Plan, Step, VersionChange};

use super::common::{RUN_TARGET, sorted};
use crate::config::{Config, TransactionMode};
use crate::driver::{Driver, NewHistory, Op, RecordedFailure, RecordedStep, TxFailure};
use crate::error::{Error, describe};
use crate::history::{Operation, Status};
use crate::report::{Report, StepReport};
use retort_core::split::split;

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
pub(crate) fn history<'a>(
    rev: &'a Revision,
    operation: Operation,
    status: Status,
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
        statements_done: if status == Status::Applied {
            i64::try_from(count).unwrap_or(i64::MAX)
        } else {
            0
        },
        error: None,
        downgrade_sql: rev.downgrade_sql(),
        nonce: crate::chain::nonce(),
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
        error: source,
        applied: Vec::new(),
    }
}

pub(super) async fn execute<D: Driver>(
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
        if !(in_transaction(d, step) && d.checks_lock_in_transaction())
            && let Err(error) = d.check_lock().await
        {
            return Err(error.with_applied(report.steps));
        }
        log_start(step, n, total);
        let started = Instant::now();
        if let Err(error) = run_step(d, step, verified).await {
            log_failure(step, n, total, started.elapsed(), &error);
            return Err(error.with_applied(report.steps));
        }
        let duration = started.elapsed();
        log_step(step, n, total, duration);
        report.steps.push(StepReport::new(step, duration));
        apply_rows(&mut report.heads_after, &step.version);
    }
    report.heads_after = sorted(report.heads_after);
    Ok(report)
}

/// `Running upgrade a -> b, message`, as Alembic logs it when a step starts.
fn running_line(step: &Step<'_>) -> String {
    let rev = step.revision;
    let parents = rev.parents().collect::<Vec<_>>().join(", ");
    let (from, to) = match step.direction {
        Direction::Upgrade => (parents.as_str(), rev.id()),
        Direction::Downgrade => (rev.id(), parents.as_str()),
    };
    let message = rev
        .message()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "Running {} {from} -> {to}, {message}",
        step.direction.as_str()
    )
}

// The events of a step (target `RUN_TARGET`, fields `revision`, `file`,
// `direction`, `step`, `of`, `status`, and `duration_ms` once it ends)
// are a documented interface: `docs/output.md`, and the CLI's live display.

fn log_start(step: &Step<'_>, n: usize, total: usize) {
    tracing::info!(
        target: RUN_TARGET,
        revision = step.revision.id(),
        file = step.revision.path(),
        direction = step.direction.as_str(),
        step = n + 1,
        of = total,
        status = Status::Running.as_str(),
        "{}",
        running_line(step)
    );
}

fn log_step(step: &Step<'_>, n: usize, total: usize, duration: Duration) {
    tracing::info!(
        target: RUN_TARGET,
        revision = step.revision.id(),
        file = step.revision.path(),
        direction = step.direction.as_str(),
        step = n + 1,
        of = total,
        status = Status::Applied.as_str(),
        duration_ms = millis(duration),
        "{} {} applied: {}",
        step.direction.as_str(),
        step.revision.id(),
        step.revision.message()
    );
}

fn log_failure(step: &Step<'_>, n: usize, total: usize, duration: Duration, error: &Error) {
    tracing::error!(
        target: RUN_TARGET,
        revision = step.revision.id(),
        file = step.revision.path(),
        direction = step.direction.as_str(),
        step = n + 1,
        of = total,
        status = Status::Failed.as_str(),
        duration_ms = millis(duration),
        error = %error,
        "{} of revision `{}` failed",
        step.direction.as_str(),
        step.revision.id()
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

/// Whether `step` runs in one transaction with its bookkeeping.
fn in_transaction<D: Driver>(d: &D, step: &Step<'_>) -> bool {
    step.revision.is_transactional() && d.transactional_ddl()
}

async fn run_step<D: Driver>(d: &mut D, step: &Step<'_>, verified: bool) -> Result<(), Error> {
    let statements = split(step.sql(), d.dialect());
    let rev = step.revision;
    if in_transaction(d, step) {
        let mut ops: Vec<Op<'_>> = statements.iter().map(|s| Op::Sql(s.sql)).collect();
        ops.push(Op::Version(&step.version));
        ops.push(Op::History(history(
            rev,
            Operation::of(step.direction),
            Status::Applied,
            statements.len(),
            verified,
        )));
        return d.transaction(&ops, true).await.map_err(|failure| {
            match failure.lock_lost_or_self(Some(&format!("revision `{}`", rev.id()))) {
                Ok(lost) => lost,
                Err(TxFailure { op, source, .. }) => match op {
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
                },
            }
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
        Operation::of(step.direction),
        Status::Running,
        statements.len(),
        verified,
    );
    let texts: Vec<&str> = statements.iter().map(|s| s.sql).collect();
    let whole = RecordedStep {
        statements: &texts,
        attempt: &attempt,
        version: &step.version,
    };
    match d.recorded_step(&whole).await {
        Some(Ok(())) => return Ok(()),
        Some(Err(RecordedFailure::Record(source))) => return Err(record(source)),
        Some(Err(RecordedFailure::Statement { index, id, source })) => {
            let line = statements[index].line;
            return Err(
                failed_statement(d, step, &attempt, (id, index, line), started, source).await,
            );
        }
        None => {}
    }
    let id = d
        .autocommit(&Op::History(attempt.clone()))
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
            let at = (id, k, statement.line);
            return Err(failed_statement(d, step, &attempt, at, started, source).await);
        }
        let done = i64::try_from(k + 1).unwrap_or(i64::MAX);
        if k + 1 < statements.len() {
            d.autocommit(&Op::Progress {
                id,
                row: &attempt,
                done,
            })
            .await
            .map_err(record)?;
        }
    }
    let finish = Op::Finish {
        id,
        row: &attempt,
        status: Status::Applied,
        done: i64::try_from(statements.len()).unwrap_or(i64::MAX),
        error: None,
        duration_ms: millis(started.elapsed()),
    };
    // Recorded even if the lock went while the statements ran: they have
    // run, and an attempt left `running` would block every later run.
    d.transaction(&[Op::Version(&step.version), finish], false)
        .await
        .map_err(|f| record(f.source))
}

/// The error of statement `k` (on `line`) of a recorded step whose attempt
/// row is `id`, after closing that row as failed with `k` statements done.
async fn failed_statement<D: Driver>(
    d: &mut D,
    step: &Step<'_>,
    attempt: &NewHistory<'_>,
    (id, k, line): (i64, usize, u32),
    started: Instant,
    source: sqlx::Error,
) -> Error {
    let error = statement_error(step, k, line, false, source);
    let finish = Op::Finish {
        id,
        row: attempt,
        status: Status::Failed,
        done: i64::try_from(k).unwrap_or(i64::MAX),
        error: Some(error.to_string()),
        duration_ms: millis(started.elapsed()),
    };
    if let Err(e) = d.autocommit(&finish).await {
        tracing::error!(error = %e, "could not record the failure in the history table");
    }
    error
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Refuses, before anything is written, a plan the configured mode cannot
/// run.
pub(super) fn validate<D: Driver>(d: &D, config: &Config, plan: &Plan<'_>) -> Result<(), Error> {
    if config.transaction_mode != TransactionMode::Single || plan.steps.len() < 2 {
        return Ok(());
    }
    if !d.transactional_ddl() {
        return Err(Error::SingleTransactionUnsupported {
            backend: "MySQL/MariaDB",
        });
    }
    if let Some(step) = plan.steps.iter().find(|s| !s.revision.is_transactional()) {
        return Err(Error::NonTransactionalInSingle {
            revision: step.revision.id().to_owned(),
            file: step.revision.path().to_owned(),
        });
    }
    Ok(())
}

/// The whole plan in one transaction; [`validate`] has accepted it.
async fn execute_single<D: Driver>(
    d: &mut D,
    plan: Plan<'_>,
    mut report: Report,
    verified: bool,
) -> Result<Report, Error> {
    let dialect = d.dialect();
    let statements: Vec<Vec<retort_core::split::Statement<'_>>> =
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
            Operation::of(step.direction),
            Status::Applied,
            stmts.len(),
            verified,
        )));
        owner.push((n, None));
        owner.push((n, None));
    }
    if !d.checks_lock_in_transaction() {
        d.check_lock().await?;
    }
    let total = plan.steps.len();
    // One transaction runs every step: they all start now.
    for (n, step) in plan.steps.iter().enumerate() {
        log_start(step, n, total);
    }
    let started = Instant::now();
    d.transaction(&ops, true).await.map_err(|failure| {
        match failure.lock_lost_or_self(Some("the run's single transaction")) {
            Ok(lost) => lost,
            Err(TxFailure { op, source, .. }) => match op.and_then(|i| owner.get(i)) {
                Some(&(n, Some(k))) => {
                    let error =
                        statement_error(&plan.steps[n], k, statements[n][k].line, true, source);
                    log_failure(&plan.steps[n], n, total, started.elapsed(), &error);
                    error
                }
                _ => Error::database("recording the run", source),
            },
        }
    })?;
    for (n, step) in plan.steps.iter().enumerate() {
        log_step(step, n, total, Duration::ZERO);
        report.steps.push(StepReport::new(step, Duration::ZERO));
        apply_rows(&mut report.heads_after, &step.version);
    }
    tracing::info!(
        target: RUN_TARGET,
        duration_ms = millis(started.elapsed()),
        steps = total,
        "committed the run's single transaction"
    );
    report.heads_after = sorted(report.heads_after);
    Ok(report)
}
