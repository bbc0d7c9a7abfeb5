//! The one small trait each backend implements; everything else (planning,
//! drift, the step protocol) is the shared engine's.
//!
//! Database-specific SQL lives only in the driver files.

use std::future::Future;
use std::time::{Duration, Instant};

use retort_core::plan::VersionChange;

use crate::error::Error;
use retort_core::split::Dialect;

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

mod rows;

pub use rows::HistoryEntry;
pub(crate) use rows::{
    Attempt, DbState, HistoryLayout, Layout, NewHistory, Row, attempt_from, history_from,
};

/// One operation of a step.
#[derive(Debug, Clone)]
pub(crate) enum Op<'a> {
    /// A statement of the revision.
    Sql(&'a str),
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
        status: &'static str,
        done: i64,
        error: Option<String>,
        duration_ms: i64,
    },
    /// Rewrite a history row's link and hash (`repair` accepting a broken
    /// chain, see [`crate::chain::reseal`]).
    Reseal { id: i64, prev: String, hash: String },
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
            }),
            None => Err(self),
        }
    }
}

/// A driver's bookkeeping SQL, rendered once with its table names.
pub(crate) struct Statements {
    pub(crate) create_version: String,
    pub(crate) create_history: String,
    pub(crate) create_history_index: String,
    /// Adds the hash chain's columns to a history table created before
    /// them, in one transaction.
    pub(crate) add_chain_columns: Vec<String>,
    pub(crate) read_rows: String,
    pub(crate) read_rows_plain: String,
    /// The last history row: the columns of [`attempt_from`], then its
    /// `row_hash` (the chain's tip).
    pub(crate) read_last: String,
    /// [`Statements::read_last`] on a history table without the chain's
    /// columns (the tip reads as NULL).
    pub(crate) read_last_unchained: String,
    /// The chain's tip: the last row's `row_hash`, as an expression an
    /// offline script's `INSERT` can use.
    pub(crate) last_hash: String,
    pub(crate) read_history: String,
    /// [`Statements::read_history`] on a history table without the chain's
    /// columns (they read as NULL).
    pub(crate) read_history_unchained: String,
    pub(crate) insert_history: String,
    pub(crate) progress: String,
    pub(crate) finish: String,
    pub(crate) reseal: String,
    pub(crate) update_version: String,
    pub(crate) delete_version: String,
    pub(crate) insert_version: String,
    pub(crate) purge: String,
}

/// The history table's columns in the order of `insert_history`'s values.
pub(crate) const HISTORY_COLUMNS: &str = "revision, operation, status, parents, checksum, lineage, \
     statement_count, statements_done, downgrade_sql, duration_ms, retort_version, checksum_scheme, \
     error, nonce, prev_hash, row_hash";

/// Binds a history row ([`NewHistory`]) to `query` in the order of
/// [`HISTORY_COLUMNS`]: the row, then the chain's link `$prev` and the
/// row's hash `$hash`.
macro_rules! bind_history {
    ($query:expr, $h:expr, $prev:expr, $hash:expr) => {{
        let h = $h;
        $query
            .bind(h.revision)
            .bind(h.operation)
            .bind(h.status)
            .bind(&h.parents)
            .bind(&h.checksum)
            .bind(&h.lineage)
            .bind(h.statement_count)
            .bind(h.statements_done)
            .bind(h.downgrade_sql)
            .bind(h.duration_ms())
            .bind(super::RETORT_VERSION)
            .bind(i64::from(retort_core::checksum::SCHEME_VERSION))
            .bind(h.error.as_deref())
            .bind(&h.nonce)
            .bind($prev)
            .bind($hash)
    }};
}
pub(crate) use bind_history;

/// The history chain's tip, as the driver last saw it: the `row_hash` of
/// the newest history row (`""` when there is none, or it has no hash).
/// Read with the state under the migration lock, then advanced by every
/// history row the driver writes, so chaining a row costs no round trip.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tip(Option<String>);

impl Tip {
    /// The tip read from the table (`None`: no row, or a row without hash).
    pub(crate) fn read(hash: Option<String>) -> Self {
        Self(Some(hash.unwrap_or_default()))
    }
}

