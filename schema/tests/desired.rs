//! The desired schema: files and directories, errors naming file:line,
//! and rename hints (including the warning's advice, followed).

mod common;

use retort_schema::{
    DesiredSchema, Dialect, Error, Hints, Schema, Scope, ScratchDatabase, autogenerate,
};

const D: Dialect = Dialect::Sqlite;

async fn load(desired: &DesiredSchema) -> Result<Schema, Error> {
    let scratch = ScratchDatabase::create(desired.dialect(), None).await?;
    let loaded = scratch.load(desired).await;
    let schema = match loaded {
        Ok(()) => scratch.introspect(&Scope::default()).await,
        Err(e) => Err(e),
    };
    scratch.drop().await?;
    schema
}

async fn schema_of(sql: &str) -> Schema {
    load(&DesiredSchema::from_sql(D, "before.sql", sql).expect("parse"))
        .await
        .expect("load")
}

#[tokio::test]
async fn a_directory_is_read_in_name_order_and_errors_name_file_and_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("10_users.sql"),
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("20_posts.sql"), "-- posts\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n").expect("write");
    std::fs::write(dir.path().join(".hidden.sql"), "this is not SQL").expect("write");
    std::fs::write(dir.path().join("notes.txt"), "neither is this").expect("write");
    let desired = DesiredSchema::read(dir.path(), D).expect("read");
    let schema = load(&desired).await.expect("load");
    assert!(
        schema.table("users").is_some() && schema.table("posts").is_some(),
        "{schema}"
    );

    std::fs::write(
        dir.path().join("30_bad.sql"),
        "CREATE TABLE ok (a INTEGER);\n\n-- a comment line\nCREATE TABLE broken (a INTEGER,);\n",
    )
    .expect("write");
    let desired = DesiredSchema::read(dir.path(), D).expect("read");
    let e = load(&desired).await.expect_err("bad statement");
    let text = e.to_string();
    let file = dir.path().join("30_bad.sql").display().to_string();
    assert!(text.starts_with(&format!("{file}:4: ")), "{text}");
    assert!(text.contains("CREATE TABLE broken"), "{text}");
}

#[tokio::test]
async fn missing_and_empty_paths_are_clear_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let e = DesiredSchema::read(&dir.path().join("schema.sql"), D).expect_err("missing");
    assert!(
        matches!(e, Error::Read { .. }) && e.to_string().contains("schema.sql"),
        "{e}"
    );
    let e = DesiredSchema::read(dir.path(), D).expect_err("empty");
    assert!(e.to_string().contains("holds no .sql file"), "{e}");
}

#[tokio::test]
async fn a_hint_naming_nothing_that_exists_is_an_error() {
    let current = schema_of("CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT);").await;
    for (sql, line, message) in [
        (
            "-- retort:renamed-from people\nCREATE TABLE accounts (id INTEGER PRIMARY KEY, mail TEXT);",
            1,
            "no table people exists to be renamed to accounts",
        ),
        (
            "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  -- retort:renamed-from email\n  address TEXT\n);",
            3,
            "table users has no column email to be renamed to address",
        ),
        (
            "CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT);\n-- retort:renamed-from users\nCREATE TABLE other (id INTEGER);",
            2,
            "still has a table users",
        ),
        (
            "CREATE TABLE t2 (a INTEGER, -- retort:renamed-from b\n  c INTEGER);",
            1,
            "table t2 is new",
        ),
    ] {
        let desired_sql = DesiredSchema::from_sql(D, "schema.sql", sql).expect("parse");
        let desired = load(&desired_sql).await.expect("load");
        let e = autogenerate(&current, &desired, desired_sql.hints()).expect_err(sql);
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("schema.sql:{line}: ")) && text.contains(message),
            "{sql}\n=> {text}"
        );
    }
}

#[tokio::test]
async fn both_old_and_new_names_existing_is_an_error() {
    let current = schema_of("CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);").await;
    let desired_sql = DesiredSchema::from_sql(
        D,
        "schema.sql",
        "-- retort:renamed-from a\nCREATE TABLE b (id INTEGER);",
    )
    .expect("parse");
    let desired = load(&desired_sql).await.expect("load");
    let e = autogenerate(&current, &desired, desired_sql.hints()).expect_err("both exist");
    assert!(
        e.to_string()
            .contains("tables a and b both exist: drop one before renaming"),
        "{e}"
    );
}

/// The warning of an unhinted rename says what to write; doing exactly
/// that turns the drop and create into a rename that keeps the rows.
#[tokio::test]
async fn the_rename_warning_advice_works() {
    let current = schema_of("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);").await;
    let after = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);";
    let desired_sql = DesiredSchema::from_sql(D, "schema.sql", after).expect("parse");
    let desired = load(&desired_sql).await.expect("load");
    let first = autogenerate(&current, &desired, desired_sql.hints()).expect("autogenerate");
    assert!(
        first.upgrade.contains("DROP TABLE users") && first.upgrade.contains("-- retort: warning:"),
        "{}",
        first.upgrade
    );
    let warning = first
        .warnings
        .iter()
        .find(|w| w.contains("renamed-from"))
        .expect("a rename warning");
    let line = warning.split('`').nth(1).expect("the line to write");
    assert_eq!(line, "-- retort:renamed-from users");
    assert!(
        warning.contains("on the line before its CREATE TABLE"),
        "{warning}"
    );

    let hinted = format!("{line}\n{after}");
    let desired_sql = DesiredSchema::from_sql(D, "schema.sql", &hinted).expect("parse");
    let desired = load(&desired_sql).await.expect("load");
    let second = autogenerate(&current, &desired, desired_sql.hints()).expect("autogenerate");
    assert_eq!(second.upgrade, "ALTER TABLE users RENAME TO accounts;\n");
    assert_eq!(second.downgrade, "ALTER TABLE accounts RENAME TO users;\n");
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
}

#[tokio::test]
async fn nothing_to_do_is_empty() {
    let current = schema_of("CREATE TABLE t (a INTEGER);").await;
    let again = autogenerate(&current, &current, &Hints::none()).expect("autogenerate");
    assert!(again.is_empty() && again.upgrade.is_empty() && again.downgrade.is_empty());
}

#[tokio::test]
async fn schemas_of_different_backends_do_not_compare() {
    let sqlite = schema_of("CREATE TABLE t (a INTEGER);").await;
    let postgres = Schema::new(Dialect::Postgres);
    let e = autogenerate(&sqlite, &postgres, &Hints::none()).expect_err("mismatch");
    assert!(matches!(e, Error::DialectMismatch { .. }), "{e}");
}
