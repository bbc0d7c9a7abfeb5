//! What the backends share as code: the work connection with its
//! bookkeeping statements and the history chain's tip ([`Core`]), and the
//! executor of [`Op`]s, written once over sqlx's traits. A backend adds
//! only what sqlx does not abstract ([`Backend`]): how a missing table or
//! column is reported, and how an inserted row's id comes back.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Connection as _, Row as _};

use super::protocol::{Op, TxFailure};
use super::rows::{Attempt, DbState, HistoryLayout, Layout, NewHistory, Row};
use super::sql::Statements;
use crate::error::Error;
use crate::history::{HistoryEntry, RETORT_VERSION, Status, UnknownValue};

/// What a backend adds to sqlx's [`Database`](sqlx::Database) for the
/// shared bookkeeping code.
pub(crate) trait Backend: sqlx::Database {
    /// True when `insert_history` returns the new row's id as its only
    /// column (`RETURNING id`); else the id is read from the result with
    /// [`Backend::last_insert_id`].
    const INSERT_RETURNS_ID: bool;

    /// True when `e` says that a table does not exist.
    fn missing_table(e: &sqlx::Error) -> bool;

    /// True when `e` says that a column does not exist.
    fn missing_column(e: &sqlx::Error) -> bool;

    /// The rows an UPDATE or DELETE changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// The id of the row an INSERT added.
    fn last_insert_id(done: &Self::QueryResult) -> i64;

    /// The catalog queries of a Rust revision's conditions.
    const EXISTS: crate::code::ExistsSql;

    /// The connection as a Rust revision's function gets it.
    fn code_connection(conn: &mut Self::Connection) -> crate::code::Connection<'_>;
}

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

    /// The hash the next history row links to: the tip when it was read,
    /// else the table's last `row_hash`, asked for with `sql.last_hash`.
    pub(crate) async fn prev<DB>(
        &self,
        conn: &mut DB::Connection,
        sql: &Statements,
    ) -> Result<String, sqlx::Error>
    where
        DB: Backend,
        DB::Arguments: sqlx::IntoArguments<DB>,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
        usize: sqlx::ColumnIndex<DB::Row>,
    {
        match &self.0 {
            Some(prev) => Ok(prev.clone()),
            // Not read with the state (never the case under the engine's
            // lock): ask.
            None => sqlx::query(AssertSqlSafe(format!(
                "SELECT COALESCE({}, '')",
                sql.last_hash
            )))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0),
        }
    }
}

/// The connection a driver works on: taken from the caller's pool,
/// borrowed from the caller, or opened from a URL.
pub(crate) enum Conn<'a, DB: sqlx::Database> {
    /// From a pool; back to it when dropped.
    Pooled(PoolConnection<DB>),
    /// The caller's own connection.
    Borrowed(&'a mut DB::Connection),
    /// Opened from a URL for this call.
    Owned(Box<DB::Connection>),
}

impl<DB: sqlx::Database> Deref for Conn<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Borrowed(conn) => conn,
            Self::Owned(conn) => conn,
        }
    }
}

impl<DB: sqlx::Database> DerefMut for Conn<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Borrowed(conn) => conn,
            Self::Owned(conn) => conn,
        }
    }
}

/// A query on `text`.
fn query<'q, DB: sqlx::Database>(text: &str) -> Query<'q, DB, DB::Arguments> {
    sqlx::query(AssertSqlSafe(text.to_owned()))
}

/// Binds a history row to `query` in the order of
/// [`HISTORY_COLUMNS`](super::sql::HISTORY_COLUMNS): the row, then the chain's
/// link `prev` and the row's hash `hash`.
pub(crate) fn bind_history<'q, DB>(
    query: Query<'q, DB, DB::Arguments>,
    h: &NewHistory<'_>,
    prev: &str,
    hash: &str,
) -> Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    query
        .bind(h.revision)
        .bind(h.operation.as_str())
        .bind(h.status.as_str())
        .bind(h.parents.as_str())
        .bind(h.checksum.as_str())
        .bind(h.lineage.as_str())
        .bind(h.statement_count)
        .bind(h.statements_done)
        .bind(h.downgrade_sql)
        .bind(h.duration_ms())
        .bind(RETORT_VERSION)
        .bind(i64::from(retort_core::checksum::SCHEME_VERSION))
        .bind(h.error.as_deref())
        .bind(h.nonce.as_str())
        .bind(prev)
        .bind(hash)
}