/// Defines `exec(conn, statements, tip, op)` for a connection type; the
/// closure runs the prepared history insert and returns the new row's id.
/// History rows are chained onto `tip`, which advances with each.
macro_rules! exec_fn {
    ($conn:ty, |$query:ident, $c:ident| $insert:block) => {
        async fn exec(
            $c: &mut $conn,
            sql: &super::Statements,
            tip: &mut super::Tip,
            op: &super::Op<'_>,
        ) -> Result<Option<i64>, sqlx::Error> {
            use super::Op;
            let q = |text: &str| sqlx::query(sqlx::AssertSqlSafe(text.to_owned()));
            match op {
                Op::Sql(statement) => {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(*statement))
                        .execute(&mut *$c)
                        .await?;
                }
                Op::Version(change) => {
                    if let Some((from, to)) = &change.update {
                        let done = q(&sql.update_version)
                            .bind(to)
                            .bind(from)
                            .execute(&mut *$c)
                            .await?;
                        super::expect_one(done.rows_affected(), "update", from)?;
                    }
                    for id in &change.delete {
                        let done = q(&sql.delete_version).bind(id).execute(&mut *$c).await?;
                        super::expect_one(done.rows_affected(), "delete", id)?;
                    }
                    for id in &change.insert {
                        q(&sql.insert_version).bind(id).execute(&mut *$c).await?;
                    }
                }
                Op::History(h) => {
                    let prev = match &tip.0 {
                        Some(prev) => prev.clone(),
                        // Not read with the state (never the case under the
                        // engine's lock): ask.
                        None => {
                            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                                "SELECT COALESCE({}, '')",
                                sql.last_hash
                            )))
                            .fetch_one(&mut *$c)
                            .await?
                        }
                    };
                    let hash = h.content().hash();
                    let $query = super::bind_history!(q(&sql.insert_history), h, &prev, &hash);
                    let inserted: Result<Option<i64>, sqlx::Error> = $insert;
                    if inserted.is_ok() {
                        tip.0 = Some(hash);
                    }
                    return inserted;
                }
                Op::Progress { id, row, done } => {
                    let hash = row.content_with(row.status, *done, None).hash();
                    q(&sql.progress)
                        .bind(done)
                        .bind(&hash)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash);
                }
                Op::Finish {
                    id,
                    row,
                    status,
                    done,
                    error,
                    duration_ms,
                } => {
                    let hash = row.content_with(status, *done, error.as_deref()).hash();
                    q(&sql.finish)
                        .bind(*status)
                        .bind(done)
                        .bind(error.as_deref())
                        .bind(duration_ms)
                        .bind(&hash)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash);
                }
                Op::Reseal { id, prev, hash } => {
                    q(&sql.reseal)
                        .bind(prev)
                        .bind(hash)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                    tip.0 = Some(hash.clone());
                }
                Op::PurgeVersions => {
                    q(&sql.purge).execute(&mut *$c).await?;
                }
            }
            Ok(None)
        }
    };
}
pub(crate) use exec_fn;

