//! SQLite's rebuild when it fails: the foreign key check at its end finds
//! a violation, the revision fails with a message saying what to run, and
//! the database is as it was (the rebuild's own transaction rolls back),
//! children's rows included. Run through retort's runtime, with foreign
//! keys on as sqlx connects.

mod common;

use common::{Backend, TestDb};
use retort_schema::{
    DesiredSchema, Dialect, Hints, Schema, Scope, ScratchDatabase, autogenerate, compare,
};
use sqlx::Connection;

const BEFORE: &str = "CREATE TABLE p (id INTEGER PRIMARY KEY, n INTEGER);\n\
                      CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);";
const AFTER: &str = "CREATE TABLE p (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);\n\
                     CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);";

async fn schema_of(sql: &str) -> Schema {
    let desired = DesiredSchema::from_sql(Dialect::Sqlite, "s.sql", sql).expect("parse");
    let scratch = ScratchDatabase::create(Dialect::Sqlite, None)
        .await
        .expect("scratch");
    scratch.load(&desired).await.expect("load");
    let schema = scratch
        .introspect(&Scope::default())
        .await
        .expect("introspect");
    scratch.drop().await.expect("drop");
    schema
}

fn revision(id: &str, parent: &str, transactional: bool, up: &str, down: &str) -> String {
    let flag = if transactional {
        ""
    } else {
        "-- Transactional: false\n"
    };
    format!(
        "-- {id}\n--\n-- Revision ID: {id}\n-- Revises: {parent}\n{flag}\n-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_that_breaks_a_foreign_key_fails_and_changes_nothing() {
    let current = schema_of(BEFORE).await;
    let desired = schema_of(AFTER).await;
    let generated = autogenerate(&current, &desired, &Hints::none()).expect("autogenerate");
    assert!(!generated.transactional, "{}", generated.upgrade);

    let db = TestDb::new(Backend::Sqlite, "").await.expect("db");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("a.sql"),
        revision("base0001", "", true, BEFORE, ""),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("b.sql"),
        revision(
            "auto0002",
            "base0001",
            generated.transactional,
            &generated.upgrade,
            &generated.downgrade,
        ),
    )
    .expect("write");
    let migrations = retort_runtime::Migrations::from_dir(dir.path()).expect("load");
    migrations
        .upgrade(db.url.as_str(), "base0001")
        .await
        .expect("base");
    // A child row whose parent does not exist, as foreign keys turned off
    // (or an old import) leave behind.
    let mut conn = sqlx::SqliteConnection::connect(&db.url)
        .await
        .expect("connect");
    sqlx::raw_sql("PRAGMA foreign_keys = OFF; INSERT INTO p VALUES (1, 5); INSERT INTO c VALUES (10, 1), (11, 99);")
        .execute(&mut conn)
        .await
        .expect("rows");
    conn.close().await.expect("close");

    let e = migrations
        .upgrade(db.url.as_str(), "head")
        .await
        .expect_err("the foreign key check fails");
    let text = e.to_string();
    assert!(
        text.contains("foreign key violations after the rebuild: run PRAGMA foreign_key_check"),
        "{text}"
    );

    let after = retort_schema::introspect_url(&db.url, &Scope::default())
        .await
        .expect("introspect");
    let changes = compare(&after, &current, &Hints::none()).expect("compare");
    assert!(
        changes.is_empty(),
        "the failed rebuild changed the schema: {changes:?}"
    );
    assert_eq!(
        db.strings("SELECT CAST(id AS TEXT) || ':' || CAST(p_id AS TEXT) FROM c ORDER BY id")
            .await
            .expect("rows"),
        [Some("10:1".to_owned()), Some("11:99".to_owned())]
    );
    assert_eq!(
        db.strings("SELECT CAST(id AS TEXT) || ':' || CAST(n AS TEXT) FROM p")
            .await
            .expect("rows"),
        [Some("1:5".to_owned())]
    );
    db.drop_db().await;
}
