//! The runtime's error type.

use std::fmt;
use std::time::Duration;

use retort_core::load::LoadErrors;
use retort_core::plan::{Direction, PlanError};

/// Everything that can go wrong applying revisions.
///
/// `Display` is the message; `Debug` (what `fn main() -> Result<(), E>`
/// prints) is the message and then each [`source`](std::error::Error::source)
/// below it, one per line: a service that returns this error from `main`
/// shows its user a readable report, not a struct dump. A cause is either
/// in the message or the `source()`, never both: the driver's errors are
/// told in the message (in the database's own words, passwords scrubbed)
/// and kept in the variant's `error` field, not returned as `source()`.
/// Match on the variants for their fields.
#[derive(thiserror::Error)]
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
    /// The URL names a database in a way retort refuses to act on (the
    /// message says why and how to write what was meant).
    #[error("invalid database URL `{url}`: {message}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong, and the spellings that work.
        message: String,
    },
    /// Connecting failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's message (password scrubbed).
        message: String,
        /// The driver's error, told in `message` (so not the `source()`).
        error: sqlx::Error,
    },
    /// The server did not complete the connection within the connect
    /// timeout (it accepted the connection but never answered, or did not
    /// accept it at all).
    #[error("cannot connect to {url}{}: no answer within {}s; if the server is just slow, raise the connect timeout (`connect_timeout` under [database] in retort.toml, or `Config::connect_timeout`)", .connection.map(|c| format!(" ({c})")).unwrap_or_default(), timeout.as_secs_f64())]
    ConnectTimeout {
        /// The URL, password redacted.
        url: String,
        /// Which connection, when it is not the main one (`the migration
        /// lock's connection`).
        connection: Option<&'static str>,
        /// The timeout.
        timeout: Duration,
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
        /// The revisions this run committed before the failure, in order
        /// (also through [`Error::applied`]).
        applied: Vec<crate::report::StepReport>,
    },
    /// A statement of a revision failed.
    #[error("{file}:{line}: {direction} of revision `{revision}` failed at statement {statement}{}: {message}{}{}", code.as_ref().map(|c| format!(" (database error {c})")).unwrap_or_default(), if *.rolled_back { "; the revision was rolled back" } else { "" }, hint(.error))]
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
        /// The revisions this run committed before the failure, in order
        /// (also through [`Error::applied`]).
        applied: Vec<crate::report::StepReport>,
        /// The driver's error, told in `message` (so not the `source()`).
        error: sqlx::Error,
    },
    /// A Rust revision's function returned an error.
    #[error("{file}:{line}: {direction} of revision `{revision}` failed in its Rust code: {message}{}{}", code.as_ref().map(|c| format!(" (database error {c})")).unwrap_or_default(), if *.rolled_back { "; the revision was rolled back" } else { "; it ran outside a transaction, so what it did before the error stays" })]
    Code {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
        /// Upgrade or downgrade.
        direction: Direction,
        /// The line declaring the function that failed.
        line: u32,
        /// The database's error code, when the function returned a
        /// database error.
        code: Option<String>,
        /// The function's error, in words.
        message: String,
        /// True when the database rolled back the whole revision.
        rolled_back: bool,
        /// The revisions this run committed before the failure, in order
        /// (also through [`Error::applied`]).
        applied: Vec<crate::report::StepReport>,
        /// The function's error, told in `message` (so not the `source()`).
        error: crate::code::Error,
    },
    /// A revision depends on a revision of another migration set that the
    /// run cannot order it after.
    #[error("{file}: revision `{revision}` depends on `{dependency}`, {problem}")]
    SetDependency {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
        /// The dependency, `set@revision`.
        dependency: String,
        /// Why it cannot be met.
        problem: String,
    },
    /// The plan holds a Rust revision this program has no compiled code
    /// for: the `retort` binary reads revisions from files at run time.
    #[error(
        "{file}: revision `{revision}` is a Rust revision, which this program cannot run: its revisions were read from files at run time (the standalone `retort` binary, or `Migrations::from_dir`), when Rust cannot be compiled, so nothing was changed. Run the same command with the service's own CLI, which embeds the compiled revisions (`retort::cli::run(&MIGRATIONS)` in a binary of the service; see docs/rust-revisions.md)"
    )]
    CodeUnavailable {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
    },
    /// A previous run failed part-way through a revision that could not be
    /// rolled back; nothing runs until that is resolved.
    #[error(fmt = crate::report::write_failed_state)]
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
    #[error("{context} failed: {message}{}", hint(.error))]
    Database {
        /// What retort was doing.
        context: String,
        /// The database's message.
        message: String,
        /// The revisions this run committed before the failure, in order
        /// (also through [`Error::applied`]).
        applied: Vec<crate::report::StepReport>,
        /// The driver's error, told in `message` (so not the `source()`).
        error: sqlx::Error,
    },
    /// [`TransactionMode::Single`](crate::TransactionMode::Single) was
    /// asked on a backend whose DDL commits implicitly (MySQL/MariaDB).
    #[error(
        "a single transaction for the whole run is not possible on {backend}, where DDL commits implicitly; use the per-revision mode (`transaction_mode = \"per-revision\"` in retort.toml, or `TransactionMode::PerRevision`)"
    )]
    SingleTransactionUnsupported {
        /// The backend: `MySQL/MariaDB`.
        backend: &'static str,
    },
    /// [`TransactionMode::Single`](crate::TransactionMode::Single) was
    /// asked for a plan with a `Transactional: false` revision, which
    /// cannot run inside a transaction.
    #[error(
        "revision `{revision}` ({file}) is `Transactional: false` and cannot run inside the single transaction of the whole run; use the per-revision mode (`transaction_mode = \"per-revision\"` in retort.toml, or `TransactionMode::PerRevision`)"
    )]
    NonTransactionalInSingle {
        /// The revision.
        revision: String,
        /// Its file.
        file: String,
    },
    /// Offline SQL (`--sql`) was asked for a backend this build lacks.
    #[error(
        "cannot render {backend} SQL: this build lacks the `{feature}` feature; rebuild retort with it (`--features {feature}`)"
    )]
    BackendNotBuilt {
        /// The backend: `PostgreSQL`, `MySQL/MariaDB` or `SQLite`.
        backend: &'static str,
        /// The cargo feature that provides it.
        feature: &'static str,
    },
    /// A history-table row that retort cannot use: its operation or status
    /// is none retort knows. It was edited by hand, or written by another
    /// tool.
    #[error(
        "row {id} of the history table `{table}` (revision `{revision}`) {problem}; the row was edited by hand or written by another tool: restore the history table from a backup, or run the retort release that wrote it"
    )]
    CorruptHistory {
        /// The history table (schema-qualified when a schema is configured).
        table: String,
        /// The row's id.
        id: i64,
        /// The revision the row records.
        revision: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The blocking API was called from inside an async runtime.
    #[error(
        "the blocking API was called from inside a tokio runtime, where it would deadlock; call the async methods (`MIGRATIONS.upgrade(...).await`) instead, or make the blocking call on a thread of its own (`std::thread::spawn`; not `tokio::task::spawn_blocking`, whose threads are inside the runtime too)"
    )]
    BlockingInsideRuntime,
    /// The blocking API could not start its runtime.
    #[error("cannot start the runtime for the blocking API: {0}")]
    Runtime(std::io::Error),
    /// The SQLite migration lock could not be taken or released: an I/O
    /// error on the database file, or on the lock file where the lock is a
    /// file beside the database (see the SQLite driver's docs).
    #[error("cannot use {what}: {error}{}", .hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
    LockFile {
        /// The file: `the database file PATH` or `lock file PATH`.
        what: String,
        /// The I/O error, told in the message (so not the `source()`).
        error: std::io::Error,
        /// What to do about it, when known.
        hint: Option<String>,
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
    /// [`Error::Connect`] for `url`, its password redacted from the URL and
    /// scrubbed from the driver's message.
    pub(crate) fn connect(url: &str, error: sqlx::Error) -> Self {
        Self::Connect {
            url: crate::url::redact(url),
            message: crate::url::scrub(&driver_message(&error), url),
            error,
        }
    }

    pub(crate) fn database(context: impl Into<String>, error: sqlx::Error) -> Self {
        Self::Database {
            context: context.into(),
            message: driver_message(&error),
            error,
            applied: Vec::new(),
        }
    }

    /// The revisions the run committed before it failed, in order (empty
    /// when it failed before committing any, or when the error is not one
    /// that can end a run part-way): what an `upgrade` that failed at its
    /// third revision did apply. The database's version table says the
    /// same; this saves reading it.
    pub fn applied(&self) -> &[crate::report::StepReport] {
        match self {
            Self::Statement { applied, .. }
            | Self::Code { applied, .. }
            | Self::Database { applied, .. }
            | Self::LockLost { applied, .. } => applied,
            _ => &[],
        }
    }

    /// This error, noting `steps` as committed before it (for the errors
    /// [`Error::applied`] reads).
    pub(crate) fn with_applied(mut self, steps: Vec<crate::report::StepReport>) -> Self {
        if let Self::Statement { applied, .. }
        | Self::Code { applied, .. }
        | Self::Database { applied, .. }
        | Self::LockLost { applied, .. } = &mut self
        {
            *applied = steps;
        }
        self
    }

    /// The driver's error behind this one, when a database or driver
    /// call failed ([`Error::Connect`], [`Error::Statement`],
    /// [`Error::Database`], and [`Error::Code`] when the revision's function
    /// returned one): for its SQLSTATE, or to downcast the
    /// database's own error type.
    pub fn driver_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Connect { error, .. }
            | Self::Statement { error, .. }
            | Self::Database { error, .. } => Some(error),
            Self::Code { error, .. } => error.downcast_ref(),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            write!(f, "\n  caused by: {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

/// What to do about a database error that the database explains only in
/// its own terms (empty when there is nothing to add). SQLite's
/// "attempt to write a readonly database" is most often a directory the
/// user cannot write, where SQLite creates its journal.
fn hint(source: &sqlx::Error) -> &'static str {
    #[cfg(feature = "sqlite")]
    if let sqlx::Error::Database(db) = source
        && db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
    {
        const READONLY: i32 = 8;
        const READONLY_DIRECTORY: i32 = 1544;
        match db.code().and_then(|c| c.parse::<i32>().ok()) {
            Some(READONLY_DIRECTORY) => {
                return "; SQLite writes its journal in the database's directory, which the user running retort cannot write: make that directory writable for this user, or move the database to a writable directory";
            }
            Some(code) if code & 0xff == READONLY => {
                return "; the user running retort cannot write the database file or its directory, or the URL opens it read-only (`mode=ro`): check their permissions and the URL";
            }
            _ => {}
        }
    }
    let _ = source;
    ""
}

/// The database's code and message of a driver error.
pub(crate) fn describe(source: &sqlx::Error) -> (Option<String>, String) {
    let code = match source {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    (code, driver_message(source))
}

/// A driver error in plain words: for an error the server returned, its
/// own message. sqlx's `Display` prefixes it with "error returned from
/// database" and, on PostgreSQL, appends the line of the *server's* C
/// source that raised it (`at line 1188`), which means nothing to a user.
pub(crate) fn driver_message(source: &sqlx::Error) -> String {
    match source {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server error as PostgreSQL reports it: sqlx's `Display` of it ends
    /// with the line of the server's C source.
    #[derive(Debug)]
    struct ServerError;

    impl fmt::Display for ServerError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("relation \"users\" already exists at line 1188")
        }
    }

    impl std::error::Error for ServerError {}

    impl sqlx::error::DatabaseError for ServerError {
        fn message(&self) -> &str {
            "relation \"users\" already exists"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some("42P07".into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn server_error() -> sqlx::Error {
        sqlx::Error::Database(Box::new(ServerError))
    }

    #[test]
    fn driver_messages_carry_no_server_source_position() {
        assert!(server_error().to_string().contains("at line 1188"));
        assert_eq!(
            driver_message(&server_error()),
            "relation \"users\" already exists"
        );
        assert_eq!(
            describe(&server_error()),
            (
                Some("42P07".to_owned()),
                "relation \"users\" already exists".to_owned()
            )
        );
        let e = Error::database("reading the version table", server_error());
        assert_eq!(
            e.to_string(),
            "reading the version table failed: relation \"users\" already exists"
        );
    }

    #[test]
    fn debug_is_the_message_and_each_cause_once() {
        let e = Error::database("reading the version table", server_error());
        assert_eq!(
            format!("{e:?}"),
            "reading the version table failed: relation \"users\" already exists"
        );
        let e = Error::LockFile {
            what: "lock file app.db.retort-lock".to_owned(),
            error: std::io::Error::other("disk full"),
            hint: None,
        };
        assert_eq!(
            format!("{e:?}"),
            "cannot use lock file app.db.retort-lock: disk full"
        );
        let e = Error::Runtime(std::io::Error::other("no threads"));
        assert_eq!(
            format!("{e:?}"),
            "cannot start the runtime for the blocking API: no threads"
        );
        let e = Error::connect("postgres://u:secret@h/db", server_error());
        assert_eq!(
            format!("{e:?}"),
            "cannot connect to postgres://u:***@h/db: relation \"users\" already exists"
        );
        assert!(std::error::Error::source(&e).is_none());
        assert!(e.driver_error().is_some());
    }
}
