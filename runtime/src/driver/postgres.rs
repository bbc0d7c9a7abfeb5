//! PostgreSQL: transactional DDL; the lock is a session-level advisory lock
//! taken with `pg_try_advisory_lock` polls on a dedicated connection, so
//! waiting replicas never hold a snapshot that `CREATE INDEX CONCURRENTLY`
//! would wait for, and the server releases it if the process dies.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::Row as _;
use sqlx::postgres::{PgConnection, PgQueryResult};

use super::core::{Backend, Conn, Core, Tip, bind_history, exec, expect_one};
use fused::{Fused, LEASE_HELD, Prepared};

mod fused;

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
pub(crate) use fused::literal;
use retort_core::split::Dialect;

/// The version and history tables' quoted (and schema-qualified) names.
fn tables(config: &Config) -> (String, String) {
    let qualify = |table: &str| match &config.schema {
        Some(schema) => format!("{}.{}", quote_ident(schema, '"'), quote_ident(table, '"')),
        None => quote_ident(table, '"'),
    };
    (
        qualify(&config.version_table),
        qualify(&config.history_table),
    )
}

fn statements(config: &Config) -> Statements {
    let (v, h) = tables(config);
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
             checksum_scheme BIGINT NOT NULL, \
             nonce VARCHAR(32), \
             prev_hash VARCHAR(64), \
             row_hash VARCHAR(64))"
        ),
        add_chain_columns: vec![format!(
            "ALTER TABLE {h} ADD COLUMN IF NOT EXISTS nonce VARCHAR(32), \
             ADD COLUMN IF NOT EXISTS prev_hash VARCHAR(64), ADD COLUMN IF NOT EXISTS row_hash VARCHAR(64)"
        )],
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
             AND {applied} \
             ORDER BY h.id DESC LIMIT 1) FROM unnest(ARRAY(SELECT version_num FROM {v})) AS v(version_num)"
        ),
        read_rows_plain: format!("SELECT version_num::text, NULL::text FROM {v}"),
        read_last: format!(
            "SELECT id, revision::text, operation::text, status::text, statements_done, statement_count, error, \
             row_hash::text FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        read_last_unchained: format!(
            "SELECT id, revision::text, operation::text, status::text, statements_done, statement_count, error, \
             NULL::text FROM {h} ORDER BY id DESC LIMIT 1"
        ),
        last_hash: format!("(SELECT row_hash FROM {h} ORDER BY id DESC LIMIT 1)"),
        read_history: read_history(&h, "nonce::text, prev_hash::text, row_hash::text"),
        read_history_unchained: read_history(&h, "NULL::text, NULL::text, NULL::text"),
        insert_history: format!(
            "INSERT INTO {h} ({HISTORY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id"
        ),
        progress: format!("UPDATE {h} SET statements_done = $1, row_hash = $2 WHERE id = $3"),
        finish: format!(
            "UPDATE {h} SET status = $1, statements_done = $2, error = $3, duration_ms = $4, row_hash = $5 WHERE id = $6"
        ),
        reseal: format!("UPDATE {h} SET prev_hash = $1, row_hash = $2 WHERE id = $3"),
        resolve: format!("UPDATE {h} SET status = '{resolved}', row_hash = $1 WHERE id = $2"),
        update_version: format!("UPDATE {v} SET version_num = $1 WHERE version_num = $2"),
        delete_version: format!("DELETE FROM {v} WHERE version_num = $1"),
        insert_version: format!("INSERT INTO {v} (version_num) VALUES ($1)"),
        purge: format!("DELETE FROM {v}"),
    }
}

/// `read_history` with `chain` as its last three columns.
fn read_history(h: &str, chain: &str) -> String {
    format!(
        "SELECT id, revision::text, operation::text, status::text, parents, checksum::text, lineage::text, \
         statement_count, statements_done, error, \
         to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), duration_ms, downgrade_sql, \
         retort_version::text, checksum_scheme, {chain} FROM {h} ORDER BY id"
    )
}

/// The SQL of offline scripts (`--sql`).
pub(crate) fn offline(config: &Config) -> OfflineSql {
    let mut sql = statements(config);
    sql.insert_history = sql
        .insert_history
        .trim_end_matches(" RETURNING id")
        .to_owned();
    OfflineSql {
        dialect: Dialect::Postgres,
        transactional_ddl: true,
        begin: "BEGIN",
        commit: "COMMIT",
        statements: sql,
        literal,
    }
}

