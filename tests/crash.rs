//! Crash safety: a child process upgrades a 12-revision history and is
//! killed with SIGKILL at a random moment; after each kill the recorded
//! version must match the schema actually present (introspected), no lock
//! may be left held, and re-running the upgrade must complete, applying
//! every revision exactly once (`applied_log` rows and history rows).
//!
//! On PostgreSQL and SQLite each revision is one transaction with its
//! bookkeeping, so a kill leaves revisions either fully applied and
//! recorded or absent. On MariaDB (DDL commits implicitly) a kill inside a
//! revision leaves a `running` attempt row: the next run must refuse with
//! `Error::FailedState { interrupted: true }` naming the revision and the
//! commands that resolve it; the test then resolves it as a user would
//! (inspects the schema, drops the revision's partial objects and runs
//! `repair`, or runs `stamp` when every statement took effect).
//!
//! The test servers run with `fsync=off` / relaxed InnoDB flushing: that
//! is fine here, because only the *client* is killed; the server keeps
//! running, and its durability on power loss is not what is tested.
//!
//! Env: `RETORT_CRASH_TRIALS` (default 5 per backend; the full run uses
//! 50), `RETORT_CRASH_SEED` (replays the kill moments of a printed seed),
//! `RETORT_CRASH_SPAN_MS` (the span kill delays are drawn from; by default
//! measured by one uninterrupted run, printed with the seed).

mod common;
mod reliability;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Backend, Server, TestDb, write_revisions};
use reliability::{
    Conn, SAFETY, XorShift, assert_lock_free, bounded, child_outcome, short, spawn_child,
    wait_sessions_gone,
};
use retort::{Error, Migrations};

const REVISIONS: usize = 12;
/// Rows copied from table to table, so that revisions take a while.
const ROWS: u64 = 10_000;
const CHILD_TEST: &str = "crash_child";

fn rev(k: usize) -> String {
    format!("c7a5{k:08}")
}

fn table(k: usize) -> String {
    format!("t{k:02}")
}

fn column(k: usize) -> String {
    format!("c{k:02}")
}

/// What each statement of revision `k` leaves behind, in order: the
/// revision's effects are a prefix of these.
#[derive(Debug)]
enum Probe {
    Table(String),
    Rows(String, u64),
    Column(String, String),
    Filled(String, String),
    Logged(String),
}

fn probes(k: usize) -> Vec<Probe> {
    let t = table(k);
    if k == 1 {
        return vec![
            Probe::Table("applied_log".into()),
            Probe::Table("digits".into()),
            Probe::Rows("digits".into(), 10),
            Probe::Table(t.clone()),
            Probe::Rows(t, ROWS),
            Probe::Logged(rev(1)),
        ];
    }
    let (p, c) = (table(k - 1), column(k));
    vec![
        Probe::Table(t.clone()),
        Probe::Rows(t, ROWS),
        Probe::Column(p.clone(), c.clone()),
        Probe::Filled(p, c),
        Probe::Logged(rev(k)),
    ]
}

fn upgrade_sql(k: usize) -> String {
    let log = format!("INSERT INTO applied_log (rev) VALUES ('{}');", rev(k));
    let t = table(k);
    if k == 1 {
        return format!(
            "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n\
             CREATE TABLE digits (d INT NOT NULL);\n\
             INSERT INTO digits (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);\n\
             CREATE TABLE {t} (id INT PRIMARY KEY, v INT NOT NULL);\n\
             INSERT INTO {t} (id, v) SELECT a.d * 1000 + b.d * 100 + c.d * 10 + e.d, a.d \
             FROM digits a, digits b, digits c, digits e;\n{log}"
        );
    }
    let (p, c) = (table(k - 1), column(k));
    format!(
        "CREATE TABLE {t} (id INT PRIMARY KEY, v INT NOT NULL);\n\
         INSERT INTO {t} (id, v) SELECT id, v + 1 FROM {p};\n\
         ALTER TABLE {p} ADD COLUMN {c} INT;\n\
         UPDATE {p} SET {c} = v;\n{log}"
    )
}

