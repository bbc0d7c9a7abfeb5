//! Errors read as sentences, never as a `Debug` dump: what `fn main() ->
//! Result<(), retort::Error>` prints (`Error: {:?}`) is the message and
//! the causes that add something, and no message carries the database
//! client's internals (sqlx's "error returned from database" prefix, or
//! PostgreSQL's `at line 1188`, a line of the *server's* C source), on
//! every backend, for a failing revision and a failing connection.

mod common;

use common::{Backend, TestDb, write_revisions};
use retort::{Error, Migrations};

/// Marks of a `Debug` dump or of the driver's internals.
const NOISE: [&str; 8] = [
    "Statement {",
    "Connect {",
    "source:",
    "Database(",
    "PgDatabaseError",
    "MySqlDatabaseError",
    "error returned from database",
    " at line ",
];

/// What a failed `main` returning `err` prints.
fn main_output(err: &Error) -> String {
    format!("Error: {err:?}")
}

#[track_caller]
fn assert_readable(err: &Error) {
    let text = format!("{}\n{}", err, main_output(err));
    for noise in NOISE {
        assert!(!text.contains(noise), "`{noise}` in:\n{text}");
    }
    assert!(
        main_output(err).starts_with(&format!("Error: {err}")),
        "main's output should open with the message:\n{}",
        main_output(err)
    );
}

async fn failing_revision_reads_as_a_sentence(db: &TestDb) {
    let dir = write_revisions(&[
        (
            "d15a00000001",
            "",
            "",
            "CREATE TABLE shown (id INT PRIMARY KEY);",
            "DROP TABLE shown;",
        ),
        (
            "d15a00000002",
            "d15a00000001",
            "",
            "CREATE TABLE shown (id INT PRIMARY KEY);",
            "",
        ),
    ]);
    let migrations = Migrations::from_dir(dir.path()).expect("revisions load");
    let err = migrations
        .upgrade(db.url.as_str(), "head")
        .await
        .expect_err("the second revision creates an existing table");
    assert!(matches!(err, Error::Statement { .. }), "{err}");
    assert_readable(&err);
    // Nothing below the database's own message adds anything.
    assert_eq!(main_output(&err), format!("Error: {err}"));
    assert!(err.to_string().contains("shown"), "{err}");
}

/// A server that answers, refusing the database (PostgreSQL, MariaDB),
/// and a port where nothing listens; SQLite: a file in a missing directory.
async fn failing_connection_reads_as_a_sentence(db: &TestDb) {
    let (base, _) = db.url.rsplit_once('/').expect("a database in the URL");
    let urls = match db.backend {
        Backend::Sqlite => vec![format!("{base}/no-such-directory/app.db")],
        Backend::Postgres => vec![
            format!("{base}/retort_no_such_database"),
            "postgres://app:hunter22@127.0.0.1:1/app".to_owned(),
        ],
        Backend::MySql => vec![
            format!("{base}/retort_no_such_database"),
            "mysql://app:hunter22@127.0.0.1:1/app".to_owned(),
        ],
    };
    let migrations = Migrations::from_dir(write_revisions(&[]).path()).expect("no revisions");
    for url in &urls {
        let err = migrations
            .current(url)
            .await
            .expect_err("no such database, or nothing listening");
        assert!(matches!(err, Error::Connect { .. }), "{url}: {err}");
        assert_readable(&err);
        assert!(!main_output(&err).contains("hunter22"), "{err:?}");
    }
}

backend_tests!(
    failing_revision_reads_as_a_sentence,
    failing_connection_reads_as_a_sentence
);
