//! What differs between the PostgreSQL versions retort supports, 13 to 18.
//! Each test runs on every PostgreSQL server present (`scripts/with-services.sh
//! --postgres-version 13,18` adds 13 and 18 to the default 15; `.ci/run`
//! does) and checks the behaviour that version should show:
//!
//! - `idle_session_timeout` (14+): the lock session, idle while revisions
//!   run, turns it off for itself, so a server that ends idle sessions does
//!   not take the lock away mid-migration; on 13, which has no such
//!   setting, retort does not ask for it.
//! - SQL that only newer servers accept (`NULLS NOT DISTINCT`, 15+; virtual
//!   generated columns, 18+) in a revision: applied where the server has
//!   it; elsewhere the revision fails as a statement error naming the
//!   revision and the statement, with the server's own message, rolled
//!   back.
//! - 18 only, through the harness hook for tests that need a minimum version
//!   (`common::each_postgres_since`): a virtual generated column round trip.
//!
//! Nothing here waits on time: the idle timeout is observed through a probe
//! session the server ends (see [`lock_session_outlives_idle_session_timeout`]).

mod common;
mod reliability;

use std::sync::Arc;

use common::{Backend, TestDb, each_postgres_since, each_server, write_revisions};
use reliability::{Gate, applied, bounded, gate_waiters, lock_holders, short, wait_until};
use retort::{Error, Migrations};
use sqlx::Connection;

const R1: &str = "5e55100000a1";
const R2: &str = "5e55100000a2";
const R3: &str = "5e55100000a3";

/// R1 creates the gate table; R2 waits at the gate; R3 follows.
fn gated_revisions() -> tempfile::TempDir {
    write_revisions(&[
        (
            R1,
            "",
            "",
            "CREATE TABLE gate (id INT PRIMARY KEY, n INT NOT NULL);\n\
             INSERT INTO gate (id, n) VALUES (1, 0);",
            "DROP TABLE gate;",
        ),
        (
            R2,
            R1,
            "",
            "CREATE TABLE before_gate (id INT);\nUPDATE gate SET n = n + 1 WHERE id = 1;",
            "DROP TABLE before_gate;",
        ),
        (
            R3,
            R2,
            "",
            "CREATE TABLE after_gate (id INT);",
            "DROP TABLE after_gate;",
        ),
    ])
}

/// Whether the session `pid` is still connected.
async fn session_alive(db: &TestDb, pid: &str) -> bool {
    !db.query_strings(&format!(
        "SELECT pid::text FROM pg_stat_activity WHERE pid = {pid}"
    ))
    .await
    .is_empty()
}

