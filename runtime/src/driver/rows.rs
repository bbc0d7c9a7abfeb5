//! What the drivers read from and write to the bookkeeping tables: version
//! rows, history rows, the state they add up to, and the row readers every
//! backend shares.

use std::time::Instant;

use crate::chain::Content;
use crate::error::Error;
use crate::history::{HistoryEntry, Operation, Status};

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
    pub(crate) operation: Operation,
    pub(crate) status: Status,
    pub(crate) statements_done: i64,
    pub(crate) statement_count: i64,
    pub(crate) error: Option<String>,
}

/// Which bookkeeping tables exist, and in which layout: what
/// [`Driver::ensure_tables`](super::Driver::ensure_tables) has to create or
/// upgrade before anything is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The version table exists.
    pub(crate) version_table: bool,
    /// The history table's state.
    pub(crate) history: HistoryLayout,
}

/// The history table's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum HistoryLayout {
    /// No history table (a fresh database, or one another tool manages).
    #[default]
    Missing,
    /// Created by a release before the hash chain: no `nonce`,
    /// `prev_hash` and `row_hash` columns yet.
    Unchained,
    /// The current layout.
    Chained,
}

/// What the database says about its migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DbState {
    pub(crate) rows: Vec<Row>,
    pub(crate) unfinished: Option<Attempt>,
    pub(crate) layout: Layout,
}

/// A history row to insert.
#[derive(Debug, Clone)]
pub(crate) struct NewHistory<'a> {
    pub(crate) revision: &'a str,
    pub(crate) operation: Operation,
    pub(crate) status: Status,
    pub(crate) parents: String,
    pub(crate) checksum: String,
    pub(crate) lineage: String,
    pub(crate) statement_count: i64,
    pub(crate) statements_done: i64,
    pub(crate) error: Option<String>,
    pub(crate) downgrade_sql: Option<&'a str>,
    /// Drawn once per row (see [`crate::chain`]).
    pub(crate) nonce: String,
    /// Duration is measured from here when the row is written.
    pub(crate) started: Option<Instant>,
}

impl<'a> NewHistory<'a> {
    pub(crate) fn duration_ms(&self) -> Option<i64> {
        self.started
            .map(|s| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX))
    }

    /// What the row's hash covers, as inserted.
    pub(crate) fn content(&self) -> Content<'_> {
        self.content_with(self.status, self.statements_done, self.error.as_deref())
    }

    /// What the row's hash covers once its status, progress and error
    /// change (a step that runs statement by statement).
    pub(crate) fn content_with<'s>(
        &'s self,
        status: Status,
        statements_done: i64,
        error: Option<&'s str>,
    ) -> Content<'s> {
        Content {
            revision: self.revision,
            operation: self.operation.as_str(),
            status: status.as_str(),
            parents: &self.parents,
            checksum: &self.checksum,
            lineage: &self.lineage,
            statement_count: self.statement_count,
            statements_done,
            error,
            downgrade_sql: self.downgrade_sql,
            retort_version: super::RETORT_VERSION,
            checksum_scheme: i64::from(retort_core::checksum::SCHEME_VERSION),
            nonce: &self.nonce,
        }
    }
}

/// The error of a history row whose operation or status is none retort
/// knows.
fn unknown(table: &str, id: i64, revision: &str, value: &crate::history::UnknownValue) -> Error {
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
pub(crate) fn attempt_from<R>(row: &R, table: &str) -> Result<Option<Attempt>, Error>
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
pub(crate) fn history_from<R>(row: &R, table: &str) -> Result<HistoryEntry, Error>
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
