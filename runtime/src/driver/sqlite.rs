//! SQLite: transactional DDL; the lock is an OS file lock on
//! `<database>.retort-lock`, which works across processes and is released
//! by the OS when the process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::ops::DerefMut;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{Driver, HISTORY_COLUMNS, LockWait, Statements, Tip, quote_ident};
use crate::config::Config;
use crate::error::Error;
use retort_core::split::Dialect;

/// Serialises migrations of in-memory databases within the process (they
/// cannot be shared with another process).
static MEMORY_LOCK: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

fn statements(config: &Config) -> Statements {
    let v = quote_ident(&config.version_table, '"');
    let h = quote_ident(&config.history_table, '"');
    let pk = quote_ident(&format!("{}_pkc", config.version_table), '"');
    let ix = quote_ident(&format!("{}_revision_ix", config.history_table), '"');
    Statements {
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
                 AND h.status = 'applied' AND h.operation IN ('upgrade', 'stamp', 'repair') \
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
        resolve: format!("UPDATE {h} SET status = 'resolved', row_hash = ? WHERE id = ?"),
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
#[cfg(feature = "cli")]
pub(crate) fn offline(config: &Config) -> crate::offline::OfflineSql {
    let sql = statements(config);
    crate::offline::OfflineSql {
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
#[cfg(feature = "cli")]
pub(crate) fn literal(text: &str) -> String {
    if text.contains('\0') {
        let hex: String = text.bytes().map(|b| format!("{b:02X}")).collect();
        format!("CAST(X'{hex}' AS TEXT)")
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// How the lock is held.
enum Held {
    File(File),
    Memory(#[allow(dead_code)] OwnedMutexGuard<()>),
}

/// The SQLite driver over an owned or borrowed connection.
pub(crate) struct SqliteDriver<C> {
    conn: C,
    sql: Statements,
    tip: Tip,
    lock_path: Option<PathBuf>,
    held: Option<Held>,
}

/// Connect options for a URL: creates the file if missing, as users of
/// `sqlite://app.db` expect.
pub(crate) fn options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?.create_if_missing(true))
}

/// The lock file for a database file (`None` for in-memory databases).
pub(crate) fn lock_path(options: &SqliteConnectOptions) -> Option<PathBuf> {
    let file = options.get_filename();
    let name = file.to_string_lossy();
    if name.is_empty()
        || name == ":memory:"
        || name.starts_with("file::memory:")
        || options_in_memory(&name)
    {
        return None;
    }
    let mut path = file.as_os_str().to_owned();
    path.push(".retort-lock");
    Some(PathBuf::from(path))
}

fn options_in_memory(name: &str) -> bool {
    name.contains("mode=memory")
}

impl<C> SqliteDriver<C>
where
    C: DerefMut<Target = SqliteConnection> + Send,
{
    pub(crate) fn new(conn: C, config: &Config, lock_path: Option<PathBuf>) -> Self {
        Self {
            conn,
            sql: statements(config),
            tip: Tip::default(),
            lock_path,
            held: None,
        }
    }

    fn try_file_lock(path: &Path) -> Result<Option<File>, Error> {
        let lock_err = |source| Error::LockFile {
            path: path.display().to_string(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(lock_err)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(lock_err(e)),
        }
    }
}

fn missing_table(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.message().starts_with("no such table"))
}

fn missing_column(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.message().starts_with("no such column"))
}

impl<C> Driver for SqliteDriver<C>
where
    C: DerefMut<Target = SqliteConnection> + Send,
{
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        match self.lock_path.clone() {
            Some(path) => {
                let mut wait = LockWait::new(format!("lock file {}", path.display()), timeout);
                let file = loop {
                    if let Some(file) = Self::try_file_lock(&path)? {
                        break file;
                    }
                    wait.pause().await?;
                };
                wait.acquired();
                self.held = Some(Held::File(file));
            }
            None => {
                let guard = tokio::time::timeout(timeout, MEMORY_LOCK.clone().lock_owned())
                    .await
                    .map_err(|_| Error::LockTimeout {
                        what: "in-process lock of in-memory SQLite databases".to_owned(),
                        timeout,
                    })?;
                self.held = Some(Held::Memory(guard));
            }
        }
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if let Some(Held::File(file)) = self.held.take() {
            file.unlock().map_err(|source| Error::LockFile {
                path: self
                    .lock_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                source,
            })?;
        }
        Ok(())
    }

    async fn check_lock(&mut self) -> Result<(), Error> {
        // A file lock (or the in-process mutex) lasts as long as this
        // process holds it: nothing outside can end it.
        Ok(())
    }

    super::common_methods!();
    super::plain_transaction!();
}

super::exec_fn!(SqliteConnection, |query, conn| {
    let done = query.execute(&mut *conn).await?;
    Ok(Some(done.last_insert_rowid()))
});
