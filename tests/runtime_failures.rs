//! Failures on every backend: a failing revision (rolled back on
//! PostgreSQL/SQLite; a reported, blocking failed state on MariaDB, resolved
//! by `repair` or `stamp`), non-transactional revisions, single-transaction
//! mode, and errors for bad targets, URLs and settings.

mod common;

use common::{Backend, TestDb};
use retort::{Config, Direction, Error, Migrations, TransactionMode};
use retort_core::plan::PlanError;
use retort_core::target::TargetError;

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

/// B's upgrade: the first statement works, the second references a
/// missing table. In the file (see `common::write_revisions`) the upgrade
/// section starts on line 8, so the failing statement is on line 10.
const FAILING_UP: &str = "CREATE TABLE t_b1 (id INT PRIMARY KEY);\n\nINSERT INTO missing_table (id) VALUES (1);\nCREATE TABLE t_b2 (id INT PRIMARY KEY);";
const FAILING_LINE: u32 = 10;

fn failing_set(b_extra: &str, b_up: &str) -> (tempfile::TempDir, Migrations) {
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t_a (id INT PRIMARY KEY);",
            "DROP TABLE t_a;",
        ),
        (B, A, b_extra, b_up, "DROP TABLE t_b2;\nDROP TABLE t_b1;"),
        (
            C,
            B,
            "",
            "CREATE TABLE t_c (id INT PRIMARY KEY);",
            "DROP TABLE t_c;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).expect("valid revisions");
    (dir, m)
}

async fn user_tables(db: &TestDb) -> Vec<String> {
    let mut tables: Vec<String> = db
        .tables()
        .await
        .into_iter()
        .filter(|t| !t.starts_with("retort_"))
        .collect();
    tables.sort(); // MariaDB's collation orders `_` differently
    tables
}

fn file_of(dir: &tempfile::TempDir, id: &str) -> String {
    format!("{}/{id}.sql", dir.path().display())
}

/// Checks the `Error::Statement` of B's failing second statement.
fn assert_statement_error(e: &Error, file: &str, rolled_back_expected: bool) {
    match e {
        Error::Statement {
            revision,
            file: f,
            direction,
            statement,
            line,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(revision, B);
            assert_eq!(f, file);
            assert_eq!(*direction, Direction::Upgrade);
            assert_eq!(*statement, 2);
            assert_eq!(*line, FAILING_LINE);
            assert!(message.contains("missing_table"), "{message}");
            assert_eq!(*rolled_back, rolled_back_expected);
        }
        other => panic!("expected Error::Statement, got {other:?}"),
    }
    let text = e.to_string();
    for part in [
        format!("{file}:{FAILING_LINE}:"),
        format!("revision `{B}`"),
        "statement 2".to_owned(),
        "missing_table".to_owned(),
    ] {
        assert!(text.contains(&part), "`{part}` missing from: {text}");
    }
    assert_eq!(text.contains("rolled back"), rolled_back_expected, "{text}");
}

