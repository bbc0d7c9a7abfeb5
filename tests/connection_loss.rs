//! Connection loss: the server terminates the migrating session in the
//! middle of a revision (PostgreSQL `pg_terminate_backend`, MariaDB
//! `KILL <id>`). The migration must fail cleanly (an error, no panic, no
//! hang), leave a state whose recorded version matches the schema, and a
//! re-run must complete (on MariaDB, and for `Transactional: false`
//! revisions on PostgreSQL, after the user resolves the interrupted
//! revision with `repair`).
//!
//! The session is held mid-revision with the gate trick of
//! `tests/concurrency.rs`: the revision's second statement updates a row
//! the test keeps locked, so the session is found waiting on it (by its
//! query text in `pg_stat_activity` / the processlist) and killed there.
//! No sleeps; the timeouts are safety nets.

mod common;
mod reliability;

use common::{Backend, TestDb, each_server, write_revisions};
use reliability::{
    Conn, Gate, applied, assert_lock_free, bounded, gate_waiters, lock_holders, short,
    wait_lock_free, wait_sessions_gone, wait_until,
};
use retort::{Error, Migrations};

const R1: &str = "c0ffee000001";
const R2: &str = "c0ffee000002";
const R3: &str = "c0ffee000003";

fn log(id: &str) -> String {
    format!("INSERT INTO applied_log (rev) VALUES ('{id}');")
}

/// R1: the log and the gate tables.
fn first_revision() -> String {
    format!(
        "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n\
         CREATE TABLE gate (id INT PRIMARY KEY, n INT NOT NULL);\n\
         INSERT INTO gate (id, n) VALUES (1, 0);\n{}",
        log(R1)
    )
}

const RB: &str = "c0ffee0000b1";
const RC: &str = "c0ffee0000c1";

/// R1, then RB and RC (two branches off R1), then R2 merging them (which
/// waits at the gate), then R3. A merge changes two version rows, so it
/// takes the PostgreSQL driver's general path, not the fused one.
fn merge_revisions() -> tempfile::TempDir {
    let up1 = first_revision();
    let up2 = format!(
        "CREATE TABLE part_a (id INT PRIMARY KEY);\n\
         UPDATE gate SET n = n + 1 WHERE id = 1;\n\
         CREATE TABLE part_b (id INT PRIMARY KEY);\n{}",
        log(R2)
    );
    let up3 = format!("CREATE TABLE t3 (id INT PRIMARY KEY);\n{}", log(R3));
    let (upb, upc) = (log(RB), log(RC));
    write_revisions(&[
        (R1, "", "", &up1, "SELECT 1;"),
        (RB, R1, "", &upb, "SELECT 1;"),
        (RC, R1, "", &upc, "SELECT 1;"),
        (R2, &format!("{RB} {RC}"), "", &up2, "SELECT 1;"),
        (R3, R2, "", &up3, "SELECT 1;"),
    ])
}

/// R2 creates `part_a`, then updates the gate row (where it waits), then
/// creates `part_b`.
fn revisions(transactional: bool) -> tempfile::TempDir {
    revisions_with_r3(transactional, "")
}

/// [`revisions`], R3's SQL starting with `r3_first`.
fn revisions_with_r3(transactional: bool, r3_first: &str) -> tempfile::TempDir {
    let up1 = first_revision();
    let up2 = format!(
        "CREATE TABLE part_a (id INT PRIMARY KEY);\n\
         UPDATE gate SET n = n + 1 WHERE id = 1;\n\
         CREATE TABLE part_b (id INT PRIMARY KEY);\n{}",
        log(R2)
    );
    let up3 = format!(
        "{r3_first}CREATE TABLE t3 (id INT PRIMARY KEY);\n{}",
        log(R3)
    );
    let extra = if transactional {
        ""
    } else {
        "-- Transactional: false"
    };
    write_revisions(&[
        (R1, "", "", &up1, "SELECT 1;"),
        (R2, R1, extra, &up2, "SELECT 1;"),
        (R3, R2, "", &up3, "SELECT 1;"),
    ])
}

async fn terminate(db: &TestDb, id: &str) {
    let mut c = Conn::open(db).await;
    match db.backend {
        Backend::Postgres => {
            let done = c
                .strings(&format!("SELECT pg_terminate_backend({id})::text"))
                .await;
            assert_eq!(done, ["true"], "pg_terminate_backend({id})");
        }
        Backend::MySql => c.execute(&format!("KILL {id}")).await,
        Backend::Sqlite => unreachable!("SQLite has no server sessions"),
    }
    c.close().await;
}