/// The first `server_version_num` with `idle_session_timeout` (14.0).
const IDLE_SESSION_TIMEOUT_SINCE: u32 = 140_000;

/// A random advisory-lock key for the lock's lease ([`LEASE_HELD`]).
fn random_key() -> i64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    // `RandomState` is seeded from the OS's randomness.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    i64::from_ne_bytes(hasher.finish().to_ne_bytes())
}

/// 64-bit FNV-1a: a stable advisory-lock key for a version table.
fn lock_key(config: &Config) -> i64 {
    let name = format!(
        "retort:{}.{}",
        config.schema.as_deref().unwrap_or(""),
        config.lock_table()
    );
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// What [`crate::code::Context`]'s conditions ask the catalog.
const EXISTS: crate::code::ExistsSql = crate::code::ExistsSql {
    table: "SELECT COUNT(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind IN ('r', 'p')",
    column: "SELECT COUNT(*) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
    index: "SELECT COUNT(*) FROM pg_catalog.pg_indexes \
         WHERE schemaname = current_schema() AND tablename = $1 AND indexname = $2",
};

/// The PostgreSQL driver; the lock lives on `lock_conn` when there is one
/// (pools and URLs), else on the work connection itself.
pub(crate) struct PgDriver<'a> {
    core: Core<'a, Postgres>,
    lock_conn: LockConnection<PgConnection>,
    fused: Fused,
    /// [`Fused`]'s checked statements, prepared on the work session.
    prepared: Prepared,
    key: i64,
    /// While the lock is held: `Some(lease)`, the random lease key the
    /// dedicated lock session holds with it ([`LEASE_HELD`]), or
    /// `Some(None)` when the lock lives on the work session.
    held: Option<Option<i64>>,
}

impl<'a> PgDriver<'a> {
    pub(crate) fn new(
        conn: Conn<'a, Postgres>,
        lock_options: Option<std::sync::Arc<sqlx::postgres::PgConnectOptions>>,
        config: &Config,
    ) -> Self {
        Self {
            core: Core::new(conn, statements(config)),
            lock_conn: LockConnection::new(lock_options, config.connect_timeout),
            fused: {
                let (v, h) = tables(config);
                Fused::new(&v, &h)
            },
            prepared: Prepared::new(random_key()),
            key: lock_key(config),
            held: None,
        }
    }

    /// Closes the dedicated lock connection.
    pub(crate) async fn close(mut self) {
        self.lock_conn.close().await;
    }

    fn lock_name(&self) -> String {
        format!("PostgreSQL advisory lock {}", self.key)
    }

    /// Exempts the dedicated lock session from `idle_session_timeout`
    /// (PostgreSQL 14+). The session is idle by design while revisions run
    /// on the work session, so a server, database or role setting of that
    /// timeout would end it in the middle of a long revision, and with it
    /// the lock: the run would stop with [`Error::LockLost`]. PostgreSQL 13
    /// has no such timeout; there is nothing to turn off.
    async fn keep_lock_session(&mut self) -> Result<(), Error> {
        if !self.lock_conn.is_dedicated() {
            return Ok(());
        }
        let conn = self.lock_conn.get(&mut self.core.conn);
        let sql = match conn.server_version_num() {
            Some(version) if version >= IDLE_SESSION_TIMEOUT_SINCE => {
                "SET idle_session_timeout = 0"
            }
            Some(version) => {
                tracing::debug!(
                    server_version_num = version,
                    "PostgreSQL before 14 has no idle_session_timeout to turn off on the lock session"
                );
                return Ok(());
            }
            // A server (or proxy) that does not report its version: turn
            // the timeout off where the setting exists.
            None => {
                "SELECT set_config('idle_session_timeout', '0', false) \
                 WHERE current_setting('idle_session_timeout', true) IS NOT NULL"
            }
        };
        sqlx::query(sql).execute(conn).await.map_err(|e| {
            Error::database("turning off idle_session_timeout on the lock session", e)
        })?;
        Ok(())
    }

