//! PostgreSQL: transactional DDL; the lock is a session-level advisory lock
//! taken with `pg_try_advisory_lock` polls on a dedicated connection, so
//! waiting replicas never hold a snapshot that `CREATE INDEX CONCURRENTLY`
//! would wait for, and the server releases it if the process dies.

use std::ops::DerefMut;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::PgConnection;

use super::{Driver, LockConnection, LockWait, Statements, quote_ident};
use crate::config::Config;
use crate::error::Error;
use crate::split::Dialect;

fn statements(config: &Config) -> Statements {
    let qualify = |table: &str| match &config.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema, '"'), quote_ident(table, '"')),
        None => quote_ident(table, '"'),
    };
    let v = qualify(&config.version_table);
    let h = qualify(&config.history_table);
    let pk = quote_ident(&format!("{}_pkc", config.version_table), '"');
    let ix = quote_ident(&format!("{}_revision_ix", config.history_table), '"');
    Statements {
        create_version: format!(
            "CREATE TABLE IF NOT EXISTS {v} (version_num VARCHAR(32) NOT NULL, CONSTRAINT {pk} PRIMARY KEY (version_num))"
        ),
        create_history: format!(
            "CREATE TABLE IF NOT EXISTS {h} (\
             id BIGSERIAL PRIMARY KEY, \
             revision VARCHAR(32) NOT NULL, \
             operation VARCHAR(16) NOT NULL, \
             status VARCHAR(16) NOT NULL, \
             parents TEXT NOT NULL, \
             checksum VARCHAR(64) NOT NULL, \
             lineage VARCHAR(64) NOT NULL, \
             statement_count BIGINT NOT NULL, \
             statements_done BIGINT NOT NULL, \
             error TEXT, \
             downgrade_sql TEXT, \
             started_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), \
             duration_ms BIGINT, \
             retort_version VARCHAR(32) NOT NULL, \
             checksum_scheme BIGINT NOT NULL)"
        ),
        create_history_index: format!("CREATE INDEX IF NOT EXISTS {ix} ON {h} (revision, id)"),
        // The rows go through `unnest(ARRAY(...))` so the planner estimates
        // 10 of them: a never-analyzed version table (any fresh database)
        // is estimated at ~4,000 rows, each running the history subquery,
        // which put the plan's cost past `jit_above_cost` once the history
        // had ~10,000 rows, and JIT compilation on every call made the
        // "already at head" check take 4 ms (10,000 rows) to 190 ms
        // (300,000) instead of ~0.1 ms (bench/runtime.sh, BENCHMARKS.md).
        read_rows: format!(
            "SELECT v.version_num::text, (SELECT h.lineage::text FROM {h} h WHERE h.revision = v.version_num \
             AND h.status = 'applied' AND h.operation IN ('upgrade', 'stamp', 'repair') \
             ORDER BY h.id DESC LIMIT 1) FROM unnest(ARRAY(SELECT version_num FROM {v})) AS v(version_num)"
        ),
        read_rows_plain: format!("SELECT version_num::text, NULL::text FROM {v}"),
        read_last: format!(
            "SELECT id, revision::text, operation::text, status::text, statements_done, statement_count, error \
             FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        read_history: format!(
            "SELECT id, revision::text, operation::text, status::text, parents, checksum::text, lineage::text, \
             statement_count, statements_done, error, \
             to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), duration_ms, downgrade_sql \
             FROM {h} ORDER BY id"
        ),
        insert_history: format!(
            "INSERT INTO {h} (revision, operation, status, parents, checksum, lineage, statement_count, \
             statements_done, downgrade_sql, duration_ms, retort_version, checksum_scheme) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id"
        ),
        progress: format!("UPDATE {h} SET statements_done = $1 WHERE id = $2"),
        finish: format!(
            "UPDATE {h} SET status = $1, statements_done = $2, error = $3, duration_ms = $4 WHERE id = $5"
        ),
        resolve: format!(
            "UPDATE {h} SET status = 'resolved' WHERE status IN ('running', 'failed')"
        ),
        update_version: format!("UPDATE {v} SET version_num = $1 WHERE version_num = $2"),
        delete_version: format!("DELETE FROM {v} WHERE version_num = $1"),
        insert_version: format!("INSERT INTO {v} (version_num) VALUES ($1)"),
        purge: format!("DELETE FROM {v}"),
    }
}

