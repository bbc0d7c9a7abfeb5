//! What the drivers read from and write to the bookkeeping tables: version
//! rows, history rows, the state they add up to, and the row readers every
//! backend shares.

use std::time::Instant;

use crate::chain::Content;
use crate::history::{Operation, RETORT_VERSION, Status};

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
/// [`Driver::ensure_tables`](super::protocol::Driver::ensure_tables) has to create or
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
            retort_version: RETORT_VERSION,
            checksum_scheme: i64::from(retort_core::checksum::SCHEME_VERSION),
            nonce: &self.nonce,
        }
    }
}
