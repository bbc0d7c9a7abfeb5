//! Running a Rust revision's step: its function and its bookkeeping in one
//! transaction where the backend allows, else under the attempt protocol
//! (the attempt recorded first, closed once the function returned).

use std::collections::BTreeMap;
use std::time::Instant;

use retort_core::plan::Step;

use super::common::{Lineages, history, millis};
use crate::code::{Call, Function, Functions};
use crate::driver::{Driver, Op, TxFailure};
use crate::error::{Error, describe};
use crate::history::{Operation, Status};

/// The function `step` runs, or [`Error::CodeUnavailable`] when this
/// program has none compiled for it (the revisions were read from files).
pub(super) fn function(code: &[Functions], step: &Step<'_>) -> Result<Function, Error> {
    code.iter()
        .find(|f| f.id() == step.revision.id())
        .and_then(|f| f.get(step.direction))
        .ok_or_else(|| Error::CodeUnavailable {
            revision: step.revision.id().to_owned(),
            file: step.revision.path().to_owned(),
        })
}

/// The error of a failed call, from the function's own error (or the
/// driver's, when the call never got to return one).
pub(super) fn failed(
    step: &Step<'_>,
    call: &Call<'_>,
    rolled_back: bool,
    source: sqlx::Error,
) -> Error {
    let error: crate::code::Error = call.take_failure().unwrap_or_else(|| Box::new(source));
    let (code, message) = match error.downcast_ref::<sqlx::Error>() {
        Some(e) => describe(e),
        None => (None, error.to_string()),
    };
    Error::Code {
        revision: step.revision.id().to_owned(),
        file: step.revision.path().to_owned(),
        direction: step.direction,
        line: step.line(),
        code,
        message,
        rolled_back,
        applied: Vec::new(),
        error,
    }
}

/// Runs the Rust revision of `step`; `in_transaction` as for SQL steps.
pub(super) async fn run<D: Driver>(
    d: &mut D,
    step: &Step<'_>,
    (function, args): (Function, &BTreeMap<String, String>),
    in_transaction: bool,
    lineages: Lineages<'_>,
) -> Result<(), Error> {
    let rev = step.revision;
    let call = Call::new(function, args, rev.id(), rev.path(), step.direction);
    let operation = Operation::of(step.direction);
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
    if in_transaction {
        let ops = [
            Op::Code(&call),
            Op::Version(&step.version),
            Op::History(history(rev, operation, Status::Applied, 1, lineages)),
        ];
        return d.transaction(&ops, true).await.map_err(|failure| {
            match failure.lock_lost_or_self(Some(&format!("revision `{}`", rev.id()))) {
                Ok(lost) => lost,
                Err(TxFailure {
                    op: Some(0),
                    source,
                    ..
                }) => failed(step, &call, true, source),
                Err(TxFailure { source, .. }) => record(source),
            }
        });
    }
    let started = Instant::now();
    let attempt = history(rev, operation, Status::Running, 1, lineages);
    let id = d
        .autocommit(&Op::History(attempt.clone()))
        .await
        .map_err(record)?
        .unwrap_or_default();
    if let Err(source) = d.autocommit(&Op::Code(&call)).await {
        let error = failed(step, &call, false, source);
        let finish = Op::Finish {
            id,
            row: &attempt,
            status: Status::Failed,
            done: 0,
            error: Some(error.to_string()),
            duration_ms: millis(started.elapsed()),
        };
        if let Err(e) = d.autocommit(&finish).await {
            tracing::error!(error = %e, "could not record the failure in the history table");
        }
        return Err(error);
    }
    let finish = Op::Finish {
        id,
        row: &attempt,
        status: Status::Applied,
        done: 1,
        error: None,
        duration_ms: millis(started.elapsed()),
    };
    // Recorded even if the lock went while the function ran: it has run,
    // and an attempt left `running` would block every later run.
    d.transaction(&[Op::Version(&step.version), finish], false)
        .await
        .map_err(|f| record(f.source))
}
