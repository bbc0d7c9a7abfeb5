//! The test harness itself (`tests/common`): which servers the environment
//! names, and that a skipped test is reported where a person sees it (the
//! test process's stderr, the report file, `scripts/test-report.py`'s
//! summary) while a run under `CI=true` fails instead; and that a test
//! database is dropped when its test fails, not only when it passes.
//!
//! The skip tests run this binary again as a child (the test
//! [`harness_child`], inert without `RETORT_HARNESS_CHILD`) with an
//! environment of their choosing.

mod common;

use std::path::Path;
use std::process::Command;

use common::servers::servers_in;
use common::{Backend, Server, TestDb};
use sqlx::Connection as _;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn pg(url: &str, var: &str, stated_major: Option<u32>) -> Server {
    Server {
        backend: Backend::Postgres,
        url: url.to_owned(),
        var: var.to_owned(),
        stated_major,
    }
}

#[test]
fn postgres_servers_default_first_then_by_version_once_per_url() {
    let env = vars(&[
        ("RETORT_TEST_POSTGRES18_URL", "postgres://h:18/p"),
        ("RETORT_TEST_POSTGRES_URL", "postgres://h:15/p"),
        ("RETORT_TEST_POSTGRES13_URL", "postgres://h:13/p"),
        ("RETORT_TEST_POSTGRES15_URL", "postgres://h:15/p"),
        ("RETORT_TEST_POSTGRES9_URL", ""),
        ("RETORT_TEST_POSTGRES_URLS", "postgres://h:1/p"),
        ("RETORT_TEST_POSTGRESX_URL", "postgres://h:2/p"),
        ("RETORT_TEST_MYSQL_URL", "mysql://h:3306/m"),
    ]);
    assert_eq!(
        servers_in(Backend::Postgres, env.clone()),
        [
            pg("postgres://h:15/p", "RETORT_TEST_POSTGRES_URL", Some(15)),
            pg("postgres://h:13/p", "RETORT_TEST_POSTGRES13_URL", Some(13)),
            pg("postgres://h:18/p", "RETORT_TEST_POSTGRES18_URL", Some(18)),
        ]
    );
    let mysql = servers_in(Backend::MySql, env.clone());
    assert_eq!(mysql.len(), 1);
    assert_eq!(mysql[0].url, "mysql://h:3306/m");
    assert_eq!(servers_in(Backend::Sqlite, Vec::new()).len(), 1);
}

#[test]
fn postgres_servers_without_the_default_one() {
    let env = vars(&[("RETORT_TEST_POSTGRES13_URL", "postgres://h:13/p")]);
    assert_eq!(
        servers_in(Backend::Postgres, env),
        [pg(
            "postgres://h:13/p",
            "RETORT_TEST_POSTGRES13_URL",
            Some(13)
        )]
    );
    assert!(servers_in(Backend::Postgres, vars(&[("RETORT_TEST_POSTGRES_URL", "")])).is_empty());
    assert!(servers_in(Backend::MySql, Vec::new()).is_empty());
}

const CHILD_ENV: &str = "RETORT_HARNESS_CHILD";

/// Not a test on its own: with `RETORT_HARNESS_CHILD=1`, asks for a MariaDB
/// database (the parent unsets its variable, so the test skips) and runs a
/// body on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    assert!(TestDb::new(Backend::MySql).await.is_none());
    common::each_server(Backend::Sqlite, async |db| assert_eq!(db.label(), "SQLite")).await;
}

/// Runs [`harness_child`] with no MariaDB server, `CI` as given, and the
/// report file `report`.
fn run_child(ci: Option<&str>, report: &Path) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args(["harness_child", "--exact"])
        .env(CHILD_ENV, "1")
        .env(common::report::REPORT_VAR, report)
        .env_remove(common::servers::MYSQL_VAR)
        .env_remove("CI");
    if let Some(ci) = ci {
        cmd.env("CI", ci);
    }
    cmd.output().expect("run the child")
}

#[test]
fn a_skip_is_reported_on_stderr_and_in_the_report_and_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report.tsv");
    let output = run_child(None, &report);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("test harness_child ... ok"), "{stdout}");
    // libtest captured the test's output, yet the notice got through.
    assert!(
        stderr.contains(
            "SKIPPED harness harness_child: RETORT_TEST_MYSQL_URL is not set, so this MySql test did not run"
        ),
        "{stderr}"
    );
    let lines = std::fs::read_to_string(&report).expect("the report was written");
    assert_eq!(
        lines,
        "skip\tharness\tharness_child\tRETORT_TEST_MYSQL_URL is not set, so this MySql test did not run\n\
         pass\tharness\tharness_child\tSQLite\n"
    );

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-report.py");
    let summary = match Command::new("python3").arg(&script).arg(&report).output() {
        Ok(summary) => summary,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            common::report::skip("python3 is not installed", "install python3");
            return;
        }
        Err(e) => panic!("run {}: {e}", script.display()),
    };
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.status.success(), "{text}");
    let table: Vec<&str> = text.lines().collect();
    assert_eq!(
        table[..4],
        [
            "== database test runs that passed, per suite and server",
            "  suite           SQLite",
            "  harness              1",
            "  total                1",
        ],
        "{text}"
    );
    assert!(
        text.contains(
            "== 1 test(s) skipped: shown as \"ok\" by cargo test, but they did not run\n\
             \x20    1  RETORT_TEST_MYSQL_URL is not set, so this MySql test did not run\n\
             \x20       harness harness_child\n"
        ),
        "{text}"
    );
}

