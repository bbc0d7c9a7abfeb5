//! Runtime benchmark: applying revisions, and the no-op startup check when
//! the database is already at head, for retort, sqlx's `Migrator` and
//! refinery on the same generated SQL, next to raw execution of that SQL
//! with no bookkeeping (the floor). Driven by `bench/runtime.sh`, which
//! starts PostgreSQL and MariaDB; see BENCHMARKS.md for the results and the
//! method.
//!
//! ```text
//! apply --backend sqlite|postgres|mysql [--apply-n 1000] [--apply-reps 5]
//!       [--noop-sizes 10,10000] [--noop-reps 30] [--only apply|noop]
//!       [--tools retort,sqlx,refinery,raw,raw-stmt] [--handle pool|conn]
//!       [--samples FILE] [--db-dir DIR] [--no-autovacuum] [--durable]
//!       [--noop-order blocks|interleave]
//! ```
//!
//! `--no-autovacuum` (PostgreSQL) runs `ALTER SYSTEM SET autovacuum = off`
//! on the server: for the throwaway servers of `scripts/with-services.sh`
//! only. Autovacuum workers processing the thousands of tables a run creates
//! otherwise compete for the 2 CPUs at random moments, and analyzing the
//! version table would hide the plan of a never-analyzed (fresh) database.
//! `--durable` (PostgreSQL) refuses to run unless the server has
//! `fsync=on` (`scripts/with-services.sh --durable`), so that a durable
//! run cannot silently measure a server that skips its WAL flushes.
//!
//! PostgreSQL: the server of `RETORT_TEST_POSTGRES_URL`; every run gets a
//! database of its own (`CREATE DATABASE`, dropped afterwards). MySQL
//! (`--backend mysql`): likewise on the server of `RETORT_TEST_MYSQL_URL`
//! (`runtime.sh` starts a MariaDB with durable commits for it). SQLite: a
//! new file in a temp dir per run. Prints markdown on stdout, progress on stderr,
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
//!   pools in refinery: always an open connection), and on MySQL
//!   `Runner::run_async(&mut mysql_async::Pool)` (its `mysql_async` driver
//!   takes a pool: one connection, kept warm);
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
//! itself (untimed; retort in single-transaction mode except on MySQL,
//! which refuses it, refinery grouped, SQLite with `synchronous=OFF`, which
//! only this setup connection gets, MySQL with
//! `innodb_flush_log_at_trx_commit=0` server-wide until the setup ends),
//! then `sync` (PostgreSQL: `CHECKPOINT`) and a 2 s pause, 20 untimed calls
//! per (tool, size); then per (tool, size) 20 more warm-up calls and
//! `--noop-reps` timed calls, on a handle opened after the setup. Between
//! two calls the runtime spins for 150 µs (see [`settle`]). Each call is
//! checked to have applied nothing.
//!
//! The runtime is tokio's current-thread runtime.

use std::error::Error as StdError;
use std::fs;
use std::path::PathBuf;

type Result<T, E = Box<dyn StdError + Send + Sync>> = std::result::Result<T, E>;

mod report;
mod revisions;
mod runs;
mod setup;
mod tools;

use report::{Samples, report};
use runs::{bench_apply, bench_noop};
use setup::{Backend, HandleKind, Server};
use tools::Tool;

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
    /// PostgreSQL: insist on a server with `fsync=on`.
    durable: bool,
    /// No-op calls round-robin over (tool, size) instead of in blocks.
    interleave: bool,
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
        durable: false,
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
                    "mysql" => Backend::Mysql,
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
            "--durable" => o.durable = true,
            "--noop-order" => {
                o.interleave = match val()?.as_str() {
                    "blocks" => false,
                    "interleave" => true,
                    other => return Err(format!("unknown order `{other}`").into()),
                }
            }
            "-h" | "--help" => {
                println!(
                    "apply --backend sqlite|postgres|mysql [--apply-n N] [--apply-reps R] \
                     [--noop-sizes 10,10000] [--noop-reps R] [--only apply|noop] \
                     [--tools retort,sqlx,refinery,raw,raw-stmt] [--handle pool|conn] [--samples FILE] \
                     [--db-dir DIR] [--no-autovacuum] [--durable] [--noop-order blocks|interleave]"
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
    if let Some(admin) = server.pg_admin.as_mut() {
        if o.no_autovacuum {
            sqlx::raw_sql("ALTER SYSTEM SET autovacuum = off")
                .execute(&mut *admin)
                .await?;
            sqlx::raw_sql("SELECT pg_reload_conf()")
                .execute(&mut *admin)
                .await?;
        }
        let fsync: String = sqlx::query_scalar("SELECT current_setting('fsync')")
            .fetch_one(&mut *admin)
            .await?;
        if o.durable && fsync != "on" {
            return Err("--durable: the PostgreSQL server runs with fsync=off \
                 (start it with scripts/with-services.sh --durable)"
                .into());
        }
        eprintln!("apply: PostgreSQL fsync={fsync}");
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
