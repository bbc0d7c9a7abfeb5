//! Test databases for the schema crate's tests: each test gets its own
//! database with a unique name, dropped at the end, so tests run in
//! parallel without sharing state.
//!
//! The servers and the skip report are the workspace harness's own
//! (`tests/common/servers.rs` and `report.rs`, included below, see
//! docs/testing.md): `RETORT_TEST_POSTGRES_URL` and every
//! `RETORT_TEST_POSTGRES<N>_URL` (`scripts/with-services.sh
//! --postgres-version N`), `RETORT_TEST_MYSQL_URL`. [`each_server`] runs a
//! body on every server of a backend, so the PostgreSQL suites run on every
//! PostgreSQL version present. Without a server the test prints `SKIPPED
//! ...` and passes, unless `CI=true`, where a missing server fails.

#![allow(dead_code, unreachable_pub)]

#[path = "../../../tests/common/report.rs"]
pub mod report;
#[path = "../../../tests/common/servers.rs"]
pub mod servers;

pub use servers::with_database;

use retort_schema::Dialect;
use sqlx::Connection;

pub use servers::{Server, ServerInfo};

/// The backends under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn dialect(self) -> Dialect {
        match self {
            Backend::Sqlite => Dialect::Sqlite,
            Backend::Postgres => Dialect::Postgres,
            Backend::MySql => Dialect::MySql,
        }
    }
}

/// A fresh database name.
pub fn unique_name() -> String {
    servers::unique("retort_s")
}

/// Every server of `backend` under test (SQLite: one, with an empty URL).
/// None: the running test is reported skipped ([`report::skip`]; under
/// `CI=true` it fails).
pub fn servers(backend: Backend) -> Vec<Server> {
    let found = servers::servers_from_env(backend);
    if found.is_empty() {
        let var = match backend {
            Backend::Sqlite => "",
            Backend::Postgres => servers::POSTGRES_VAR,
            Backend::MySql => servers::MYSQL_VAR,
        };
        report::skip(
            &format!("{var} is not set, so this {backend:?} test did not run"),
            servers::HINT,
        );
    }
    found
}

/// The default server of `backend` (the first of [`servers`]), or `None`
/// (reported skipped), for tests about one server's administration
/// (roles, privileges) rather than its SQL.
pub fn default_server(backend: Backend) -> Option<String> {
    servers(backend).into_iter().next().map(|s| s.url)
}

/// Runs `body` with the URL of every server of `backend` in turn (every
/// PostgreSQL version present) and records each completed run; reported
/// skipped when there is none.
pub async fn each_server(backend: Backend, body: impl AsyncFn(&str, &ServerInfo)) {
    for server in servers(backend) {
        run_on(&server, &body).await;
    }
}

/// Runs `body` on every PostgreSQL server whose major version `wanted`
/// accepts (`|m| m >= 18` for what older versions lack); with none, the
/// test is reported skipped (a failure under `CI=true`, whose run starts
/// every version the suites need). `needs` says which, for the message
/// (`PostgreSQL 18 or later`).
pub async fn each_postgres(
    needs: &str,
    wanted: impl Fn(u32) -> bool,
    body: impl AsyncFn(&str, &ServerInfo),
) {
    let mut ran = false;
    for server in servers(Backend::Postgres) {
        if server.info().await.postgres_major.is_some_and(&wanted) {
            run_on(&server, &body).await;
            ran = true;
        }
    }
    if !ran && !servers::servers_from_env(Backend::Postgres).is_empty() {
        report::skip(
            &format!("no {needs} among the PostgreSQL servers, so this test did not run"),
            "scripts/with-services.sh --postgres-version 13,18 -- ...",
        );
    }
}

async fn run_on(server: &Server, body: &impl AsyncFn(&str, &ServerInfo)) {
    let info = server.info().await;
    // Captured by libtest and shown with a failure: which server it was.
    eprintln!("--- {} on {}", report::test_name(), info.label);
    body(&server.url, &info).await;
    report::passed(&info.label);
}

/// A fresh database; call [`TestDb::drop_db`] at the end of the test. A
/// test that fails before that still leaves nothing behind (`Drop`).
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    server: Option<String>,
    name: String,
    /// Set by [`TestDb::drop_db`]: nothing left for `Drop` to do.
    dropped: bool,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(server) = self.server.as_deref().filter(|_| !self.dropped) {
            servers::drop_database_now(self.backend, server, &self.name);
        }
    }
}

async fn admin(server: &str, sql: String) -> Result<(), String> {
    let sql = sqlx::AssertSqlSafe(sql);
    if server.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(server)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::raw_sql(sql)
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        let _ = c.close().await;
    } else {
        let mut c = sqlx::MySqlConnection::connect(server)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::raw_sql(sql)
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        let _ = c.close().await;
    }
    Ok(())
}

impl TestDb {
    /// A fresh database on `server` (a [`Server`]'s URL).
    pub async fn new(backend: Backend, server: &str) -> Result<Self, String> {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let url = format!("sqlite://{}/{name}.db", dir.path().display());
                Ok(Self {
                    backend,
                    url,
                    server: None,
                    name,
                    dropped: false,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres | Backend::MySql => {
                admin(server, format!("CREATE DATABASE {name}")).await?;
                Ok(Self {
                    backend,
                    url: with_database(server, &name),
                    server: Some(server.to_owned()),
                    name,
                    dropped: false,
                    _dir: None,
                })
            }
        }
    }

    /// Drops the database (a failure is printed, not fatal).
    pub async fn drop_db(mut self) {
        if let Some(server) = &self.server
            && let Err(e) = servers::drop_database(self.backend, server, &self.name).await
        {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
        self.dropped = true;
    }

    /// Runs a query returning rows of one text column.
    pub async fn strings(&self, sql: &str) -> Result<Vec<Option<String>>, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let e = |e: sqlx::Error| e.to_string();
        Ok(match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(e)?;
                sqlx::query_scalar(sql).fetch_all(&mut c).await.map_err(e)?
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.map_err(e)?;
                sqlx::query_scalar(sql).fetch_all(&mut c).await.map_err(e)?
            }
            Backend::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.map_err(e)?;
                sqlx::query_scalar(sql).fetch_all(&mut c).await.map_err(e)?
            }
        })
    }

    /// Runs SQL (several statements allowed).
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let e = |e: sqlx::Error| e.to_string();
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(e)?;
                sqlx::raw_sql(sql).execute(&mut c).await.map_err(e)?;
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.map_err(e)?;
                sqlx::raw_sql(sql).execute(&mut c).await.map_err(e)?;
            }
            Backend::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.map_err(e)?;
                sqlx::raw_sql(sql).execute(&mut c).await.map_err(e)?;
            }
        }
        Ok(())
    }
}
