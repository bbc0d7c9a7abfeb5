//! SQLite: transactional DDL; the migration lock is an OS lock on the
//! database file's real identity (see [`lock`] for the design), which
//! works across processes and is released by the OS when the process dies.
//!
//! The unlocked "already at head" read never waits for another
//! connection's write lock: SQLite's readers wait for a writer's commit
//! only up to the connection's busy timeout (5 s in sqlx), after which a
//! migrator waiting for another's long revision failed with `database is
//! locked` whatever its lock timeout. A busy database there means someone
//! is writing, so the engine takes the migration lock (waiting up to the
//! lock timeout) and reads again under it.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::SqliteQueryResult;

use super::core::{Backend, Conn, Core};
use super::protocol::{Driver, Op, TxFailure};
use super::rows::{DbState, Layout};
use super::sql::{
    HISTORY_COLUMNS, OfflineSql, Statements, applied_filter, history_table, quote_ident,
};
use crate::history::HistoryEntry;

mod batch;
mod lock;
mod open;
use crate::config::Config;
use crate::error::Error;
use crate::history::Status;
pub(crate) use open::options;
use retort_core::split::Dialect;

fn statements(config: &Config) -> Statements {
    let v = quote_ident(&config.version_table, '"');
    let h = quote_ident(&config.history_table, '"');
    let pk = quote_ident(&format!("{}_pkc", config.version_table), '"');
    let ix = quote_ident(&format!("{}_revision_ix", config.history_table), '"');
    let applied = applied_filter("h");
    let resolved = Status::Resolved.as_str();
    Statements {
        history_table: history_table(config),
        create_version: format!(
            "CREATE TABLE IF NOT EXISTS {v} (version_num VARCHAR(32) NOT NULL, CONSTRAINT {pk} PRIMARY KEY (version_num))"
        ),
        create_history: format!(
            "CREATE TABLE IF NOT EXISTS {h} (\
                 id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 revision VARCHAR(32) NOT NULL, \
                 operation VARCHAR(16) NOT NULL, \
                 status VARCHAR(16) NOT NULL, \
                 parents TEXT NOT NULL, \
                 checksum CHAR(64) NOT NULL, \
                 lineage CHAR(64) NOT NULL, \
                 statement_count INTEGER NOT NULL, \
                 statements_done INTEGER NOT NULL, \
                 error TEXT, \
                 downgrade_sql TEXT, \
                 started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), \
                 duration_ms INTEGER, \
                 retort_version VARCHAR(32) NOT NULL, \
                 checksum_scheme INTEGER NOT NULL, \
                 nonce VARCHAR(32), \
                 prev_hash CHAR(64), \
                 row_hash CHAR(64))"
        ),
        add_chain_columns: [
            "nonce VARCHAR(32)",
            "prev_hash CHAR(64)",
            "row_hash CHAR(64)",
        ]
        .iter()
        .map(|column| format!("ALTER TABLE {h} ADD COLUMN {column}"))
        .collect(),
        create_history_index: format!("CREATE INDEX IF NOT EXISTS {ix} ON {h} (revision, id)"),
        read_rows: format!(
            "SELECT v.version_num, (SELECT h.lineage FROM {h} h WHERE h.revision = v.version_num \
                 AND {applied} \
                 ORDER BY h.id DESC LIMIT 1) FROM {v} v"
        ),
        read_rows_plain: format!("SELECT version_num, NULL FROM {v}"),
        read_last: format!(
            "SELECT id, revision, operation, status, statements_done, statement_count, error, row_hash \
                 FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        read_last_unchained: format!(
            "SELECT id, revision, operation, status, statements_done, statement_count, error, NULL \
                 FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        last_hash: format!("(SELECT row_hash FROM {h} ORDER BY id DESC LIMIT 1)"),
        read_history: read_history(&h, "nonce, prev_hash, row_hash"),
        read_history_unchained: read_history(&h, "NULL, NULL, NULL"),
        insert_history: format!(
            "INSERT INTO {h} ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        progress: format!("UPDATE {h} SET statements_done = ?, row_hash = ? WHERE id = ?"),
        finish: format!(
            "UPDATE {h} SET status = ?, statements_done = ?, error = ?, duration_ms = ?, row_hash = ? WHERE id = ?"
        ),
        reseal: format!("UPDATE {h} SET prev_hash = ?, row_hash = ? WHERE id = ?"),
        resolve: format!("UPDATE {h} SET status = '{resolved}', row_hash = ? WHERE id = ?"),
        update_version: format!("UPDATE {v} SET version_num = ? WHERE version_num = ?"),
        delete_version: format!("DELETE FROM {v} WHERE version_num = ?"),
        insert_version: format!("INSERT INTO {v} (version_num) VALUES (?)"),
        purge: format!("DELETE FROM {v}"),
    }
}

/// `read_history` with `chain` as its last three columns.
fn read_history(h: &str, chain: &str) -> String {
    format!(
        "SELECT id, revision, operation, status, parents, checksum, lineage, statement_count, \
         statements_done, error, started_at, duration_ms, downgrade_sql, retort_version, \
         checksum_scheme, {chain} FROM {h} ORDER BY id"
    )
}

/// The SQL of offline scripts (`--sql`).
pub(crate) fn offline(config: &Config) -> OfflineSql {
    let sql = statements(config);
    OfflineSql {
        dialect: Dialect::Sqlite,
        transactional_ddl: true,
        begin: "BEGIN",
        commit: "COMMIT",
        statements: sql,
        literal,
    }
}

/// String literal: quotes doubled; text with a NUL character (which a
/// literal cannot hold) as a cast blob.
pub(crate) fn literal(text: &str) -> String {
    if text.contains('\0') {
        let hex: String = text.bytes().map(|b| format!("{b:02X}")).collect();
        format!("CAST(X'{hex}' AS TEXT)")
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// What [`crate::code::Context`]'s conditions ask the catalog.
const EXISTS: crate::code::ExistsSql = crate::code::ExistsSql {
    table: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
    column: "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2",
    index: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND name = ?2",
};

/// The SQLite driver over an owned or borrowed connection.
pub(crate) struct SqliteDriver<'a> {
    core: Core<'a, Sqlite>,
    held: Option<lock::Held>,
}

impl<'a> SqliteDriver<'a> {
    pub(crate) fn new(conn: Conn<'a, Sqlite>, config: &Config) -> Self {
        Self {
            core: Core::new(conn, statements(config)),
            held: None,
        }
    }

    /// The database file as SQLite opened it (an absolute path); `None`
    /// for in-memory and temporary databases, which have none. The plain
    /// pragma, unlike the `pragma_database_list` table, does not read the
    /// schema, so it answers while another connection writes.
    async fn database_file(&mut self) -> Result<Option<PathBuf>, Error> {
        use sqlx::Row as _;
        let context = |e| Error::database("reading the SQLite file name", e);
        let rows = sqlx::query("PRAGMA database_list")
            .fetch_all(&mut *self.core.conn)
            .await
            .map_err(context)?;
        for row in rows {
            let name: String = row.try_get(1).map_err(context)?;
            if name == "main" {
                let file: Option<String> = row.try_get(2).map_err(context)?;
                return Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from));
            }
        }
        Ok(None)
    }
}

/// True for `SQLITE_BUSY` and `SQLITE_LOCKED` (any extended code): another
/// connection holds a lock this statement needs.
fn busy(e: &Error) -> bool {
    let Error::Database {
        error: sqlx::Error::Database(db),
        ..
    } = e
    else {
        return false;
    };
    let code = db.code().and_then(|c| c.parse::<i32>().ok());
    matches!(code.map(|c| c & 0xff), Some(5 | 6))
}

impl Backend for Sqlite {
    const EXISTS: crate::code::ExistsSql = EXISTS;

    const INSERT_RETURNS_ID: bool = false;

    fn missing_table(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.message().starts_with("no such table"))
    }

    fn missing_column(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.message().starts_with("no such column"))
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn last_insert_id(done: &SqliteQueryResult) -> i64 {
        done.last_insert_rowid()
    }

    fn code_connection(conn: &mut Self::Connection) -> crate::code::Connection<'_> {
        crate::code::Connection::Sqlite(conn)
    }
}

