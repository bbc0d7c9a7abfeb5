//! Rust revisions (`.rs` files beside the SQL ones) on every backend:
//! Alembic's data migration and conditional drop, a revision that fails
//! half way, drift of an edited `.rs` file, and what the standalone
//! binary (revisions read from files) and `--sql` do with one.

mod common;

use std::process::ExitCode;

use common::{Backend, TestDb};
use retort::{Config, Error};

static MIGRATIONS: retort::Migrations = retort::embed_migrations!("tests/fixtures/rust_revisions");

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rust_revisions");

/// The names of the accounts on `plan_code`, by id.
async fn on_plan(db: &TestDb, plan_code: u32) -> Vec<String> {
    db.query_strings(&format!(
        "SELECT name FROM account WHERE plan_code = {plan_code} ORDER BY id"
    ))
    .await
}

/// The CLI a service mounts (`retort::cli::run(&MIGRATIONS)`), in process.
async fn service_cli(args: &[&str]) -> ExitCode {
    let args = std::iter::once("retort").chain(args.iter().copied());
    retort::cli::run_async(args, Some(&MIGRATIONS)).await
}

async fn data_migration_keeps_rows_and_downgrade_restores(db: &TestDb) {
    let url = db.url.as_str();
    MIGRATIONS.upgrade(url, "a1").await.unwrap();
    db.execute(
        "INSERT INTO account (id, name, plan) VALUES (1, 'ada', 'pro'), (2, 'bob', 'free'), (3, 'cy', 'team'), (4, 'di', 'pro')",
    )
    .await;

    let report = MIGRATIONS.upgrade(url, "b2").await.unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].revision, "b2");
    assert_eq!(on_plan(db, 0).await, ["bob"]);
    assert_eq!(on_plan(db, 1).await, ["ada", "di"]);
    assert_eq!(on_plan(db, 2).await, ["cy"]);
    assert!(!db.tables().await.contains(&"account_new".to_owned()));

    MIGRATIONS.downgrade(url, "a1").await.unwrap();
    assert_eq!(MIGRATIONS.current(url).await.unwrap(), ["a1"]);
    let pro = db
        .query_strings("SELECT name FROM account WHERE plan = 'pro' ORDER BY id")
        .await;
    assert_eq!(pro, ["ada", "di"]);
    let all = db
        .query_strings("SELECT plan FROM account ORDER BY id")
        .await;
    assert_eq!(all, ["pro", "free", "team", "pro"]);

    // Up again, and the history holds both directions, checksummed.
    MIGRATIONS.upgrade(url, "b2").await.unwrap();
    let history = MIGRATIONS.history(url).await.unwrap();
    let steps: Vec<(String, &str)> = history
        .iter()
        .map(|h| (h.revision.clone(), h.operation.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("a1".to_owned(), "upgrade"),
            ("b2".to_owned(), "upgrade"),
            ("b2".to_owned(), "downgrade"),
            ("b2".to_owned(), "upgrade"),
        ]
    );
    assert!(MIGRATIONS.check(url).await.unwrap().drift.is_empty());
}

async fn conditional_drop_runs_where_the_table_is(db: &TestDb) {
    let with = db;
    let without = db.sibling().await;
    for db in [with, &without] {
        MIGRATIONS.upgrade(db.url.as_str(), "b2").await.unwrap();
    }
    with.execute("CREATE TABLE legacy_log (line VARCHAR(100))")
        .await;

    for db in [with, &without] {
        let before: Vec<String> = db.tables().await;
        MIGRATIONS.upgrade(db.url.as_str(), "c3").await.unwrap();
        let after: Vec<String> = db.tables().await;
        let expected: Vec<String> = before.into_iter().filter(|t| t != "legacy_log").collect();
        assert_eq!(after, expected, "{}", db.name());
        assert_eq!(MIGRATIONS.current(db.url.as_str()).await.unwrap(), ["c3"]);
    }
    without.drop_db().await;
}