fn revisions() -> tempfile::TempDir {
    let ids: Vec<String> = (1..=REVISIONS).map(rev).collect();
    let ups: Vec<String> = (1..=REVISIONS).map(upgrade_sql).collect();
    let specs: Vec<(&str, &str, &str, &str, &str)> = (0..REVISIONS)
        .map(|i| {
            let parent = if i == 0 { "" } else { ids[i - 1].as_str() };
            (ids[i].as_str(), parent, "", ups[i].as_str(), "SELECT 1;")
        })
        .collect();
    write_revisions(&specs)
}

/// Not a test on its own: the child process of the crash trials.
#[test]
fn crash_child() {
    reliability::child_main();
}

async fn probe(c: &mut Conn, tables: &[String], p: &Probe) -> bool {
    match p {
        Probe::Table(t) => tables.contains(t),
        Probe::Rows(t, n) => tables.contains(t) && c.count(&format!("FROM {t}")).await == *n,
        Probe::Column(t, col) => c.columns(t).await.contains(col),
        Probe::Filled(t, col) => {
            c.columns(t).await.contains(col)
                && c.count(&format!("FROM {t} WHERE {col} IS NULL")).await == 0
        }
        Probe::Logged(r) => {
            if !tables.iter().any(|t| t == "applied_log") {
                return false;
            }
            let n = c
                .count(&format!("FROM applied_log WHERE rev = '{r}'"))
                .await;
            assert!(n <= 1, "revision {r} ran {n} times");
            n == 1
        }
    }
}

/// How many statements of revision `k` took effect, asserting that they
/// are a prefix (nothing after a missing effect).
async fn effects(c: &mut Conn, tables: &[String], k: usize, ctx: &str) -> usize {
    let mut seen = Vec::new();
    for p in probes(k) {
        seen.push(probe(c, tables, &p).await);
    }
    let prefix = seen.iter().take_while(|b| **b).count();
    assert!(
        seen[prefix..].iter().all(|b| !b),
        "{ctx}: effects of {} are not a prefix of its statements: {seen:?}",
        rev(k)
    );
    prefix
}

/// The schema matches the version table: revisions `1..=n` fully present,
/// `n+1` absent or (with an unfinished attempt, MariaDB only) partial,
/// later ones absent. Returns the unfinished attempt `(k, statements
/// done, statements in effect)`.
async fn assert_consistent(
    db: &TestDb,
    migrations: &Migrations,
    ctx: &str,
) -> (usize, Option<(usize, i64, usize)>) {
    let current = migrations
        .current(db.url.as_str())
        .await
        .unwrap_or_else(|e| panic!("{ctx}: read the version table: {e}"));
    assert!(current.len() <= 1, "{ctx}: version rows {current:?}");
    let n = current.first().map_or(0, |v| {
        (1..=REVISIONS).find(|k| rev(*k) == *v).expect("known")
    });
    let history = migrations
        .history(db.url.as_str())
        .await
        .unwrap_or_else(|e| panic!("{ctx}: read the history: {e}"));
    let unfinished: Vec<_> = history
        .iter()
        .filter(|h| h.status == "running" || h.status == "failed")
        .collect();
    let attempt = match unfinished.as_slice() {
        [] => None,
        [h] => {
            assert_eq!(
                db.backend,
                Backend::MySql,
                "{ctx}: an unfinished step where revisions are transactional: {history:#?}"
            );
            assert_eq!(h.status, "running", "{ctx}: {history:#?}");
            assert_eq!(
                h.revision,
                rev(n + 1),
                "{ctx}: the unfinished step is not the next revision: {history:#?}"
            );
            assert_eq!(
                history.last().map(|l| l.id),
                Some(h.id),
                "{ctx}: {history:#?}"
            );
            Some(h.statements_done)
        }
        _ => panic!("{ctx}: several unfinished steps: {history:#?}"),
    };
    // The recorded applied upgrades are exactly 1..=n, once each.
    let mut upgraded: Vec<String> = history
        .iter()
        .filter(|h| h.status == "applied" && (h.operation == "upgrade" || h.operation == "stamp"))
        .map(|h| h.revision.clone())
        .collect();
    upgraded.sort();
    let expected: Vec<String> = (1..=n).map(rev).collect();
    assert_eq!(upgraded, expected, "{ctx}: history {history:#?}");

    let mut c = Conn::open(db).await;
    let tables = c.tables().await;
    let mut partial = None;
    for k in 1..=REVISIONS {
        let count = probes(k).len();
        let got = effects(&mut c, &tables, k, ctx).await;
        if k <= n {
            assert_eq!(got, count, "{ctx}: {} recorded but not all there", rev(k));
        } else if k == n + 1
            && let Some(done) = attempt
        {
            // The statement in flight may have completed on the server
            // after the client died, without its progress being recorded.
            let done_u = usize::try_from(done).expect("done");
            assert!(
                got == done_u || got == done_u + 1,
                "{ctx}: {} records {done} statements done, {got} took effect",
                rev(k)
            );
            partial = Some((k, done, got));
        } else {
            assert_eq!(got, 0, "{ctx}: {} not recorded but (partly) there", rev(k));
        }
    }
    c.close().await;
    (n, partial)
}

