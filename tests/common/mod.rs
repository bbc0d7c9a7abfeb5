//! Test databases: each test gets its own fresh database (SQLite file,
//! PostgreSQL database, MySQL database) with a unique name, dropped at the
//! end, so tests run in parallel without sharing state.
//!
//! Servers come from the environment ([`servers`]; `scripts/with-services.sh`
//! starts them): `RETORT_TEST_POSTGRES_URL` and one
//! `RETORT_TEST_POSTGRES<N>_URL` per extra PostgreSQL major version,
//! `RETORT_TEST_MYSQL_URL`. [`backend_tests!`] and [`each_server`] run a
//! test body on every server of a backend (so the PostgreSQL suites run on
//! every PostgreSQL version present); [`TestDb::new`] uses the default one.
//! Without a server the test is reported skipped ([`report`]) and passes,
//! unless `CI=true`, where a missing server fails.

#![allow(dead_code, unreachable_pub)]

pub mod capture;
pub mod cli;
pub mod report;
pub mod servers;

use servers::with_database;

use sqlx::Connection;

pub use servers::{Server, ServerInfo};

/// The backends under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// A fresh database; call [`TestDb::drop_db`] at the end of the test.
///
/// A test that fails (panics) before that still leaves nothing behind:
/// dropping a `TestDb` drops its database (see its `Drop`), and a SQLite
/// database's directory is removed with it.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    /// The server the database lives on.
    pub server: Server,
    info: ServerInfo,
    name: String,
    /// Set by [`TestDb::drop_db`]: nothing left for `Drop` to do.
    dropped: bool,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh database name.
fn unique_name() -> String {
    servers::unique("retort_t")
}

/// The variable that names `backend`'s (default) server.
fn server_var(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => servers::POSTGRES_VAR,
        Backend::MySql => servers::MYSQL_VAR,
    }
}

/// Every server of `backend` under test (SQLite: one). None: the running
/// test is reported skipped (see [`report::skip`]; under `CI=true` it fails).
pub fn servers(backend: Backend) -> Vec<Server> {
    let found = servers::servers_from_env(backend);
    if found.is_empty() {
        let var = server_var(backend);
        report::skip(
            &format!("{var} is not set, so this {backend:?} test did not run"),
            servers::HINT,
        );
    }
    found
}

/// Runs `body` on a fresh database on every server of `backend` in turn
/// (every PostgreSQL version present), dropping each database afterwards
/// and recording each completed run; the test is reported skipped when
/// there is no server.
pub async fn each_server(backend: Backend, body: impl AsyncFn(&TestDb)) {
    for server in servers(backend) {
        let db = TestDb::on(&server).await;
        db.run(&body).await;
    }
}

/// Runs `body` on every PostgreSQL server of major version `major` or
/// later (for what older versions lack, e.g. 18's virtual generated
/// columns); with none, the test is reported skipped (a failure under
/// `CI=true`, whose run starts every version the suites need).
pub async fn each_postgres_since(major: u32, body: impl AsyncFn(&TestDb)) {
    let mut ran = false;
    for server in servers(Backend::Postgres) {
        if server
            .info()
            .await
            .postgres_major
            .is_some_and(|m| m >= major)
        {
            let db = TestDb::on(&server).await;
            db.run(&body).await;
            ran = true;
        }
    }
    if !ran && !servers::servers_from_env(Backend::Postgres).is_empty() {
        report::skip(
            &format!("no PostgreSQL {major} or later among the servers, so this test did not run"),
            &format!("scripts/with-services.sh --postgres-version {major} -- ..."),
        );
    }
}

impl TestDb {
    /// A fresh database on `backend`'s default server, or `None` (the test
    /// is reported skipped) without one.
    pub async fn new(backend: Backend) -> Option<Self> {
        let server = servers(backend).into_iter().next()?;
        Some(Self::on(&server).await)
    }