/// `-x fail=...` makes `d4` fail after its first statements: rolled back
/// with its bookkeeping where DDL is transactional; on MySQL/MariaDB its
/// table stays, the attempt is recorded as failed, and the way out the
/// error names (undo by hand, `retort repair`) works.
async fn failing_revision_half_way(db: &TestDb) {
    let url = db.url.as_str();
    MIGRATIONS.upgrade(url, "c3").await.unwrap();
    let failing = MIGRATIONS.with_config(Config::default().arg("fail", "on purpose"));
    let e = failing.upgrade(url, "head").await.unwrap_err();
    let Error::Code {
        revision,
        file,
        line,
        message,
        rolled_back,
        ..
    } = &e
    else {
        panic!("expected a Rust revision's error, got {e:?}");
    };
    assert_eq!(revision, "d4");
    assert_eq!(file, "tests/fixtures/rust_revisions/d4_audit.rs");
    assert_eq!(*line, 10);
    assert_eq!(message, "stopped half way: on purpose");
    assert!(
        e.to_string()
            .starts_with("tests/fixtures/rust_revisions/d4_audit.rs:10: upgrade of revision `d4` failed in its Rust code: stopped half way: on purpose"),
        "{e}"
    );
    assert_eq!(MIGRATIONS.current(url).await.unwrap(), ["c3"]);
    if db.backend == Backend::MySql {
        assert!(!rolled_back);
        assert!(db.tables().await.contains(&"audit".to_owned()));
        let refused = MIGRATIONS.upgrade(url, "head").await.unwrap_err();
        let shown = refused.to_string();
        assert!(
            shown.contains("upgrade of revision `d4` (tests/fixtures/rust_revisions/d4_audit.rs) failed in its Rust code (")
                && shown.contains("then run `retort repair` if the revision's effects were undone"),
            "{shown}"
        );
        // The hint: undo by hand, then `retort repair` (the service's CLI).
        db.execute("DROP TABLE audit").await;
        assert_eq!(
            service_cli(&["repair", "--database-url", url]).await,
            ExitCode::SUCCESS
        );
    } else {
        assert!(rolled_back, "{e}");
        assert!(!db.tables().await.contains(&"audit".to_owned()));
    }
    let report = MIGRATIONS.upgrade(url, "head").await.unwrap();
    assert_eq!(report.steps.len(), 1);
    let notes = db.query_strings("SELECT note FROM audit ORDER BY id").await;
    assert_eq!(notes, ["started", "done"]);
}

/// Editing a `.rs` revision after it was applied is drift, named by file;
/// the standalone binary's way of reading revisions (from files) refuses
/// to run a Rust revision before changing anything, and the service's CLI
/// it points at runs it.
async fn drift_and_the_standalone_binary(db: &TestDb) {
    let url = db.url.as_str();
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let from_files = retort::Migrations::from_dir(dir.path()).unwrap();
    assert_eq!(from_files.set().heads().collect::<Vec<_>>(), ["d4"]);
    assert!(from_files.code("b2").is_none());
    assert!(MIGRATIONS.code("b2").is_some() && MIGRATIONS.code("a1").is_none());

    let e = from_files.upgrade(url, "head").await.unwrap_err();
    assert!(
        matches!(&e, Error::CodeUnavailable { revision, .. } if revision == "b2"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("b2_plan_codes.rs: revision `b2` is a Rust revision"),
        "{e}"
    );
    assert!(
        e.to_string().contains("retort::cli::run(&MIGRATIONS)"),
        "{e}"
    );
    assert_eq!(
        db.tables().await,
        Vec::<String>::new(),
        "nothing was changed"
    );

    assert_eq!(
        service_cli(&["upgrade", "head", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(MIGRATIONS.current(url).await.unwrap(), ["d4"]);
    // Read from files, the applied revisions match: no drift, and the
    // commands that run no code work.
    assert!(from_files.check(url).await.unwrap().is_ok());

    let edited = dir.path().join("c3_drop_legacy.rs");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        text.replace("dropping legacy_log", "dropping the log"),
    )
    .unwrap();
    let from_files = retort::Migrations::from_dir(dir.path()).unwrap();
    let check = from_files.check(url).await.unwrap();
    let edited: Vec<&str> = check.drift.edited.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(edited.len(), 1, "{:?}", check.drift);
    assert!(edited[0].ends_with("c3_drop_legacy.rs"), "{edited:?}");
    let e = from_files.upgrade(url, "head").await;
    // At head: answered without the lock only when nothing drifted, so
    // this is the full check, which reports the edited file.
    let e = e.unwrap_err();
    assert!(matches!(e, Error::Drift(_)), "{e:?}");
    assert!(e.to_string().contains("c3_drop_legacy.rs"), "{e}");
}

/// The events of a Rust revision, as a log pipeline (a registry with a
/// capturing layer, scoped to the run) sees them: checked in a process of
/// its own (this test binary, re-run as `events_child`). In a process
/// where other tests run upgrades in parallel, a scoped subscriber missed
/// events now and then, and the run sometimes never completed on SQLite
/// (see the closing notes of issue 13); alone it has not.
#[test]
fn events_of_a_rust_revision_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("events.db").display()
    );
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "events_child", "--nocapture", "--test-threads=1"])
        .env("RETORT_EVENTS_CHILD_URL", &url)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the child failed: {status}");
}

