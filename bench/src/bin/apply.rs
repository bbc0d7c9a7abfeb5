//! Runtime benchmark: applying revisions, and the no-op startup check when
//! the database is already at head, for retort, sqlx's `Migrator` and
//! refinery on the same generated SQL, next to raw execution of that SQL
//! with no bookkeeping (the floor). Driven by `bench/runtime.sh`, which
//! starts PostgreSQL; see BENCHMARKS.md for the results and the method.
//!
//! ```text
//! apply --backend sqlite|postgres [--apply-n 1000] [--apply-reps 5]
//!       [--noop-sizes 10,10000] [--noop-reps 30] [--only apply|noop]
//!       [--tools retort,sqlx,refinery,raw,raw-stmt] [--handle pool|conn]
//!       [--samples FILE] [--db-dir DIR] [--no-autovacuum]
//!       [--noop-order blocks|interleave]
//! ```
//!
//! `--no-autovacuum` (PostgreSQL) runs `ALTER SYSTEM SET autovacuum = off`
//! on the server: for the throwaway servers of `scripts/with-services.sh`
//! only. Autovacuum workers processing the thousands of tables a run creates
//! otherwise compete for the 2 CPUs at random moments, and analyzing the
//! version table would hide the plan of a never-analyzed (fresh) database.
//!
//! PostgreSQL: the server of `RETORT_TEST_POSTGRES_URL`; every run gets a
//! database of its own (`CREATE DATABASE`, dropped afterwards). SQLite: a new
//! file in a temp dir per run. Prints markdown on stdout, progress on stderr,
//! and with `--samples` every sample as CSV.
//!
//! Each revision `i` (a linear chain) is two statements:
//!
//! ```sql
//! CREATE TABLE t_000123 (id BIGINT PRIMARY KEY, v VARCHAR(50));
//! INSERT INTO t_000123 (id, v) VALUES (1, 'revision 123');
//! ```
//!
//! written three times, byte-identical SQL: a retort revision file, an sqlx
//! migration `<i>_t_<i>.sql` and a refinery migration `V<i>__t_<i>.sql`.
//! Files are loaded once per size, before any timing (embedded migrations
//! do not load files at run time either).
//!
//! Tools and what is timed (the handle is open before the clock starts,
//! except where said):
//!
//! * `retort`: `Migrations::upgrade(&pool, "head")` (`--handle conn`:
//!   `upgrade(&mut conn, "head")`);
//! * `sqlx`: `Migrator::run(&pool)` (`--handle conn`: `run(&mut conn)`);
//! * `refinery`: `Runner::run_async(&mut tokio_postgres::Client)` on
//!   PostgreSQL, `Runner::run(&mut rusqlite::Connection)` on SQLite (no
//!   pools in refinery: always an open connection);
//! * `raw` (the floor, apply only): one connection (acquired from the pool,
//!   inside the clock), and for each revision `BEGIN`, the revision's whole
//!   SQL in one `sqlx::raw_sql` call, `COMMIT`. No lock, no version or
//!   history table, no reading of the database's state;
//! * `raw-stmt` (apply only): the same with each statement in its own
//!   `raw_sql` call, as retort executes them (for precise error positions).
//!
//! SQLite connections of every tool use the same settings: sqlx's defaults
//! (rollback journal `DELETE`, `synchronous=FULL` by default compile option,
//! `foreign_keys=ON`, which rusqlite's connection gets explicitly). Pools
//! are sqlx's defaults with `max_connections(1)`, warmed with one idle
//! connection; their `test_before_acquire` ping is part of every pooled call.
//!
//! Apply: per tool and run, a fresh database, the handle opened, then one
//! timed call applying all N revisions; one untimed warm-up run per tool
//! first, then `--apply-reps` rounds, the tools' order rotated every round.
//!
//! No-op: for each size, one database per tool brought to head by the tool
//! itself (untimed; retort in single-transaction mode, refinery grouped,
//! SQLite with `synchronous=OFF`, which only this setup connection gets),
//! then `sync` (PostgreSQL: `CHECKPOINT`) and a 2 s pause, 20 untimed calls
//! per (tool, size); then per (tool, size) 20 more warm-up calls and
//! `--noop-reps` timed calls, on a handle opened after the setup. Between
//! two calls the runtime spins for 150 µs (see [`settle`]). Each call is
//! checked to have applied nothing.
//!
//! The runtime is tokio's current-thread runtime.

