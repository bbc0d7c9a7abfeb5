//! A transactional revision and its bookkeeping go to PostgreSQL as one
//! message and to SQLite as one call (issue 15): what that must not change.
//! Statements ending in line comments, dollar quotes and semicolons inside
//! strings apply as they would statement by statement; a revision that
//! changes the version table itself is refused by the bookkeeping's own
//! check (the row count is checked inside the message) and rolled back
//! whole; a failing statement is still named (statement k, its line).
//! On PostgreSQL the bookkeeping is a prepared statement, executed from the
//! message and deallocated at the end of the run.
//! MySQL/MariaDB (no transactional DDL) sends a message per statement with
//! its bookkeeping; the last tests check what that keeps.

mod common;

use common::capture::Capture;
use common::{Backend, TestDb, each_server, write_revisions};
use retort::{Error, Migrations};
use sqlx::Connection as _;
use tracing::instrument::WithSubscriber as _;

const A: &str = "0e0e00000001";
const B: &str = "0e0e00000002";
const C: &str = "0e0e00000003";

/// Fails unless the session has retort's prepared bookkeeping.
const MUST_BE_PREPARED: &str = "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_prepared_statements \
     WHERE name LIKE 'retort\\_bookkeeping\\_%') THEN RAISE EXCEPTION 'not prepared'; END IF; END $$;";

/// Deallocates retort's prepared bookkeeping, as a pooler handing out
/// another session would lose it.
const DEALLOCATE: &str = "DO $$ DECLARE n text; BEGIN FOR n IN SELECT name FROM pg_prepared_statements \
     WHERE name LIKE 'retort\\_bookkeeping\\_%' LOOP EXECUTE format('DEALLOCATE %I', n); END LOOP; END $$;";

