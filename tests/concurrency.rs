//! Concurrency and locking on every backend: replicas racing to upgrade the
//! same database (tokio tasks and OS processes), `CREATE INDEX CONCURRENTLY`
//! in the middle of such a race, the lock timeout, the lock being per
//! database, and the lock being released on error, on cancellation, on a
//! panic and when a process is killed.
//!
//! Nothing here asserts on elapsed time. To keep a migration "inside a
//! revision" for as long as a test needs, the revision updates a row of a
//! `gate` table that the test keeps locked (PostgreSQL/MariaDB: a row lock
//! taken with `SELECT ... FOR UPDATE`; SQLite: the database write lock,
//! taken with `BEGIN IMMEDIATE`, which the revision waits for after raising
//! its busy timeout). The migration cannot finish until the test opens the
//! gate; the timeouts below are safety nets that turn a hang into a failure.
//!
//! Multi-process tests re-run this test binary (`std::env::current_exe()`)
//! with `RETORT_RELIABILITY_CHILD=1`, which makes the otherwise empty test
//! [`multiprocess_child`] run one blocking upgrade and print its outcome.
//! That binary is always the one cargo just built (an example would not be
//! rebuilt by `cargo test --test concurrency`, and its path under
//! `target/` depends on the target dir and triple).

mod common;
mod reliability;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use common::{Backend, TestDb, each_server, write_revisions};
// `SAFETY` bounds every wait (a safety net, not an assertion); `SHORT` is the
// lock timeout of migrators that must *not* have to wait.
use reliability::{
    BEFORE_GATE, GATE_REV, GATED, SAFETY, SHORT, bounded, child_outcome, gated_revisions,
    hold_sqlite_lock, log, migration_at_gate, spawn_child, sqlite_file, sqlite_lock_held,
    sqlite_lock_name, wait_lock_free, wait_until,
};
use retort::{Config, Error, Migrations, Report};
use sqlx::Connection;

// ---------------------------------------------------------------------------
// Revision graphs
// ---------------------------------------------------------------------------

/// Six revisions with a branch and a merge:
///
/// ```text
/// c0..01 ─┬─ c0..02 ── c0..04 ─┬─ c0..05 (merge) ── c0..06
///         └─ c0..03 ───────────┘
/// ```
///
/// Each inserts its id into `applied_log`, so the number of times its SQL
/// really ran can be counted independently of retort's bookkeeping. With
/// `concurrently`, `c0..03` builds an index with `CREATE INDEX
/// CONCURRENTLY` outside a transaction (PostgreSQL only).
const SIX: [&str; 6] = [
    "c0c0c0c00001",
    "c0c0c0c00002",
    "c0c0c0c00003",
    "c0c0c0c00004",
    "c0c0c0c00005",
    "c0c0c0c00006",
];
const SIX_HEAD: &str = "c0c0c0c00006";

fn six_revisions(concurrently: bool) -> tempfile::TempDir {
    let [r1, r2, r3, r4, r5, r6] = SIX;
    let up1 = format!(
        "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\nCREATE TABLE t1 (id INT PRIMARY KEY, v INT);\n{}",
        log(r1)
    );
    let up2 = format!("CREATE TABLE t2 (id INT PRIMARY KEY);\n{}", log(r2));
    let (extra3, up3) = if concurrently {
        (
            "-- Transactional: false",
            format!("CREATE INDEX CONCURRENTLY t1_v_ix ON t1 (v);\n{}", log(r3)),
        )
    } else {
        ("", format!("CREATE INDEX t1_v_ix ON t1 (v);\n{}", log(r3)))
    };
    let up4 = format!("CREATE TABLE t4 (id INT PRIMARY KEY);\n{}", log(r4));
    let up5 = format!("CREATE TABLE t5 (id INT PRIMARY KEY);\n{}", log(r5));
    let up6 = format!("CREATE TABLE t6 (id INT PRIMARY KEY);\n{}", log(r6));
    let merge = format!("{r4} {r3}");
    write_revisions(&[
        (r1, "", "", &up1, "DROP TABLE t1;\nDROP TABLE applied_log;"),
        (r2, r1, "", &up2, "DROP TABLE t2;"),
        (r3, r1, extra3, &up3, "DROP INDEX t1_v_ix;"),
        (r4, r2, "", &up4, "DROP TABLE t4;"),
        (r5, &merge, "", &up5, "DROP TABLE t5;"),
        (r6, r5, "", &up6, "DROP TABLE t6;"),
    ])
}