/// PostgreSQL and SQLite roll the whole revision back; MariaDB keeps what
/// ran, records the failure, and refuses to go on until it is resolved
/// (here by `repair` after undoing the partial DDL by hand).
async fn failing_revision(db: &TestDb) {
    let (dir, m) = failing_set("", FAILING_UP);
    let url = db.url.as_str();
    let file = file_of(&dir, B);

    let e = m.upgrade(url, "head").await.unwrap_err();
    let transactional = db.backend != Backend::MySql;
    assert_statement_error(&e, &file, transactional);
    assert_eq!(m.current(url).await.unwrap(), [A]);
    // The error carries what the run committed before it: A, only A.
    let applied: Vec<&str> = e.applied().iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(applied, [A]);
    let history = m.history(url).await.unwrap();

    if transactional {
        // Nothing of B remains: not its first table, not a history row.
        assert_eq!(user_tables(db).await, ["t_a"]);
        assert_eq!(history.len(), 1, "{history:?}");
        let check = m.check(url).await.unwrap();
        assert!(check.failed.is_none(), "{check:?}");
        assert_eq!(check.pending, [B, C]);
        // Nothing blocks a new attempt: it fails the same way again.
        let again = m.upgrade(url, "head").await.unwrap_err();
        assert_statement_error(&again, &file, true);
        assert!(again.applied().is_empty(), "{:?}", again.applied());
        assert_eq!(user_tables(db).await, ["t_a"]);
        // Downgrade is not blocked either.
        m.downgrade(url, "base").await.unwrap();
        assert!(m.current(url).await.unwrap().is_empty());
        assert!(user_tables(db).await.is_empty());
        return;
    }

    // MariaDB: the first statement's table stays, and the attempt is on record.
    assert_eq!(user_tables(db).await, ["t_a", "t_b1"]);
    let last = history.last().unwrap();
    assert_eq!(
        (
            last.revision.as_str(),
            last.operation.as_str(),
            last.status.as_str()
        ),
        (B, "upgrade", "failed")
    );
    assert_eq!((last.statements_done, last.statement_count), (1, 3));
    assert!(
        last.error
            .as_deref()
            .unwrap_or("")
            .contains("missing_table"),
        "{last:?}"
    );
    assert_failed_state(&m.upgrade(url, "head").await.unwrap_err(), &file);
    assert_failed_state(&m.upgrade(url, "+1").await.unwrap_err(), &file);
    assert_failed_state(&m.downgrade(url, "base").await.unwrap_err(), &file);
    let check = m.check(url).await.unwrap();
    let failed = check
        .failed
        .clone()
        .expect("check reports the failed step")
        .to_string();
    assert!(
        failed.contains(B) && failed.contains("retort repair"),
        "{failed}"
    );
    assert!(!check.is_ok());
    // Still exactly as it was: nothing ran.
    assert_eq!(user_tables(db).await, ["t_a", "t_b1"]);
    assert_eq!(m.current(url).await.unwrap(), [A]);

    // Undo the partial DDL by hand, repair, fix the revision, upgrade.
    db.execute("DROP TABLE t_b1").await;
    m.repair(url).await.unwrap();
    assert!(m.check(url).await.unwrap().failed.is_none());
    let fixed = "CREATE TABLE t_b1 (id INT PRIMARY KEY);\n\nINSERT INTO t_b1 (id) VALUES (1);\nCREATE TABLE t_b2 (id INT PRIMARY KEY);";
    let (dir2, m2) = failing_set("", fixed);
    let r = m2.upgrade(url, "head").await.unwrap();
    let ran: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(ran, [B, C]);
    assert_eq!(m2.current(url).await.unwrap(), [C]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b1", "t_b2", "t_c"]);
    assert!(m2.check(url).await.unwrap().is_ok());
    drop(dir2);
}

fn assert_failed_state(e: &Error, file: &str) {
    match e {
        Error::FailedState {
            revision,
            file: f,
            direction,
            statement,
            count,
            interrupted,
            ..
        } => {
            assert_eq!(revision, B);
            assert_eq!(f, file);
            assert_eq!(*direction, Direction::Upgrade);
            assert_eq!((*statement, *count), (2, 3));
            assert!(!interrupted);
        }
        other => panic!("expected Error::FailedState, got {other:?}"),
    }
    let text = e.to_string();
    for part in [
        format!("revision `{B}`"),
        "statement 2 of 3".to_owned(),
        "retort repair".to_owned(),
        format!("retort stamp {B}"),
        "missing_table".to_owned(),
    ] {
        assert!(text.contains(&part), "`{part}` missing from: {text}");
    }
}

/// MariaDB: the other way out of a failed state is to finish the revision
/// by hand and `stamp` it.
async fn failed_state_resolved_by_stamp(db: &TestDb) {
    if db.backend != Backend::MySql {
        return; // Nothing is left half-done on PostgreSQL and SQLite.
    }
    let (dir, m) = failing_set("", FAILING_UP);
    let url = db.url.as_str();
    let e = m.upgrade(url, "head").await.unwrap_err();
    assert_statement_error(&e, &file_of(&dir, B), false);
    assert_failed_state(
        &m.upgrade(url, "head").await.unwrap_err(),
        &file_of(&dir, B),
    );

    // Complete B by hand, then say so.
    db.execute("CREATE TABLE t_b2 (id INT PRIMARY KEY)").await;
    let r = m.stamp(url, B).await.unwrap();
    assert_eq!(r.heads_after, [B]);
    assert!(m.check(url).await.unwrap().failed.is_none());
    let r = m.upgrade(url, "head").await.unwrap();
    let ran: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(ran, [C]);
    assert_eq!(m.current(url).await.unwrap(), [C]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b1", "t_b2", "t_c"]);
    // The way down works again too.
    m.downgrade(url, "base").await.unwrap();
    assert!(user_tables(db).await.is_empty());
}

/// A failing downgrade: rolled back on PostgreSQL/SQLite; on MariaDB a
/// failed state whose `stamp` hint is the parent.
async fn failing_downgrade(db: &TestDb) {
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t_a (id INT PRIMARY KEY);",
            "DROP TABLE t_a;",
        ),
        (
            B,
            A,
            "",
            "CREATE TABLE t_b1 (id INT PRIMARY KEY);\nCREATE TABLE t_b2 (id INT PRIMARY KEY);",
            "DROP TABLE t_b2;\nDROP TABLE missing_table;\nDROP TABLE t_b1;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).unwrap();
    let url = db.url.as_str();
    m.upgrade(url, "head").await.unwrap();
    let e = m.downgrade(url, "base").await.unwrap_err();
    match &e {
        Error::Statement {
            revision,
            direction,
            statement,
            line,
            rolled_back,
            ..
        } => {
            assert_eq!(revision, B);
            assert_eq!(*direction, Direction::Downgrade);
            // The downgrade section starts on line 12 (upgrade on 8-9, a
            // blank line, the marker on 11).
            assert_eq!((*statement, *line), (2, 13));
            assert_eq!(*rolled_back, db.backend != Backend::MySql);
        }
        other => panic!("expected Error::Statement, got {other:?}"),
    }
    assert_eq!(m.current(url).await.unwrap(), [B]);
    if db.backend != Backend::MySql {
        assert_eq!(user_tables(db).await, ["t_a", "t_b1", "t_b2"]);
        return;
    }
    assert_eq!(user_tables(db).await, ["t_a", "t_b1"]);
    let e = m.upgrade(url, "head").await.unwrap_err();
    match &e {
        Error::FailedState {
            revision,
            direction,
            statement,
            count,
            stamp_hint,
            ..
        } => {
            assert_eq!(revision, B);
            assert_eq!(*direction, Direction::Downgrade);
            assert_eq!((*statement, *count), (2, 3));
            assert_eq!(stamp_hint, A);
        }
        other => panic!("expected Error::FailedState, got {other:?}"),
    }
    assert!(e.to_string().contains(&format!("retort stamp {A}")), "{e}");
    // Finish the downgrade by hand and stamp the parent.
    db.execute("DROP TABLE t_b1").await;
    m.stamp(url, A).await.unwrap();
    assert_eq!(m.current(url).await.unwrap(), [A]);
    m.downgrade(url, "base").await.unwrap();
    assert!(user_tables(db).await.is_empty());
}

/// A `Transactional: false` revision that fails part-way leaves a failed
/// state on every backend (nothing can roll it back).
async fn failing_non_transactional_revision(db: &TestDb) {
    let (dir, m) = failing_set("-- Transactional: false", FAILING_UP);
    let url = db.url.as_str();
    let file = file_of(&dir, B);
    let e = m.upgrade(url, "head").await.unwrap_err();
    assert_statement_error(&e, &file, false);
    assert_eq!(m.current(url).await.unwrap(), [A]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b1"]);
    assert_failed_state(&m.upgrade(url, "head").await.unwrap_err(), &file);
    db.execute("DROP TABLE t_b1").await;
    m.repair(url).await.unwrap();
    db.execute("CREATE TABLE missing_table (id INT)").await;
    let r = m.upgrade(url, "head").await.unwrap();
    assert_eq!(r.steps.len(), 2);
    assert_eq!(m.current(url).await.unwrap(), [C]);
}

async fn indexes(db: &TestDb, table: &str) -> Vec<String> {
    let sql = match db.backend {
        Backend::Postgres => format!(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = '{table}' AND i.indisvalid \
             AND NOT i.indisprimary ORDER BY 1"
        ),
        Backend::MySql => format!(
            "SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = '{table}' AND index_name <> 'PRIMARY' ORDER BY 1"
        ),
        Backend::Sqlite => format!(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ),
    };
    db.query_strings(&sql).await
}

/// `Transactional: false` runs statement by statement: on PostgreSQL
/// `CREATE INDEX CONCURRENTLY` works (and fails inside a transaction).
async fn non_transactional_revision(db: &TestDb) {
    let concurrently = if db.backend == Backend::Postgres {
        " CONCURRENTLY"
    } else {
        ""
    };
    let up = format!(
        "CREATE TABLE t_x (id INT PRIMARY KEY, v INT);\nCREATE INDEX{concurrently} t_x_v_ix ON t_x (v);\nINSERT INTO t_x (id, v) VALUES (1, 2);"
    );
    let down = if db.backend == Backend::Postgres {
        "DROP INDEX CONCURRENTLY t_x_v_ix;\nDROP TABLE t_x;".to_owned()
    } else if db.backend == Backend::MySql {
        "DROP INDEX t_x_v_ix ON t_x;\nDROP TABLE t_x;".to_owned()
    } else {
        "DROP INDEX t_x_v_ix;\nDROP TABLE t_x;".to_owned()
    };
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t_a (id INT PRIMARY KEY);",
            "DROP TABLE t_a;",
        ),
        (B, A, "-- Transactional: false", &up, &down),
        (
            C,
            B,
            "",
            "CREATE TABLE t_c (id INT PRIMARY KEY);",
            "DROP TABLE t_c;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).unwrap();
    let url = db.url.as_str();
    let plan = m.plan(url, Direction::Upgrade, "head").await.unwrap();
    let flags: Vec<bool> = plan.iter().map(|s| s.transactional).collect();
    assert_eq!(flags, [true, false, true]);

    let r = m.upgrade(url, "head").await.unwrap();
    assert_eq!(r.steps.len(), 3);
    assert_eq!(m.current(url).await.unwrap(), [C]);
    assert_eq!(indexes(db, "t_x").await, ["t_x_v_ix"]);
    let cast = if db.backend == Backend::MySql {
        "CHAR"
    } else {
        "TEXT"
    };
    assert_eq!(
        db.query_strings(&format!("SELECT CAST(v AS {cast}) FROM t_x"))
            .await,
        ["2"]
    );
    let history = m.history(url).await.unwrap();
    let b = history.iter().find(|h| h.revision == B).unwrap();
    assert_eq!(
        (b.status.as_str(), b.statements_done, b.statement_count),
        ("applied", 3, 3)
    );

    let r = m.downgrade(url, A).await.unwrap();
    assert_eq!(r.steps.len(), 2);
    assert_eq!(user_tables(db).await, ["t_a"]);
    let history = m.history(url).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (
            last.revision.as_str(),
            last.operation.as_str(),
            last.status.as_str()
        ),
        (B, "downgrade", "applied")
    );
    assert!(m.check(url).await.unwrap().failed.is_none());

    if db.backend == Backend::Postgres {
        // The same revision inside a transaction cannot work.
        let dir = common::write_revisions(&[
            (
                A,
                "",
                "",
                "CREATE TABLE t_a (id INT PRIMARY KEY);",
                "DROP TABLE t_a;",
            ),
            (B, A, "", &up, &down),
        ]);
        let m = Migrations::from_dir(dir.path()).unwrap();
        let e = m.upgrade(url, "head").await.unwrap_err();
        assert!(
            matches!(&e, Error::Statement { revision, statement: 2, rolled_back: true, .. } if revision == B),
            "{e:?}"
        );
        assert_eq!(user_tables(db).await, ["t_a"]);
        assert_eq!(m.current(url).await.unwrap(), [A]);
    }
}

/// Single-transaction mode: a failure in the third revision leaves nothing
/// applied on PostgreSQL and SQLite; refused on MySQL.
async fn single_transaction(db: &TestDb) {
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t_a (id INT PRIMARY KEY);",
            "DROP TABLE t_a;",
        ),
        (
            B,
            A,
            "",
            "CREATE TABLE t_b (id INT PRIMARY KEY);",
            "DROP TABLE t_b;",
        ),
        (
            C,
            B,
            "",
            "CREATE TABLE t_c (id INT PRIMARY KEY);\nINSERT INTO missing_table (id) VALUES (1);",
            "DROP TABLE t_c;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).unwrap();
    let single = m.with_config(Config::default().transaction_mode(TransactionMode::Single));
    let url = db.url.as_str();
    let e = single.upgrade(url, "head").await.unwrap_err();
    if db.backend == Backend::MySql {
        assert!(
            matches!(&e, Error::SingleTransactionUnsupported { .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("MySQL"), "{e}");
    } else {
        match &e {
            Error::Statement {
                revision,
                statement,
                line,
                rolled_back,
                ..
            } => {
                assert_eq!(revision, C);
                assert_eq!((*statement, *line), (2, 9));
                assert!(rolled_back);
            }
            other => panic!("expected Error::Statement, got {other:?}"),
        }
    }
    assert!(m.current(url).await.unwrap().is_empty());
    assert!(m.history(url).await.unwrap().is_empty());
    assert!(user_tables(db).await.is_empty());

    if db.backend == Backend::MySql {
        return;
    }
    // Without the failure, the whole run commits at once.
    db.execute("CREATE TABLE missing_table (id INT)").await;
    let r = single.upgrade(url, "head").await.unwrap();
    assert_eq!(r.steps.len(), 3);
    assert_eq!(m.current(url).await.unwrap(), [C]);
    let history = m.history(url).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|h| h.status == "applied"));
    assert_eq!(
        user_tables(db).await,
        ["missing_table", "t_a", "t_b", "t_c"]
    );
    // Down in one transaction too.
    let r = single.downgrade(url, "base").await.unwrap();
    assert_eq!(r.steps.len(), 3);
    assert_eq!(user_tables(db).await, ["missing_table"]);

    // A non-transactional revision cannot join the single transaction.
    let dir = common::write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE t_a (id INT PRIMARY KEY);",
            "DROP TABLE t_a;",
        ),
        (
            B,
            A,
            "-- Transactional: false",
            "CREATE TABLE t_b (id INT PRIMARY KEY);",
            "DROP TABLE t_b;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).unwrap();
    let e = m
        .with_config(Config::default().transaction_mode(TransactionMode::Single))
        .upgrade(url, "head")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NonTransactionalInSingle { revision, .. } if revision == B),
        "{e:?}"
    );
    assert!(m.current(url).await.unwrap().is_empty());
    assert_eq!(user_tables(db).await, ["missing_table"]);
}