async fn on_transactional_backends(body: impl AsyncFn(&TestDb)) {
    each_server(Backend::Sqlite, &body).await;
    each_server(Backend::Postgres, &body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_statements_apply_as_one_message() {
    on_transactional_backends(async |db: &TestDb| {
        // On PostgreSQL the revision also draws from a sequence, which no
        // rollback gives back: a step that failed as one message and ran
        // again statement by statement would draw twice.
        let (pg, dollar, seq) = if db.backend == Backend::Postgres {
            (
                true,
                "CREATE FUNCTION one() RETURNS int AS $f$ SELECT 1; $f$ LANGUAGE sql;\n\
                 SELECT nextval('s');\n",
                "CREATE SEQUENCE s;",
            )
        } else {
            (false, "", "CREATE TABLE s (id INT);")
        };
        let up = format!(
            "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(40)) -- a trailing comment\n;\n\
             INSERT INTO t VALUES (1, 'semi; colon -- not a comment');\n\
             /* a block comment */ INSERT INTO t VALUES (2, 'x') /* after */;\n{dollar}"
        );
        let dir = write_revisions(&[
            (A, "", "", seq, "DROP SEQUENCE s;"),
            (B, A, "", &up, "DROP TABLE t;"),
        ]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        migrations.upgrade(db.url.as_str(), A).await.unwrap();
        let report = migrations.upgrade(db.url.as_str(), "head").await.unwrap();
        assert_eq!(report.steps.len(), 1);
        if pg {
            let drawn = db.query_strings("SELECT last_value::text FROM s").await;
            assert_eq!(drawn, ["1"], "the revision ran once, as one message");
        }
        let notes = db.query_strings("SELECT note FROM t ORDER BY id").await;
        assert_eq!(notes, ["semi; colon -- not a comment", "x"]);
        let history = migrations.history(db.url.as_str()).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].statement_count, if pg { 5 } else { 3 });
        let check = migrations.check(db.url.as_str()).await.unwrap();
        assert!(check.is_ok(), "{:?}", check.problems());
        assert!(check.history.broken.is_none(), "the chain holds");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_that_changes_the_version_table_is_rolled_back() {
    on_transactional_backends(async |db: &TestDb| {
        let dir = write_revisions(&[
            (A, "", "", "CREATE TABLE a (id INT);", "DROP TABLE a;"),
            (
                B,
                A,
                "",
                "CREATE TABLE b (id INT);\nDELETE FROM retort_version;",
                "DROP TABLE b;",
            ),
        ]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        migrations.upgrade(db.url.as_str(), A).await.unwrap();
        let err = migrations
            .upgrade(db.url.as_str(), "head")
            .await
            .expect_err("the version row is gone when the bookkeeping runs");
        let message = err.to_string();
        assert!(message.contains(B), "{message}");
        assert!(
            format!("{err:?}").contains("expected to update one version-table row"),
            "{err:?}"
        );
        // All of B rolled back: its table, its DELETE, its bookkeeping.
        assert_eq!(migrations.current(db.url.as_str()).await.unwrap(), [A]);
        assert!(!db.tables().await.contains(&"b".to_owned()));
        let history = migrations.history(db.url.as_str()).await.unwrap();
        assert_eq!(history.len(), 1, "{history:#?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_statement_is_named_after_the_message_fails() {
    on_transactional_backends(async |db: &TestDb| {
        let up = "CREATE TABLE t1 (id INT);\n\nINSERT INTO nowhere VALUES (1);\nCREATE TABLE t2 (id INT);";
        let dir = write_revisions(&[(A, "", "", up, "DROP TABLE t1;")]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        let err = migrations.upgrade(db.url.as_str(), "head").await.unwrap_err();
        match &err {
            Error::Statement {
                revision,
                statement,
                line,
                rolled_back,
                ..
            } => {
                assert_eq!((revision.as_str(), *statement), (A, 2), "{err}");
                // The section starts on line 8 (see `write_revisions`).
                assert_eq!(*line, 10, "{err}");
                assert!(*rolled_back, "{err}");
            }
            other => panic!("expected a Statement error, got {other:?}"),
        }
        assert!(!db.tables().await.contains(&"t1".to_owned()));
        assert!(migrations.current(db.url.as_str()).await.unwrap().is_empty());
    })
    .await;
}

/// MySQL/MariaDB sends a revision a message per statement with its
/// bookkeeping: a failure in the middle of plain DML leaves what op by op
/// left (the statements before it applied and recorded, the step failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_dml_failing_half_way_keeps_what_ran() {
    each_server(Backend::MySql, async |db: &TestDb| {
        let dir = write_revisions(&[
            (A, "", "", "CREATE TABLE t (id INT PRIMARY KEY);", "DROP TABLE t;"),
            (
                B,
                A,
                "",
                "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (3);",
                "DELETE FROM t;",
            ),
        ]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        let err = migrations.upgrade(db.url.as_str(), "head").await.unwrap_err();
        assert!(
            matches!(&err, Error::Statement { revision, statement: 2, rolled_back: false, .. } if revision == B),
            "{err:?}"
        );
        assert_eq!(db.query_strings("SELECT CAST(id AS CHAR) FROM t").await, ["1"]);
        let history = migrations.history(db.url.as_str()).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!((last.status.as_str(), last.statements_done), ("failed", 1), "{history:#?}");
        let check = migrations.check(db.url.as_str()).await.unwrap();
        assert!(check.history.broken.is_none(), "the chain holds: {check:?}");
    })
    .await;
}

/// Statements the message layout cannot carry (`SET`, `CALL`) run op by
/// op; a revision that removes its own version row is caught by the
/// close's row count and left running, as op by op left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_unfit_statements_and_a_lost_version_row() {
    each_server(Backend::MySql, async |db: &TestDb| {
        let dir = write_revisions(&[
            (
                A,
                "",
                "",
                "SET @n = 41;\nCREATE TABLE t (id INT);\nINSERT INTO t VALUES (@n + 1);",
                "DROP TABLE t;",
            ),
            (
                B,
                A,
                "",
                "INSERT INTO t VALUES (2);\nDELETE FROM retort_version;",
                "SELECT 1;",
            ),
        ]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        migrations.upgrade(db.url.as_str(), A).await.unwrap();
        assert_eq!(
            db.query_strings("SELECT CAST(id AS CHAR) FROM t").await,
            ["42"]
        );
        let err = migrations
            .upgrade(db.url.as_str(), "head")
            .await
            .unwrap_err();
        let debug = format!("{err:?}");
        assert!(
            debug.contains("expected to update one version-table row"),
            "{debug}"
        );
        let history = migrations.history(db.url.as_str()).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.revision, B);
        assert_eq!(last.status.as_str(), "running", "{history:#?}");
        let err = migrations
            .upgrade(db.url.as_str(), "head")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::FailedState { .. }), "{err:?}");
    })
    .await;
}

/// PostgreSQL: the message executes the prepared bookkeeping (a revision
/// that fails without it applies), and the run leaves nothing prepared on
/// the caller's connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bookkeeping_is_prepared_and_deallocated() {
    each_server(Backend::Postgres, async |db: &TestDb| {
        let dir = write_revisions(&[
            (A, "", "", "CREATE TABLE a (id INT);", "DROP TABLE a;"),
            (B, A, "", MUST_BE_PREPARED, "SELECT 1;"),
        ]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        let mut conn = sqlx::PgConnection::connect(db.url.as_str()).await.unwrap();
        let report = migrations.upgrade(&mut conn, "head").await.unwrap();
        assert_eq!(report.steps.len(), 2);
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'retort\\_%'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(left, 0, "the run deallocates what it prepared");
        conn.close().await.unwrap();
    })
    .await;
}

/// PostgreSQL: when the session loses the prepared bookkeeping, the step
/// runs again statement by statement and the rest of the run writes the
/// values in: one retry in all, not one per step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_lost_prepared_statement_is_not_used_again() {
    each_server(Backend::Postgres, async |db: &TestDb| {
        let dir = write_revisions(&[
            (A, "", "", "CREATE TABLE a (id INT);", "DROP TABLE a;"),
            (B, A, "", DEALLOCATE, "SELECT 1;"),
            (C, B, "", "CREATE TABLE c (id INT);", "DROP TABLE c;"),
        ]);
        let migrations = Migrations::from_dir(dir.path()).unwrap();
        let capture = Capture::default();
        let report = migrations
            .upgrade(db.url.as_str(), "head")
            .with_subscriber(capture.dispatch())
            .await
            .unwrap();
        assert_eq!(report.steps.len(), 3);
        let retries = capture
            .events()
            .iter()
            .filter(|e| {
                e.get("message")
                    .is_some_and(|m| m.text().starts_with("the step failed as one message"))
            })
            .count();
        assert_eq!(
            retries, 1,
            "only the step that lost the statement runs twice"
        );
        let check = migrations.check(db.url.as_str()).await.unwrap();
        assert!(check.is_ok(), "{:?}", check.problems());
    })
    .await;
}
