//! Named migration sets: a library crate (`examples/jobs`, the set `jobs`)
//! ships its own migrations, and a service's own set depends on one of
//! its revisions. Fresh upgrade of both, a second release adding revisions
//! to both, a downgrade of one set only, 16 processes racing to upgrade
//! both (each revision applied once); and what is refused.

mod common;

use std::process::{Command, ExitCode};

use common::TestDb;
use retort::{Error, Migrations};
use retort_example_jobs as jobs;

static APP_V1: Migrations = retort::embed_migrations!("tests/fixtures/sets/app_v1");
static APP_V2: Migrations = retort::embed_migrations!("tests/fixtures/sets/app_v2");

const CHILD_TEST: &str = "sets_child";

/// `(revision, times logged)` of a log table, sorted.
async fn log(db: &TestDb, table: &str) -> Vec<String> {
    db.query_strings(&format!("SELECT rev FROM {table} ORDER BY rev"))
        .await
}

fn ids(report: &retort::Report) -> Vec<&str> {
    report.steps.iter().map(|s| s.revision.as_str()).collect()
}

async fn upgrade_release_by_release(db: &TestDb) {
    let url = db.url.as_str();
    // The service's set first: its `a1` still waits for `jobs@j1`.
    let reports = retort::upgrade_all(url, &[&APP_V1, &jobs::MIGRATIONS_V1])
        .await
        .unwrap();
    assert_eq!(ids(&reports[0]), ["a1"]);
    assert_eq!(ids(&reports[1]), ["j1"]);
    assert_eq!(APP_V1.current(url).await.unwrap(), ["a1"]);
    assert_eq!(jobs::MIGRATIONS_V1.current(url).await.unwrap(), ["j1"]);
    let tables = db.tables().await;
    for table in [
        "retort_version",
        "retort_history",
        "retort_version__jobs",
        "retort_history__jobs",
    ] {
        assert!(tables.contains(&table.to_owned()), "{table} in {tables:?}");
    }

    // The next release: a revision more in each set; the service's `a2`
    // needs `jobs@j2`, its Rust revision `a3` comes after.
    let reports = retort::upgrade_all(url, &[&APP_V2, &jobs::MIGRATIONS])
        .await
        .unwrap();
    assert_eq!(ids(&reports[0]), ["a2", "a3"]);
    assert_eq!(ids(&reports[1]), ["j2"]);
    assert_eq!(log(db, "job_log").await, ["j1", "j2"]);
    assert_eq!(log(db, "app_log").await, ["a1", "a2", "a3"]);
    // At heads: nothing to do, and each set checks clean on its own.
    let again = retort::upgrade_all(url, &[&APP_V2, &jobs::MIGRATIONS])
        .await
        .unwrap();
    assert!(again.iter().all(|r| r.steps.is_empty()));
    assert!(APP_V2.check(url).await.unwrap().is_ok());
    assert!(jobs::MIGRATIONS.check(url).await.unwrap().is_ok());
    let history = jobs::MIGRATIONS.history(url).await.unwrap();
    let revisions: Vec<&str> = history.iter().map(|h| h.revision.as_str()).collect();
    assert_eq!(revisions, ["j1", "j2"], "the set's own history");

    // One set only: the service goes back to `a1`, the library's set stays.
    let report = APP_V2.downgrade(url, "a1").await.unwrap();
    assert_eq!(ids(&report), ["a3", "a2"]);
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a1"]);
    assert_eq!(jobs::MIGRATIONS.current(url).await.unwrap(), ["j2"]);
    assert_eq!(log(db, "app_log").await, ["a1"]);
    // ...and the library's set alone, which nothing applied needs now.
    jobs::MIGRATIONS.downgrade(url, "j1").await.unwrap();
    assert_eq!(log(db, "job_log").await, ["j1"]);
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a1"]);
    // Stamp takes the set too: its own version table.
    jobs::MIGRATIONS.stamp(url, "j2").await.unwrap();
    assert_eq!(jobs::MIGRATIONS.current(url).await.unwrap(), ["j2"]);
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a1"]);
}