/// The driver methods that differ between backends only in types and in
/// how a missing table or column is recognised: expands inside
/// `impl Driver for ...` of a struct with `conn`, `sql: Statements` and
/// `tip: Tip` fields and `missing_table(&sqlx::Error) -> bool` and
/// `missing_column(&sqlx::Error) -> bool` functions in scope.
macro_rules! common_methods {
    () => {
        async fn ensure_tables(&mut self, layout: super::Layout) -> Result<(), Error> {
            use super::HistoryLayout;
            let create = |sql: &String| (!sql.is_empty()).then(|| sql.clone());
            let mut statements: Vec<String> = Vec::new();
            if !layout.version_table {
                statements.extend(create(&self.sql.create_version));
            }
            if layout.history == HistoryLayout::Missing {
                statements.extend(create(&self.sql.create_history));
                statements.extend(create(&self.sql.create_history_index));
            }
            for sql in &statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| Error::database("creating the version and history tables", e))?;
            }
            if layout.history == HistoryLayout::Unchained {
                use sqlx::Connection as _;
                let upgrade = |e| {
                    Error::database(
                        "adding the hash chain's columns to the history table (a bookkeeping-table upgrade)",
                        e,
                    )
                };
                let mut tx = self.conn.begin().await.map_err(upgrade)?;
                for sql in &self.sql.add_chain_columns {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
                        .execute(&mut *tx)
                        .await
                        .map_err(upgrade)?;
                }
                tx.commit().await.map_err(upgrade)?;
                tracing::info!("added the hash chain's columns to the history table; rows written before stay unchained");
            }
            Ok(())
        }

        async fn read_state(&mut self) -> Result<super::DbState, Error> {
            use sqlx::Row as _;
            let context = |e| Error::database("reading the version table", e);
            let mut layout = super::Layout {
                version_table: true,
                history: super::HistoryLayout::Chained,
            };
            let rows = match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_rows.as_str()))
                .fetch_all(&mut *self.conn)
                .await
            {
                // No history table (a database another tool manages): the
                // rows alone, with no recorded lineage.
                Err(e) if missing_table(&e) => {
                    match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_rows_plain.as_str()))
                        .fetch_all(&mut *self.conn)
                        .await
                    {
                        Err(e) if missing_table(&e) => {
                            layout.version_table = false;
                            Vec::new()
                        }
                        other => other.map_err(context)?,
                    }
                }
                other => other.map_err(context)?,
            };
            let rows = rows
                .iter()
                .map(|r| {
                    Ok(super::Row {
                        version: r.try_get(0)?,
                        lineage: r.try_get(1)?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(context)?;
            let history = |e| Error::database("reading the history table", e);
            let last = match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_last.as_str()))
                .fetch_optional(&mut *self.conn)
                .await
            {
                Err(e) if missing_table(&e) => {
                    layout.history = super::HistoryLayout::Missing;
                    None
                }
                Err(e) if missing_column(&e) => {
                    layout.history = super::HistoryLayout::Unchained;
                    sqlx::query(sqlx::AssertSqlSafe(self.sql.read_last_unchained.as_str()))
                        .fetch_optional(&mut *self.conn)
                        .await
                        .map_err(history)?
                }
                other => other.map_err(history)?,
            };
            let tip: Option<String> = match &last {
                Some(row) => row.try_get(7).map_err(history)?,
                None => None,
            };
            self.tip = super::Tip::read(tip);
            let unfinished = last
                .map(|r| super::attempt_from(&r))
                .transpose()
                .map_err(history)?
                .flatten();
            Ok(super::DbState {
                rows,
                unfinished,
                layout,
            })
        }

        async fn read_history(&mut self) -> Result<Vec<super::HistoryEntry>, Error> {
            let history = |e| Error::database("reading the history table", e);
            let rows = match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_history.as_str()))
                .fetch_all(&mut *self.conn)
                .await
            {
                Err(e) if missing_table(&e) => return Ok(Vec::new()),
                Err(e) if missing_column(&e) => {
                    sqlx::query(sqlx::AssertSqlSafe(self.sql.read_history_unchained.as_str()))
                        .fetch_all(&mut *self.conn)
                        .await
                        .map_err(history)?
                }
                other => other.map_err(history)?,
            };
            rows.iter()
                .map(super::history_from)
                .collect::<Result<_, _>>()
                .map_err(history)
        }

        async fn autocommit(&mut self, op: &super::Op<'_>) -> Result<Option<i64>, sqlx::Error> {
            exec(&mut self.conn, &self.sql, &mut self.tip, op).await
        }
    };
}
pub(crate) use common_methods;

/// `Driver::transaction` as `BEGIN`, each op in turn, `COMMIT` (MySQL and
/// SQLite, which do not check the lock inside transactions; PostgreSQL
/// fuses the bookkeeping and checks the lock inside). The chain's tip
/// stays where it was if the transaction fails.
macro_rules! plain_transaction {
    () => {
        async fn transaction(
            &mut self,
            ops: &[super::Op<'_>],
            _verify_lock: bool,
        ) -> Result<(), super::TxFailure> {
            use sqlx::Connection as _;
            let failed = |op| move |source| super::TxFailure::new(op, source);
            let before = self.tip.clone();
            let result = async {
                let mut tx = self.conn.begin().await.map_err(failed(None))?;
                for (i, op) in ops.iter().enumerate() {
                    exec(&mut tx, &self.sql, &mut self.tip, op)
                        .await
                        .map_err(failed(Some(i)))?;
                }
                tx.commit().await.map_err(failed(None))
            }
            .await;
            if result.is_err() {
                self.tip = before;
            }
            result
        }
    };
}
pub(crate) use plain_transaction;

/// The connection a server-side lock lives on: a dedicated one opened on
/// first use (pools and URLs), or, without connect options, the work
/// connection itself (a caller's borrowed connection). A dedicated
/// connection dropped by a panic or a cancelled future is closed, which
/// makes the server release the lock.
pub(crate) struct LockConnection<C: sqlx::Connection> {
    conn: Option<C>,
    options: Option<std::sync::Arc<C::Options>>,
}

impl<C: sqlx::Connection> LockConnection<C> {
    pub(crate) fn new(options: Option<std::sync::Arc<C::Options>>) -> Self {
        Self {
            conn: None,
            options,
        }
    }

    /// Opens the dedicated connection if there is to be one.
    pub(crate) async fn open(&mut self) -> Result<(), Error> {
        if self.conn.is_none()
            && let Some(options) = &self.options
        {
            let conn = C::connect_with(options)
                .await
                .map_err(|e| Error::database("opening the lock connection", e))?;
            self.conn = Some(conn);
        }
        Ok(())
    }

    /// True once a dedicated connection is open (the lock then lives on a
    /// session of its own, not on the work connection).
    pub(crate) fn is_dedicated(&self) -> bool {
        self.conn.is_some()
    }

    /// The connection to lock on.
    pub(crate) fn get<'a>(&'a mut self, work: &'a mut C) -> &'a mut C {
        match &mut self.conn {
            Some(conn) => conn,
            None => work,
        }
    }

    /// Closes the dedicated connection.
    pub(crate) async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }
}

