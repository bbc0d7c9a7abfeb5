//! Test databases: each test gets its own fresh database (SQLite file,
//! PostgreSQL database, MySQL database) with a unique name, dropped at the
//! end, so tests run in parallel without sharing state.
//!
//! Servers come from `RETORT_TEST_POSTGRES_URL` / `RETORT_TEST_MYSQL_URL`
//! (`scripts/with-services.sh` starts them). Without one, the test prints a
//! notice and passes, unless `CI=true`, where a missing server fails.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// The backends under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// A fresh database; call [`TestDb::drop_db`] at the end of the test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "retort_t{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

fn server_url(backend: Backend) -> Option<String> {
    let var = match backend {
        Backend::Sqlite => return Some(String::new()),
        Backend::Postgres => "RETORT_TEST_POSTGRES_URL",
        Backend::MySql => "RETORT_TEST_MYSQL_URL",
    };
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{var} is not set under CI=true: run the tests through scripts/with-services.sh"
            );
            eprintln!(
                "SKIPPED: {var} is not set, so this {backend:?} test did not run (use scripts/with-services.sh)"
            );
            None
        }
    }
}

/// Replaces the database part of a server URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    /// A fresh database, or `None` (test skipped) without a server.
    pub async fn new(backend: Backend) -> Option<Self> {
        let server = server_url(backend)?;
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/{name}.db", dir.path().display());
                Some(Self {
                    backend,
                    url,
                    admin_url: None,
                    name,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                Some(Self {
                    backend,
                    url: with_database(&server, &name),
                    admin_url: Some(server),
                    name,
                    _dir: None,
                })
            }
            Backend::MySql => {
                let mut admin = sqlx::MySqlConnection::connect(&server)
                    .await
                    .expect("connect to MariaDB");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                Some(Self {
                    backend,
                    url: with_database(&server, &name),
                    admin_url: Some(server),
                    name,
                    _dir: None,
                })
            }
        }
    }

    /// Drops the database.
    pub async fn drop_db(self) {
        match (self.backend, &self.admin_url) {
            (Backend::Postgres, Some(admin)) => {
                let mut conn = sqlx::PgConnection::connect(admin).await.expect("connect");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )))
                .execute(&mut conn)
                .await
                .expect("drop database");
            }
            (Backend::MySql, Some(admin)) => {
                let mut conn = sqlx::MySqlConnection::connect(admin)
                    .await
                    .expect("connect");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {}",
                    self.name
                )))
                .execute(&mut conn)
                .await
                .expect("drop database");
            }
            _ => {}
        }
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
/// [`TestDb`].
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::common::TestDb::new($crate::common::Backend::Sqlite).await {
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::common::TestDb::new($crate::common::Backend::Postgres).await {
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            })*
        }
        mod mysql {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = $crate::common::TestDb::new($crate::common::Backend::MySql).await {
                    super::$name(&db).await;
                    db.drop_db().await;
                }
            })*
        }
    };
}