    /// [`Driver::transaction`]'s transaction; with `lease` (`Some` while the
    /// lock is held), it verifies the lock just before `COMMIT`.
    async fn run_transaction(
        &mut self,
        ops: &[Op<'_>],
        lease: Option<Option<i64>>,
    ) -> Result<(), TxFailure> {
        use sqlx::Connection as _;
        let failed = |op| move |source| TxFailure::new(op, source);
        let lost = |op, what: String| TxFailure {
            op,
            source: sqlx::Error::Protocol("the migration lock is no longer held".to_owned()),
            lock_lost: Some(what),
        };
        let what = self.lock_name();
        let fused = match (lease, ops) {
            (Some(_), [.., Op::Version(change), Op::History(h)]) => {
                self.fused.pick(change).map(|picked| (picked, h))
            }
            _ => None,
        };
        let plain = ops.len() - if fused.is_some() { 2 } else { 0 };
        // A revision's statements and its bookkeeping: one round trip.
        let statements: Option<Vec<&str>> = ops[..plain]
            .iter()
            .map(|op| match op {
                Op::Sql(sql) => Some(*sql),
                _ => None,
            })
            .collect();
        if let (Some((change, h)), Some(lease), Some(statements)) = (&fused, lease, statements) {
            let prev = (self.core.tip)
                .prev::<Postgres>(&mut self.core.conn, &self.core.sql)
                .await
                .map_err(failed(None))?;
            let hash = h.content().hash();
            let values = change.values(h, &prev, &hash, lease);
            let bookkeeping = (self.prepared)
                .bookkeeping(&mut self.core.conn, change, &values)
                .await;
            let sql = fused::one_message(statements.into_iter(), &bookkeeping);
            let error = match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *self.core.conn)
                .await
            {
                Ok(_) => {
                    self.core.tip = Tip::read(Some(hash));
                    return Ok(());
                }
                Err(error) => error,
            };
            self.prepared.failed(&error);
            // The failed statement left the transaction aborted (or the
            // failed COMMIT ended it, and this only warns).
            if sqlx::raw_sql("ROLLBACK")
                .execute(&mut *self.core.conn)
                .await
                .is_err()
            {
                // The session is gone: nothing to run the step again on.
                return Err(failed(None)(error));
            }
            if fused::marker(&error) == Some(fused::LOCK_LOST) {
                return Err(lost(Some(plain), what));
            }
            tracing::debug!(
                %error,
                "the step failed as one message; running it again statement by statement to name the failing statement"
            );
        }
        let mut tx = self.core.conn.begin().await.map_err(failed(None))?;
        for (i, op) in ops[..plain].iter().enumerate() {
            exec::<Postgres>(&mut tx, &self.core.sql, &mut self.core.tip, op)
                .await
                .map_err(failed(Some(i)))?;
        }
        match (fused, lease) {
            (Some((change, h)), Some(lease)) => {
                let at = Some(plain);
                let prev = self
                    .core
                    .tip
                    .prev::<Postgres>(&mut tx, &self.core.sql)
                    .await
                    .map_err(failed(at))?;
                let hash = h.content().hash();
                let mut query = bind_history(
                    sqlx::query(sqlx::AssertSqlSafe(change.sql.to_owned())),
                    h,
                    &prev,
                    &hash,
                )
                .bind(lease)
                .bind(change.id);
                if let Some(from) = change.from {
                    query = query.bind(from);
                }
                let row = query.fetch_one(&mut *tx).await.map_err(failed(at))?;
                let held: bool = row.try_get(0).map_err(failed(at))?;
                let changed: i64 = row.try_get(1).map_err(failed(at))?;
                if !held {
                    return Err(lost(at, what));
                }
                expect_one(
                    u64::try_from(changed).unwrap_or(0),
                    change.verb,
                    change.from.unwrap_or(change.id),
                )
                .map_err(failed(at))?;
                self.core.tip = Tip::read(Some(hash));
            }
            (None, Some(lease)) => {
                let held: bool = sqlx::query_scalar(LEASE_HELD)
                    .bind(lease)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(failed(None))?;
                if !held {
                    return Err(lost(None, what));
                }
            }
            _ => {}
        }
        tx.commit().await.map_err(failed(None))
    }
}

impl Backend for Postgres {
    const EXISTS: crate::code::ExistsSql = EXISTS;

    const INSERT_RETURNS_ID: bool = true;

