//! `retort::testing::assert_stairway` (feature `autogenerate`) on every
//! backend: a set whose downgrades undo their upgrades passes, a branched
//! one with a merge too; one whose downgrade leaves an index behind fails
//! naming that revision and the index.

mod common;

use common::{Backend, TestDb};
use retort::Migrations;
use retort::testing::{StairwayError, assert_stairway, stairway};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";
const D: &str = "d4d4d4d4d4d4";
const M: &str = "e5e5e5e5e5e5";

fn drop_index(backend: Backend) -> &'static str {
    match backend {
        Backend::MySql => "DROP INDEX t_a ON t;",
        Backend::Postgres | Backend::Sqlite => "DROP INDEX t_a;",
    }
}

/// A → B (index) → C (table u), with B's downgrade given.
fn linear(b_down: &str) -> (tempfile::TempDir, Migrations) {
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER);",
            "DROP TABLE t;",
        ),
        (B, A, "", "CREATE INDEX t_a ON t (a);", b_down),
        (
            C,
            B,
            "",
            "CREATE TABLE u (id INTEGER NOT NULL PRIMARY KEY);",
            "DROP TABLE u;",
        ),
    ]);
    let migrations = Migrations::from_dir(dir.path()).expect("load");
    (dir, migrations)
}

async fn good_set_passes(db: &TestDb) {
    let (_dir, migrations) = linear(drop_index(db.backend));
    assert_stairway(&migrations, &db.url).await;
    // It leaves the database at the heads.
    assert_eq!(
        migrations.current(db.url.as_str()).await.expect("current"),
        [C]
    );
}

async fn branched_set_passes(db: &TestDb) {
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t_a (id INTEGER);",
            "DROP TABLE t_a;",
        ),
        (
            C,
            A,
            "",
            "CREATE TABLE t_c (id INTEGER);",
            "DROP TABLE t_c;",
        ),
        (
            D,
            A,
            "",
            "CREATE TABLE t_d (id INTEGER);",
            "DROP TABLE t_d;",
        ),
        (M, &format!("{C}, {D}"), "", "", ""),
    ]);
    let migrations = Migrations::from_dir(dir.path()).expect("load");
    assert_stairway(&migrations, &db.url).await;
}

async fn bad_downgrade_is_named(db: &TestDb) {
    let (_dir, migrations) = linear("SELECT 1;");
    match stairway(&migrations, &db.url).await {
        Err(e @ StairwayError::NotRestored { .. }) => {
            let StairwayError::NotRestored {
                revision,
                differences,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(revision, B, "{e}");
            assert!(
                differences.iter().any(|d| d.contains("t_a")),
                "the index is not named: {e}"
            );
            let message = e.to_string();
            assert!(message.contains(B) && message.contains("t_a"), "{message}");
        }
        other => panic!("expected NotRestored for {B}, got {other:?}"),
    }
}

/// The assertion's panic names the revision too.
async fn assert_stairway_panics(db: &TestDb) {
    let (dir, migrations) = linear("SELECT 1;");
    let url = db.url.clone();
    let joined = tokio::spawn(async move {
        assert_stairway(&migrations, &url).await;
    })
    .await;
    drop(dir);
    let panic = joined.expect_err("assert_stairway passed on a bad downgrade");
    let payload = panic.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        message.contains(&format!("revision `{B}`")) && message.contains("t_a"),
        "{message}"
    );
}

backend_tests!(
    good_set_passes,
    branched_set_passes,
    bad_downgrade_is_named,
    assert_stairway_panics
);