/// Drops what the first `got` statements of revision `k` created.
async fn undo_partial(db: &TestDb, k: usize, got: usize) {
    let mut c = Conn::open(db).await;
    if k == 1 {
        // applied_log (1), digits (2, 3), t01 (4, 5); the log row (6) only
        // when complete, which is stamped instead.
        if got >= 4 {
            c.execute("DROP TABLE t01").await;
        }
        if got >= 2 {
            c.execute("DROP TABLE digits").await;
        }
        if got >= 1 {
            c.execute("DROP TABLE applied_log").await;
        }
    } else {
        let (t, p, col) = (table(k), table(k - 1), column(k));
        if got >= 3 {
            c.execute(&format!("ALTER TABLE {p} DROP COLUMN {col}"))
                .await;
        }
        if got >= 1 {
            c.execute(&format!("DROP TABLE {t}")).await;
        }
    }
    c.close().await;
}

#[derive(Default, Debug)]
struct Tally {
    /// Killed before anything was written.
    before_start: usize,
    /// Killed mid-run with no revision left partial (PostgreSQL/SQLite:
    /// between revisions, or inside one whose transaction vanished).
    mid_run: usize,
    /// PostgreSQL: of `mid_run`, the killed client's session was seen
    /// inside a transaction right after the kill (a sample, best effort).
    open_transaction_seen: usize,
    /// MariaDB: killed inside a revision (an interrupted attempt row).
    inside: usize,
    /// The run had completed (or its last commit landed) before the kill.
    completed: usize,
    resolved_by_repair: usize,
    resolved_by_stamp: usize,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}"))
    })
}

/// One uninterrupted child run: how long a whole upgrade takes from spawn.
async fn measure_span(server: &Server, dir: &Path) -> Duration {
    let db = TestDb::on(server).await;
    let started = Instant::now();
    let child = spawn_child(CHILD_TEST, &db.url, dir, SAFETY, None);
    let output = bounded("the calibration child", child.wait_with_output())
        .await
        .expect("wait for the child");
    let span = started.elapsed();
    child_outcome(&output).expect("the calibration run succeeds");
    db.drop_db().await;
    span
}

/// The trials on every server of `backend` (every PostgreSQL version).
async fn crash_trials(backend: Backend) {
    for server in common::servers(backend) {
        crash_trials_on(&server).await;
        common::report::passed(&server.info().await.label);
    }
}