    fn missing_table(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01"))
    }

    fn missing_column(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42703"))
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    /// Unused: `insert_history` returns the id.
    fn last_insert_id(_: &PgQueryResult) -> i64 {
        0
    }

    fn code_connection(conn: &mut Self::Connection) -> crate::code::Connection<'_> {
        crate::code::Connection::Postgres(conn)
    }
}

impl Driver for PgDriver<'_> {
    fn use_tables(&mut self, config: &Config) {
        self.core.use_statements(statements(config));
        let (v, h) = tables(config);
        self.fused = Fused::new(&v, &h);
        self.prepared.reset();
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        self.lock_conn.open().await?;
        self.keep_lock_session().await?;
        let key = self.key;
        let mut wait = LockWait::new(self.lock_name(), timeout);
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(self.lock_conn.get(&mut self.core.conn))
                .await
                .map_err(|e| Error::database("taking the migration lock", e))?;
            if got {
                break;
            }
            wait.pause().await?;
        }
        wait.acquired();
        let lease = if self.lock_conn.is_dedicated() {
            // Random, so free: a try fails only on a (64-bit) collision
            // with some other advisory lock, and then another key is drawn.
            loop {
                let lease = random_key();
                let got = sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                    .bind(lease)
                    .fetch_one(self.lock_conn.get(&mut self.core.conn))
                    .await;
                match got {
                    Ok(true) => break Some(lease),
                    Ok(false) => {}
                    Err(e) => {
                        // Best effort: the lock connection is closed at
                        // the end of the run anyway, which releases it.
                        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                            .bind(key)
                            .execute(self.lock_conn.get(&mut self.core.conn))
                            .await;
                        return Err(Error::database("taking the migration lock's lease", e));
                    }
                }
            }
        } else {
            None
        };
        self.held = Some(lease);
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        self.prepared.deallocate(&mut self.core.conn).await;
        let Some(lease) = self.held.take() else {
            return Ok(());
        };
        sqlx::query("SELECT pg_advisory_unlock($1), pg_advisory_unlock($2)")
            .bind(self.key)
            .bind(lease)
            .execute(self.lock_conn.get(&mut self.core.conn))
            .await
            .map_err(|e| Error::database("releasing the migration lock", e))?;
        Ok(())
    }

    async fn check_lock(&mut self) -> Result<(), Error> {
        let what = self.lock_name();
        let Some(lease) = self.held else {
            return Err(lock_lost(&what, None));
        };
        // Outside a transaction the shared lease lock, if taken, ends with
        // the statement.
        let held: bool = sqlx::query_scalar(LEASE_HELD)
            .bind(lease)
            .fetch_one(&mut *self.core.conn)
            .await
            .map_err(|e| lock_lost(&what, Some(e)))?;
        if held {
            Ok(())
        } else {
            Err(lock_lost(&what, None))
        }
    }

    fn checks_lock_in_transaction(&self) -> bool {
        self.held.is_some()
    }

    /// `BEGIN`, the ops, `COMMIT`. With `verify_lock`, while the lock is
    /// held, it checks inside the transaction, just before `COMMIT`, that it
    /// still is (a step's trailing version change and history row become one
    /// statement that also checks it, see [`Fused`]), so a lock lost
    /// meanwhile rolls the transaction back; and a failure while the lock
    /// was lost (the other migrator's locks, its tables) is reported as the
    /// lost lock.
    async fn transaction(&mut self, ops: &[Op<'_>], verify_lock: bool) -> Result<(), TxFailure> {
        let lease = self.held.filter(|_| verify_lock);
        let tip = self.core.tip.clone();
        let result = self.run_transaction(ops, lease).await;
        if result.is_err() {
            self.core.tip = tip;
        }
        match (result, lease) {
            (Err(mut failure), Some(lease)) if failure.lock_lost.is_none() => {
                // After the rollback. If the check cannot run (the session
                // is gone too), the original error stands.
                let held = sqlx::query_scalar::<_, bool>(LEASE_HELD)
                    .bind(lease)
                    .fetch_one(&mut *self.core.conn)
                    .await;
                if let Ok(false) = held {
                    failure.lock_lost = Some(self.lock_name());
                }
                Err(failure)
            }
            (result, _) => result,
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
}