    /// A fresh database on `server`.
    pub async fn on(server: &Server) -> Self {
        let info = server.info().await;
        let name = unique_name();
        let (url, dir) = match server.backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/{name}.db", dir.path().display());
                (url, Some(dir))
            }
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(&server.url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {} ({}): {e}", info.label, server.var));
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                let _ = admin.close().await;
                (with_database(&server.url, &name), None)
            }
            Backend::MySql => {
                let mut admin = sqlx::MySqlConnection::connect(&server.url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {} ({}): {e}", info.label, server.var));
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                let _ = admin.close().await;
                (with_database(&server.url, &name), None)
            }
        };
        Self {
            backend: server.backend,
            url,
            server: server.clone(),
            info,
            name,
            dropped: false,
            _dir: dir,
        }
    }

    /// Another fresh database on the same server.
    pub async fn sibling(&self) -> Self {
        Self::on(&self.server).await
    }

    /// The database's name (on SQLite, its file's stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `PostgreSQL 13`, `MariaDB 10.11`, `SQLite`.
    pub fn label(&self) -> &str {
        &self.info.label
    }

    /// The PostgreSQL server's major version (`None` on other backends).
    pub fn postgres_major(&self) -> Option<u32> {
        self.info.postgres_major
    }

    /// Runs `body` on this database, records the completed run for the
    /// summary ([`report::passed`]), and drops the database. When `body`
    /// panics, the database is dropped as the panic unwinds (`Drop`).
    pub async fn run(self, body: &impl AsyncFn(&TestDb)) {
        // Captured by libtest and shown with a failure: which server it was.
        eprintln!("--- {} on {}", report::test_name(), self.label());
        body(&self).await;
        report::passed(self.label());
        self.drop_db().await;
    }

    /// Drops the database, failing the test if that fails.
    pub async fn drop_db(mut self) {
        servers::drop_database(self.backend, &self.server.url, &self.name)
            .await
            .unwrap_or_else(|e| panic!("drop database {}: {e}", self.name));
        self.dropped = true;
    }

    /// The names of the user tables, sorted (retort's own included).
    pub async fn tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            }
            Backend::MySql => {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
            }
        };
        self.query_strings(sql).await
    }

    /// Runs a query returning one text column.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_all(&mut c)
                    .await
                    .expect("query")
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_all(&mut c)
                    .await
                    .expect("query")
            }
            Backend::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_all(&mut c)
                    .await
                    .expect("query")
            }
        }
    }

    /// Runs SQL (several statements allowed) on the test database.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::raw_sql(sql).execute(&mut c).await.expect("execute");
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::raw_sql(sql).execute(&mut c).await.expect("execute");
            }
            Backend::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url)
                    .await
                    .expect("connect");
                sqlx::raw_sql(sql).execute(&mut c).await.expect("execute");
            }
        }
    }
}

/// A database the test did not drop, because it failed before
/// [`TestDb::drop_db`] (or never called it), is dropped here
/// ([`servers::drop_database_now`]: safe on any thread, never panics).
impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.dropped {
            servers::drop_database_now(self.backend, &self.server.url, &self.name);
        }
    }
}

/// Writes revision files into a fresh directory: `(id, parents, extra
/// header lines, upgrade SQL, downgrade SQL)`.
pub fn write_revisions(specs: &[(&str, &str, &str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (id, parents, extra, up, down) in specs {
        let text = format!(
            "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {parents}\n{extra}\n\n-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n"
        );
        std::fs::write(dir.path().join(format!("{id}.sql")), text).expect("write revision");
    }
    dir
}

/// Runs `bao ARGS` against the OpenBao dev server at `addr` with `token`
/// (the root token, in the Vault tests); panics on failure and returns the
/// trimmed stdout.
pub fn bao(addr: &str, token: &str, args: &[&str]) -> String {
    let output = std::process::Command::new("bao")
        .args(args)
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token)
        .env("VAULT_ADDR", addr)
        .env("VAULT_TOKEN", token)
        .output()
        .expect("run bao (scripts/with-services.sh --with-openbao puts it on PATH)");
    assert!(
        output.status.success(),
        "bao {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Generates one test per backend from an async test body taking a
/// [`TestDb`]: `sqlite::NAME`, `postgres::NAME` (run on every PostgreSQL
/// server present, one after the other) and `mysql::NAME`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::common::each_server($crate::common::Backend::Sqlite, super::$name).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::common::each_server($crate::common::Backend::Postgres, super::$name).await;
            })*
        }
        mod mysql {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::common::each_server($crate::common::Backend::MySql, super::$name).await;
            })*
        }
    };
}