use std::error::Error as StdError;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgPool, SqlitePool};

type Result<T, E = Box<dyn StdError + Send + Sync>> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Generated revisions

/// A 48-bit bijection of `i` as 12 hex digits: unique, unordered ids.
fn revision_id(i: usize) -> String {
    const MASK: u64 = (1 << 48) - 1;
    let mut x = (i as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        & MASK;
    x ^= x >> 24;
    x = x.wrapping_mul(0x2545_F491_4F6C_DD1D) & MASK;
    x ^= x >> 17;
    format!("{x:012x}")
}

fn table(i: usize) -> String {
    format!("t_{i:06}")
}

/// The statements of revision `i`, each without a trailing newline.
fn statements(i: usize) -> [String; 2] {
    let t = table(i);
    [
        format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, v VARCHAR(50));"),
        format!("INSERT INTO {t} (id, v) VALUES (1, 'revision {i}');"),
    ]
}

/// The upgrade SQL of revision `i`, as every tool's file holds it.
fn upgrade_sql(i: usize) -> String {
    let [a, b] = statements(i);
    format!("{a}\n{b}\n")
}

/// Writes `n` revisions in the three formats under `root`; returns the
/// retort, sqlx and refinery directories.
fn write_sets(root: &Path, n: usize) -> Result<[PathBuf; 3]> {
    let dirs = [
        root.join("retort"),
        root.join("sqlx"),
        root.join("refinery"),
    ];
    for d in &dirs {
        if d.exists() {
            fs::remove_dir_all(d)?;
        }
        fs::create_dir_all(d)?;
    }
    for i in 0..n {
        let sql = upgrade_sql(i);
        let id = revision_id(i);
        let revises = if i == 0 {
            String::new()
        } else {
            revision_id(i - 1)
        };
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        let retort = format!(
            "-- create {t}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n\
             -- Create Date: 2026-01-01 {h:02}:{m:02}:{s:02}+00:00\n\n\
             -- migrate:upgrade\n{sql}\n-- migrate:downgrade\nDROP TABLE {t};\n",
            t = table(i)
        );
        fs::write(
            dirs[0].join(format!("{id}_create_{}.sql", table(i))),
            retort,
        )?;
        fs::write(dirs[1].join(format!("{}_{}.sql", i + 1, table(i))), &sql)?;
        fs::write(dirs[2].join(format!("V{}__{}.sql", i + 1, table(i))), &sql)?;
    }
    Ok(dirs)
}

/// A revision set loaded by every tool, plus the raw SQL.
struct Sets {
    n: usize,
    retort: retort::Migrations,
    sqlx: sqlx::migrate::Migrator,
    refinery: Vec<refinery::Migration>,
    raw: Vec<String>,
    raw_stmts: Vec<[String; 2]>,
}

async fn load_sets(root: &Path, n: usize) -> Result<Sets> {
    let [r, s, f] = write_sets(root, n)?;
    let retort = retort::Migrations::from_dir(&r).map_err(|e| e.to_string())?;
    assert_eq!(retort.len(), n);
    let sqlx = sqlx::migrate::Migrator::new(s.as_path()).await?;
    let refinery = refinery::load_sql_migrations(&f)?;
    assert_eq!(refinery.len(), n);
    // The SQL every tool executes is the same text.
    let first = retort.get(&revision_id(0)).expect("revision 0");
    assert_eq!(first.upgrade_sql().trim_end(), upgrade_sql(0).trim_end());
    Ok(Sets {
        n,
        retort,
        sqlx,
        refinery,
        raw: (0..n).map(upgrade_sql).collect(),
        raw_stmts: (0..n).map(statements).collect(),
    })
}

// ---------------------------------------------------------------------------
// Fresh databases

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

struct Server {
    backend: Backend,
    /// PostgreSQL: the admin URL (`RETORT_TEST_POSTGRES_URL`).
    pg_url: String,
    pg_admin: Option<sqlx::PgConnection>,
    /// SQLite: directory of the database files.
    dir: PathBuf,
    counter: usize,
}

/// One fresh database.
struct Db {
    /// sqlx URL / path.
    url: String,
    /// PostgreSQL database name, or SQLite file.
    name: String,
}