async fn session_killed_mid_revision(db: &TestDb, transactional: bool) {
    let dir = revisions(transactional);
    let migrations = std::sync::Arc::new(Migrations::from_dir(dir.path()).expect("load"));
    bounded("upgrade to R1", migrations.upgrade(db.url.as_str(), R1))
        .await
        .expect("upgrade to R1");
    let gate = Gate::close(db).await;
    let (m, url) = (std::sync::Arc::clone(&migrations), db.url.clone());
    let task =
        tokio::spawn(async move { m.with_config(short()).upgrade(url.as_str(), "head").await });
    wait_until("the migration waits at the gate", || async {
        !gate_waiters(db).await.is_empty()
    })
    .await;
    let waiters = gate_waiters(db).await;
    let [session] = waiters.as_slice() else {
        panic!("expected one session at the gate, got {waiters:?}");
    };
    terminate(db, session).await;

    let joined = bounded("the migration after its session was killed", task).await;
    let err = match joined {
        Ok(Ok(report)) => panic!("the migration succeeded without its session: {report:?}"),
        Ok(Err(err)) => err,
        Err(join) => panic!("the migration panicked or was cancelled: {join}"),
    };
    match &err {
        Error::Statement {
            revision,
            statement,
            ..
        } => {
            assert_eq!(revision, R2, "{err}");
            assert_eq!(*statement, 2, "{err}");
        }
        Error::Database { .. } => {}
        other => panic!("expected a Statement or Database error, got {other:?}"),
    }
    eprintln!("{:?} (transactional: {transactional}): {err}", db.backend);
    gate.open().await;
    wait_sessions_gone(db).await;
    assert_lock_free(db, "after the session was killed").await;

    // Consistent state: R1 recorded; R2's first statement took effect only
    // where it committed on its own.
    assert_eq!(
        migrations.current(db.url.as_str()).await.expect("current"),
        [R1]
    );
    let mut c = Conn::open(db).await;
    let tables = c.tables().await;
    let autocommitted = db.backend == Backend::MySql || !transactional;
    assert_eq!(
        tables.contains(&"part_a".to_owned()),
        autocommitted,
        "{tables:?}"
    );
    assert!(!tables.contains(&"part_b".to_owned()), "{tables:?}");
    assert_eq!(c.count("FROM gate WHERE n = 0").await, 1, "the UPDATE ran");
    assert_eq!(c.count("FROM applied_log").await, 1);
    let history = migrations.history(db.url.as_str()).await.expect("history");
    let unfinished: Vec<_> = history
        .iter()
        .filter(|h| h.status == "running" || h.status == "failed")
        .collect();

    let rerun = bounded(
        "the re-run",
        migrations
            .with_config(short())
            .upgrade(db.url.as_str(), "head"),
    )
    .await;
    let report = if autocommitted {
        assert_eq!(unfinished.len(), 1, "{history:#?}");
        assert_eq!(unfinished[0].revision, R2);
        assert_eq!(unfinished[0].statements_done, 1, "{history:#?}");
        let err = rerun.expect_err("an interrupted revision blocks the re-run");
        let Error::FailedState { revision, .. } = &err else {
            panic!("expected FailedState, got {err:?}");
        };
        assert_eq!(revision, R2);
        let message = err.to_string();
        assert!(message.contains("retort repair"), "{message}");
        assert!(message.contains(&format!("retort stamp {R2}")), "{message}");
        // The user undoes the partial revision, then repairs.
        c.execute("DROP TABLE part_a").await;
        bounded("repair", migrations.repair(db.url.as_str()))
            .await
            .expect("repair");
        bounded(
            "the upgrade after repair",
            migrations
                .with_config(short())
                .upgrade(db.url.as_str(), "head"),
        )
        .await
        .expect("the upgrade completes after repair")
    } else {
        assert!(unfinished.is_empty(), "{history:#?}");
        rerun.expect("the re-run completes")
    };
    assert_eq!(applied(&report), [R2, R3]);
    assert_eq!(c.count("FROM gate WHERE n = 1").await, 1);
    let mut logged = c.strings("SELECT rev FROM applied_log ORDER BY rev").await;
    logged.dedup();
    assert_eq!(logged, [R1, R2, R3], "each revision ran exactly once");
    assert_eq!(c.count("FROM applied_log").await, 3);
    c.close().await;
    let history = migrations.history(db.url.as_str()).await.expect("history");
    let mut upgrades: Vec<&str> = history
        .iter()
        .filter(|h| h.status == "applied" && h.operation == "upgrade")
        .map(|h| h.revision.as_str())
        .collect();
    upgrades.sort_unstable();
    assert_eq!(upgrades, [R1, R2, R3], "{history:#?}");
    assert_eq!(
        migrations.current(db.url.as_str()).await.expect("current"),
        [R3]
    );
    assert_lock_free(db, "at the end").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_session_terminated_mid_revision() {
    each_server(Backend::Postgres, async |db| {
        session_killed_mid_revision(db, true).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_session_terminated_mid_non_transactional_revision() {
    each_server(Backend::Postgres, async |db| {
        session_killed_mid_revision(db, false).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_session_killed_mid_revision() {
    each_server(Backend::MySql, async |db| {
        session_killed_mid_revision(db, true).await
    })
    .await;
}

/// Starts `upgrade head` with R2 waiting at the gate, kills the run's lock
/// session (and waits until it is gone), opens the gate, and returns the
/// run's error (panics if it succeeded).
async fn upgrade_losing_the_lock_at_the_gate(
    db: &TestDb,
    migrations: &std::sync::Arc<Migrations>,
) -> Error {
    let gate = Gate::close(db).await;
    let (m, url) = (std::sync::Arc::clone(migrations), db.url.clone());
    let task =
        tokio::spawn(async move { m.with_config(short()).upgrade(url.as_str(), "head").await });
    wait_until("the migration waits at the gate", || async {
        !gate_waiters(db).await.is_empty()
    })
    .await;
    // The lock session is the one holding the lock, found by the lock
    // itself: counting the other sessions would also count the polls' own,
    // which end asynchronously after each close.
    let holders = lock_holders(db).await;
    let [lock_session] = holders.as_slice() else {
        panic!("expected one session holding the migration lock, got {holders:?}");
    };
    assert!(
        !gate_waiters(db).await.contains(lock_session),
        "the lock session {lock_session} is not the session at the gate"
    );
    terminate(db, lock_session).await;
    // The kill is asynchronous: wait until the session (and with it the
    // lock, released before the session leaves the activity list) is gone,
    // so the run cannot still see its lock held.
    let gone = match db.backend {
        Backend::Postgres => {
            format!("SELECT pid::text FROM pg_stat_activity WHERE pid = {lock_session}")
        }
        _ => format!(
            "SELECT CAST(id AS CHAR) FROM information_schema.processlist WHERE id = {lock_session}"
        ),
    };
    wait_until("the lock session is gone", || async {
        db.query_strings(&gone).await.is_empty()
    })
    .await;
    wait_lock_free(db).await;
    gate.open().await;

    let joined = bounded("the migration after its lock session was killed", task).await;
    match joined {
        Ok(Ok(report)) => panic!(
            "the migration went on after losing its lock: applied {:?}",
            applied(&report)
        ),
        Ok(Err(err)) => err,
        Err(join) => panic!("the migration panicked or was cancelled: {join}"),
    }
}

/// The server ends the migrator's *lock* session (an administrator's kill,
/// an idle timeout: the dedicated lock connection stays idle while
/// revisions run) while a revision waits at the gate: the server releases
/// the lock, so the migration must stop with a clear error before its
/// next step instead of migrating on without it (another process could
/// take the lock and migrate the same database at the same time).
///
/// With `merge`, R2 is a merge revision ([`merge_revisions`]).
async fn lock_session_killed_mid_migration(db: &TestDb, merge: bool) {
    let dir = if merge {
        merge_revisions()
    } else {
        revisions(true)
    };
    lock_session_killed_mid(db, dir, merge).await;
}

/// [`lock_session_killed_mid_migration`] on the revisions in `dir`.
async fn lock_session_killed_mid(db: &TestDb, dir: tempfile::TempDir, merge: bool) {
    let migrations = std::sync::Arc::new(Migrations::from_dir(dir.path()).expect("load"));
    bounded("upgrade to R1", migrations.upgrade(db.url.as_str(), R1))
        .await
        .expect("upgrade to R1");
    let err = upgrade_losing_the_lock_at_the_gate(db, &migrations).await;
    let message = err.to_string();
    let Error::LockLost { rolled_back, .. } = &err else {
        panic!("expected LockLost, got {err:?}");
    };
    assert!(message.contains("lost the migration lock"), "{message}");
    eprintln!("{:?}: {message}", db.backend);
    wait_sessions_gone(db).await;
    // PostgreSQL checks the lock inside R2's transaction (under way when
    // the lock went), which rolls R2 back; MariaDB cannot roll back, so R2
    // completes and the check before R3 stops the run. R3 never starts.
    let before_r2: &[&str] = if merge { &[RB, RC] } else { &[R1] };
    let (reached, rerun): (&[&str], &[&str]) = match db.backend {
        Backend::Postgres => {
            assert_eq!(
                rolled_back.as_deref(),
                Some(&*format!("revision `{R2}`")),
                "{message}"
            );
            (before_r2, &[R2, R3])
        }
        _ => {
            assert_eq!(*rolled_back, None, "{message}");
            (&[R2], &[R3])
        }
    };
    assert_eq!(
        migrations.current(db.url.as_str()).await.expect("current"),
        reached
    );
    let mut c = Conn::open(db).await;
    let tables = c.tables().await;
    assert!(!tables.contains(&"t3".to_owned()), "{tables:?}");
    // The schema matches the version table: R2's tables exist iff R2 is recorded.
    let r2_there = reached == [R2];
    for table in ["part_a", "part_b"] {
        assert_eq!(
            tables.contains(&table.to_owned()),
            r2_there,
            "{table}: {tables:?}"
        );
    }
    c.close().await;
    let report = bounded(
        "the re-run",
        migrations
            .with_config(short())
            .upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect("the re-run completes");
    assert_eq!(applied(&report), rerun);
    let mut logged = vec![R1, R2, R3];
    if merge {
        logged.extend([RB, RC]);
    }
    logged.sort_unstable();
    assert_eq!(
        db.query_strings("SELECT rev FROM applied_log ORDER BY rev")
            .await,
        logged
    );
    assert_lock_free(db, "at the end").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_session_terminated_mid_migration() {
    each_server(Backend::Postgres, async |db| {
        lock_session_killed_mid_migration(db, false).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_session_terminated_mid_merge_revision() {
    each_server(Backend::Postgres, async |db| {
        lock_session_killed_mid_migration(db, true).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_lock_session_killed_mid_migration() {
    each_server(Backend::MySql, async |db| {
        lock_session_killed_mid_migration(db, false).await
    })
    .await;
}

/// MySQL/MariaDB checks the lock in a revision's first message; a revision
/// the message layout cannot carry (here R3, for its `SET`) is checked
/// before it runs op by op.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_lock_session_killed_before_a_revision_run_op_by_op() {
    each_server(Backend::MySql, async |db| {
        let dir = revisions_with_r3(true, "SET @retort_test = 1;\n");
        lock_session_killed_mid(db, dir, false).await
    })
    .await;
}

/// PostgreSQL: a statement that fails after the lock went (here a missing
/// table; in practice, say, another migrator's objects) is reported as the
/// lost lock, with the revision rolled back. With the lock held, the same
/// revision fails with its own statement error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_statement_failing_after_the_lock_went_is_lock_lost() {
    each_server(Backend::Postgres, statement_failing_after_the_lock_went).await;
}

async fn statement_failing_after_the_lock_went(db: &TestDb) {
    let up1 = first_revision();
    let up2 = "CREATE TABLE part_a (id INT PRIMARY KEY);\n\
               UPDATE gate SET n = n + 1 WHERE id = 1;\n\
               INSERT INTO no_such_table (id) VALUES (1);";
    let dir = write_revisions(&[
        (R1, "", "", &up1, "SELECT 1;"),
        (R2, R1, "", up2, "SELECT 1;"),
    ]);
    let migrations = std::sync::Arc::new(Migrations::from_dir(dir.path()).expect("load"));
    bounded("upgrade to R1", migrations.upgrade(db.url.as_str(), R1))
        .await
        .expect("upgrade to R1");
    let err = upgrade_losing_the_lock_at_the_gate(db, &migrations).await;
    let Error::LockLost { rolled_back, .. } = &err else {
        panic!("expected LockLost, got {err:?}");
    };
    assert_eq!(rolled_back.as_deref(), Some(&*format!("revision `{R2}`")));
    wait_sessions_gone(db).await;
    assert_eq!(
        migrations.current(db.url.as_str()).await.expect("current"),
        [R1]
    );
    assert!(!db.tables().await.contains(&"part_a".to_owned()));
    let err = bounded(
        "the re-run",
        migrations
            .with_config(short())
            .upgrade(db.url.as_str(), "head"),
    )
    .await
    .expect_err("R2 fails on its own");
    assert!(
        matches!(&err, Error::Statement { revision, statement: 3, .. } if revision == R2),
        "{err:?}"
    );
    assert_lock_free(db, "at the end").await;
}
