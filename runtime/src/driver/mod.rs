//! The one small trait each backend implements; everything else (planning,
//! drift, the step protocol) is the shared engine's.
//!
//! Database-specific SQL lives only in the driver files.

use std::future::Future;
use std::time::{Duration, Instant};

use retort_core::plan::VersionChange;

use crate::error::Error;
pub(crate) use lock::LockWait;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use lock::{LockConnection, lock_lost};
use retort_core::split::Dialect;

mod lock;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// A version-table row and what the history table recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) version: String,
    /// Lineage hash recorded when the revision was last applied, stamped
    /// or repaired; `None` when retort never recorded it (e.g. Alembic
    /// applied it).
    pub(crate) lineage: Option<String>,
}

/// The last history row, when it records a step that did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attempt {
    pub(crate) id: i64,
    pub(crate) revision: String,
    pub(crate) operation: String,
    pub(crate) status: String,
    pub(crate) statements_done: i64,
    pub(crate) statement_count: i64,
    pub(crate) error: Option<String>,
}

/// What the database says about its migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DbState {
    pub(crate) rows: Vec<Row>,
    pub(crate) unfinished: Option<Attempt>,
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// Row id (increasing).
    pub id: i64,
    /// The revision.
    pub revision: String,
    /// `upgrade`, `downgrade`, `stamp`, `unstamp` or `repair`.
    pub operation: String,
    /// `applied`, `running`, `failed` or `resolved`.
    pub status: String,
    /// The revision's parents, space-separated.
    pub parents: String,
    /// The file's checksum when the step ran.
    pub checksum: String,
    /// The revision's lineage hash when the step ran.
    pub lineage: String,
    /// Statements in the section.
    pub statement_count: i64,
    /// Statements completed.
    pub statements_done: i64,
    /// The error, for failed steps.
    pub error: Option<String>,
    /// When the step started (UTC, as the database formats it).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// The revision's downgrade SQL, kept so an older binary can roll back.
    pub downgrade_sql: Option<String>,
}

/// A history row to insert.
#[derive(Debug, Clone)]
pub(crate) struct NewHistory<'a> {
    pub(crate) revision: &'a str,
    pub(crate) operation: &'static str,
    pub(crate) status: &'static str,
    pub(crate) parents: String,
    pub(crate) checksum: String,
    pub(crate) lineage: String,
    pub(crate) statement_count: i64,
    pub(crate) statements_done: i64,
    pub(crate) downgrade_sql: Option<&'a str>,
    /// Duration is measured from here when the row is written.
    pub(crate) started: Option<Instant>,
}

impl NewHistory<'_> {
    pub(crate) fn duration_ms(&self) -> Option<i64> {
        self.started
            .map(|s| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX))
    }
}