/// The SQL of offline scripts (`--sql`).
#[cfg(feature = "cli")]
pub(crate) fn offline(config: &Config) -> crate::offline::OfflineSql {
    let mut sql = statements(config);
    sql.insert_history = sql
        .insert_history
        .trim_end_matches(" RETURNING id")
        .to_owned();
    crate::offline::OfflineSql {
        dialect: Dialect::Postgres,
        transactional_ddl: true,
        begin: "BEGIN",
        commit: "COMMIT",
        statements: sql,
        literal,
    }
}

/// String literal: `E'...'` with doubled backslashes when the text has a
/// backslash (so the result does not depend on
/// `standard_conforming_strings`), else standard quoting.
#[cfg(feature = "cli")]
pub(crate) fn literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// 64-bit FNV-1a: a stable advisory-lock key for a version table.
fn lock_key(config: &Config) -> i64 {
    let name = format!(
        "retort:{}.{}",
        config.schema.as_deref().unwrap_or(""),
        config.version_table
    );
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The PostgreSQL driver; the lock lives on `lock_conn` when there is one
/// (pools and URLs), else on the work connection itself.
pub(crate) struct PgDriver<C> {
    conn: C,
    lock_conn: LockConnection<PgConnection>,
    sql: Statements,
    key: i64,
    locked: bool,
}

impl<C> PgDriver<C>
where
    C: DerefMut<Target = PgConnection> + Send,
{
    pub(crate) fn new(
        conn: C,
        lock_options: Option<std::sync::Arc<sqlx::postgres::PgConnectOptions>>,
        config: &Config,
    ) -> Self {
        Self {
            conn,
            lock_conn: LockConnection::new(lock_options),
            sql: statements(config),
            key: lock_key(config),
            locked: false,
        }
    }

    /// Closes the dedicated lock connection.
    pub(crate) async fn close(mut self) {
        self.lock_conn.close().await;
    }
}

fn missing_table(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01"))
}

impl<C> Driver for PgDriver<C>
where
    C: DerefMut<Target = PgConnection> + Send,
{
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        self.lock_conn.open().await?;
        let key = self.key;
        let mut wait = LockWait::new(format!("PostgreSQL advisory lock {key}"), timeout);
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(self.lock_conn.get(&mut self.conn))
                .await
                .map_err(|e| Error::database("taking the migration lock", e))?;
            if got {
                break;
            }
            wait.pause().await?;
        }
        wait.acquired();
        self.locked = true;
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if !std::mem::replace(&mut self.locked, false) {
            return Ok(());
        }
        let key = self.key;
        sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .fetch_one(self.lock_conn.get(&mut self.conn))
            .await
            .map_err(|e| Error::database("releasing the migration lock", e))?;
        Ok(())
    }

    async fn check_lock(&mut self) -> Result<(), Error> {
        let key = self.key;
        let what = format!("PostgreSQL advisory lock {key}");
        // The key's two halves, as `pg_locks` shows a bigint advisory lock.
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND pid = pg_backend_pid() AND objsubid = 1 \
             AND classid::bigint = (($1::bigint >> 32) & 4294967295) \
             AND objid::bigint = ($1::bigint & 4294967295))",
        )
        .bind(key)
        .fetch_one(self.lock_conn.get(&mut self.conn))
        .await
        .map_err(|e| super::lock_lost(&what, Some(e)))?;
        if held {
            Ok(())
        } else {
            Err(super::lock_lost(&what, None))
        }
    }

    super::common_methods!();
}

super::exec_fn!(PgConnection, |query, conn| {
    let id: i64 = query.fetch_one(&mut *conn).await?.try_get(0)?;
    Ok(Some(id))
});
