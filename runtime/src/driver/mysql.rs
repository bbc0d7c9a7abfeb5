//! MySQL/MariaDB: DDL is not transactional, so every revision runs
//! statement by statement with its progress recorded (the engine's tracked
//! protocol); the lock is `GET_LOCK` polled on a dedicated connection,
//! released by the server when that connection ends.

use std::time::Duration;

use sqlx::MySql;
use sqlx::mysql::{MySqlConnection, MySqlQueryResult};

use super::core::{Backend, Conn, Core};
use super::protocol::{RecordedFailure, RecordedStep};

mod recorded;
use super::lock::{LockConnection, LockWait, lock_lost};
use super::protocol::{Driver, Op, TxFailure};
use super::rows::{DbState, Layout};
use super::sql::{
    HISTORY_COLUMNS, OfflineSql, Statements, applied_filter, history_table, quote_ident,
};
use crate::config::Config;
use crate::error::Error;
use crate::history::HistoryEntry;
use crate::history::Status;
use retort_core::split::Dialect;

fn statements(config: &Config) -> Statements {
    let qualify = |table: &str| match &config.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema, '`'), quote_ident(table, '`')),
        None => quote_ident(table, '`'),
    };
    let v = qualify(&config.version_table);
    let h = qualify(&config.history_table);
    let pk = quote_ident(&format!("{}_pkc", config.version_table), '`');
    let ix = quote_ident(&format!("{}_revision_ix", config.history_table), '`');
    let applied = applied_filter("h");
    let resolved = Status::Resolved.as_str();
    Statements {
        history_table: history_table(config),
        create_version: format!(
            "CREATE TABLE IF NOT EXISTS {v} (version_num VARCHAR(32) NOT NULL, CONSTRAINT {pk} PRIMARY KEY (version_num))"
        ),
        create_history: format!(
            "CREATE TABLE IF NOT EXISTS {h} (\
             id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
             revision VARCHAR(32) NOT NULL, \
             operation VARCHAR(16) NOT NULL, \
             status VARCHAR(16) NOT NULL, \
             parents TEXT NOT NULL, \
             checksum VARCHAR(64) NOT NULL, \
             lineage VARCHAR(64) NOT NULL, \
             statement_count BIGINT NOT NULL, \
             statements_done BIGINT NOT NULL, \
             error TEXT, \
             downgrade_sql LONGTEXT, \
             started_at DATETIME(6) NOT NULL, \
             duration_ms BIGINT, \
             retort_version VARCHAR(32) NOT NULL, \
             checksum_scheme BIGINT NOT NULL, \
             nonce VARCHAR(32), \
             prev_hash VARCHAR(64), \
             row_hash VARCHAR(64), \
             INDEX {ix} (revision, id)) \
             ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        ),
        create_history_index: String::new(),
        // One statement: DDL commits implicitly here, so the columns come
        // all at once or not at all.
        add_chain_columns: vec![format!(
            "ALTER TABLE {h} ADD COLUMN nonce VARCHAR(32), ADD COLUMN prev_hash VARCHAR(64), \
             ADD COLUMN row_hash VARCHAR(64)"
        )],
        read_rows: format!(
            "SELECT v.version_num, (SELECT h.lineage FROM {h} h WHERE h.revision = v.version_num \
             AND {applied} \
             ORDER BY h.id DESC LIMIT 1) FROM {v} v"
        ),
        read_rows_plain: format!("SELECT version_num, CAST(NULL AS CHAR) FROM {v}"),
        read_last: format!(
            "SELECT id, revision, operation, status, statements_done, statement_count, error, row_hash \
             FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        read_last_unchained: format!(
            "SELECT id, revision, operation, status, statements_done, statement_count, error, \
             CAST(NULL AS CHAR) FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        // Through a derived table: MySQL refuses a subquery on the table an
        // INSERT writes to (error 1093) unless it is materialised first.
        last_hash: format!(
            "(SELECT row_hash FROM (SELECT row_hash FROM {h} ORDER BY id DESC LIMIT 1) AS last_row)"
        ),
        read_history: read_history(&h, "nonce, prev_hash, row_hash"),
        read_history_unchained: read_history(
            &h,
            "CAST(NULL AS CHAR), CAST(NULL AS CHAR), CAST(NULL AS CHAR)",
        ),
        insert_history: format!(
            "INSERT INTO {h} ({HISTORY_COLUMNS}, started_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))"
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
         statements_done, error, DATE_FORMAT(started_at, '%Y-%m-%dT%H:%i:%s.%fZ'), duration_ms, downgrade_sql, \
         retort_version, checksum_scheme, {chain} FROM {h} ORDER BY id"
    )
}

/// The SQL of offline scripts (`--sql`).
pub(crate) fn offline(config: &Config) -> OfflineSql {
    let sql = statements(config);
    OfflineSql {
        dialect: Dialect::MySql,
        transactional_ddl: false,
        begin: "START TRANSACTION",
        commit: "COMMIT",
        statements: sql,
        literal,
    }
}

