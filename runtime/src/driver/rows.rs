//! What the drivers read from and write to the bookkeeping tables: version
//! rows, history rows, the state they add up to, and the row readers every
//! backend shares.

use std::time::Instant;

use crate::chain::Content;

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

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// Row id (increasing).
    pub id: i64,
    /// The revision.
    pub revision: String,
    /// `upgrade`, `downgrade`, `stamp`, `unstamp`, `repair` or `reseal`
    /// (`repair` accepted a broken hash chain).
    pub operation: String,
    /// `applied`, `running`, `failed` or `resolved` (a failed or
    /// interrupted step that `stamp` or `repair` resolved).
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
    /// The error, for failed steps (what was accepted, for `reseal` rows).
    pub error: Option<String>,
    /// When the step started (UTC, as the database formats it).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// The revision's downgrade SQL, kept so an older binary can roll back.
    pub downgrade_sql: Option<String>,
    /// The retort release that wrote the row.
    pub retort_version: String,
    /// The checksum scheme of `checksum` and `lineage`.
    pub checksum_scheme: i64,
    /// The row's nonce (see [`row_hash`](Self::row_hash)).
    pub nonce: Option<String>,
    /// The `row_hash` of the row before it when it was written.
    pub prev_hash: Option<String>,
    /// The hash of the row's content (docs/history-table.md); `None` for
    /// rows written before the hash chain.
    pub row_hash: Option<String>,
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
        status: &'s str,
        statements_done: i64,
        error: Option<&'s str>,
    ) -> Content<'s> {
        Content {
            revision: self.revision,
            operation: self.operation,
            status,
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
        retort_version: row.try_get(13)?,
        checksum_scheme: row.try_get(14)?,
        nonce: row.try_get(15)?,
        prev_hash: row.try_get(16)?,
        row_hash: row.try_get(17)?,
    })
}