/// Four revisions in a line whose third fails (`broken`) or, once fixed,
/// succeeds.
const FAILING: [&str; 4] = [
    "fa11ed000001",
    "fa11ed000002",
    "fa11ed000003",
    "fa11ed000004",
];

fn failing_revisions(broken: bool) -> tempfile::TempDir {
    let [f1, f2, f3, f4] = FAILING;
    let up1 = format!(
        "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n{}",
        log(f1)
    );
    let up2 = format!("CREATE TABLE f2 (id INT PRIMARY KEY);\n{}", log(f2));
    let up3 = if broken {
        format!("INSERT INTO no_such_table (id) VALUES (1);\n{}", log(f3))
    } else {
        log(f3)
    };
    let up4 = format!("CREATE TABLE f4 (id INT PRIMARY KEY);\n{}", log(f4));
    write_revisions(&[
        (f1, "", "", &up1, "DROP TABLE applied_log;"),
        (f2, f1, "", &up2, "DROP TABLE f2;"),
        (f3, f2, "", &up3, "SELECT 1;"),
        (f4, f3, "", &up4, "DROP TABLE f4;"),
    ])
}

fn load(dir: &tempfile::TempDir) -> Arc<Migrations> {
    Arc::new(
        Migrations::from_dir(dir.path())
            .unwrap_or_else(|e| panic!("test revisions do not load: {e}")),
    )
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Upgrades through a URL or, with `via_pool`, through an sqlx pool of the
/// backend (what a service passes), with `config`.
async fn upgrade(
    backend: Backend,
    url: &str,
    migrations: &Migrations,
    config: Config,
    target: &str,
    via_pool: bool,
) -> Result<Report, Error> {
    let migrator = migrations.with_config(config);
    if !via_pool {
        return migrator.upgrade(url, target).await;
    }
    match backend {
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect(url)
                .await
                .expect("PostgreSQL pool");
            let result = migrator.upgrade(&pool, target).await;
            pool.close().await;
            result
        }
        Backend::MySql => {
            let pool = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(2)
                .connect(url)
                .await
                .expect("MariaDB pool");
            let result = migrator.upgrade(&pool, target).await;
            pool.close().await;
            result
        }
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .expect("SQLite URL")
                .create_if_missing(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(2)
                .connect_with(options)
                .await
                .expect("SQLite pool");
            let result = migrator.upgrade(&pool, target).await;
            pool.close().await;
            result
        }
    }
}