fn pg_url_for(base: &str, db: &str) -> String {
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
    async fn new(backend: Backend, dir: PathBuf) -> Result<Self> {
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

    async fn fresh(&mut self) -> Result<Db> {
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

    async fn drop_db(&mut self, db: Db) -> Result<()> {
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
enum HandleKind {
    Pool,
    Conn,
}

/// What a tool is given, opened before the clock starts.
enum Handle {
    SqlitePool(SqlitePool),
    PgPool(PgPool),
    SqliteConn(sqlx::SqliteConnection),
    PgConn(sqlx::PgConnection),
    Rusqlite(rusqlite::Connection),
    TokioPg(tokio_postgres::Client, tokio::task::JoinHandle<()>),
}

fn sqlite_options(db: &Db, fast_setup: bool) -> Result<SqliteConnectOptions> {
    let mut o = SqliteConnectOptions::from_str(&db.url)?.create_if_missing(true);
    if fast_setup {
        o = o.synchronous(SqliteSynchronous::Off);
    }
    Ok(o)
}

async fn open(
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

async fn close(h: Handle) {
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

// ---------------------------------------------------------------------------
// Tools

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Retort,
    Sqlx,
    Refinery,
    Raw,
    RawStmt,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Retort => "retort",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Raw => "raw",
            Tool::RawStmt => "raw-stmt",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "retort" => Tool::Retort,
            "sqlx" => Tool::Sqlx,
            "refinery" => Tool::Refinery,
            "raw" => Tool::Raw,
            "raw-stmt" => Tool::RawStmt,
            other => return Err(format!("unknown tool `{other}`").into()),
        })
    }
}

/// How many revisions the call applied (0 for the no-op).
async fn run_tool(tool: Tool, sets: &Sets, h: &mut Handle, setup: bool) -> Result<usize> {
    match (tool, h) {
        (Tool::Retort, h) => {
            let migrator = if setup {
                // Setting up the no-op benchmark: one transaction is faster
                // and records the same rows.
                sets.retort.with_config(
                    retort::Config::default().transaction_mode(retort::TransactionMode::Single),
                )
            } else {
                sets.retort.with_config(retort::Config::default())
            };
            let report = match h {
                Handle::SqlitePool(p) => migrator.upgrade(&*p, "head").await?,
                Handle::PgPool(p) => migrator.upgrade(&*p, "head").await?,
                Handle::SqliteConn(c) => migrator.upgrade(c, "head").await?,
                Handle::PgConn(c) => migrator.upgrade(c, "head").await?,
                _ => unreachable!(),
            };
            if std::env::var_os("RETORT_BENCH_STEPS").is_some() && report.steps.len() >= 10 {
                // Diagnostics: mean step duration per tenth of the run.
                let tenth = report.steps.len() / 10;
                let means: Vec<String> = report
                    .steps
                    .chunks(tenth)
                    .take(10)
                    .map(|c| fmt_d(c.iter().map(|s| s.duration).sum::<Duration>() / c.len() as u32))
                    .collect();
                eprintln!("  retort step means by tenth: {}", means.join(", "));
            }
            Ok(report.steps.len())
        }
        (Tool::Sqlx, h) => {
            // sqlx reports nothing: count by reading its table afterwards is
            // not free, so trust it (the setup asserts the count).
            match h {
                Handle::SqlitePool(p) => sets.sqlx.run(&*p).await?,
                Handle::PgPool(p) => sets.sqlx.run(&*p).await?,
                Handle::SqliteConn(c) => sets.sqlx.run(c).await?,
                Handle::PgConn(c) => sets.sqlx.run(c).await?,
                _ => unreachable!(),
            }
            Ok(usize::MAX)
        }
        (Tool::Refinery, h) => {
            let runner = refinery::Runner::new(&sets.refinery).set_grouped(setup);
            let report = match h {
                Handle::Rusqlite(c) => runner.run(c)?,
                Handle::TokioPg(c, _) => runner.run_async(c).await?,
                _ => unreachable!(),
            };
            Ok(report.applied_migrations().len())
        }
        (Tool::Raw | Tool::RawStmt, h) => {
            match h {
                Handle::SqlitePool(p) => {
                    let mut c = p.acquire().await?;
                    raw_apply_sqlite(tool, sets, &mut c).await?;
                }
                Handle::PgPool(p) => {
                    let mut c = p.acquire().await?;
                    raw_apply_pg(tool, sets, &mut c).await?;
                }
                Handle::SqliteConn(c) => raw_apply_sqlite(tool, sets, c).await?,
                Handle::PgConn(c) => raw_apply_pg(tool, sets, c).await?,
                _ => unreachable!(),
            }
            Ok(sets.n)
        }
    }
}

/// The floor: per revision `BEGIN`, its SQL, `COMMIT`.
macro_rules! raw_apply_fn {
    ($name:ident, $conn:ty) => {
        async fn $name(tool: Tool, sets: &Sets, c: &mut $conn) -> Result<()> {
            for i in 0..sets.n {
                let mut tx = c.begin().await?;
                if tool == Tool::Raw {
                    sqlx::raw_sql(AssertSqlSafe(sets.raw[i].as_str()))
                        .execute(&mut *tx)
                        .await?;
                } else {
                    for s in &sets.raw_stmts[i] {
                        sqlx::raw_sql(AssertSqlSafe(s.as_str()))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
            }
            Ok(())
        }
    };
}
raw_apply_fn!(raw_apply_sqlite, sqlx::SqliteConnection);
raw_apply_fn!(raw_apply_pg, sqlx::PgConnection);

// ---------------------------------------------------------------------------
// Statistics and report

fn median(xs: &[Duration]) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

fn min(xs: &[Duration]) -> Duration {
    xs.iter().copied().min().unwrap_or_default()
}

fn max(xs: &[Duration]) -> Duration {
    xs.iter().copied().max().unwrap_or_default()
}

fn fmt_d(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

struct Samples {
    rows: Vec<(String, String, usize, Vec<Duration>)>,
    csv: String,
}

impl Samples {
    fn add(&mut self, backend: Backend, what: &str, tool: Tool, n: usize, d: Duration) {
        let _ = writeln!(
            self.csv,
            "{},{what},{},{n},{}",
            backend.name(),
            tool.name(),
            d.as_nanos()
        );
        let key = (what.to_owned(), tool.name().to_owned(), n);
        match self
            .rows
            .iter_mut()
            .find(|r| (r.0.as_str(), r.1.as_str(), r.2) == (key.0.as_str(), key.1.as_str(), key.2))
        {
            Some(r) => r.3.push(d),
            None => self.rows.push((key.0, key.1, key.2, vec![d])),
        }
    }

    fn get(&self, what: &str, tool: Tool, n: usize) -> Option<&[Duration]> {
        self.rows
            .iter()
            .find(|r| r.0 == what && r.1 == tool.name() && r.2 == n)
            .map(|r| r.3.as_slice())
    }
}

// ---------------------------------------------------------------------------
// Benchmarks

/// Lets the previous call's background work finish outside the clock: on
/// this single-threaded runtime, a connection the previous call returned to
/// its pool is pinged and put back by a spawned task, which would otherwise
/// run during the next timed call (and, on the same pool, delay its
/// acquire). Spins on `yield_now` (which polls the I/O driver) for 1 ms
/// rather than sleeping, so threads and caches stay as warm as in a
/// back-to-back run; `RETORT_BENCH_SETTLE=sleep` sleeps 3 ms instead,
/// `none` does nothing.
async fn settle() {
    static MODE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        std::env::var("RETORT_BENCH_SETTLE").unwrap_or_else(|_| "spin".to_owned())
    });
    match MODE.as_str() {
        "none" => {}
        "sleep" => tokio::time::sleep(Duration::from_millis(3)).await,
        _ => {
            static SPIN: std::sync::LazyLock<Duration> = std::sync::LazyLock::new(|| {
                Duration::from_micros(
                    std::env::var("RETORT_BENCH_SPIN_US")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(150),
                )
            });
            let t0 = Instant::now();
            while t0.elapsed() < *SPIN {
                tokio::task::yield_now().await;
            }
        }
    }
}

struct Opts {
    backend: Backend,
    apply_n: usize,
    apply_reps: usize,
    noop_sizes: Vec<usize>,
    noop_reps: usize,
    tools: Vec<Tool>,
    handle: HandleKind,
    only: Option<String>,
    samples: Option<PathBuf>,
    /// Where SQLite database files go (default: a temp dir).
    db_dir: Option<PathBuf>,
    /// PostgreSQL: turn autovacuum off server-wide (throwaway servers only).
    no_autovacuum: bool,
    /// No-op calls round-robin over (tool, size) instead of in blocks.
    interleave: bool,
}

async fn bench_apply(o: &Opts, server: &mut Server, root: &Path, s: &mut Samples) -> Result<()> {
    let sets = load_sets(&root.join(format!("apply-{}", o.apply_n)), o.apply_n).await?;
    let tools = &o.tools;
    // Warm-up: one untimed run per tool (the server's and the process's
    // first runs are slower, whichever tool goes first).
    for &tool in tools {
        let db = server.fresh().await?;
        let mut h = open(o.backend, tool, o.handle, &db, false).await?;
        run_tool(tool, &sets, &mut h, false).await?;
        close(h).await;
        server.drop_db(db).await?;
    }
    for rep in 0..o.apply_reps {
        // Rotate the order so no tool always runs first (or last).
        for k in 0..tools.len() {
            let tool = tools[(k + rep) % tools.len()];
            let db = server.fresh().await?;
            let mut h = open(o.backend, tool, o.handle, &db, false).await?;
            settle().await;
            let t0 = Instant::now();
            let applied = run_tool(tool, &sets, &mut h, false).await?;
            let d = t0.elapsed();
            close(h).await;
            server.drop_db(db).await?;
            if applied != usize::MAX && applied != sets.n {
                return Err(format!("{} applied {applied} of {}", tool.name(), sets.n).into());
            }
            eprintln!(
                "  {} apply {} rep {}: {}",
                o.backend.name(),
                tool.name(),
                rep + 1,
                fmt_d(d)
            );
            s.add(o.backend, "apply", tool, sets.n, d);
        }
    }
    Ok(())
}

async fn bench_noop(o: &Opts, server: &mut Server, root: &Path, s: &mut Samples) -> Result<()> {
    let tools: Vec<Tool> = o
        .tools
        .iter()
        .copied()
        .filter(|t| !matches!(t, Tool::Raw | Tool::RawStmt))
        .collect();
    const WARMUP: usize = 20;
    // Every size's databases first, one per tool, brought to head by the
    // tool itself: the process is as warm for the first size timed as for
    // the last.
    let mut sizes = Vec::new();
    for &n in &o.noop_sizes {
        let sets = load_sets(&root.join(format!("noop-{n}")), n).await?;
        let mut dbs = Vec::new();
        for &tool in &tools {
            let db = server.fresh().await?;
            let t0 = Instant::now();
            let mut setup = open(o.backend, tool, o.handle, &db, true).await?;
            let applied = run_tool(tool, &sets, &mut setup, true).await?;
            close(setup).await;
            if applied != usize::MAX && applied != n {
                return Err(format!("{} applied {applied} of {n}", tool.name()).into());
            }
            eprintln!(
                "  {} no-op N={n}: {} set up in {}",
                o.backend.name(),
                tool.name(),
                fmt_d(t0.elapsed())
            );
            let h = open(o.backend, tool, o.handle, &db, false).await?;
            dbs.push((tool, db, h));
        }
        sizes.push((sets, dbs));
    }
    // Let the setup's writes reach the disk (and PostgreSQL's dirty
    // buffers its data files) before timing anything: the kernel's
    // writeback and the checkpointer would otherwise compete for the 2 CPUs.
    let _ = std::process::Command::new("sync").status();
    if let Some(admin) = server.pg_admin.as_mut() {
        sqlx::raw_sql("CHECKPOINT").execute(&mut *admin).await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A first round of calls over every (tool, size), untimed.
    for (k, &tool) in tools.iter().enumerate() {
        for (sets, dbs) in &mut sizes {
            for _ in 0..WARMUP {
                settle().await;
                run_tool(tool, sets, &mut dbs[k].2, false).await?;
            }
        }
    }
    // Then the timed calls (after WARMUP more untimed ones), a settle
    // before each. `--noop-order blocks` (default): each (tool, size)'s
    // calls back to back, so a tool's timing does not depend on how much
    // work its neighbours did (caches), which differs with N.
    // `--noop-order interleave`: one call per (tool, size) per round, so a
    // slow phase of the machine (background writes, CPU idle states) is
    // shared by every tool and size instead of landing on one block.
    let cells: Vec<(usize, usize)> = (0..tools.len())
        .flat_map(|k| (0..sizes.len()).map(move |z| (k, z)))
        .collect();
    let rounds: Vec<Vec<(usize, usize)>> = if o.interleave {
        (0..WARMUP + o.noop_reps).map(|_| cells.clone()).collect()
    } else {
        cells
            .iter()
            .map(|&c| vec![c; WARMUP + o.noop_reps])
            .collect()
    };
    let mut done = vec![0usize; cells.len()];
    for round in rounds {
        for (k, z) in round {
            let tool = tools[k];
            let (sets, dbs) = &mut sizes[z];
            let n = sets.n;
            settle().await;
            let t0 = Instant::now();
            let applied = run_tool(tool, sets, &mut dbs[k].2, false).await?;
            let d = t0.elapsed();
            if applied != 0 && applied != usize::MAX {
                return Err(format!("{}: no-op applied {applied}", tool.name()).into());
            }
            let i = k * sizes.len() + z;
            done[i] += 1;
            if done[i] > WARMUP {
                s.add(o.backend, "noop", tool, n, d);
            }
        }
    }
    for &tool in &tools {
        for (sets, _) in &sizes {
            let xs = s.get("noop", tool, sets.n).unwrap_or_default();
            eprintln!(
                "  {} no-op N={} {}: median {}",
                o.backend.name(),
                sets.n,
                tool.name(),
                fmt_d(median(xs))
            );
        }
    }
    for (_, dbs) in sizes {
        for (_, db, h) in dbs {
            close(h).await;
            server.drop_db(db).await?;
        }
    }
    Ok(())
}

fn report(o: &Opts, s: &Samples) -> String {
    let mut out = String::new();
    let b = o.backend.name();
    let handle = match o.handle {
        HandleKind::Pool => "pool",
        HandleKind::Conn => "connection",
    };
    if o.tools
        .iter()
        .any(|&t| s.get("apply", t, o.apply_n).is_some())
    {
        let floor = s.get("apply", Tool::Raw, o.apply_n).map(median);
        let _ = writeln!(
            out,
            "#### {b}: applying {} revisions to an empty database (sqlx tools given a {handle}; {} runs)\n",
            o.apply_n, o.apply_reps
        );
        let _ = writeln!(
            out,
            "| tool | median | min | max | per revision | ÷ raw floor |\n|---|---:|---:|---:|---:|---:|"
        );
        for &tool in &o.tools {
            let Some(xs) = s.get("apply", tool, o.apply_n) else {
                continue;
            };
            let m = median(xs);
            let ratio = floor.map_or_else(
                || "–".to_owned(),
                |f| format!("{:.2}×", m.as_secs_f64() / f.as_secs_f64()),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {ratio} |",
                tool.name(),
                fmt_d(m),
                fmt_d(min(xs)),
                fmt_d(max(xs)),
                fmt_d(m / u32::try_from(o.apply_n).unwrap_or(1)),
            );
        }
        out.push('\n');
    }
    if !o.noop_sizes.is_empty() && s.get("noop", Tool::Retort, o.noop_sizes[0]).is_some() {
        let _ = writeln!(
            out,
            "#### {b}: no-op startup check, already at head (median of {} calls; sqlx tools given a {handle})\n",
            o.noop_reps
        );
        let mut header = "| tool |".to_owned();
        let mut rule = "|---|".to_owned();
        for &n in &o.noop_sizes {
            let _ = write!(header, " N = {n} (median / min / max) |");
            rule.push_str("---:|");
        }
        if o.noop_sizes.len() >= 2 {
            let _ = write!(
                header,
                " N = {} ÷ N = {} |",
                o.noop_sizes[o.noop_sizes.len() - 1],
                o.noop_sizes[0]
            );
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for &tool in &o.tools {
            if matches!(tool, Tool::Raw | Tool::RawStmt) {
                continue;
            }
            let _ = write!(out, "| {} |", tool.name());
            for &n in &o.noop_sizes {
                match s.get("noop", tool, n) {
                    Some(xs) => {
                        let _ = write!(
                            out,
                            " {} / {} / {} |",
                            fmt_d(median(xs)),
                            fmt_d(min(xs)),
                            fmt_d(max(xs))
                        );
                    }
                    None => out.push_str(" – |"),
                }
            }
            if o.noop_sizes.len() >= 2 {
                let first = s.get("noop", tool, o.noop_sizes[0]).map(median);
                let last = s
                    .get("noop", tool, o.noop_sizes[o.noop_sizes.len() - 1])
                    .map(median);
                match (first, last) {
                    (Some(a), Some(z)) => {
                        let _ = write!(out, " {:.2}× |", z.as_secs_f64() / a.as_secs_f64());
                    }
                    _ => out.push_str(" – |"),
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn parse_args() -> Result<Opts> {
    let mut o = Opts {
        backend: Backend::Sqlite,
        apply_n: 1000,
        apply_reps: 5,
        noop_sizes: vec![10, 10_000],
        noop_reps: 30,
        tools: vec![
            Tool::Raw,
            Tool::RawStmt,
            Tool::Retort,
            Tool::Sqlx,
            Tool::Refinery,
        ],
        handle: HandleKind::Pool,
        only: None,
        samples: None,
        db_dir: None,
        no_autovacuum: false,
        interleave: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => {
                o.backend = match val()?.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => return Err(format!("unknown backend `{other}`").into()),
                }
            }
            "--apply-n" => o.apply_n = val()?.parse()?,
            "--apply-reps" => o.apply_reps = val()?.parse()?,
            "--noop-sizes" => {
                o.noop_sizes = val()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--noop-reps" => o.noop_reps = val()?.parse()?,
            "--tools" => {
                o.tools = val()?.split(',').map(Tool::parse).collect::<Result<_>>()?;
            }
            "--handle" => {
                o.handle = match val()?.as_str() {
                    "pool" => HandleKind::Pool,
                    "conn" => HandleKind::Conn,
                    other => return Err(format!("unknown handle `{other}`").into()),
                }
            }
            "--only" => o.only = Some(val()?),
            "--samples" => o.samples = Some(PathBuf::from(val()?)),
            "--db-dir" => o.db_dir = Some(PathBuf::from(val()?)),
            "--no-autovacuum" => o.no_autovacuum = true,
            "--noop-order" => {
                o.interleave = match val()?.as_str() {
                    "blocks" => false,
                    "interleave" => true,
                    other => return Err(format!("unknown order `{other}`").into()),
                }
            }
            "-h" | "--help" => {
                println!(
                    "apply --backend sqlite|postgres [--apply-n N] [--apply-reps R] \
                     [--noop-sizes 10,10000] [--noop-reps R] [--only apply|noop] \
                     [--tools retort,sqlx,refinery,raw,raw-stmt] [--handle pool|conn] [--samples FILE] \
                     [--db-dir DIR] [--no-autovacuum] [--noop-order blocks|interleave]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(o)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let o = parse_args()?;
    let root = std::env::temp_dir().join(format!("retort-bench-apply-{}", std::process::id()));
    fs::create_dir_all(&root)?;
    let dbdir = match &o.db_dir {
        Some(d) => d.join(format!("retort-bench-db-{}", std::process::id())),
        None => root.join("db"),
    };
    fs::create_dir_all(&dbdir)?;
    let mut server = Server::new(o.backend, dbdir.clone()).await?;
    if o.no_autovacuum
        && let Some(admin) = server.pg_admin.as_mut()
    {
        sqlx::raw_sql("ALTER SYSTEM SET autovacuum = off")
            .execute(&mut *admin)
            .await?;
        sqlx::raw_sql("SELECT pg_reload_conf()")
            .execute(&mut *admin)
            .await?;
    }
    let mut s = Samples {
        rows: Vec::new(),
        csv: String::new(),
    };
    let result = async {
        if o.only.as_deref() != Some("noop") {
            bench_apply(&o, &mut server, &root, &mut s).await?;
        }
        if o.only.as_deref() != Some("apply") {
            bench_noop(&o, &mut server, &root, &mut s).await?;
        }
        Ok::<_, Box<dyn StdError + Send + Sync>>(())
    }
    .await;
    let _ = fs::remove_dir_all(&root);
    let _ = fs::remove_dir_all(&dbdir);
    result?;
    print!("{}", report(&o, &s));
    if let Some(path) = &o.samples {
        let mut text = String::new();
        if !path.exists() {
            text.push_str("backend,benchmark,tool,revisions,nanoseconds\n");
        }
        text.push_str(&s.csv);
        use std::io::Write as _;
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?
            .write_all(text.as_bytes())?;
    }
    Ok(())
}
