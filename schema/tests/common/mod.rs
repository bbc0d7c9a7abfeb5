//! Test databases for the schema crate's tests: each test gets its own
//! database with a unique name, dropped at the end, so tests run in
//! parallel without sharing state (the style of the workspace's
//! tests/common).
//!
//! Servers come from `RETORT_TEST_POSTGRES_URL` / `RETORT_TEST_MYSQL_URL`
//! (`scripts/with-services.sh` starts them). Without one, a test prints a
//! notice and passes, unless `CI=true`, where a missing server fails.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};

use retort_schema::Dialect;
use sqlx::Connection;

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

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "retort_s{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// The server URL for `backend` (`Some("")` for SQLite), or `None` (the
/// test is skipped) without one.
pub fn server_url(backend: Backend) -> Option<String> {
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
pub fn with_database(url: &str, name: &str) -> String {
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

/// A fresh database; call [`TestDb::drop_db`] at the end of the test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    server: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
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
    /// A fresh database on `server` (see [`server_url`]).
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
                    _dir: None,
                })
            }
        }
    }

    /// Drops the database.
    pub async fn drop_db(self) {
        if let Some(server) = &self.server {
            let force = if self.backend == Backend::Postgres {
                " WITH (FORCE)"
            } else {
                ""
            };
            if let Err(e) = admin(
                server,
                format!("DROP DATABASE IF EXISTS {}{force}", self.name),
            )
            .await
            {
                eprintln!("could not drop test database {}: {e}", self.name);
            }
        }
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
