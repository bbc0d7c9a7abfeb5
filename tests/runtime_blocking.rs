//! The blocking API from plain synchronous code (SQLite always;
//! PostgreSQL and MariaDB when their servers are configured), and its
//! refusal inside an async runtime.

mod common;

use common::{Backend, Server, TestDb};
use retort::{Config, Direction, Error, Migrations};

static MIGRATIONS: Migrations = retort::embed_migrations!("migrations");

const HEAD: &str = "e9a14c7f3b45";

/// A small runtime only for creating and dropping the test database (and
/// inspecting it); the blocking API is called outside it.
fn admin_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn user_tables(rt: &tokio::runtime::Runtime, db: &TestDb) -> Vec<String> {
    let mut tables: Vec<String> = rt
        .block_on(db.tables())
        .into_iter()
        .filter(|t| !t.starts_with("retort_"))
        .collect();
    tables.sort(); // MariaDB's collation orders `_` differently
    tables
}

/// The round trip on every server of `backend` (every PostgreSQL version).
fn blocking_round_trip(backend: Backend) {
    for server in common::servers(backend) {
        round_trip_on(&server);
    }
}

fn round_trip_on(server: &Server) {
    let rt = admin_runtime();
    let db = rt.block_on(TestDb::on(server));
    assert!(tokio::runtime::Handle::try_current().is_err());
    let url = db.url.as_str();
    let blocking = MIGRATIONS.blocking();

    assert!(blocking.current(url).unwrap().is_empty());
    let plan = blocking.plan(url, Direction::Upgrade, "head").unwrap();
    assert_eq!(plan.len(), 5);
    assert!(user_tables(&rt, &db).is_empty());

    let report = blocking.upgrade(url, "+1").unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(blocking.current(url).unwrap(), ["4f1c2a9b7e01"]);
    assert_eq!(user_tables(&rt, &db), ["users"]);

    let report = blocking.upgrade(url, "head").unwrap();
    assert_eq!(report.steps.len(), 4);
    assert_eq!(blocking.current(url).unwrap(), [HEAD]);
    assert_eq!(
        user_tables(&rt, &db),
        ["post_tags", "posts", "tags", "users"]
    );
    let history = blocking.history(url).unwrap();
    assert_eq!(history.len(), 5);
    assert!(history.iter().all(|h| h.status == "applied"));
    assert!(blocking.check(url).unwrap().is_ok());
    assert!(blocking.upgrade(url, "head").unwrap().is_noop());

    let report = blocking.downgrade(url, "-1").unwrap();
    assert_eq!(report.steps[0].revision, HEAD);
    assert_eq!(user_tables(&rt, &db), ["posts", "tags", "users"]);
    blocking.stamp(url, &[HEAD], false).unwrap();
    assert_eq!(blocking.current(url).unwrap(), [HEAD]);
    // post_tags is gone but stamped: put it back by hand for the way down.
    rt.block_on(
        db.execute("CREATE TABLE post_tags (post_id BIGINT NOT NULL, tag_id BIGINT NOT NULL)"),
    );
    blocking.repair(url).unwrap();
    let report = blocking.downgrade(url, "base").unwrap();
    assert_eq!(report.steps.len(), 5);
    assert!(blocking.current(url).unwrap().is_empty());
    assert!(user_tables(&rt, &db).is_empty());

    // With settings.
    let alembic = MIGRATIONS.with_config(Config::default().version_table("alembic_version"));
    alembic.blocking().upgrade(url, "head").unwrap();
    assert_eq!(
        rt.block_on(db.query_strings("SELECT version_num FROM alembic_version")),
        [HEAD]
    );
    assert_eq!(alembic.blocking().current(url).unwrap(), [HEAD]);
    assert!(blocking.current(url).unwrap().is_empty());

    // Errors come back as values here too.
    let e = blocking.upgrade(url, "nosuchrev").unwrap_err();
    assert!(matches!(&e, Error::Plan(_)), "{e:?}");
    let e = blocking.upgrade("oracle://x", "head").unwrap_err();
    assert!(matches!(&e, Error::UnsupportedUrl { .. }), "{e:?}");

    common::report::passed(db.label());
    rt.block_on(db.drop_db());
}

#[test]
fn blocking_sqlite() {
    blocking_round_trip(Backend::Sqlite);
}

#[test]
fn blocking_postgres() {
    blocking_round_trip(Backend::Postgres);
}

#[test]
fn blocking_mysql() {
    blocking_round_trip(Backend::MySql);
}

/// A SQLite URL in a fresh directory; the file must not be created.
fn sqlite_url(dir: &tempfile::TempDir) -> (String, std::path::PathBuf) {
    let path = dir.path().join("app.db");
    (format!("sqlite://{}", path.display()), path)
}

fn assert_refused(url: &str) {
    let blocking = MIGRATIONS.blocking();
    let results = [
        blocking.upgrade(url, "head").map(|_| ()),
        blocking.downgrade(url, "base").map(|_| ()),
        blocking.current(url).map(|_| ()),
        blocking.history(url).map(|_| ()),
        blocking.check(url).map(|_| ()),
        blocking.stamp(url, &["head"], false).map(|_| ()),
        blocking.repair(url).map(|_| ()),
        blocking.plan(url, Direction::Upgrade, "head").map(|_| ()),
    ];
    for result in results {
        let e = result.unwrap_err();
        assert!(matches!(e, Error::BlockingInsideRuntime), "{e:?}");
        assert!(e.to_string().contains("async"), "{e}");
    }
}

#[tokio::test]
async fn blocking_inside_current_thread_runtime_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = sqlite_url(&dir);
    assert_refused(&url);
    assert!(!path.exists());
    // The async API works right there.
    MIGRATIONS.upgrade(url.as_str(), "head").await.unwrap();
    assert_eq!(MIGRATIONS.current(url.as_str()).await.unwrap(), [HEAD]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_inside_multi_thread_runtime_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = sqlite_url(&dir);
    assert_refused(&url);
    // Inside a spawned task as well.
    let task_url = url.clone();
    tokio::spawn(async move { assert_refused(&task_url) })
        .await
        .unwrap();
    assert!(!path.exists());
}

/// Inside `spawn_blocking` tokio gives no way to tell the thread from an
/// async one: refused as well, and the message does not suggest it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_inside_spawn_blocking_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = sqlite_url(&dir);
    let e = tokio::task::spawn_blocking(move || MIGRATIONS.blocking().upgrade(&url, "head"))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::BlockingInsideRuntime), "{e:?}");
    assert!(e.to_string().contains("std::thread::spawn"), "{e}");
    assert!(!path.exists());
}

/// A plain thread started from async code works.
#[tokio::test]
async fn blocking_on_a_plain_thread_works() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _path) = sqlite_url(&dir);
    let task_url = url.clone();
    let report = std::thread::spawn(move || MIGRATIONS.blocking().upgrade(&task_url, "head"))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(report.steps.len(), 5);
    assert_eq!(MIGRATIONS.current(url.as_str()).await.unwrap(), [HEAD]);
}