/// PostgreSQL 14+: sessions opened with the pool's connection options get
/// `idle_session_timeout = 200ms` (as a server, database or role setting
/// would give them). The pool's own connections turn it off again (they
/// stand for the service's connections, not under test); retort's lock
/// session must turn it off by itself. While R2 waits at the gate, a probe
/// session opened with the same options after the lock session went idle
/// is ended by the server; the lock session, idle for longer, must still be
/// there holding the lock, and the run must complete once the gate opens.
///
/// PostgreSQL 13 refuses the setting: there the run must complete without
/// retort asking for it.
async fn lock_session_outlives_idle_session_timeout(db: &TestDb) {
    let dir = gated_revisions();
    let migrations = Arc::new(Migrations::from_dir(dir.path()).expect("load"));
    bounded("upgrade to R1", migrations.upgrade(db.url.as_str(), R1))
        .await
        .expect("upgrade to R1");

    let base: sqlx::postgres::PgConnectOptions = db.url.parse().expect("a PostgreSQL URL");
    let timed_out = base.clone().options([("idle_session_timeout", "200ms")]);
    let has_timeout = db.postgres_major().is_some_and(|major| major >= 14);
    let probe = sqlx::PgConnection::connect_with(&timed_out).await;
    if !has_timeout {
        let err = probe.expect_err("PostgreSQL 13 has no idle_session_timeout");
        assert!(
            err.to_string()
                .contains("unrecognized configuration parameter \"idle_session_timeout\""),
            "{err}"
        );
    } else {
        probe.expect("PostgreSQL 14+ knows idle_session_timeout");
    }
    let options = if has_timeout { timed_out.clone() } else { base };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                if conn.server_version_num().is_some_and(|v| v >= 140_000) {
                    sqlx::raw_sql("SET idle_session_timeout = 0")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .expect("pool");

    let gate = Gate::close(db).await;
    let (m, task_pool) = (Arc::clone(&migrations), pool.clone());
    let task =
        tokio::spawn(async move { m.with_config(short()).upgrade(&task_pool, "head").await });
    wait_until("the migration waits at the gate", || async {
        !gate_waiters(db).await.is_empty()
    })
    .await;
    let holders = lock_holders(db).await;
    let [lock_session] = holders.as_slice() else {
        panic!("expected one session holding the migration lock, got {holders:?}");
    };

    if has_timeout {
        // The lock session went idle before the migration reached the gate;
        // the probe goes idle now. Once the server has ended the probe,
        // the lock session's timeout (if it had one) has expired too.
        let mut probe = sqlx::PgConnection::connect_with(&timed_out)
            .await
            .expect("probe");
        let pid: String = sqlx::query_scalar("SELECT pg_backend_pid()::text")
            .fetch_one(&mut probe)
            .await
            .expect("probe pid");
        wait_until("the server ends the idle probe session", async || {
            !session_alive(db, &pid).await
        })
        .await;
        drop(probe);
        assert!(
            session_alive(db, lock_session).await,
            "{}: the lock session was ended by idle_session_timeout",
            db.label()
        );
        assert_eq!(lock_holders(db).await, std::slice::from_ref(lock_session));
    }

    gate.open().await;
    let report = bounded("the gated migration", task)
        .await
        .expect("the migration task")
        .unwrap_or_else(|e| panic!("{}: the migration failed: {e}", db.label()));
    assert_eq!(applied(&report), [R2, R3]);
    pool.close().await;
}

/// SQL features of newer servers: `(what, first major version, upgrade)`.
/// The revision's first statement creates `probe_t`, the second uses the
/// feature.
const NEWER_SQL: [(&str, u32, &str); 2] = [
    (
        "NULLS NOT DISTINCT",
        15,
        "CREATE TABLE probe_t (id INT PRIMARY KEY, code TEXT);\n\
         ALTER TABLE probe_t ADD CONSTRAINT probe_code_uq UNIQUE NULLS NOT DISTINCT (code);",
    ),
    (
        "a virtual generated column",
        18,
        "CREATE TABLE probe_t (id INT PRIMARY KEY, n INT NOT NULL);\n\
         ALTER TABLE probe_t ADD COLUMN twice INT GENERATED ALWAYS AS (n * 2) VIRTUAL;",
    ),
];

/// A revision using SQL the server may not have: applied (and reverted)
/// on versions that have it; elsewhere a statement error naming the
/// revision and statement 2, carrying the server's own message, with the
/// revision rolled back and nothing recorded.
async fn revision_using_newer_sql(db: &TestDb) {
    let major = db.postgres_major().expect("a PostgreSQL server");
    for (what, since, up) in NEWER_SQL {
        let dir = write_revisions(&[(R1, "", "", up, "DROP TABLE probe_t;")]);
        let migrations = Migrations::from_dir(dir.path()).expect("load");
        let result = bounded("the upgrade", migrations.upgrade(db.url.as_str(), "head")).await;
        let context = format!("{} with {what} (PostgreSQL {since}+)", db.label());
        if major >= since {
            let report = result.unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(applied(&report), [R1], "{context}");
            migrations
                .downgrade(db.url.as_str(), "base")
                .await
                .unwrap_or_else(|e| panic!("{context}: downgrade: {e}"));
        } else {
            let err = result.expect_err(&context);
            let Error::Statement {
                revision,
                statement,
                rolled_back,
                ..
            } = &err
            else {
                panic!("{context}: expected a statement error, got {err:?}");
            };
            assert_eq!((revision.as_str(), *statement), (R1, 2), "{context}: {err}");
            assert!(rolled_back, "{context}: {err}");
            assert!(
                err.to_string().contains("syntax error"),
                "{context}: the server's message is missing: {err}"
            );
            assert!(
                migrations
                    .current(db.url.as_str())
                    .await
                    .expect("current")
                    .is_empty(),
                "{context}"
            );
        }
        assert!(
            !db.tables().await.contains(&"probe_t".to_owned()),
            "{context}"
        );
    }
}

/// The hook for tests that need a recent server: on PostgreSQL 18+ only, a
/// virtual generated column is computed on read, and the revision adding it
/// reverts cleanly.
async fn virtual_generated_column_round_trip(db: &TestDb) {
    let dir = write_revisions(&[(
        R1,
        "",
        "",
        "CREATE TABLE v (n INT NOT NULL, twice INT GENERATED ALWAYS AS (n * 2) VIRTUAL);\n\
         INSERT INTO v (n) VALUES (21);",
        "DROP TABLE v;",
    )]);
    let migrations = Migrations::from_dir(dir.path()).expect("load");
    migrations
        .upgrade(db.url.as_str(), "head")
        .await
        .expect("upgrade");
    assert_eq!(db.query_strings("SELECT twice::text FROM v").await, ["42"]);
    assert_eq!(
        db.query_strings(
            "SELECT attgenerated::text FROM pg_attribute \
             WHERE attrelid = 'v'::regclass AND attname = 'twice'"
        )
        .await,
        ["v"],
        "stored as virtual"
    );
    migrations
        .downgrade(db.url.as_str(), "base")
        .await
        .expect("downgrade");
    assert!(!db.tables().await.contains(&"v".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_session_outlives_idle_session_timeout() {
    each_server(
        Backend::Postgres,
        lock_session_outlives_idle_session_timeout,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_revision_using_newer_sql() {
    each_server(Backend::Postgres, revision_using_newer_sql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres18_virtual_generated_column_round_trip() {
    each_postgres_since(18, virtual_generated_column_round_trip).await;
}
