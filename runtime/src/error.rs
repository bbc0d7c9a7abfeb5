//! The runtime's error type.

use std::time::Duration;

use retort_core::load::LoadErrors;
use retort_core::plan::{Direction, PlanError};

/// Everything that can go wrong applying revisions.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid.
    #[error("invalid {setting}: {message}")]
    Config {
        /// Which setting.
        setting: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The URL's scheme names no backend this build supports.
    #[error("unsupported database URL `{url}`: expected `postgres://`, `postgresql://`, `mysql://`, `mariadb://` or `sqlite:`{}", if let Some(f) = .missing_feature { format!(" (this build lacks the `{f}` feature)") } else { String::new() })]
    UnsupportedUrl {
        /// The URL, password redacted.
        url: String,
        /// The cargo feature that would support it.
        missing_feature: Option<&'static str>,
    },
    /// Connecting failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's message (password scrubbed).
        message: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The migration directory could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadErrors),
    /// No plan could be made for the target.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Another process held the migration lock for longer than the timeout.
    #[error("timed out after {}s waiting for the migration lock ({what}): another process is migrating this database; raise the lock timeout or find the process holding it", timeout.as_secs_f64())]
    LockTimeout {
        /// The lock.
        what: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// The server ended the session holding the migration lock (an
    /// administrator's kill, an idle timeout), which released the lock:
    /// retort stopped rather than migrate unlocked. What ran under the
    /// lock stays; a revision whose transaction was still open was rolled
    /// back. Running the upgrade again continues from there.
    #[error("lost the migration lock ({what}): the server ended the session holding it (an administrator's kill or an idle timeout), so another process could migrate this database at the same time; stopped{}. Run the upgrade again to continue{}", .rolled_back.as_ref().map(|r| format!(", and rolled back {r}")).unwrap_or_default(), .detail.as_ref().map(|d| format!(" (checking the lock failed: {d})")).unwrap_or_default())]
    LockLost {
        /// The lock.
        what: String,
        /// Why the check failed when it could not run (the driver's message).
        detail: Option<String>,
        /// What was rolled back, if anything: "revision `X`", or "the
        /// run's single transaction".
        rolled_back: Option<String>,
    },
    /// A statement of a revision failed.
    #[error("{file}:{line}: {direction} of revision `{revision}` failed at statement {statement}{}: {message}{}", code.as_ref().map(|c| format!(" (database error {c})")).unwrap_or_default(), if *.rolled_back { "; the revision was rolled back" } else { "" })]
    Statement {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
        /// Upgrade or downgrade.
        direction: Direction,
        /// 1-based number of the statement within the section.
        statement: usize,
        /// 1-based line of the statement within the file.
        line: u32,
        /// The database's error code (SQLSTATE or vendor code).
        code: Option<String>,
        /// The database's message.
        message: String,
        /// True when the database rolled back the whole revision.
        rolled_back: bool,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A previous run failed part-way through a revision that could not be
    /// rolled back; nothing runs until that is resolved.
    #[error("the database is in a failed state: {direction} of revision `{revision}` ({file}) {}{}; check the schema by hand, then run `retort repair` if the revision's effects were undone (it will run again), or `retort stamp {stamp_hint}` if you completed it by hand", if *.interrupted { format!("was interrupted at statement {} of {}, which may or may not have taken effect", .statement, .count) } else { format!("failed at statement {} of {}", .statement, .count) }, error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default())]
    FailedState {
        /// The revision.
        revision: String,
        /// Its file, or `(unknown file)`.
        file: String,
        /// Upgrade or downgrade.
        direction: Direction,
        /// 1-based statement that failed or was running.
        statement: i64,
        /// Statements in the section.
        count: i64,
        /// The recorded error.
        error: Option<String>,
        /// True when the process died instead of reporting an error.
        interrupted: bool,
        /// The revision to stamp if the step was completed by hand.
        stamp_hint: String,
    },
    /// An offline range (`--sql START:END`) that goes the other way.
    #[error("`{direction} --sql {start}:{end}` would do nothing: `{end}` is {} `{start}`; for the script that goes {} from one to the other, run `retort {} --sql {start}:{end}`", if *.direction == Direction::Upgrade { "below" } else { "above" }, if *.direction == Direction::Upgrade { "down" } else { "up" }, if *.direction == Direction::Upgrade { "downgrade" } else { "upgrade" })]
    ReversedRange {
        /// The command's direction.
        direction: Direction,
        /// The range's start.
        start: String,
        /// The range's end.
        end: String,
    },
    /// Applied revisions were edited, or are unknown.
    #[error("{0}")]
    Drift(crate::drift::Drift),
    /// The history table's hash chain is broken, so the downgrade SQL it
    /// recorded for revisions this build lacks cannot be trusted to run.
    #[error(
        "{0}; the downgrade SQL recorded in the history table for revisions this build lacks cannot be trusted to run: downgrade with the release that has their files, or restore the history table from a backup"
    )]
    BrokenHistory(crate::chain::BrokenRow),
    /// A bookkeeping query failed.
    #[error("{context} failed: {message}")]
    Database {
        /// What retort was doing.
        context: String,
        /// The database's message.
        message: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The requested mode cannot work here.
    #[error("{0}")]
    Unsupported(String),
    /// The blocking API was called from inside an async runtime.
    #[error(
        "the blocking API was called from inside a tokio runtime, where it would deadlock; call the async methods (`MIGRATIONS.upgrade(...).await`) instead, or make the blocking call on a thread of its own (`std::thread::spawn`; not `tokio::task::spawn_blocking`, whose threads are inside the runtime too)"
    )]
    BlockingInsideRuntime,
    /// The blocking API could not start its runtime.
    #[error("cannot start the runtime for the blocking API: {0}")]
    Runtime(#[source] std::io::Error),
    /// A lock file could not be used.
    #[error("cannot use lock file {path}: {source}")]
    LockFile {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::report::FailedStep> for Error {
    fn from(step: crate::report::FailedStep) -> Self {
        Self::FailedState {
            revision: step.revision,
            file: step.file.unwrap_or_else(|| "unknown file".to_owned()),
            direction: step.direction,
            statement: step.statement,
            count: step.statement_count,
            error: step.error,
            interrupted: step.interrupted,
            stamp_hint: step.stamp_hint,
        }
    }
}

impl Error {
    pub(crate) fn database(context: impl Into<String>, source: sqlx::Error) -> Self {
        let message = match &source {
            sqlx::Error::Database(db) => db.message().to_owned(),
            other => other.to_string(),
        };
        Self::Database {
            context: context.into(),
            message,
            source,
        }
    }
}

/// The database's code and message of a driver error.
pub(crate) fn describe(source: &sqlx::Error) -> (Option<String>, String) {
    match source {
        sqlx::Error::Database(db) => (db.code().map(|c| c.into_owned()), db.message().to_owned()),
        other => (None, other.to_string()),
    }
}