/// Not a test on its own: the child of the test above.
#[test]
fn events_child() {
    use tracing::instrument::WithSubscriber as _;

    let Ok(url) = std::env::var("RETORT_EVENTS_CHILD_URL") else {
        return;
    };
    let url = url.as_str();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        MIGRATIONS.upgrade(url, "a1").await.unwrap();
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        sqlx::raw_sql("INSERT INTO account (id, name, plan) VALUES (1, 'ada', 'pro')")
            .execute(&mut conn)
            .await
            .unwrap();
        let capture = common::capture::Capture::default();
        MIGRATIONS
            .upgrade(url, "b2")
            .with_subscriber(capture.dispatch())
            .await
            .unwrap();
        let events = capture.events();
        let copied: Vec<_> = events
            .iter()
            .filter(|e| {
                e.get("message").map(|m| m.text()).as_deref() == Some("copied the accounts")
            })
            .collect();
        assert_eq!(copied.len(), 1, "{events:?}");
        assert_eq!(copied[0].str("copied"), "1");
        let (_, _, span) = copied[0]
            .spans
            .iter()
            .find(|(name, _, _)| name == "revision")
            .expect("inside the `revision` span");
        let span: Vec<(&str, String)> = span.iter().map(|(k, v)| (k.as_str(), v.text())).collect();
        let expected = [
            ("direction", "upgrade".to_owned()),
            (
                "file",
                "tests/fixtures/rust_revisions/b2_plan_codes.rs".to_owned(),
            ),
            ("revision", "b2".to_owned()),
        ];
        assert_eq!(span, expected);
    });
}

/// The whole run in one transaction: the Rust revisions' functions run in
/// it with everything else, and a failure in one rolls back the run
/// (refused on MySQL/MariaDB, where DDL commits by itself).
async fn single_transaction_with_rust_revisions(db: &TestDb) {
    let url = db.url.as_str();
    let single = Config::default().transaction_mode(retort::TransactionMode::Single);
    let failing = MIGRATIONS.with_config(single.clone().arg("fail", "at the end"));
    let e = failing.upgrade(url, "head").await.unwrap_err();
    if db.backend == Backend::MySql {
        assert!(
            matches!(e, Error::SingleTransactionUnsupported { .. }),
            "{e:?}"
        );
        return;
    }
    assert!(
        matches!(&e, Error::Code { revision, rolled_back: true, .. } if revision == "d4"),
        "{e:?}"
    );
    assert_eq!(MIGRATIONS.current(url).await.unwrap(), Vec::<String>::new());
    assert!(
        !db.tables().await.contains(&"account".to_owned()),
        "the run was rolled back"
    );
    let report = MIGRATIONS
        .with_config(single)
        .upgrade(url, "head")
        .await
        .unwrap();
    assert_eq!(report.steps.len(), 4);
    assert_eq!(MIGRATIONS.current(url).await.unwrap(), ["d4"]);
    let notes = db.query_strings("SELECT note FROM audit ORDER BY id").await;
    assert_eq!(notes, ["started", "done"]);
}

backend_tests!(
    single_transaction_with_rust_revisions,
    data_migration_keeps_rows_and_downgrade_restores,
    conditional_drop_runs_where_the_table_is,
    failing_revision_half_way,
    drift_and_the_standalone_binary
);

/// `--sql` renders the bookkeeping of a Rust revision and marks its code,
/// which it cannot render, in the script.
#[test]
fn offline_script_marks_the_rust_step() {
    let script = retort::offline::upgrade(
        &MIGRATIONS,
        &Config::default(),
        retort::Backend::Postgres,
        None,
        "c3",
    )
    .unwrap();
    let text = script.sql;
    assert!(text.contains("CREATE TABLE account ("), "{text}");
    assert!(
        text.contains("-- retort: NOT RENDERED: the upgrade of revision `b2` is Rust code (tests/fixtures/rust_revisions/b2_plan_codes.rs)"),
        "{text}"
    );
    assert_eq!(text.matches("NOT RENDERED").count(), 2, "{text}");
    let marker = text.find("`b2` is Rust code").unwrap();
    assert!(
        text[marker..].contains("'b2'"),
        "the bookkeeping follows: {text}"
    );
}