async fn crash_trials_on(server: &Server) {
    let trials = env_u64("RETORT_CRASH_TRIALS").unwrap_or(5);
    let seed = env_u64("RETORT_CRASH_SEED").unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos());
        u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or(1) | 1
    });
    let dir = revisions();
    let migrations = Migrations::from_dir(dir.path()).expect("revisions load");
    let span = match env_u64("RETORT_CRASH_SPAN_MS") {
        Some(ms) => Duration::from_millis(ms),
        None => measure_span(server, dir.path()).await,
    };
    let label = server.info().await.label;
    eprintln!(
        "crash {label}: RETORT_CRASH_SEED={seed} RETORT_CRASH_SPAN_MS={} RETORT_CRASH_TRIALS={trials}",
        span.as_millis()
    );
    let mut rng = XorShift::new(seed);
    let mut tally = Tally::default();
    for trial in 0..trials {
        // Up to 10 % past the measured span, so some kills land after the
        // run (or its last commit) completed.
        let delay = span.mul_f64(rng.unit() * 1.1);
        let ctx = format!(
            "{label} trial {trial} (RETORT_CRASH_SEED={seed} RETORT_CRASH_SPAN_MS={}, kill after {delay:?})",
            span.as_millis()
        );
        let db = TestDb::on(server).await;
        let mut child = spawn_child(CHILD_TEST, &db.url, dir.path(), SAFETY, None);
        tokio::time::sleep(delay).await;
        let exited_first = child.try_wait().expect("child status").is_some();
        // SIGKILL (tokio's start_kill on Unix); a no-op once it exited.
        let _ = child.start_kill();
        let output = bounded("the killed child", child.wait_with_output())
            .await
            .expect("wait for the child");
        if exited_first {
            child_outcome(&output).unwrap_or_else(|e| panic!("{ctx}: child failed: {e:?}"));
        }
        if db.backend == Backend::Postgres {
            // Best effort: the server may already have ended the session.
            let open = db
                .query_strings(
                    "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() \
                     AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
                )
                .await;
            tally.open_transaction_seen += usize::from(!open.is_empty());
        }
        wait_sessions_gone(&db).await;
        assert_lock_free(&db, &ctx).await;

        let (n, partial) = assert_consistent(&db, &migrations, &ctx).await;
        match (n, partial, exited_first || n == REVISIONS) {
            (_, _, true) => tally.completed += 1,
            (_, Some(_), _) => tally.inside += 1,
            (0, None, _) if !db.tables().await.contains(&"applied_log".to_owned()) => {
                tally.before_start += 1;
            }
            _ => tally.mid_run += 1,
        }

        // Re-run, with a short lock timeout: a lock left held would fail it.
        let rerun = bounded(
            "the re-run",
            migrations
                .with_config(short())
                .upgrade(db.url.as_str(), "head"),
        )
        .await;
        match (partial, rerun) {
            (None, Ok(report)) => {
                let steps = reliability::applied(&report);
                let expected: Vec<String> = (n + 1..=REVISIONS).map(rev).collect();
                assert_eq!(steps, expected, "{ctx}: re-run steps");
            }
            (Some((k, _, got)), Err(err)) => {
                let Error::FailedState {
                    revision,
                    interrupted,
                    ..
                } = &err
                else {
                    panic!("{ctx}: expected FailedState, got {err:?}");
                };
                assert_eq!(*revision, rev(k), "{ctx}");
                assert!(*interrupted, "{ctx}: {err:?}");
                let message = err.to_string();
                assert!(message.contains("was interrupted"), "{ctx}: {message}");
                assert!(message.contains("retort repair"), "{ctx}: {message}");
                assert!(
                    message.contains(&format!("retort stamp {}", rev(k))),
                    "{ctx}: {message}"
                );
                if got == probes(k).len() {
                    // Every statement took effect: the user stamps it.
                    bounded("stamp", migrations.stamp(db.url.as_str(), &rev(k)))
                        .await
                        .unwrap_or_else(|e| panic!("{ctx}: stamp: {e}"));
                    tally.resolved_by_stamp += 1;
                } else {
                    undo_partial(&db, k, got).await;
                    bounded("repair", migrations.repair(db.url.as_str()))
                        .await
                        .unwrap_or_else(|e| panic!("{ctx}: repair: {e}"));
                    tally.resolved_by_repair += 1;
                }
                let report = bounded(
                    "the upgrade after resolving",
                    migrations
                        .with_config(short())
                        .upgrade(db.url.as_str(), "head"),
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx}: upgrade after resolving: {e}"));
                let first = if got == probes(k).len() { k + 1 } else { k };
                let expected: Vec<String> = (first..=REVISIONS).map(rev).collect();
                assert_eq!(reliability::applied(&report), expected, "{ctx}");
            }
            (partial, other) => {
                panic!("{ctx}: unexpected re-run outcome {other:?} (unfinished: {partial:?})")
            }
        }

        let (n, partial) = assert_consistent(&db, &migrations, &ctx).await;
        assert_eq!((n, partial), (REVISIONS, None), "{ctx}: after the re-run");
        let history = migrations.history(db.url.as_str()).await.expect("history");
        assert!(
            history
                .iter()
                .all(|h| h.status != "running" && h.status != "failed"),
            "{ctx}: {history:#?}"
        );
        assert_lock_free(&db, &ctx).await;
        db.drop_db().await;
    }
    eprintln!("crash {label}: RETORT_CRASH_SEED={seed}: {trials} trials: {tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigkill_at_random_moments() {
    crash_trials(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sigkill_at_random_moments() {
    crash_trials(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_sigkill_at_random_moments() {
    crash_trials(Backend::MySql).await;
}
