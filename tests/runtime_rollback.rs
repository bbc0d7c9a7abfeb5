//! An older build rolls back a newer deploy: revisions it does not have
//! are downgraded with the downgrade SQL recorded in the history table.

mod common;

use common::{TestDb, write_revisions};

const A: (&str, &str, &str, &str, &str) = (
    "aaaa0001",
    "",
    "",
    "CREATE TABLE a (id INT);",
    "DROP TABLE a;",
);
const B: (&str, &str, &str, &str, &str) = (
    "bbbb0002",
    "aaaa0001",
    "",
    "CREATE TABLE b (id INT);",
    "DROP TABLE b;",
);
const C: (&str, &str, &str, &str, &str) = (
    "cccc0003",
    "bbbb0002",
    "",
    "CREATE TABLE c (id INT);",
    "DROP TABLE c;",
);
const D: (&str, &str, &str, &str, &str) = (
    "dddd0004",
    "cccc0003",
    "",
    "CREATE TABLE d (id INT);\nCREATE TABLE e (id INT);",
    "DROP TABLE e;\nDROP TABLE d;",
);

async fn older_build_rolls_back_newer_deploy(db: &TestDb) {
    let newer_dir = write_revisions(&[A, B, C, D]);
    let older_dir = write_revisions(&[A, B]);
    let newer = retort::Migrations::from_dir(newer_dir.path()).unwrap();
    let older = retort::Migrations::from_dir(older_dir.path()).unwrap();
    newer.upgrade(db.url.as_str(), "head").await.unwrap();
    assert_eq!(db.tables().await.iter().filter(|t| t.len() == 1).count(), 5);

    // The older build cannot upgrade past what it does not know...
    let e = older.upgrade(db.url.as_str(), "head").await.unwrap_err();
    assert!(e.to_string().contains("`dddd0004`"), "{e}");

    // ...but it can roll back to its own head with the recorded SQL.
    let report = older.downgrade(db.url.as_str(), "bbbb0002").await.unwrap();
    let ids: Vec<&str> = report.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(ids, ["dddd0004", "cccc0003"]);
    assert_eq!(older.current(db.url.as_str()).await.unwrap(), ["bbbb0002"]);
    let tables: Vec<String> = db
        .tables()
        .await
        .into_iter()
        .filter(|t| t.len() == 1)
        .collect();
    assert_eq!(tables, ["a", "b"]);
    // And the older build is at head again, with no drift.
    assert!(
        older
            .upgrade(db.url.as_str(), "head")
            .await
            .unwrap()
            .is_noop()
    );
    assert!(older.check(db.url.as_str()).await.unwrap().is_ok());
}

/// The recorded downgrade SQL runs only from a history whose hash chain
/// holds: a row edited by hand (here to drop another revision's table) is
/// refused, naming the row, and nothing runs.
async fn edited_recorded_downgrade_is_refused(db: &TestDb) {
    let newer_dir = write_revisions(&[A, B, C, D]);
    let older_dir = write_revisions(&[A, B]);
    let newer = retort::Migrations::from_dir(newer_dir.path()).unwrap();
    let older = retort::Migrations::from_dir(older_dir.path()).unwrap();
    newer.upgrade(db.url.as_str(), "head").await.unwrap();
    db.execute(
        "UPDATE retort_history SET downgrade_sql = 'DROP TABLE a;' WHERE revision = 'dddd0004'",
    )
    .await;
    let e = older
        .downgrade(db.url.as_str(), "bbbb0002")
        .await
        .unwrap_err();
    assert!(matches!(e, retort::Error::BrokenHistory(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("(upgrade of `dddd0004`") && text.contains("was edited by hand"),
        "{text}"
    );
    assert_eq!(older.current(db.url.as_str()).await.unwrap(), ["dddd0004"]);
    assert_eq!(db.tables().await.iter().filter(|t| t.len() == 1).count(), 5);
    // The way out it names: the release that has the files downgrades
    // from them, not from the recorded SQL.
    newer.downgrade(db.url.as_str(), "bbbb0002").await.unwrap();
    let tables: Vec<String> = db
        .tables()
        .await
        .into_iter()
        .filter(|t| t.len() == 1)
        .collect();
    assert_eq!(tables, ["a", "b"]);
}

async fn unknown_revision_without_history_is_reported(db: &TestDb) {
    let dir = write_revisions(&[A]);
    let set = retort::Migrations::from_dir(dir.path()).unwrap();
    set.upgrade(db.url.as_str(), "head").await.unwrap();
    db.execute("INSERT INTO retort_version (version_num) VALUES ('ffff9999')")
        .await;
    let e = set.downgrade(db.url.as_str(), "base").await.unwrap_err();
    assert!(
        e.to_string()
            .contains("records revision(s) `ffff9999` that are not in this migration set"),
        "{e}"
    );
}

backend_tests!(
    older_build_rolls_back_newer_deploy,
    edited_recorded_downgrade_is_refused,
    unknown_revision_without_history_is_reported
);