#[test]
fn a_missing_server_fails_under_ci() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report.tsv");
    let output = run_child(Some("true"), &report);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "RETORT_TEST_MYSQL_URL is not set, so this MySql test did not run under CI=true: \
             run the tests through scripts/with-services.sh"
        ),
        "{stdout}"
    );
    assert!(!report.exists(), "nothing is recorded for a failed test");
}

/// Whether the database `db_name` (as its [`TestDb`] named it) is still on
/// `server`; for SQLite, whether its file `url` is.
async fn database_exists(server: &common::Server, db_name: &str, url: &str) -> bool {
    match server.backend {
        Backend::Sqlite => Path::new(url.trim_start_matches("sqlite://")).exists(),
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&server.url)
                .await
                .expect("connect");
            let found: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(db_name)
                    .fetch_optional(&mut conn)
                    .await
                    .expect("query pg_database");
            found.is_some()
        }
        Backend::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(&server.url)
                .await
                .expect("connect");
            let found: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?",
            )
            .bind(db_name)
            .fetch_optional(&mut conn)
            .await
            .expect("query information_schema");
            found.is_some()
        }
    }
}

/// Puts a table in `db` (on SQLite, creating its file first, as a
/// migration would).
async fn fill(db: &TestDb) {
    if db.backend == Backend::Sqlite {
        std::fs::File::create(db.url.trim_start_matches("sqlite://")).expect("create the file");
    }
    db.execute("CREATE TABLE t (id INT)").await;
}

/// A test body that panics inside [`TestDb::run`] (what `backend_tests!`
/// and `each_server` use) still drops its database: the panic unwinds
/// through a task of this multi-thread runtime, where the `TestDb` is
/// dropped, and the database is gone once the task has ended.
async fn a_failing_body_leaves_no_database(backend: Backend) {
    for server in common::servers(backend) {
        let db = TestDb::on(&server).await;
        let (name, url) = (db.name().to_owned(), db.url.clone());
        fill(&db).await;
        assert!(database_exists(&server, &name, &url).await, "{name} made");
        let task = tokio::spawn(async move {
            db.run(&async |_db: &TestDb| panic!("a deliberate failure"))
                .await;
        });
        let failure = task.await.expect_err("the body panicked");
        let message = failure.into_panic();
        assert_eq!(
            message.downcast_ref::<&str>(),
            Some(&"a deliberate failure"),
            "the body's own panic"
        );
        assert!(
            !database_exists(&server, &name, &url).await,
            "{name} on {:?} is still there after its test failed",
            server.backend
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_body_leaves_no_database_on_sqlite() {
    a_failing_body_leaves_no_database(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_body_leaves_no_database_on_postgres() {
    a_failing_body_leaves_no_database(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_body_leaves_no_database_on_mysql() {
    a_failing_body_leaves_no_database(Backend::MySql).await;
}

/// The same on a current-thread runtime (plain `#[tokio::test]`), where
/// the drop must not block the runtime it runs on, and through a plain
/// `drop` after the explicit path was skipped.
#[tokio::test]
async fn a_database_never_dropped_explicitly_is_dropped_on_a_current_thread_runtime() {
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        for server in common::servers(backend) {
            let db = TestDb::on(&server).await;
            let (name, url) = (db.name().to_owned(), db.url.clone());
            fill(&db).await;
            assert!(database_exists(&server, &name, &url).await, "{name} made");
            drop(db);
            assert!(
                !database_exists(&server, &name, &url).await,
                "{name} on {backend:?} is still there"
            );
        }
    }
}

/// The explicit path still drops the database, and `Drop` then has
/// nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_db_drops_the_database() {
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::MySql] {
        for server in common::servers(backend) {
            let db = TestDb::on(&server).await;
            let (name, url) = (db.name().to_owned(), db.url.clone());
            fill(&db).await;
            db.drop_db().await;
            assert!(
                !database_exists(&server, &name, &url).await,
                "{name} on {backend:?} is still there"
            );
        }
    }
}