/// Runs `op` on `conn` with the statements `sql`; returns the id of an
/// inserted history row. History rows are chained onto `tip`, which
/// advances with each.
pub(crate) async fn exec<DB>(
    conn: &mut DB::Connection,
    sql: &Statements,
    tip: &mut Tip,
    op: &Op<'_>,
) -> Result<Option<i64>, sqlx::Error>
where
    DB: Backend,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    match op {
        Op::Sql(statement) => {
            sqlx::raw_sql(AssertSqlSafe(*statement))
                .execute(&mut *conn)
                .await?;
        }
        Op::Code(call) => call.run(DB::code_connection(conn), &DB::EXISTS).await?,
        Op::Version(change) => {
            if let Some((from, to)) = &change.update {
                let done = query::<DB>(&sql.update_version)
                    .bind(to.as_str())
                    .bind(from.as_str())
                    .execute(&mut *conn)
                    .await?;
                expect_one(DB::rows_affected(&done), "update", from)?;
            }
            for id in &change.delete {
                let done = query::<DB>(&sql.delete_version)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                expect_one(DB::rows_affected(&done), "delete", id)?;
            }
            for id in &change.insert {
                query::<DB>(&sql.insert_version)
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Op::History(h) => {
            let prev = tip.prev::<DB>(conn, sql).await?;
            let hash = h.content().hash();
            let insert = bind_history(query::<DB>(&sql.insert_history), h, &prev, &hash);
            let id = if DB::INSERT_RETURNS_ID {
                insert.fetch_one(&mut *conn).await?.try_get(0)?
            } else {
                DB::last_insert_id(&insert.execute(&mut *conn).await?)
            };
            tip.0 = Some(hash);
            return Ok(Some(id));
        }
        Op::Progress { id, row, done } => {
            let hash = row.content_with(row.status, *done, None).hash();
            query::<DB>(&sql.progress)
                .bind(*done)
                .bind(hash.as_str())
                .bind(*id)
                .execute(&mut *conn)
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
            let hash = row.content_with(*status, *done, error.as_deref()).hash();
            query::<DB>(&sql.finish)
                .bind(status.as_str())
                .bind(*done)
                .bind(error.as_deref())
                .bind(*duration_ms)
                .bind(hash.as_str())
                .bind(*id)
                .execute(&mut *conn)
                .await?;
            tip.0 = Some(hash);
        }
        Op::Reseal { id, prev, hash } => {
            query::<DB>(&sql.reseal)
                .bind(prev.as_str())
                .bind(hash.as_str())
                .bind(*id)
                .execute(&mut *conn)
                .await?;
            tip.0 = Some(hash.clone());
        }
        Op::Resolve { id, hash } => {
            query::<DB>(&sql.resolve)
                .bind(hash.as_deref())
                .bind(*id)
                .execute(&mut *conn)
                .await?;
            tip.0 = Some(hash.clone().unwrap_or_default());
        }
        Op::PurgeVersions => {
            query::<DB>(&sql.purge).execute(&mut *conn).await?;
        }
    }
    Ok(None)
}

/// The work connection, its bookkeeping statements and the chain's tip:
/// the part of every driver that differs between backends only in types.
pub(crate) struct Core<'a, DB: Backend> {
    pub(crate) conn: Conn<'a, DB>,
    pub(crate) sql: Statements,
    pub(crate) tip: Tip,
}

