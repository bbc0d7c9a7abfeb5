//! A driver's SQL as text: the bookkeeping statements rendered with the
//! configured table names ([`Statements`]), and what offline scripts need
//! besides ([`OfflineSql`]). Used by the drivers, which render it, and by
//! offline mode, which writes it out.

use retort_core::split::Dialect;

use crate::config::Config;
use crate::history::{Operation, Status};

/// A driver's bookkeeping SQL, rendered once with its table names.
pub(crate) struct Statements {
    /// The history table's name for messages ([`history_table`]).
    pub(crate) history_table: String,
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
    pub(crate) resolve: String,
    pub(crate) update_version: String,
    pub(crate) delete_version: String,
    pub(crate) insert_version: String,
    pub(crate) purge: String,
}

/// The history table's columns in the order of `insert_history`'s values.
pub(crate) const HISTORY_COLUMNS: &str = "revision, operation, status, parents, checksum, lineage, \
     statement_count, statements_done, downgrade_sql, duration_ms, retort_version, checksum_scheme, \
     error, nonce, prev_hash, row_hash";

/// The condition on the history rows aliased `alias` that record the
/// checksum and lineage a revision had when it became applied (see
/// [`Operation::records_applied`]).
pub(crate) fn applied_filter(alias: &str) -> String {
    let operations: Vec<String> = Operation::ALL
        .iter()
        .filter(|op| op.records_applied())
        .map(|op| format!("'{}'", op.as_str()))
        .collect();
    format!(
        "{alias}.status = '{}' AND {alias}.operation IN ({})",
        Status::Applied.as_str(),
        operations.join(", ")
    )
}

/// The history table's name for messages: as configured, qualified with
/// the configured schema, unquoted.
pub(crate) fn history_table(config: &Config) -> String {
    match &config.schema {
        Some(schema) => format!("{schema}.{}", config.history_table),
        None => config.history_table.clone(),
    }
}

/// Quotes an identifier with `quote` (`"` or `` ` ``); names are validated
/// by `Config::validate`, so this is belt and braces.
pub(crate) fn quote_ident(name: &str, quote: char) -> String {
    let doubled = format!("{quote}{quote}");
    format!("{quote}{}{quote}", name.replace(quote, &doubled))
}

/// A driver's SQL for offline scripts.
pub(crate) struct OfflineSql {
    pub(crate) dialect: Dialect,
    pub(crate) transactional_ddl: bool,
    pub(crate) begin: &'static str,
    pub(crate) commit: &'static str,
    /// The bookkeeping statements, with placeholders (`$N` on PostgreSQL,
    /// `?` elsewhere) to replace by literals; `insert_history` returns nothing.
    pub(crate) statements: Statements,
    /// Renders a string literal.
    pub(crate) literal: fn(&str) -> String,
}