/// What every backend provides.
pub(crate) trait Driver: Send {
    /// The dialect, for statement splitting.
    fn dialect(&self) -> Dialect;

    /// True when DDL is transactional (PostgreSQL, SQLite).
    fn transactional_ddl(&self) -> bool;

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

    /// Runs one op outside any transaction; returns the id of an inserted
    /// history row.
    fn autocommit(
        &mut self,
        op: &Op<'_>,
    ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
}

/// Waiting for the migration lock: the driver tries to take it (never with
/// a blocking wait on the server) and calls [`LockWait::pause`] between
/// tries, backing off from 20 ms to 1 s, for at most the timeout. Short
/// tries keep waiting replicas from holding a snapshot that `CREATE INDEX
/// CONCURRENTLY` would wait for, the deadlock Flyway users report.
pub(crate) struct LockWait {
    what: String,
    timeout: Duration,
    deadline: Instant,
    pause: Duration,
    waited: bool,
}

impl LockWait {
    pub(crate) fn new(what: String, timeout: Duration) -> Self {
        Self {
            what,
            timeout,
            deadline: Instant::now() + timeout,
            pause: Duration::from_millis(20),
            waited: false,
        }
    }

    /// Sleeps before the next try, or fails once the timeout is spent.
    pub(crate) async fn pause(&mut self) -> Result<(), Error> {
        if !self.waited {
            tracing::info!(lock = %self.what, timeout_s = self.timeout.as_secs_f64(), "waiting for the migration lock held by another process");
            self.waited = true;
        }
        let now = Instant::now();
        if now >= self.deadline {
            return Err(Error::LockTimeout {
                what: self.what.clone(),
                timeout: self.timeout,
            });
        }
        tokio::time::sleep(self.pause.min(self.deadline - now)).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(1));
        Ok(())
    }

    /// Logs the acquisition after a wait.
    pub(crate) fn acquired(&self) {
        if self.waited {
            tracing::info!(lock = %self.what, "acquired the migration lock");
        }
    }
}

/// The error of [`Driver::check_lock`] when the lock is gone (`source`:
/// the check itself failed, typically because the session is gone too).
pub(crate) fn lock_lost(what: &str, source: Option<sqlx::Error>) -> Error {
    Error::LockLost {
        what: what.to_owned(),
        detail: source.map(|e| crate::error::describe(&e).1),
        rolled_back: None,
    }
}

/// Quotes an identifier with `quote` (`"` or `` ` ``); names are validated
/// by `Config::validate`, so this is belt and braces.
pub(crate) fn quote_ident(name: &str, quote: char) -> String {
    let doubled = format!("{quote}{quote}");
    format!("{quote}{}{quote}", name.replace(quote, &doubled))
}

/// Recorded in every history row.
pub(crate) const RETORT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Alembic's check: a version-table UPDATE or DELETE must touch one row.
pub(crate) fn expect_one(affected: u64, what: &str, id: &str) -> Result<(), sqlx::Error> {
    if affected == 1 {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "expected to {what} one version-table row `{id}`, matched {affected} (was the version table changed by hand or by another tool meanwhile?)"
        )))
    }
}
