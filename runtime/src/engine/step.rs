//! Running the steps of a plan: each revision in a transaction with its
//! bookkeeping where the database allows, else statement by statement with
//! its progress recorded.

use std::time::{Duration, Instant};

use retort_core::plan::{Direction, Plan, Step, VersionChange};

use super::code;
use super::common::{Lineages, RUN_TARGET, history, millis, sorted};
use crate::code::{Call, Functions};
use crate::config::{Config, TransactionMode};
use crate::driver::{Driver, NewHistory, Op, RecordedFailure, RecordedStep, TxFailure};
use crate::error::{Error, describe};
use crate::history::{Operation, Status};
use crate::report::{Report, StepReport};
use retort_core::split::split;

fn statement_error(
    step: &Step<'_>,
    index: usize,
    line: u32,
    rolled_back: bool,
    source: sqlx::Error,
) -> Error {
    let (code, message) = describe(&source);
    Error::Statement {
        revision: step.revision.id().to_owned(),
        file: step.revision.path().to_owned(),
        direction: step.direction,
        statement: index + 1,
        line: step.line() + line.saturating_sub(1),
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
    code: &[Functions],
    plan: Plan<'_>,
    lineages: Lineages<'_>,
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
        return execute_single(d, (config, code), plan, report, lineages).await;
    }
    let total = plan.steps.len();
    for (n, step) in plan.steps.iter().enumerate() {
        // Checked by the step itself where the driver can (see
        // `run_step`), else here, before the step writes anything.
        let checked_by_step = if in_transaction(d, step) {
            d.checks_lock_in_transaction()
        } else {
            !step.revision.is_code() && d.checks_lock_in_recorded_step()
        };
        if !checked_by_step && let Err(error) = d.check_lock().await {
            return Err(error.with_applied(report.steps));
        }
        log_start(step, n, total);
        let started = Instant::now();
        let result = if step.revision.is_code() {
            match code::function(code, step) {
                Ok(function) => {
                    let in_tx = in_transaction(d, step);
                    code::run(d, step, (function, &config.args), in_tx, lineages).await
                }
                Err(error) => Err(error),
            }
        } else {
            run_step(d, step, lineages).await
        };
        if let Err(error) = result {
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

async fn run_step<D: Driver>(
    d: &mut D,
    step: &Step<'_>,
    lineages: Lineages<'_>,
) -> Result<(), Error> {
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
            lineages,
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
        lineages,
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
        Some(Err(RecordedFailure::LockLost(error))) => return Err(error),
        Some(Err(RecordedFailure::Statement { index, id, source })) => {
            let line = statements[index].line;
            return Err(
                failed_statement(d, step, &attempt, (id, index, line), started, source).await,
            );
        }
        None => {
            // Not sent whole: the lock was not checked yet (see `execute`).
            if d.checks_lock_in_recorded_step() {
                d.check_lock().await?;
            }
        }
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

/// Refuses, before anything is written, a plan the configured mode cannot
/// run.
pub(super) fn validate<D: Driver>(
    d: &D,
    config: &Config,
    code: &[Functions],
    plan: &Plan<'_>,
) -> Result<(), Error> {
    for step in plan.steps.iter().filter(|s| s.revision.is_code()) {
        code::function(code, step)?;
    }
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
    (config, code): (&Config, &[Functions]),
    plan: Plan<'_>,
    mut report: Report,
    lineages: Lineages<'_>,
) -> Result<Report, Error> {
    let dialect = d.dialect();
    let statements: Vec<Vec<retort_core::split::Statement<'_>>> =
        plan.steps.iter().map(|s| split(s.sql(), dialect)).collect();
    let calls = plan
        .steps
        .iter()
        .map(|step| {
            let rev = step.revision;
            let call =
                |function| Call::new(function, &config.args, rev.id(), rev.path(), step.direction);
            rev.is_code()
                .then(|| code::function(code, step).map(call))
                .transpose()
        })
        .collect::<Result<Vec<Option<Call<'_>>>, Error>>()?;
    let mut ops = Vec::new();
    // Which step each op belongs to, and which of its statements (`None`:
    // its bookkeeping or its Rust code, told apart by `calls`).
    let mut owner = Vec::new();
    for (n, (step, stmts)) in plan.steps.iter().zip(&statements).enumerate() {
        for (k, s) in stmts.iter().enumerate() {
            ops.push(Op::Sql(s.sql));
            owner.push((n, Some(k), false));
        }
        let mut count = stmts.len();
        if let Some(call) = &calls[n] {
            ops.push(Op::Code(call));
            owner.push((n, None, true));
            count = 1;
        }
        ops.push(Op::Version(&step.version));
        ops.push(Op::History(history(
            step.revision,
            Operation::of(step.direction),
            Status::Applied,
            count,
            lineages,
        )));
        owner.push((n, None, false));
        owner.push((n, None, false));
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
                Some(&(n, Some(k), _)) => {
                    let error =
                        statement_error(&plan.steps[n], k, statements[n][k].line, true, source);
                    log_failure(&plan.steps[n], n, total, started.elapsed(), &error);
                    error
                }
                Some(&(n, None, true)) => {
                    let error = match &calls[n] {
                        Some(call) => code::failed(&plan.steps[n], call, true, source),
                        None => Error::database("recording the run", source),
                    };
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