impl Driver for SqliteDriver<'_> {
    fn use_tables(&mut self, config: &Config) {
        self.core.use_statements(statements(config));
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        let file = self.database_file().await?;
        self.held = Some(lock::acquire(file.as_deref(), timeout).await?);
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        match self.held.take() {
            Some(held) => held.release(),
            None => Ok(()),
        }
    }

    /// [`Driver::read_state`] with a busy timeout of zero (restored
    /// after): `None` when another connection's write lock would make it
    /// wait (see the module docs).
    async fn peek_state(&mut self) -> Result<Option<DbState>, Error> {
        let pragma = |e| Error::database("setting the SQLite busy timeout", e);
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *self.core.conn)
            .await
            .map_err(pragma)?;
        sqlx::raw_sql("PRAGMA busy_timeout = 0")
            .execute(&mut *self.core.conn)
            .await
            .map_err(pragma)?;
        let state = self.read_state().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {busy_timeout}"
        )))
        .execute(&mut *self.core.conn)
        .await
        .map_err(pragma)?;
        match state {
            Ok(state) => Ok(Some(state)),
            Err(e) if busy(&e) => {
                tracing::debug!(error = %e, "the database is being written; waiting for the migration lock before reading it");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn check_lock(&mut self) -> Result<(), Error> {
        // A file lock (or the in-process mutex) lasts as long as this
        // process holds it: nothing outside can end it.
        Ok(())
    }

    async fn ensure_tables(&mut self, layout: Layout) -> Result<(), Error> {
        self.core.ensure_tables(layout).await
    }

    async fn read_state(&mut self) -> Result<DbState, Error> {
        self.core.read_state().await
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        self.core.read_history().await
    }

    async fn autocommit(&mut self, op: &Op<'_>) -> Result<Option<i64>, sqlx::Error> {
        self.core.autocommit(op).await
    }

    async fn transaction(&mut self, ops: &[Op<'_>], _verify_lock: bool) -> Result<(), TxFailure> {
        if let Some(done) = batch::one_call(&mut self.core, ops, literal).await {
            return done;
        }
        self.core.transaction(ops).await
    }
}

#[cfg(test)]
mod tests {
    use super::{batch::checked_insert, statements};
    use crate::config::Config;

    /// The one-call step relies on this rewrite of the real statement; if
    /// it stopped applying, every step would quietly run op by op.
    #[test]
    fn the_history_insert_becomes_a_checked_select() {
        for config in [Config::default(), Config::default().for_set(Some("jobs"))] {
            let insert = statements(&config).insert_history;
            let checked = checked_insert(&insert).expect("the real insert has the expected shape");
            assert!(
                checked.contains(" (revision, operation, ")
                    && checked.contains(" SELECT CASE WHEN changes() = 1 THEN ? END, ?, "),
                "{checked}"
            );
            assert_eq!(checked.matches('?').count(), insert.matches('?').count());
        }
        assert_eq!(
            checked_insert("INSERT INTO h (operation, revision) VALUES (?, ?)"),
            None
        );
        assert_eq!(checked_insert("INSERT INTO h (revision) SELECT ?"), None);
    }
}
