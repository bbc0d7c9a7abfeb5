//! Fresh databases (one per run) and the handles a tool is given, opened
//! before the clock starts.

use std::fs;
use std::path::PathBuf;
use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, MySqlPool, PgPool, SqlitePool};

use crate::Result;
use crate::tools::Tool;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
    /// MySQL protocol; the benchmark's server is MariaDB (`runtime.sh`).
    Mysql,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MariaDB",
        }
    }
}

pub(crate) struct Server {
    pub(crate) backend: Backend,
    /// PostgreSQL: the admin URL (`RETORT_TEST_POSTGRES_URL`).
    pub(crate) pg_url: String,
    pub(crate) pg_admin: Option<sqlx::PgConnection>,
    /// MySQL: the admin URL (`RETORT_TEST_MYSQL_URL`) and a connection.
    pub(crate) my_url: String,
    pub(crate) my_admin: Option<sqlx::MySqlConnection>,
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

/// `base` with its database replaced by `db` (PostgreSQL and MySQL URLs).
pub(crate) fn url_for(base: &str, db: &str) -> String {
    // postgres://user@host:port/dbname[?params], mysql://... alike
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
        let my_url = std::env::var("RETORT_TEST_MYSQL_URL").unwrap_or_default();
        let my_admin = if backend == Backend::Mysql {
            if my_url.is_empty() {
                return Err(
                    "RETORT_TEST_MYSQL_URL is not set (runtime.sh starts a MariaDB server for it)"
                        .into(),
                );
            }
            Some(sqlx::MySqlConnection::connect(&my_url).await?)
        } else {
            None
        };
        Ok(Self {
            backend,
            pg_url,
            pg_admin,
            my_url,
            my_admin,
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
                    url: url_for(&self.pg_url, &name),
                    name,
                })
            }
            Backend::Mysql => {
                let admin = self.my_admin.as_mut().expect("admin connection");
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut *admin)
                    .await?;
                Ok(Db {
                    url: url_for(&self.my_url, &name),
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
            Backend::Mysql => {
                let admin = self.my_admin.as_mut().expect("admin connection");
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {}",
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
    MySqlPool(MySqlPool),
    SqliteConn(sqlx::SqliteConnection),
    PgConn(sqlx::PgConnection),
    MySqlConn(sqlx::MySqlConnection),
    Rusqlite(rusqlite::Connection),
    TokioPg(tokio_postgres::Client, tokio::task::JoinHandle<()>),
    /// refinery on MySQL: its `mysql_async` driver takes a pool (one
    /// connection, kept warm; mysql_async's defaults otherwise, so a
    /// connection is reset when it goes back to the pool).
    MysqlAsync(mysql_async::Pool),
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
        (Backend::Mysql, Tool::Refinery, _) => {
            let opts = mysql_async::OptsBuilder::from_opts(mysql_async::Opts::from_url(&db.url)?)
                .pool_opts(
                    mysql_async::PoolOpts::default()
                        .with_constraints(mysql_async::PoolConstraints::new(1, 1).expect("1 <= 1")),
                );
            let pool = mysql_async::Pool::new(opts);
            drop(pool.get_conn().await?);
            Handle::MysqlAsync(pool)
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
        (Backend::Mysql, _, HandleKind::Pool) => {
            let pool = MySqlPoolOptions::new()
                .max_connections(1)
                .connect_with(MySqlConnectOptions::from_str(&db.url)?)
                .await?;
            drop(pool.acquire().await?);
            Handle::MySqlPool(pool)
        }
        (Backend::Mysql, _, HandleKind::Conn) => {
            Handle::MySqlConn(sqlx::MySqlConnection::connect(&db.url).await?)
        }
    })
}

pub(crate) async fn close(h: Handle) {
    match h {
        Handle::SqlitePool(p) => p.close().await,
        Handle::PgPool(p) => p.close().await,
        Handle::MySqlPool(p) => p.close().await,
        Handle::SqliteConn(c) => {
            let _ = c.close().await;
        }
        Handle::PgConn(c) => {
            let _ = c.close().await;
        }
        Handle::MySqlConn(c) => {
            let _ = c.close().await;
        }
        Handle::Rusqlite(c) => drop(c),
        Handle::TokioPg(client, task) => {
            drop(client);
            let _ = task.await;
        }
        Handle::MysqlAsync(pool) => {
            let _ = pool.disconnect().await;
        }
    }
}
