//! Fresh databases (one per run) and the handles a tool is given, opened
//! before the clock starts.

use std::fs;
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgPool, SqlitePool};

use crate::Result;
use crate::tools::Tool;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

pub(crate) struct Server {
    pub(crate) backend: Backend,
    /// PostgreSQL: the admin URL (`RETORT_TEST_POSTGRES_URL`).
    pub(crate) pg_url: String,
    pub(crate) pg_admin: Option<sqlx::PgConnection>,
    /// SQLite: directory of the database files.
    pub(crate) dir: PathBuf,
    pub(crate) counter: usize,
}

/// One fresh database.
pub(crate) struct Db {
    /// sqlx URL / path.
    pub(crate) url: String,
    /// PostgreSQL database name, or SQLite file.
    pub(crate) name: String,
}

pub(crate) fn pg_url_for(base: &str, db: &str) -> String {
    // postgres://user@host:port/dbname[?params]
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map_or(0, |p| p + 3);
    let path_start = head[scheme_end..].find('/').map(|p| p + scheme_end);
    let host = match path_start {
        Some(p) => &head[..p],
        None => head,
    };
    match query {
        Some(q) => format!("{host}/{db}?{q}"),
        None => format!("{host}/{db}"),
    }
}

impl Server {
    pub(crate) async fn new(backend: Backend, dir: PathBuf) -> Result<Self> {
        let pg_url = std::env::var("RETORT_TEST_POSTGRES_URL").unwrap_or_default();
        let pg_admin = if backend == Backend::Postgres {
            if pg_url.is_empty() {
                return Err(
                    "RETORT_TEST_POSTGRES_URL is not set (run under scripts/with-services.sh)"
                        .into(),
                );
            }
            Some(sqlx::PgConnection::connect(&pg_url).await?)
        } else {
            None
        };
        Ok(Self {
            backend,
            pg_url,
            pg_admin,
            dir,
            counter: 0,
        })
    }

    pub(crate) async fn fresh(&mut self) -> Result<Db> {
        self.counter += 1;
        let name = format!("rb_{}_{}", std::process::id(), self.counter);
        match self.backend {
            Backend::Sqlite => {
                let file = self.dir.join(format!("{name}.db"));
                Ok(Db {
                    url: format!("sqlite://{}", file.display()),
                    name: file.display().to_string(),
                })
            }
            Backend::Postgres => {
                let admin = self.pg_admin.as_mut().expect("admin connection");
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut *admin)
                    .await?;
                // Every run starts from a checkpoint, so none lands in the
                // middle of a timed run (dropping the previous database
                // leaves work for the checkpointer).
                sqlx::raw_sql("CHECKPOINT").execute(&mut *admin).await?;
                Ok(Db {
                    url: pg_url_for(&self.pg_url, &name),
                    name,
                })
            }
        }
    }

    pub(crate) async fn drop_db(&mut self, db: Db) -> Result<()> {
        if std::env::var_os("RETORT_BENCH_KEEP").is_some() {
            // Diagnostics: keep the database for inspection.
            eprintln!("  kept {}", db.url);
            return Ok(());
        }
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-journal", "-wal", "-shm", ".retort-lock"] {
                    let _ = fs::remove_file(format!("{}{suffix}", db.name));
                }
            }
            Backend::Postgres => {
                let admin = self.pg_admin.as_mut().expect("admin connection");
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    db.name
                )))
                .execute(&mut *admin)
                .await?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Handles

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HandleKind {
    Pool,
    Conn,
}

/// What a tool is given, opened before the clock starts.
pub(crate) enum Handle {
    SqlitePool(SqlitePool),
    PgPool(PgPool),
    SqliteConn(sqlx::SqliteConnection),
    PgConn(sqlx::PgConnection),
    Rusqlite(rusqlite::Connection),
    TokioPg(tokio_postgres::Client, tokio::task::JoinHandle<()>),
}

pub(crate) fn sqlite_options(db: &Db, fast_setup: bool) -> Result<SqliteConnectOptions> {
    let mut o = SqliteConnectOptions::from_str(&db.url)?.create_if_missing(true);
    if fast_setup {
        o = o.synchronous(SqliteSynchronous::Off);
    }
    Ok(o)
}

pub(crate) async fn open(
    backend: Backend,
    tool: Tool,
    kind: HandleKind,
    db: &Db,
    fast_setup: bool,
) -> Result<Handle> {
    Ok(match (backend, tool, kind) {
        (Backend::Sqlite, Tool::Refinery, _) => {
            let conn = rusqlite::Connection::open(&db.name)?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            if fast_setup {
                conn.pragma_update(None, "synchronous", "OFF")?;
            }
            Handle::Rusqlite(conn)
        }
        (Backend::Postgres, Tool::Refinery, _) => {
            let (client, connection) =
                tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await?;
            let task = tokio::spawn(async move {
                if let Err(e) = connection.await {
                    eprintln!("tokio-postgres connection error: {e}");
                }
            });
            Handle::TokioPg(client, task)
        }
        (Backend::Sqlite, _, HandleKind::Pool) => {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(sqlite_options(db, fast_setup)?)
                .await?;
            // Warm: one idle connection.
            drop(pool.acquire().await?);
            Handle::SqlitePool(pool)
        }
        (Backend::Sqlite, _, HandleKind::Conn) => {
            Handle::SqliteConn(sqlite_options(db, fast_setup)?.connect().await?)
        }
        (Backend::Postgres, _, HandleKind::Pool) => {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(PgConnectOptions::from_str(&db.url)?)
                .await?;
            drop(pool.acquire().await?);
            Handle::PgPool(pool)
        }
        (Backend::Postgres, _, HandleKind::Conn) => {
            Handle::PgConn(sqlx::PgConnection::connect(&db.url).await?)
        }
    })
}

pub(crate) async fn close(h: Handle) {
    match h {
        Handle::SqlitePool(p) => p.close().await,
        Handle::PgPool(p) => p.close().await,
        Handle::SqliteConn(c) => {
            let _ = c.close().await;
        }
        Handle::PgConn(c) => {
            let _ = c.close().await;
        }
        Handle::Rusqlite(c) => drop(c),
        Handle::TokioPg(client, task) => {
            drop(client);
            let _ = task.await;
        }
    }
}
