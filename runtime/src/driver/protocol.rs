//! The one small trait each backend implements ([`Driver`]) and the
//! operations the engine asks of it ([`Op`]).

use std::future::Future;
use std::time::Duration;

use retort_core::plan::VersionChange;
use retort_core::split::Dialect;

use super::rows::{DbState, Layout, NewHistory};
use crate::error::Error;
use crate::history::{HistoryEntry, Status};

/// One operation of a step.
#[derive(Debug, Clone)]
pub(crate) enum Op<'a> {
    /// A statement of the revision.
    Sql(&'a str),
    /// A Rust revision's function, run on the transaction's connection
    /// (its own error kept in the call).
    Code(&'a crate::code::Call<'a>),
    /// A version-table change.
    Version(&'a VersionChange),
    /// Insert a history row, chained onto the last one (returns its id in
    /// autocommit mode).
    History(NewHistory<'a>),
    /// Record progress of a running step, the history row `row` inserted
    /// as `id`.
    Progress {
        id: i64,
        row: &'a NewHistory<'a>,
        done: i64,
    },
    /// Close a running step's history row `row`, inserted as `id`.
    Finish {
        id: i64,
        row: &'a NewHistory<'a>,
        status: Status,
        done: i64,
        error: Option<String>,
        duration_ms: i64,
    },
    /// Rewrite a history row's link and hash (`repair` accepting a broken
    /// chain, see [`crate::chain::reseal`]).
    Reseal { id: i64, prev: String, hash: String },
    /// Mark the unfinished step `id`, the last row, resolved; `hash` is its
    /// row hash with the new status (`None` for a row without hash).
    Resolve { id: i64, hash: Option<String> },
    /// Delete every version-table row (`stamp --purge`).
    PurgeVersions,
}

/// A failed transaction: which op failed (`None`: BEGIN or COMMIT).
#[derive(Debug)]
pub(crate) struct TxFailure {
    pub(crate) op: Option<usize>,
    pub(crate) source: sqlx::Error,
    /// Set (to the lock's description) when the transaction was rolled
    /// back because the migration lock was found lost inside it.
    pub(crate) lock_lost: Option<String>,
}

impl TxFailure {
    pub(crate) fn new(op: Option<usize>, source: sqlx::Error) -> Self {
        Self {
            op,
            source,
            lock_lost: None,
        }
    }

    /// [`Error::LockLost`] when the transaction failed because the lock
    /// was lost (naming `rolled_back`, what that rolled back), else the
    /// failure back for the caller's own mapping.
    pub(crate) fn lock_lost_or_self(self, rolled_back: Option<&str>) -> Result<Error, Self> {
        match self.lock_lost {
            Some(what) => Ok(Error::LockLost {
                what,
                detail: None,
                rolled_back: rolled_back.map(str::to_owned),
                applied: Vec::new(),
            }),
            None => Err(self),
        }
    }
}

/// A revision run statement by statement with its progress recorded (no
/// transactional DDL, or `Transactional: false`), for a driver that sends
/// it whole ([`Driver::recorded_step`]).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) struct RecordedStep<'a> {
    /// The revision's statements, in order.
    pub(crate) statements: &'a [&'a str],
    /// The attempt's history row, as inserted (`running`, none done).
    pub(crate) attempt: &'a NewHistory<'a>,
    /// The version-table change once every statement ran.
    pub(crate) version: &'a VersionChange,
}

/// How a [`RecordedStep`] failed.
#[derive(Debug)]
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) enum RecordedFailure {
    /// Statement `index` (0-based) failed. The statements before it are
    /// applied and recorded; the attempt row `id` is still `running`, for
    /// the engine to close as failed.
    Statement {
        index: usize,
        id: i64,
        source: sqlx::Error,
    },
    /// Writing the bookkeeping failed; what was written is consistent (the
    /// attempt is left `running`, as after a crash).
    Record(sqlx::Error),
    /// The migration lock was found lost before anything was written (a
    /// driver that [checks the lock in recorded
    /// steps](Driver::checks_lock_in_recorded_step)).
    LockLost(Error),
}

