//! Races between processes: 16 processes start the same upgrade of an
//! empty database at once, with a `Transactional: false` revision in the
//! middle (`CREATE INDEX CONCURRENTLY` on PostgreSQL, a plain
//! `CREATE INDEX` elsewhere): no deadlock, no error, each revision applied
//! exactly once (history rows, and an `applied_log` row written by each
//! revision's own SQL). And a lock held (by another process) longer than
//! the lock timeout gives `Error::LockTimeout`, not a hang.
//!
//! Children re-run this test binary (see `tests/reliability/mod.rs`).
//! Only safety timeouts, no timing assertions.

mod common;
mod reliability;

use std::time::Duration;

use common::{Backend, TestDb, write_revisions};
use reliability::{
    Gate, SAFETY, assert_lock_free, bounded, child_outcome, migration_at_gate, spawn_child,
    wait_until,
};
use retort::Migrations;

const CHILD_TEST: &str = "races_child";
const IDS: [&str; 6] = [
    "7ace00000001",
    "7ace00000002",
    "7ace00000003",
    "7ace00000004",
    "7ace00000005",
    "7ace00000006",
];

/// Not a test on its own: the child process of the races.
#[test]
fn races_child() {
    reliability::child_main();
}

fn log(id: &str) -> String {
    format!("INSERT INTO applied_log (rev) VALUES ('{id}');")
}

/// Six revisions in a line; the third is `Transactional: false`; with
/// `gate`, the fifth waits at the gate row.
fn revisions(backend: Backend) -> tempfile::TempDir {
    let [r1, r2, r3, r4, r5, r6] = IDS;
    let up1 = format!(
        "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n\
         CREATE TABLE gate (id INT PRIMARY KEY, n INT NOT NULL);\n\
         INSERT INTO gate (id, n) VALUES (1, 0);\n\
         CREATE TABLE t1 (id INT PRIMARY KEY, v INT);\n{}",
        log(r1)
    );
    let up2 = format!(
        "INSERT INTO t1 (id, v) VALUES (1, 1), (2, 2), (3, 3);\n{}",
        log(r2)
    );
    let index = if backend == Backend::Postgres {
        "CREATE INDEX CONCURRENTLY t1_v_ix ON t1 (v);"
    } else {
        "CREATE INDEX t1_v_ix ON t1 (v);"
    };
    let up3 = format!("{index}\n{}", log(r3));
    let up4 = format!("CREATE TABLE t4 (id INT PRIMARY KEY);\n{}", log(r4));
    // SQLite waits for the write lock at most `busy_timeout`; let the gated
    // revision wait as long as the other backends do.
    let busy = if backend == Backend::Sqlite {
        "PRAGMA busy_timeout = 120000;\n"
    } else {
        ""
    };
    let up5 = format!("{busy}UPDATE gate SET n = n + 1 WHERE id = 1;\n{}", log(r5));
    let up6 = format!("CREATE TABLE t6 (id INT PRIMARY KEY);\n{}", log(r6));
    write_revisions(&[
        (r1, "", "", &up1, "SELECT 1;"),
        (r2, r1, "", &up2, "SELECT 1;"),
        (r3, r2, "-- Transactional: false", &up3, "SELECT 1;"),
        (r4, r3, "", &up4, "SELECT 1;"),
        (r5, r4, "", &up5, "SELECT 1;"),
        (r6, r5, "", &up6, "SELECT 1;"),
    ])
}

async fn assert_applied_once(db: &TestDb, migrations: &Migrations) {
    let history = migrations.history(db.url.as_str()).await.expect("history");
    let mut upgrades: Vec<&str> = history
        .iter()
        .filter(|h| h.operation == "upgrade" && h.status == "applied")
        .map(|h| h.revision.as_str())
        .collect();
    upgrades.sort_unstable();
    assert_eq!(upgrades, IDS, "history: {history:#?}");
    assert_eq!(history.len(), IDS.len(), "history: {history:#?}");
    assert_eq!(
        db.query_strings("SELECT rev FROM applied_log ORDER BY rev")
            .await,
        IDS,
        "each revision's SQL must have run exactly once"
    );
    assert_eq!(
        migrations.current(db.url.as_str()).await.expect("current"),
        [IDS[5]]
    );
}

async fn sixteen_processes_upgrade_at_once(db: &TestDb) {
    const PROCESSES: usize = 16;
    let dir = revisions(db.backend);
    let migrations = Migrations::from_dir(dir.path()).expect("load");
    let signals = tempfile::tempdir().expect("temp dir");
    let go = signals.path().join("go");
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| spawn_child(CHILD_TEST, &db.url, dir.path(), SAFETY, Some(&go)))
        .collect();
    std::fs::write(&go, b"go").expect("write the go file");
    let mut steps = Vec::new();
    let mut appliers = 0;
    for child in children {
        let output = bounded("a racing process", child.wait_with_output())
            .await
            .expect("wait for the child");
        match child_outcome(&output) {
            Ok(revs) => {
                appliers += usize::from(!revs.is_empty());
                steps.extend(revs);
            }
            Err(e) => panic!("a racing process failed: {e:?}"),
        }
    }
    steps.sort();
    assert_eq!(steps, IDS, "steps of all processes");
    eprintln!(
        "{:?}: {PROCESSES} processes raced; {appliers} of them applied revisions",
        db.backend
    );
    assert_applied_once(db, &migrations).await;
    assert_lock_free(db, "after the race").await;
    if db.backend == Backend::Postgres {
        assert_eq!(
            db.query_strings(
                "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't1_v_ix'::regclass"
            )
            .await,
            ["true"],
            "the concurrently built index is valid"
        );
    }
}

/// A process holds the lock (waiting at the gate inside revision 5);
/// another process with a 1 s lock timeout fails with `LockTimeout` and
/// exits (bounded by the safety timeout, not timed); once the gate opens
/// the first completes.
async fn lock_timeout_across_processes(db: &TestDb) {
    let dir = revisions(db.backend);
    let migrations = Migrations::from_dir(dir.path()).expect("load");
    bounded("upgrade to r4", migrations.upgrade(db.url.as_str(), IDS[3]))
        .await
        .expect("upgrade to r4");
    let gate = Gate::close(db).await;
    let holder = spawn_child(CHILD_TEST, &db.url, dir.path(), SAFETY, None);
    wait_until("the holder waits at the gate", || migration_at_gate(db)).await;
    let waiter = spawn_child(
        CHILD_TEST,
        &db.url,
        dir.path(),
        Duration::from_secs(1),
        None,
    );
    let output = bounded("the waiting process", waiter.wait_with_output())
        .await
        .expect("wait for the child");
    match child_outcome(&output) {
        Err((kind, message)) => {
            assert_eq!(kind, "LockTimeout", "{message}");
            assert!(message.contains("lock"), "{message}");
        }
        Ok(revs) => panic!("the waiter must time out, applied {revs:?}"),
    }
    gate.open().await;
    let output = bounded("the lock holder", holder.wait_with_output())
        .await
        .expect("wait for the child");
    let revs = child_outcome(&output).expect("the holder completes");
    assert_eq!(revs, IDS[4..]);
    assert_applied_once(db, &migrations).await;
    assert_lock_free(db, "at the end").await;
}

backend_tests!(
    sixteen_processes_upgrade_at_once,
    lock_timeout_across_processes
);