/// One operation of a step.
#[derive(Debug, Clone)]
pub(crate) enum Op<'a> {
    /// A statement of the revision.
    Sql(&'a str),
    /// A version-table change.
    Version(&'a VersionChange),
    /// Insert a history row (returns its id in autocommit mode).
    History(NewHistory<'a>),
    /// Record progress of a running step.
    Progress { id: i64, done: i64 },
    /// Close a running step's history row.
    Finish {
        id: i64,
        status: &'static str,
        done: i64,
        error: Option<String>,
        duration_ms: i64,
    },
    /// Mark every unfinished history row resolved (`repair`).
    ResolveUnfinished,
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
    pub(crate) read_rows: String,
    pub(crate) read_rows_plain: String,
    pub(crate) read_last: String,
    pub(crate) read_history: String,
    pub(crate) insert_history: String,
    pub(crate) progress: String,
    pub(crate) finish: String,
    pub(crate) resolve: String,
    pub(crate) update_version: String,
    pub(crate) delete_version: String,
    pub(crate) insert_version: String,
    pub(crate) purge: String,
}

/// Binds a history row ([`NewHistory`]) to `query` in the order of the
/// `insert_history` columns.
macro_rules! bind_history {
    ($query:expr, $h:expr) => {{
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
    }};
}
pub(crate) use bind_history;

/// Defines `exec(conn, statements, op)` for a connection type; the
/// closure runs the prepared history insert and returns the new row's id.
macro_rules! exec_fn {
    ($conn:ty, |$query:ident, $c:ident| $insert:block) => {
        async fn exec(
            $c: &mut $conn,
            sql: &super::Statements,
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
                    let $query = super::bind_history!(q(&sql.insert_history), h);
                    return $insert;
                }
                Op::Progress { id, done } => {
                    q(&sql.progress)
                        .bind(done)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                }
                Op::Finish {
                    id,
                    status,
                    done,
                    error,
                    duration_ms,
                } => {
                    q(&sql.finish)
                        .bind(*status)
                        .bind(done)
                        .bind(error.as_deref())
                        .bind(duration_ms)
                        .bind(id)
                        .execute(&mut *$c)
                        .await?;
                }
                Op::ResolveUnfinished => {
                    q(&sql.resolve).execute(&mut *$c).await?;
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
/// how a missing table is recognised: expands inside `impl Driver for ...`
/// of a struct with `conn` and `sql: Statements` fields and a
/// `missing_table(&sqlx::Error) -> bool` function in scope.
macro_rules! common_methods {
    () => {
        async fn ensure_tables(&mut self) -> Result<(), Error> {
            let statements = [
                &self.sql.create_version,
                &self.sql.create_history,
                &self.sql.create_history_index,
            ];
            for sql in statements.into_iter().filter(|s| !s.is_empty()) {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
                    .execute(&mut *self.conn)
                    .await
                    .map_err(|e| Error::database("creating the version and history tables", e))?;
            }
            Ok(())
        }

        async fn read_state(&mut self) -> Result<super::DbState, Error> {
            use sqlx::Row as _;
            let context = |e| Error::database("reading the version table", e);
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
                        Err(e) if missing_table(&e) => Vec::new(),
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
                Err(e) if missing_table(&e) => None,
                other => other.map_err(history)?,
            };
            let unfinished = last
                .map(|r| super::attempt_from(&r))
                .transpose()
                .map_err(history)?
                .flatten();
            Ok(super::DbState { rows, unfinished })
        }

        async fn read_history(&mut self) -> Result<Vec<super::HistoryEntry>, Error> {
            let history = |e| Error::database("reading the history table", e);
            match sqlx::query(sqlx::AssertSqlSafe(self.sql.read_history.as_str()))
                .fetch_all(&mut *self.conn)
                .await
            {
                Err(e) if missing_table(&e) => Ok(Vec::new()),
                Err(e) => Err(history(e)),
                Ok(rows) => rows
                    .iter()
                    .map(super::history_from)
                    .collect::<Result<_, _>>()
                    .map_err(history),
            }
        }

        async fn autocommit(&mut self, op: &super::Op<'_>) -> Result<Option<i64>, sqlx::Error> {
            exec(&mut self.conn, &self.sql, op).await
        }
    };
}
pub(crate) use common_methods;

/// `Driver::transaction` as `BEGIN`, each op in turn, `COMMIT` (MySQL and
/// SQLite, which do not check the lock inside transactions; PostgreSQL
/// fuses the bookkeeping and checks the lock inside).
macro_rules! plain_transaction {
    () => {
        async fn transaction(
            &mut self,
            ops: &[super::Op<'_>],
            _verify_lock: bool,
        ) -> Result<(), super::TxFailure> {
            use sqlx::Connection as _;
            let failed = |op| move |source| super::TxFailure::new(op, source);
            let mut tx = self.conn.begin().await.map_err(failed(None))?;
            for (i, op) in ops.iter().enumerate() {
                exec(&mut tx, &self.sql, op)
                    .await
                    .map_err(failed(Some(i)))?;
            }
            tx.commit().await.map_err(failed(None))
        }
    };
}
pub(crate) use plain_transaction;

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

    /// Creates the version and history tables if missing.
    fn ensure_tables(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Reads the version table (with recorded lineage hashes) and the last
    /// unfinished attempt; missing tables read as empty.
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

    /// Runs one op outside any transaction; returns the id of an inserted
    /// history row.
    fn autocommit(
        &mut self,
        op: &Op<'_>,
    ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;
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

/// Reads the columns `id, revision, operation, status, statements_done,
/// statement_count, error`; `None` unless the step is unfinished.
pub(crate) fn attempt_from<R>(row: &R) -> Result<Option<Attempt>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(3)?;
    if status != "running" && status != "failed" {
        return Ok(None);
    }
    Ok(Some(Attempt {
        id: row.try_get(0)?,
        revision: row.try_get(1)?,
        operation: row.try_get(2)?,
        status,
        statements_done: row.try_get(4)?,
        statement_count: row.try_get(5)?,
        error: row.try_get(6)?,
    }))
}

/// Reads a history row selected with the columns of [`HistoryEntry`], in order.
pub(crate) fn history_from<R>(row: &R) -> Result<HistoryEntry, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(HistoryEntry {
        id: row.try_get(0)?,
        revision: row.try_get(1)?,
        operation: row.try_get(2)?,
        status: row.try_get(3)?,
        parents: row.try_get(4)?,
        checksum: row.try_get(5)?,
        lineage: row.try_get(6)?,
        statement_count: row.try_get(7)?,
        statements_done: row.try_get(8)?,
        error: row.try_get(9)?,
        started_at: row.try_get(10)?,
        duration_ms: row.try_get(11)?,
        downgrade_sql: row.try_get(12)?,
    })
}