/// What every backend provides.
pub(crate) trait Driver: Send {
    /// The dialect, for statement splitting.
    fn dialect(&self) -> Dialect;

    /// True when DDL is transactional (PostgreSQL, SQLite).
    fn transactional_ddl(&self) -> bool;

    /// Points the bookkeeping at `config`'s tables (another migration set
    /// of the same database), keeping the connection and the lock; the
    /// next [`Driver::read_state`] takes that history's chain tip.
    fn use_tables(&mut self, config: &crate::config::Config);

    /// Takes the migration lock, waiting at most `timeout`.
    fn lock(&mut self, timeout: Duration) -> impl Future<Output = Result<(), Error>> + Send;

    /// Releases the migration lock.
    fn unlock(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Fails unless the migration lock is still held. A server-side lock
    /// lives on a session the server may end (an administrator's kill, an
    /// idle timeout such as `wait_timeout` on the dedicated lock
    /// connection, which stays idle while revisions run): the server then
    /// releases the lock silently, and another process could start
    /// migrating the same database. Checked before each step.
    fn check_lock(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// True when [`Driver::transaction`] itself verifies, inside the
    /// transaction, that the migration lock is still held, so that a
    /// transactional step needs no separate [`Driver::check_lock`] (and a
    /// lock lost while the step ran rolls it back).
    fn checks_lock_in_transaction(&self) -> bool {
        false
    }

    /// True when [`Driver::recorded_step`] itself verifies that the
    /// migration lock is still held, before it writes anything (in the
    /// step's first message), so that the engine checks it separately only
    /// when that returns `None`.
    fn checks_lock_in_recorded_step(&self) -> bool {
        false
    }

    /// Creates the version and history tables that `layout` (read by
    /// [`Driver::read_state`] under the lock) lacks, and upgrades a history
    /// table from before the hash chain. Called only before writing, so a
    /// refused command leaves a fresh database as it was.
    fn ensure_tables(&mut self, layout: Layout) -> impl Future<Output = Result<(), Error>> + Send;

    /// Reads the version table (with recorded lineage hashes), the last
    /// unfinished attempt and the tables' layout; missing tables read as
    /// empty. Also takes the history chain's tip, onto which the history
    /// rows this driver writes next are chained.
    fn read_state(&mut self) -> impl Future<Output = Result<DbState, Error>> + Send;

    /// [`read_state`](Driver::read_state) for the engine's unlocked
    /// "already at head" answer: `None` when the state cannot be read now
    /// without waiting for another connection (SQLite, while another
    /// migrator commits), in which case the engine takes the lock and
    /// reads again under it.
    fn peek_state(&mut self) -> impl Future<Output = Result<Option<DbState>, Error>> + Send {
        async { self.read_state().await.map(Some) }
    }

    /// The whole history, oldest first (empty when there is no table).
    fn read_history(&mut self) -> impl Future<Output = Result<Vec<HistoryEntry>, Error>> + Send;

    /// Runs `ops` in one transaction; on failure rolls back. With
    /// `verify_lock`, a driver that [checks the lock in
    /// transactions](Driver::checks_lock_in_transaction) verifies, just
    /// before `COMMIT`, that the migration lock is still held, and rolls
    /// back if not. The engine passes `false` only to record work already
    /// done, which must be recorded even after the lock went.
    fn transaction(
        &mut self,
        ops: &[Op<'_>],
        verify_lock: bool,
    ) -> impl Future<Output = Result<(), TxFailure>> + Send;

    /// Runs a recorded step whole, as few round trips and commits as its
    /// statements allow, keeping the step-by-step protocol's record: the
    /// attempt durable before a statement that commits by itself runs, and
    /// never more than the one statement under way applied beyond what the
    /// history row says is done. `None` when this driver does not, or not
    /// for these statements: the engine then runs the step op by op.
    fn recorded_step(
        &mut self,
        step: &RecordedStep<'_>,
    ) -> impl Future<Output = Option<Result<(), RecordedFailure>>> + Send {
        let _ = step;
        async { None }
    }

    /// Runs one op outside any transaction; returns the id of an inserted
    /// history row.
    fn autocommit(
        &mut self,
        op: &Op<'_>,
    ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
}