fn target_error(e: &Error) -> &TargetError {
    match e {
        Error::Plan(PlanError::Target(t)) => t,
        other => panic!("expected a target error, got {other:?}"),
    }
}

/// Bad targets are refused before anything runs.
async fn bad_targets(db: &TestDb) {
    let dir = common::write_revisions(&[
        (
            "abcd00000001",
            "",
            "",
            "CREATE TABLE t_1 (id INT);",
            "DROP TABLE t_1;",
        ),
        (
            "abcd00000002",
            "abcd00000001",
            "",
            "CREATE TABLE t_2 (id INT);",
            "DROP TABLE t_2;",
        ),
        (
            "abcd00000003",
            "abcd00000001",
            "",
            "CREATE TABLE t_3 (id INT);",
            "DROP TABLE t_3;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).unwrap();
    let url = db.url.as_str();

    let e = m.upgrade(url, "fedcba987654").await.unwrap_err();
    assert!(
        matches!(target_error(&e), TargetError::Unknown { ident } if ident == "fedcba987654"),
        "{e:?}"
    );
    assert!(e.to_string().contains("fedcba987654"), "{e}");
    let e = m.downgrade(url, "nosuchlabel@head").await.unwrap_err();
    assert!(
        matches!(target_error(&e), TargetError::NoSuchBranch { .. }),
        "{e:?}"
    );

    let e = m.upgrade(url, "abcd0000").await.unwrap_err();
    match target_error(&e) {
        TargetError::Ambiguous { ident, candidates } => {
            assert_eq!(ident, "abcd0000");
            assert_eq!(
                candidates,
                &["abcd00000001", "abcd00000002", "abcd00000003"]
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    assert!(e.to_string().contains("abcd00000002"), "{e}");

    let e = m.upgrade(url, "head").await.unwrap_err();
    match target_error(&e) {
        TargetError::MultipleHeads { heads, .. } => {
            assert_eq!(heads, &["abcd00000002", "abcd00000003"]);
        }
        other => panic!("expected MultipleHeads, got {other:?}"),
    }
    let e = m.upgrade(url, "+x").await.unwrap_err();
    assert!(
        matches!(target_error(&e), TargetError::Syntax { .. }),
        "{e:?}"
    );
    let e = m.upgrade(url, "").await.unwrap_err();
    assert!(matches!(&e, Error::Plan(_)), "{e:?}");

    // Nothing ran.
    assert!(m.current(url).await.unwrap().is_empty());
    assert!(m.history(url).await.unwrap().is_empty());
    assert!(user_tables(db).await.is_empty());
    // And the valid targets still work.
    m.upgrade(url, "heads").await.unwrap();
    assert_eq!(user_tables(db).await, ["t_1", "t_2", "t_3"]);
}

/// Invalid settings are refused before connecting.
async fn invalid_settings(db: &TestDb) {
    let (_dir, m) = failing_set("", "CREATE TABLE t_b1 (id INT);");
    let url = db.url.as_str();
    for config in [
        Config::default().version_table("x; drop"),
        Config::default().version_table(""),
        Config::default().history_table("h\"istory"),
        Config::default().schema("1abc"),
        Config::default()
            .version_table("same")
            .history_table("same"),
    ] {
        let migrator = m.with_config(config.clone());
        let e = migrator.upgrade(url, "head").await.unwrap_err();
        assert!(matches!(&e, Error::Config { .. }), "{config:?}: {e:?}");
        let e = migrator.current(url).await.unwrap_err();
        assert!(matches!(&e, Error::Config { .. }), "{config:?}: {e:?}");
    }
    let e = m
        .with_config(Config::default().version_table("x; drop"))
        .upgrade(url, "head")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("x; drop"), "{e}");
    // Nothing was created (on SQLite, not even the database file).
    if db.backend == Backend::Sqlite {
        let path = db.url.strip_prefix("sqlite://").unwrap();
        assert!(!std::path::Path::new(path).exists(), "{path} was created");
    } else {
        assert!(db.tables().await.is_empty(), "{:?}", db.tables().await);
    }
}

backend_tests!(
    failing_revision,
    failed_state_resolved_by_stamp,
    failing_downgrade,
    failing_non_transactional_revision,
    non_transactional_revision,
    single_transaction,
    bad_targets,
    invalid_settings
);

static SAMPLE: Migrations = retort::embed_migrations!("migrations");

#[tokio::test]
async fn unsupported_url_scheme() {
    for url in [
        "oracle://x",
        "oracle://scott:tiger@db/orcl",
        "no-scheme-at-all",
        "",
    ] {
        let e = SAMPLE.upgrade(url, "head").await.unwrap_err();
        match &e {
            Error::UnsupportedUrl {
                url: shown,
                missing_feature,
            } => {
                assert!(missing_feature.is_none());
                assert!(!shown.contains("tiger"), "{shown}");
            }
            other => panic!("{url}: expected UnsupportedUrl, got {other:?}"),
        }
        assert!(!e.to_string().contains("tiger"), "{e}");
        assert!(e.to_string().contains("postgres://"), "{e}");
        let e = SAMPLE.current(url).await.unwrap_err();
        assert!(matches!(&e, Error::UnsupportedUrl { .. }), "{e:?}");
    }
}

#[tokio::test]
async fn unreachable_server_hides_the_password() {
    for url in [
        "postgres://u:secretpw@127.0.0.1:1/db",
        "mysql://u:secretpw@127.0.0.1:1/db",
        "postgres://u@127.0.0.1:1/db?password=secretpw",
    ] {
        let e = SAMPLE.upgrade(url, "head").await.unwrap_err();
        assert!(matches!(&e, Error::Connect { .. }), "{url}: {e:?}");
        let text = e.to_string();
        assert!(!text.contains("secretpw"), "{text}");
        assert!(!format!("{e:?}").contains("secretpw"), "{e:?}");
        assert!(text.contains("127.0.0.1:1"), "{text}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            assert!(!s.to_string().contains("secretpw"), "{s}");
            source = s.source();
        }
        let e = SAMPLE.check(url).await.unwrap_err();
        assert!(matches!(&e, Error::Connect { .. }), "{url}: {e:?}");
    }
}