fn short_timeout(timeout: Duration) -> Config {
    Config::default().lock_timeout(timeout)
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// The revisions a report says it applied.
fn applied(report: &Report) -> Vec<String> {
    report.steps.iter().map(|s| s.revision.clone()).collect()
}

/// Every revision of `ids` was applied exactly once: one `upgrade`/`applied`
/// history row each, one `applied_log` row each (its SQL ran once), no
/// unfinished step, and the version table holds `head`. With `strict`, the
/// history holds nothing else either.
async fn assert_applied_once(
    db: &TestDb,
    migrations: &Migrations,
    ids: &[&str],
    head: &str,
    strict: bool,
) {
    let history = migrations
        .history(db.url.as_str())
        .await
        .expect("read history");
    let mut upgrades: Vec<String> = history
        .iter()
        .filter(|h| h.operation == "upgrade" && h.status == "applied")
        .map(|h| h.revision.clone())
        .collect();
    upgrades.sort();
    assert_eq!(
        upgrades,
        sorted(ids),
        "one applied upgrade per revision expected; history: {history:#?}"
    );
    assert!(
        history
            .iter()
            .all(|h| h.status != "running" && h.status != "failed"),
        "unfinished steps left in the history: {history:#?}"
    );
    if strict {
        assert_eq!(history.len(), ids.len(), "history: {history:#?}");
    }
    assert_eq!(
        db.query_strings("SELECT rev FROM applied_log ORDER BY rev")
            .await,
        sorted(ids),
        "each revision's SQL must have run exactly once"
    );
    assert_eq!(
        migrations
            .current(db.url.as_str())
            .await
            .expect("read version table"),
        [head]
    );
}

/// The value of the gate row (how many times the gate revision's UPDATE
/// took effect).
async fn gate_count(db: &TestDb) -> Vec<String> {
    db.query_strings(match db.backend {
        Backend::Postgres => "SELECT n::text FROM gate",
        Backend::MySql => "SELECT CAST(n AS CHAR) FROM gate",
        Backend::Sqlite => "SELECT CAST(n AS TEXT) FROM gate",
    })
    .await
}

/// Asserts that nothing holds the migration lock of `db`, looking at the
/// lock itself where it is visible from outside (PostgreSQL: `pg_locks`;
/// SQLite: the lock file). MariaDB's named locks cannot be listed without
/// the name; there the tests check that a migrator with a short lock
/// timeout gets the lock.
async fn assert_lock_free(db: &TestDb) {
    match db.backend {
        Backend::Postgres => {
            let held = db
                .query_strings(
                    "SELECT pid::text FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .await;
            assert!(held.is_empty(), "advisory lock still held by {held:?}");
        }
        Backend::Sqlite => {
            let path = sqlite_file(db);
            assert!(
                !sqlite_lock_held(&path),
                "the migration lock of {} is still held",
                path.display()
            );
        }
        Backend::MySql => {}
    }
}

/// A connection the test holds open.
enum Conn {
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Conn {
    async fn open(db: &TestDb) -> Self {
        match db.backend {
            Backend::Postgres => {
                Self::Postgres(sqlx::PgConnection::connect(&db.url).await.expect("connect"))
            }
            Backend::MySql => Self::MySql(
                sqlx::MySqlConnection::connect(&db.url)
                    .await
                    .expect("connect"),
            ),
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url)
                    .expect("SQLite URL")
                    .create_if_missing(true);
                Self::Sqlite(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .expect("connect"),
                )
            }
        }
    }

    async fn execute(&mut self, sql: &'static str) {
        let result = match self {
            Self::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Self::MySql(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            Self::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Upgrades through this connection (the caller's own connection).
    async fn upgrade(&mut self, migrations: &Migrations, target: &str) -> Result<Report, Error> {
        match self {
            Self::Postgres(c) => migrations.upgrade(c, target).await,
            Self::MySql(c) => migrations.upgrade(c, target).await,
            Self::Sqlite(c) => migrations.upgrade(c, target).await,
        }
    }

    /// Checks the connection still works, then closes it.
    async fn ping_and_close(self) {
        match self {
            Self::Postgres(mut c) => {
                c.ping().await.expect("ping");
                c.close().await.expect("close");
            }
            Self::MySql(mut c) => {
                c.ping().await.expect("ping");
                c.close().await.expect("close");
            }
            Self::Sqlite(mut c) => {
                c.ping().await.expect("ping");
                c.close().await.expect("close");
            }
        }
    }
}

/// The test's hold on the `gate` row (see the module docs).
struct Gate(Conn);

impl Gate {
    /// Closes the gate: revisions updating the gate row wait.
    async fn close(db: &TestDb) -> Self {
        let mut conn = Conn::open(db).await;
        if db.backend == Backend::Sqlite {
            conn.execute("BEGIN IMMEDIATE").await;
        } else {
            conn.execute("BEGIN").await;
            conn.execute("SELECT n FROM gate WHERE id = 1 FOR UPDATE")
                .await;
        }
        Self(conn)
    }

    /// Opens the gate.
    async fn open(self) {
        let Self(mut conn) = self;
        conn.execute("ROLLBACK").await;
        conn.ping_and_close().await;
    }
}

/// A migration (`upgrade head`) running in a task, waiting at the gate.
struct Gated {
    gate: Gate,
    task: tokio::task::JoinHandle<Result<Report, Error>>,
    /// Makes the task panic while the migration is in progress.
    panic: tokio::sync::oneshot::Sender<()>,
}

/// Upgrades `db` to the revision before the gate, closes the gate, and
/// starts `upgrade head` in a task, returning once that task holds the
/// migration lock and waits at the gate.
async fn start_migration_blocked_at_gate(db: &TestDb, migrations: &Arc<Migrations>) -> Gated {
    let before = bounded(
        "upgrade to the revision before the gate",
        migrations.upgrade(db.url.as_str(), BEFORE_GATE),
    )
    .await
    .expect("upgrade to the revision before the gate");
    assert_eq!(applied(&before), GATED[..2]);
    let gate = Gate::close(db).await;
    let (m, url) = (Arc::clone(migrations), db.url.clone());
    let (panic, trigger) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let upgrade = m.upgrade(url.as_str(), "head");
        tokio::select! {
            result = upgrade => result,
            Ok(()) = trigger => panic!("(expected) the service panics while migrating"),
        }
    });
    wait_until("the migration waits at the gate", || migration_at_gate(db)).await;
    assert!(!task.is_finished(), "the gated migration finished early");
    Gated { gate, task, panic }
}

// ---------------------------------------------------------------------------
// Racing replicas: tokio tasks
// ---------------------------------------------------------------------------

/// Eight tasks upgrade the same empty database at once (half through a
/// URL, half through a pool of their own): all succeed, exactly one applies
/// each revision, the others find nothing to do.
async fn race_tasks(db: &TestDb, concurrently: bool) {
    const TASKS: usize = 8;
    let dir = six_revisions(concurrently);
    let migrations = load(&dir);
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..TASKS {
        let (m, url, backend, barrier) = (
            Arc::clone(&migrations),
            db.url.clone(),
            db.backend,
            Arc::clone(&barrier),
        );
        tasks.spawn(async move {
            barrier.wait().await;
            upgrade(backend, &url, &m, Config::default(), "head", i % 2 == 1).await
        });
    }
    let results = bounded("the racing upgrades", tasks.join_all()).await;
    let mut steps: Vec<String> = Vec::new();
    for result in results {
        let report = result.unwrap_or_else(|e| panic!("a racing upgrade failed: {e}"));
        assert_eq!(report.heads_after, [SIX_HEAD], "{report:?}");
        steps.extend(applied(&report));
    }
    // Each revision ran in exactly one task.
    let mut sorted_steps = steps.clone();
    sorted_steps.sort();
    assert_eq!(sorted_steps, sorted(&SIX), "steps of all tasks: {steps:?}");
    assert_applied_once(db, &migrations, &SIX, SIX_HEAD, true).await;
    assert_lock_free(db).await;
}

/// The index built by `CREATE INDEX CONCURRENTLY` exists and is valid (an
/// interrupted build leaves an invalid one behind).
async fn assert_valid_index(db: &TestDb) {
    let valid = db
        .query_strings(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = 't1_v_ix' AND i.indisvalid AND i.indisready",
        )
        .await;
    assert_eq!(valid, ["t1_v_ix"]);
}

async fn eight_tasks_upgrade_at_once(db: &TestDb) {
    race_tasks(db, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_eight_tasks_race_through_create_index_concurrently() {
    each_server(Backend::Postgres, async |db| {
        race_tasks(db, true).await;
        assert_valid_index(db).await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// Racing replicas: OS processes
// ---------------------------------------------------------------------------

const CHILD_TEST: &str = "multiprocess_child";

/// Not a test on its own: with `RETORT_RELIABILITY_CHILD=1` (set by the
/// multi-process tests, which run this binary again with
/// `--exact multiprocess_child`), runs one blocking upgrade as a separate
/// process and prints its outcome ([`reliability::child_main`]). Without
/// the variable it does nothing.
#[test]
fn multiprocess_child() {
    reliability::child_main();
}

/// Four processes upgrade the same empty database at once.
async fn race_processes(db: &TestDb, concurrently: bool) {
    const PROCESSES: usize = 4;
    let dir = six_revisions(concurrently);
    let migrations = load(&dir);
    let signals = tempfile::tempdir().expect("temp dir");
    let go = signals.path().join("go");
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| spawn_child(CHILD_TEST, &db.url, dir.path(), SAFETY, Some(&go)))
        .collect();
    std::fs::write(&go, b"go").expect("write the go file");
    let mut steps = Vec::new();
    for child in children {
        let output = bounded("a child process", child.wait_with_output())
            .await
            .expect("wait for the child");
        match child_outcome(&output) {
            Ok(revs) => steps.extend(revs),
            Err(e) => panic!("a racing process failed: {e:?}"),
        }
    }
    let mut sorted_steps = steps.clone();
    sorted_steps.sort();
    assert_eq!(
        sorted_steps,
        sorted(&SIX),
        "steps of all processes: {steps:?}"
    );
    assert_applied_once(db, &migrations, &SIX, SIX_HEAD, true).await;
    assert_lock_free(db).await;
}

async fn four_processes_upgrade_at_once(db: &TestDb) {
    race_processes(db, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_four_processes_race_through_create_index_concurrently() {
    each_server(Backend::Postgres, async |db| {
        race_processes(db, true).await;
        assert_valid_index(db).await;
    })
    .await;
}

// ---------------------------------------------------------------------------
// Lock timeout
// ---------------------------------------------------------------------------

/// While one migration holds the lock (waiting at the gate), a second one
/// with a 500 ms lock timeout fails with `LockTimeout` and a clear message,
/// and leaves no trace; the first then completes.
async fn lock_timeout_while_another_migrates(db: &TestDb) {
    let dir = gated_revisions(db.backend);
    let migrations = load(&dir);
    let Gated {
        gate, task: first, ..
    } = start_migration_blocked_at_gate(db, &migrations).await;

    let timeout = Duration::from_millis(500);
    let err = bounded(
        "the second migration",
        upgrade(
            db.backend,
            &db.url,
            &migrations,
            short_timeout(timeout),
            "head",
            false,
        ),
    )
    .await
    .expect_err("the second migration must not get the lock");
    let Error::LockTimeout { what, timeout: t } = &err else {
        panic!("expected Error::LockTimeout, got {err:?}");
    };
    assert_eq!(*t, timeout);
    let lock = match db.backend {
        Backend::Postgres => "PostgreSQL advisory lock".to_owned(),
        Backend::MySql => "MySQL named lock".to_owned(),
        Backend::Sqlite => sqlite_lock_name(&sqlite_file(db)),
    };
    assert!(what.contains(&lock), "{what:?} should name the {lock}");
    let message = err.to_string();
    for part in [
        "timed out after 0.5s waiting for the migration lock",
        what.as_str(),
        "another process is migrating this database",
        "raise the lock timeout",
    ] {
        assert!(
            message.contains(part),
            "{message:?} should contain {part:?}"
        );
    }

    gate.open().await;
    let report = bounded("the first migration", first)
        .await
        .expect("first migration task")
        .expect("the first migration succeeds once the gate opens");
    assert_eq!(applied(&report), GATED[2..]);
    assert_applied_once(db, &migrations, &GATED, GATED[3], true).await;
    assert_eq!(gate_count(db).await, ["1"]);
    assert_lock_free(db).await;
}

/// The lock belongs to the database: a migration holding it on one
/// database does not hold up a migration of another database on the same
/// server.
async fn lock_is_per_database(db: &TestDb) {
    let dir = gated_revisions(db.backend);
    let migrations = load(&dir);
    let other = db.sibling().await;
    let Gated {
        gate, task: first, ..
    } = start_migration_blocked_at_gate(db, &migrations).await;

    let report = bounded(
        "the migration of the other database",
        upgrade(
            other.backend,
            &other.url,
            &migrations,
            short_timeout(Duration::from_millis(500)),
            "head",
            false,
        ),
    )
    .await
    .unwrap_or_else(|e| {
        panic!("migrating another database must not wait for this one's lock: {e}")
    });
    assert_eq!(applied(&report), GATED);

    gate.open().await;
    bounded("the first migration", first)
        .await
        .expect("first migration task")
        .expect("the first migration succeeds once the gate opens");
    assert_applied_once(db, &migrations, &GATED, GATED[3], true).await;
    assert_applied_once(&other, &migrations, &GATED, GATED[3], true).await;
    other.drop_db().await;
}

/// SQLite: the migration lock held by someone else (here: this test,
/// through its own file description, as another process would) makes the
/// migration time out; once released, the migration runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lock_held_elsewhere() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let dir = six_revisions(false);
    let migrations = load(&dir);
    let path = sqlite_file(&db);
    // The lock lives on the database file: create it first, as a running
    // service's pool would have.
    Conn::open(&db).await.ping_and_close().await;
    let holder = hold_sqlite_lock(&path);

    let err = bounded(
        "the blocked migration",
        migrations
            .with_config(short_timeout(Duration::from_millis(500)))
            .upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect_err("the lock is held");
    let name = sqlite_lock_name(&path);
    assert!(
        matches!(&err, Error::LockTimeout { what, .. } if *what == name),
        "expected a LockTimeout naming the {name}, got {err:?}"
    );
    assert!(err.to_string().starts_with(&format!(
        "timed out after 0.5s waiting for the migration lock ({name})"
    )));

    holder.release();
    let report = bounded(
        "the migration",
        migrations
            .with_config(short_timeout(SHORT))
            .upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect("the lock is free again");
    assert_eq!(report.steps.len(), SIX.len());
    assert_applied_once(&db, &migrations, &SIX, SIX_HEAD, true).await;
    db.drop_db().await;
}

// ---------------------------------------------------------------------------
// The lock is released on error, cancellation and process death
// ---------------------------------------------------------------------------

/// A failing revision releases the lock: a second run with a short lock
/// timeout gets it at once and, with the revision fixed, completes
/// (MariaDB first reports the failed state, as DDL there is not rolled
/// back, and `repair` resolves it).
async fn lock_released_after_failing_revision(db: &TestDb) {
    let broken_dir = failing_revisions(true);
    let broken = load(&broken_dir);
    let fixed_dir = failing_revisions(false);
    let fixed = load(&fixed_dir);
    let quick = || short_timeout(Duration::from_millis(500));

    let err = bounded(
        "the failing upgrade",
        broken.with_config(quick()).upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect_err("the third revision fails");
    match &err {
        Error::Statement {
            revision,
            statement,
            rolled_back,
            ..
        } => {
            assert_eq!(revision, FAILING[2]);
            assert_eq!(*statement, 1);
            assert_eq!(*rolled_back, db.backend != Backend::MySql);
        }
        other => panic!("expected Error::Statement, got {other:?}"),
    }
    assert_lock_free(db).await;

    // The same broken revision again: the lock is free, so it fails the
    // same way (or, on MariaDB, refuses to run past the failed step).
    let again = bounded(
        "the second failing upgrade",
        broken.with_config(quick()).upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect_err("still broken");
    match (db.backend, &again) {
        (
            Backend::MySql,
            Error::FailedState {
                revision,
                interrupted,
                ..
            },
        ) => {
            assert_eq!(revision, FAILING[2]);
            assert!(!interrupted, "{again}");
        }
        (Backend::Postgres | Backend::Sqlite, Error::Statement { revision, .. }) => {
            assert_eq!(revision, FAILING[2]);
        }
        _ => panic!("expected the revision to fail again, got {again:?}"),
    }
    assert_lock_free(db).await;

    if db.backend == Backend::MySql {
        bounded("repair", fixed.with_config(quick()).repair(db.url.as_str()))
            .await
            .expect("repair gets the lock");
    }
    let report = bounded(
        "the fixed upgrade",
        fixed.with_config(quick()).upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect("the fixed revision applies");
    assert_eq!(applied(&report), FAILING[2..]);
    assert_applied_once(
        db,
        &fixed,
        &FAILING,
        FAILING[3],
        db.backend != Backend::MySql,
    )
    .await;
    assert_lock_free(db).await;
}

/// The same through a connection the caller owns and keeps open: there the
/// lock lives on the caller's connection (PostgreSQL, MariaDB), so only an
/// explicit release on the error path frees it for other processes.
async fn lock_released_after_failing_revision_on_borrowed_connection(db: &TestDb) {
    let broken_dir = failing_revisions(true);
    let broken = load(&broken_dir);
    let fixed_dir = failing_revisions(false);
    let fixed = load(&fixed_dir);
    let quick = || short_timeout(Duration::from_millis(500));

    let mut conn = Conn::open(db).await;
    let err = bounded("the failing upgrade", conn.upgrade(&broken, "head")).await;
    let err = err.expect_err("the third revision fails");
    assert!(
        matches!(&err, Error::Statement { revision, .. } if revision == FAILING[2]),
        "{err:?}"
    );
    assert_lock_free(db).await;

    // The caller's connection is still open; another process migrates.
    if db.backend == Backend::MySql {
        bounded("repair", fixed.with_config(quick()).repair(db.url.as_str()))
            .await
            .expect("repair gets the lock while the caller's connection is open");
    }
    let report = bounded(
        "the fixed upgrade",
        fixed.with_config(quick()).upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect("the lock is free while the caller's connection is open");
    assert_eq!(applied(&report), FAILING[2..]);
    assert_applied_once(
        db,
        &fixed,
        &FAILING,
        FAILING[3],
        db.backend != Backend::MySql,
    )
    .await;
    // The caller's connection still works.
    conn.ping_and_close().await;
}

/// Cancelling a migration (aborting its task while it is inside a
/// revision) releases the lock: the next run with a short lock timeout gets
/// it even while the gate is still closed, and once the gate opens the
/// upgrade completes with every revision applied once. On MariaDB the
/// interrupted revision is reported (`FailedState`, interrupted) until
/// `repair` resolves it.
async fn lock_released_after_task_aborted(db: &TestDb) {
    let dir = gated_revisions(db.backend);
    let migrations = load(&dir);
    let Gated { gate, task, .. } = start_migration_blocked_at_gate(db, &migrations).await;
    task.abort();
    let join = bounded("the aborted task", task).await;
    assert!(
        join.as_ref()
            .is_err_and(tokio::task::JoinError::is_cancelled),
        "the task should have been cancelled mid-revision, got {join:?}"
    );
    after_interrupted_migration(db, &migrations, gate).await;
}

/// The same when the task running the migration panics mid-revision (the
/// migration future is dropped while unwinding).
async fn lock_released_after_task_panicked(db: &TestDb) {
    let dir = gated_revisions(db.backend);
    let migrations = load(&dir);
    let Gated { gate, task, panic } = start_migration_blocked_at_gate(db, &migrations).await;
    panic.send(()).expect("the task is running");
    let join = bounded("the panicking task", task).await;
    assert!(
        join.as_ref().is_err_and(tokio::task::JoinError::is_panic),
        "the task should have panicked mid-revision, got {join:?}"
    );
    after_interrupted_migration(db, &migrations, gate).await;
}

/// What must hold after a migration waiting at the gate was cancelled,
/// unwound by a panic or killed: the lock is released while the gate is
/// still closed (a run with a short lock timeout gets it), and the upgrade
/// can be completed.
async fn after_interrupted_migration(db: &TestDb, migrations: &Migrations, gate: Gate) {
    let quick = || short_timeout(SHORT);
    // The interrupted migration's lock connection was dropped, not closed:
    // the server releases its lock once it reads the closed socket, a
    // moment later, however loaded the machine. Wait for that (bounded by
    // the safety timeout) instead of betting that it fits in the run's
    // lock timeout.
    wait_lock_free(db).await;
    // An upgrade to the revision before the gate (already applied) needs
    // the lock but not the gate.
    let result = bounded(
        "a run after the interruption",
        upgrade(db.backend, &db.url, migrations, quick(), BEFORE_GATE, false),
    )
    .await;
    match (db.backend, result) {
        (
            Backend::MySql,
            Err(Error::FailedState {
                revision,
                interrupted,
                error,
                ..
            }),
        ) => {
            assert_eq!(revision, GATE_REV);
            assert!(interrupted, "the step was interrupted, not failed");
            assert_eq!(error, None);
        }
        (Backend::Postgres | Backend::Sqlite, Ok(report)) => {
            assert!(report.is_noop(), "{report:?}");
        }
        (_, other) => panic!("the lock must be free after the interruption, got {other:?}"),
    }

    gate.open().await;
    if db.backend == Backend::MySql {
        let err = bounded(
            "upgrade on MariaDB",
            migrations
                .with_config(quick())
                .upgrade(db.url.as_str(), "head"),
        )
        .await
        .expect_err("MariaDB refuses to run past the interrupted revision");
        assert!(
            matches!(
                &err,
                Error::FailedState {
                    interrupted: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("was interrupted"), "{err}");
        bounded(
            "repair",
            migrations.with_config(quick()).repair(db.url.as_str()),
        )
        .await
        .expect("repair resolves the interrupted step");
    }
    let report = bounded(
        "the upgrade after the interruption",
        migrations
            .with_config(quick())
            .upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect("the upgrade completes");
    assert_eq!(applied(&report), GATED[2..]);
    // On MariaDB the interrupted step stays in the history, resolved.
    assert_applied_once(
        db,
        migrations,
        &GATED,
        GATED[3],
        db.backend != Backend::MySql,
    )
    .await;
    if db.backend != Backend::MySql {
        // The interrupted transaction was rolled back: its UPDATE did not
        // take effect. (MariaDB autocommits each statement; there the
        // dead session's UPDATE may complete once the gate opens.)
        assert_eq!(gate_count(db).await, ["1"]);
    }
    assert_lock_free(db).await;
}

/// A child process killed (SIGKILL) while inside a revision leaves no lock
/// behind: the server drops a dead connection's session locks, the OS
/// drops a dead process's file locks. On MariaDB the next run reports the
/// interrupted revision (`FailedState`).
async fn lock_released_after_process_killed(db: &TestDb) {
    let dir = gated_revisions(db.backend);
    let migrations = load(&dir);
    bounded(
        "upgrade to the revision before the gate",
        migrations.upgrade(db.url.as_str(), BEFORE_GATE),
    )
    .await
    .expect("upgrade to the revision before the gate");
    let gate = Gate::close(db).await;
    let mut child = spawn_child(CHILD_TEST, &db.url, dir.path(), SAFETY, None);
    wait_until("the child waits at the gate", || migration_at_gate(db)).await;
    assert!(
        child.try_wait().expect("child status").is_none(),
        "the child finished early"
    );
    child.start_kill().expect("SIGKILL the child");
    let output = bounded("the killed child", child.wait_with_output())
        .await
        .expect("wait for the killed child");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(output.status.signal(), Some(9), "{:?}", output.status);
    }
    assert!(!output.status.success());

    after_interrupted_migration(db, &migrations, gate).await;
}

backend_tests!(
    eight_tasks_upgrade_at_once,
    four_processes_upgrade_at_once,
    lock_timeout_while_another_migrates,
    lock_is_per_database,
    lock_released_after_failing_revision,
    lock_released_after_failing_revision_on_borrowed_connection,
    lock_released_after_task_aborted,
    lock_released_after_task_panicked,
    lock_released_after_process_killed,
);