async fn refused_before_anything_runs(db: &TestDb) {
    let url = db.url.as_str();
    let e = retort::upgrade_all(url, &[&APP_V2]).await.unwrap_err();
    assert!(matches!(e, Error::SetDependency { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "tests/fixtures/sets/app_v2/a1_tasks.sql: revision `a1` depends on `jobs@j1`, but no migration set named `jobs` is upgraded with it: pass that set too (`retort::upgrade_all(&db, &[&jobs::MIGRATIONS, ...])`)"
    );
    // The previous release of the library lacks `j2`.
    let e = retort::upgrade_all(url, &[&APP_V2, &jobs::MIGRATIONS_V1])
        .await
        .unwrap_err();
    assert!(
        e.to_string().ends_with(
            "revision `a2` depends on `jobs@j2`, which is not a revision of the set `jobs`"
        ),
        "{e}"
    );
    let e = retort::upgrade_all(url, &[&jobs::MIGRATIONS, &jobs::MIGRATIONS_V1])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("two sets named `jobs`"), "{e}");
    assert_eq!(
        db.tables().await,
        Vec::<String>::new(),
        "nothing was written"
    );
    // What the first refusal says to do works.
    retort::upgrade_all(url, &[&APP_V2, &jobs::MIGRATIONS])
        .await
        .unwrap();
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a3"]);
}

/// A database migrated before it had sets (the default set's tables
/// only) takes a library's set later: the default set's tables and rows
/// stay as they were, the new set gets its own.
async fn adding_a_set_to_an_existing_database(db: &TestDb) {
    static SAMPLE: Migrations = retort::embed_migrations!("migrations");
    let url = db.url.as_str();
    SAMPLE.upgrade(url, "head").await.unwrap();
    let heads = SAMPLE.current(url).await.unwrap();
    let before = SAMPLE.history(url).await.unwrap();

    let reports = retort::upgrade_all(url, &[&SAMPLE, &jobs::MIGRATIONS])
        .await
        .unwrap();
    assert!(reports[0].steps.is_empty());
    assert_eq!(ids(&reports[1]), ["j1", "j2"]);
    assert_eq!(SAMPLE.current(url).await.unwrap(), heads);
    assert_eq!(SAMPLE.history(url).await.unwrap(), before);
    assert!(SAMPLE.check(url).await.unwrap().is_ok());
    assert_eq!(jobs::MIGRATIONS.current(url).await.unwrap(), ["j2"]);
}

/// 16 processes upgrade both sets of a fresh database at once: every
/// revision is applied once (its own log row, one history row).
async fn sixteen_processes_upgrade_both_sets(db: &TestDb) {
    let exe = std::env::current_exe().expect("the test binary");
    let children: Vec<_> = (0..16)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
                .env("RETORT_SETS_CHILD_URL", &db.url)
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn a child")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("wait for a child");
        assert!(status.success(), "a child failed: {status}");
    }
    assert_eq!(log(db, "job_log").await, ["j1", "j2"]);
    assert_eq!(log(db, "app_log").await, ["a1", "a2", "a3"]);
    let url = db.url.as_str();
    for (set, expected) in [(&APP_V2, 3), (&jobs::MIGRATIONS, 2)] {
        let history = set.history(url).await.unwrap();
        assert_eq!(history.len(), expected, "{history:?}");
        assert!(set.check(url).await.unwrap().is_ok());
    }
}

/// The CLI a service mounts with its sets (`retort::cli::run_sets`):
/// `upgrade head` upgrades them all; `--set NAME` picks one for the other
/// verbs; an unknown set is an error naming the sets there are.
async fn service_cli_with_sets(db: &TestDb) {
    let url = db.url.as_str();
    let cli = async |args: &[&str]| {
        let args = ["retort"].iter().chain(args).copied();
        retort::cli::run_sets_async(args, &[&APP_V2, &jobs::MIGRATIONS]).await
    };
    assert_eq!(
        cli(&["upgrade", "head", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a3"]);
    assert_eq!(jobs::MIGRATIONS.current(url).await.unwrap(), ["j2"]);
    assert_eq!(
        cli(&["check", "--set", "jobs", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(
        cli(&["downgrade", "a1", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a1"]);
    assert_eq!(
        cli(&["--set", "jobs", "downgrade", "j1", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(jobs::MIGRATIONS.current(url).await.unwrap(), ["j1"]);
    assert_eq!(
        cli(&["stamp", "j2", "--set", "jobs", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(jobs::MIGRATIONS.current(url).await.unwrap(), ["j2"]);
    assert_ne!(
        cli(&["current", "--set", "nope", "--database-url", url]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(APP_V2.current(url).await.unwrap(), ["a1"]);
}

/// Not a test on its own: a child process of the race above.
#[test]
fn sets_child() {
    let Ok(url) = std::env::var("RETORT_SETS_CHILD_URL") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime
        .block_on(retort::upgrade_all(
            url.as_str(),
            &[&APP_V2, &jobs::MIGRATIONS],
        ))
        .unwrap_or_else(|e| panic!("upgrade_all: {e}"));
}

backend_tests!(
    upgrade_release_by_release,
    refused_before_anything_runs,
    sixteen_processes_upgrade_both_sets,
    service_cli_with_sets,
    adding_a_set_to_an_existing_database
);