impl<'a, DB> Core<'a, DB>
where
    DB: Backend,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB>,
    for<'r> Option<i64>: sqlx::Decode<'r, DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> Option<String>: sqlx::Decode<'r, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    pub(crate) fn new(conn: Conn<'a, DB>, sql: Statements) -> Self {
        Self {
            conn,
            sql,
            tip: Tip::default(),
        }
    }

    /// [`Driver::ensure_tables`](super::protocol::Driver::ensure_tables).
    pub(crate) async fn ensure_tables(&mut self, layout: Layout) -> Result<(), Error> {
        let mut statements: Vec<&str> = Vec::new();
        if !layout.version_table {
            statements.push(&self.sql.create_version);
        }
        if layout.history == HistoryLayout::Missing {
            statements.push(&self.sql.create_history);
            statements.push(&self.sql.create_history_index);
        }
        for sql in statements.into_iter().filter(|s| !s.is_empty()) {
            sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(&mut *self.conn)
                .await
                .map_err(|e| Error::database("creating the version and history tables", e))?;
        }
        if layout.history == HistoryLayout::Unchained {
            let upgrade = |e| {
                Error::database(
                    "adding the hash chain's columns to the history table (a bookkeeping-table upgrade)",
                    e,
                )
            };
            let mut tx = self.conn.begin().await.map_err(upgrade)?;
            for sql in &self.sql.add_chain_columns {
                sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                    .execute(&mut *tx)
                    .await
                    .map_err(upgrade)?;
            }
            tx.commit().await.map_err(upgrade)?;
            tracing::info!(
                "added the hash chain's columns to the history table; rows written before stay unchained"
            );
        }
        Ok(())
    }

    /// [`Driver::read_state`](super::protocol::Driver::read_state).
    pub(crate) async fn read_state(&mut self) -> Result<DbState, Error> {
        let context = |e| Error::database("reading the version table", e);
        let mut layout = Layout {
            version_table: true,
            history: HistoryLayout::Chained,
        };
        let rows = match query::<DB>(&self.sql.read_rows)
            .fetch_all(&mut *self.conn)
            .await
        {
            // No history table (a database another tool manages): the
            // rows alone, with no recorded lineage.
            Err(e) if DB::missing_table(&e) => {
                match query::<DB>(&self.sql.read_rows_plain)
                    .fetch_all(&mut *self.conn)
                    .await
                {
                    Err(e) if DB::missing_table(&e) => {
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
                Ok(Row {
                    version: r.try_get(0)?,
                    lineage: r.try_get(1)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(context)?;
        let history = |e| Error::database("reading the history table", e);
        let last = match query::<DB>(&self.sql.read_last)
            .fetch_optional(&mut *self.conn)
            .await
        {
            Err(e) if DB::missing_table(&e) => {
                layout.history = HistoryLayout::Missing;
                None
            }
            Err(e) if DB::missing_column(&e) => {
                layout.history = HistoryLayout::Unchained;
                query::<DB>(&self.sql.read_last_unchained)
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
        self.tip = Tip::read(tip);
        let unfinished = last
            .map(|r| attempt_from(&r, &self.sql.history_table))
            .transpose()?
            .flatten();
        Ok(DbState {
            rows,
            unfinished,
            layout,
        })
    }

    /// [`Driver::read_history`](super::protocol::Driver::read_history).
    pub(crate) async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        let history = |e| Error::database("reading the history table", e);
        let rows = match query::<DB>(&self.sql.read_history)
            .fetch_all(&mut *self.conn)
            .await
        {
            Err(e) if DB::missing_table(&e) => return Ok(Vec::new()),
            Err(e) if DB::missing_column(&e) => query::<DB>(&self.sql.read_history_unchained)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(history)?,
            other => other.map_err(history)?,
        };
        rows.iter()
            .map(|row| history_from(row, &self.sql.history_table))
            .collect()
    }

    /// Bookkeeping statements for other tables (another migration set);
    /// the chain's tip is taken again by the next [`Core::read_state`].
    pub(crate) fn use_statements(&mut self, sql: Statements) {
        self.sql = sql;
        self.tip = Tip::default();
    }

    /// [`Driver::autocommit`](super::protocol::Driver::autocommit).
    pub(crate) async fn autocommit(&mut self, op: &Op<'_>) -> Result<Option<i64>, sqlx::Error> {
        exec::<DB>(&mut self.conn, &self.sql, &mut self.tip, op).await
    }

    /// [`Driver::transaction`](super::protocol::Driver::transaction) as `BEGIN`, each
    /// op in turn, `COMMIT`, without checking the lock inside (MySQL and
    /// SQLite; PostgreSQL fuses the bookkeeping and checks the lock
    /// inside). The chain's tip stays where it was if the transaction
    /// fails.
    #[cfg_attr(not(any(feature = "mysql", feature = "sqlite")), allow(dead_code))]
    pub(crate) async fn transaction(&mut self, ops: &[Op<'_>]) -> Result<(), TxFailure> {
        let failed = |op| move |source| TxFailure::new(op, source);
        let before = self.tip.clone();
        let result = async {
            let mut tx = self.conn.begin().await.map_err(failed(None))?;
            for (i, op) in ops.iter().enumerate() {
                exec::<DB>(&mut tx, &self.sql, &mut self.tip, op)
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
}

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

/// The error of a history row whose operation or status is none retort
/// knows.
fn unknown(table: &str, id: i64, revision: &str, value: &UnknownValue) -> Error {
    Error::CorruptHistory {
        table: table.to_owned(),
        id,
        revision: revision.to_owned(),
        problem: format!("has an {value}"),
    }
}

fn reading(source: sqlx::Error) -> Error {
    Error::database("reading the history table", source)
}

/// Reads the columns `id, revision, operation, status, statements_done,
/// statement_count, error` of the history table `table`; `None` unless the
/// step is unfinished.
fn attempt_from<R>(row: &R, table: &str) -> Result<Option<Attempt>, Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let id: i64 = row.try_get(0).map_err(reading)?;
    let revision: String = row.try_get(1).map_err(reading)?;
    let operation: String = row.try_get(2).map_err(reading)?;
    let status: String = row.try_get(3).map_err(reading)?;
    let status: Status = status
        .parse()
        .map_err(|e| unknown(table, id, &revision, &e))?;
    if !status.is_unfinished() {
        return Ok(None);
    }
    Ok(Some(Attempt {
        id,
        operation: operation
            .parse()
            .map_err(|e| unknown(table, id, &revision, &e))?,
        revision,
        status,
        statements_done: row.try_get(4).map_err(reading)?,
        statement_count: row.try_get(5).map_err(reading)?,
        error: row.try_get(6).map_err(reading)?,
    }))
}

/// Reads a row of the history table `table` selected with the columns of
/// [`HistoryEntry`], in order.
fn history_from<R>(row: &R, table: &str) -> Result<HistoryEntry, Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let id: i64 = row.try_get(0).map_err(reading)?;
    let revision: String = row.try_get(1).map_err(reading)?;
    let operation: String = row.try_get(2).map_err(reading)?;
    let status: String = row.try_get(3).map_err(reading)?;
    let bad = |e| unknown(table, id, &revision, &e);
    let operation = operation.parse().map_err(bad)?;
    let status = status.parse().map_err(bad)?;
    Ok(HistoryEntry {
        id,
        operation,
        status,
        parents: row.try_get(4).map_err(reading)?,
        checksum: row.try_get(5).map_err(reading)?,
        lineage: row.try_get(6).map_err(reading)?,
        statement_count: row.try_get(7).map_err(reading)?,
        statements_done: row.try_get(8).map_err(reading)?,
        error: row.try_get(9).map_err(reading)?,
        started_at: row.try_get(10).map_err(reading)?,
        duration_ms: row.try_get(11).map_err(reading)?,
        downgrade_sql: row.try_get(12).map_err(reading)?,
        retort_version: row.try_get(13).map_err(reading)?,
        checksum_scheme: row.try_get(14).map_err(reading)?,
        nonce: row.try_get(15).map_err(reading)?,
        prev_hash: row.try_get(16).map_err(reading)?,
        row_hash: row.try_get(17).map_err(reading)?,
        revision,
    })
}