/// String literal with MySQL's escapes: backslashes doubled (the default
/// `sql_mode` reads them as escapes), quotes doubled, NUL as `\0` and
/// Ctrl-Z as `\Z` (as `mysql_real_escape_string` does).
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            '\0' => out.push_str("\\0"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `GET_LOCK` names are server-wide, not per database, and at most 64
/// characters: hash the version table's name qualified with its database.
fn lock_name(database: &str, version_table: &str) -> String {
    let name = format!("{database}.{version_table}");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("retort:{hash:016x}")
}

/// What [`crate::code::Context`]'s conditions ask the catalog.
const EXISTS: crate::code::ExistsSql = crate::code::ExistsSql {
    table: "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ? AND table_type = 'BASE TABLE'",
    column: "SELECT COUNT(*) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?",
    index: "SELECT COUNT(*) FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?",
};

/// The MySQL/MariaDB driver.
pub(crate) struct MySqlDriver<'a> {
    core: Core<'a, MySql>,
    lock_conn: LockConnection<MySqlConnection>,
    /// The configured database of the tables (`None`: the connection's).
    schema: Option<String>,
    /// The version table the lock is named after ([`Config::lock_table`]).
    lock_table: String,
    /// The lock's name, known once the database is (at the first lock).
    name: Option<String>,
    /// While the lock is held: the id of the session holding it.
    owner: Option<u64>,
}

impl<'a> MySqlDriver<'a> {
    pub(crate) fn new(
        conn: Conn<'a, MySql>,
        lock_options: Option<std::sync::Arc<sqlx::mysql::MySqlConnectOptions>>,
        config: &Config,
    ) -> Self {
        Self {
            core: Core::new(conn, statements(config)),
            lock_conn: LockConnection::new(lock_options, config.connect_timeout),
            schema: config.schema.clone(),
            lock_table: config.lock_table().to_owned(),
            name: None,
            owner: None,
        }
    }

    /// The lock's name: per database, so that migrating one database does
    /// not wait for another on the same server.
    async fn lock_name(&mut self) -> Result<String, Error> {
        if let Some(name) = &self.name {
            return Ok(name.clone());
        }
        let database = match &self.schema {
            Some(schema) => schema.clone(),
            None => sqlx::query_scalar::<_, Option<String>>("SELECT DATABASE()")
                .fetch_one(&mut *self.core.conn)
                .await
                .map_err(|e| Error::database("reading the current database", e))?
                .unwrap_or_default(),
        };
        let name = lock_name(&database, &self.lock_table);
        self.name = Some(name.clone());
        Ok(name)
    }

    /// Closes the dedicated lock connection.
    pub(crate) async fn close(mut self) {
        self.lock_conn.close().await;
    }

    /// [`Driver::check_lock`] as a statement for the work session, which
    /// fails (error 1242, a subquery of two rows) unless the lock's owner
    /// still holds it; and the lock's description for the error.
    fn lock_check(&self) -> (String, String) {
        let name = self.name.as_deref().unwrap_or_default();
        // No owner: never held, so never found held.
        let owner = self.owner.map_or(-1, |id| i64::try_from(id).unwrap_or(-1));
        (
            format!(
                "SELECT (SELECT 1 UNION ALL SELECT 2 FROM DUAL \
                 WHERE NOT (IS_USED_LOCK({}) <=> {owner}))",
                literal(name)
            ),
            format!("MySQL named lock `{name}`"),
        )
    }
}

impl Backend for MySql {
    const EXISTS: crate::code::ExistsSql = EXISTS;

    const INSERT_RETURNS_ID: bool = false;

    fn missing_table(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42S02"))
    }

    fn missing_column(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42S22"))
    }

    fn rows_affected(done: &MySqlQueryResult) -> u64 {
        done.rows_affected()
    }

    fn last_insert_id(done: &MySqlQueryResult) -> i64 {
        i64::try_from(done.last_insert_id()).unwrap_or(i64::MAX)
    }

    fn code_connection(conn: &mut Self::Connection) -> crate::code::Connection<'_> {
        crate::code::Connection::MySql(conn)
    }
}

impl Driver for MySqlDriver<'_> {
    fn use_tables(&mut self, config: &Config) {
        self.core.use_statements(statements(config));
    }

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        self.lock_conn.open().await?;
        let name = self.lock_name().await?;
        let mut wait = LockWait::new(format!("MySQL named lock `{name}`"), timeout);
        let owner = loop {
            let (got, owner): (Option<i64>, u64) =
                sqlx::query_as("SELECT GET_LOCK(?, 0), CONNECTION_ID()")
                    .bind(&name)
                    .fetch_one(self.lock_conn.get(&mut self.core.conn))
                    .await
                    .map_err(|e| Error::database("taking the migration lock", e))?;
            if got == Some(1) {
                break owner;
            }
            wait.pause().await?;
        };
        wait.acquired();
        self.owner = Some(owner);
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if self.owner.take().is_none() {
            return Ok(());
        }
        let name = self.lock_name().await?;
        sqlx::query_scalar::<_, Option<i64>>("SELECT RELEASE_LOCK(?)")
            .bind(&name)
            .fetch_one(self.lock_conn.get(&mut self.core.conn))
            .await
            .map_err(|e| Error::database("releasing the migration lock", e))?;
        Ok(())
    }

    async fn check_lock(&mut self) -> Result<(), Error> {
        let name = self.lock_name().await?;
        let what = format!("MySQL named lock `{name}`");
        let held: Option<i64> = sqlx::query_scalar("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")
            .bind(&name)
            .fetch_one(self.lock_conn.get(&mut self.core.conn))
            .await
            .map_err(|e| lock_lost(&what, Some(e)))?;
        if held == Some(1) {
            Ok(())
        } else {
            Err(lock_lost(&what, None))
        }
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
        self.core.transaction(ops).await
    }

    async fn recorded_step(
        &mut self,
        step: &RecordedStep<'_>,
    ) -> Option<Result<(), RecordedFailure>> {
        let lock_check = self.lock_check();
        recorded::run(&mut self.core, step, &lock_check, literal).await
    }

    fn checks_lock_in_recorded_step(&self) -> bool {
        true
    }
}
