//! What differs between the PostgreSQL versions retort supports (13 to 18,
//! docs/testing.md), for autogenerate: 18's virtual generated columns are
//! read and compared on 18; on an older server, a desired schema using a
//! newer feature fails with its `file:line`, the feature, the version it
//! needs and the server's own version.

mod common;

use common::ServerInfo;
use retort_schema::{
    DesiredSchema, Dialect, Error, Hints, Schema, Scope, ScratchDatabase, autogenerate,
};

const D: Dialect = Dialect::Postgres;

async fn load(server: &str, sql: &str) -> Result<Schema, Error> {
    let desired = DesiredSchema::from_sql(D, "schema.sql", sql)?;
    let scratch = ScratchDatabase::create(D, Some(server)).await?;
    let schema = match scratch.load(&desired).await {
        Ok(()) => scratch.introspect(&Scope::default()).await,
        Err(e) => Err(e),
    };
    scratch.drop().await?;
    schema
}

const BEFORE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);";
/// `b` is virtual: 18's default kind when neither STORED nor VIRTUAL is
/// written.
const AFTER: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER,\n\
                     b INTEGER GENERATED ALWAYS AS (a * 2),\n\
                     c INTEGER GENERATED ALWAYS AS (a + 1) STORED);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_generated_columns_are_read_and_compared_on_18() {
    let at_18 = |m: u32| m >= 18;
    common::each_postgres(
        "PostgreSQL 18 or later",
        at_18,
        async |server: &str, _: &ServerInfo| {
            let current = load(server, BEFORE).await.expect("before");
            let desired = load(server, AFTER).await.expect("after");
            let t = desired.table("t").expect("table t");
            let generated = |name: &str| {
                t.column(D, name)
                    .and_then(|c| c.generated.clone())
                    .unwrap_or_else(|| panic!("{name} is not generated:\n{desired}"))
            };
            assert!(!generated("b").stored, "b is virtual:\n{desired}");
            assert!(generated("c").stored, "c is stored:\n{desired}");

            let revision = autogenerate(&current, &desired, &Hints::none()).expect("autogenerate");
            assert!(
                revision
                    .upgrade
                    .contains("GENERATED ALWAYS AS ((a * 2)) VIRTUAL")
                    && revision
                        .upgrade
                        .contains("GENERATED ALWAYS AS ((a + 1)) STORED"),
                "{}",
                revision.upgrade
            );

            // VIRTUAL written out is the same schema as 18's default.
            let spelled = load(server, &AFTER.replace("(a * 2)", "(a * 2) VIRTUAL"))
                .await
                .expect("spelled out");
            let same = autogenerate(&desired, &spelled, &Hints::none()).expect("autogenerate");
            assert!(same.is_empty(), "{}", same.upgrade);

            // Virtual to stored is a change, and the revision makes it.
            let stored = load(server, &AFTER.replace("(a * 2)", "(a * 2) STORED"))
                .await
                .expect("stored");
            let changed = autogenerate(&desired, &stored, &Hints::none()).expect("autogenerate");
            assert!(
                !changed.is_empty() && changed.upgrade.contains("(a * 2)) STORED"),
                "{}",
                changed.upgrade
            );
            assert!(
                changed.downgrade.contains("(a * 2)) VIRTUAL"),
                "{}",
                changed.downgrade
            );
        },
    )
    .await;
}

/// The error for `sql`'s newer feature on an older server: it starts with
/// `schema.sql:LINE:`, names the feature and the version it needs, and the
/// server's version.
async fn too_new(server: &str, info: &ServerInfo, sql: &str, line: u32, feature: &str, since: u32) {
    let e = load(server, sql)
        .await
        .expect_err("a feature newer than the server");
    assert!(matches!(e, Error::Statement { .. }), "{e:?}");
    let text = e.to_string();
    let expected = format!(
        "schema.sql:{line}: {feature} needs PostgreSQL {since} or later, and the dev server runs {}.",
        info.label
    );
    assert!(
        text.starts_with(&expected),
        "expected `{expected}...`, got:\n{text}"
    );
    assert!(
        text.contains("use a dev server of the version production runs"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nulls_not_distinct_before_15_names_the_line_and_the_server_version() {
    let before_15 = |m: u32| m < 15;
    common::each_postgres("PostgreSQL older than 15", before_15, async |server: &str, info: &ServerInfo| {
        let sql = "CREATE TABLE a (id INTEGER PRIMARY KEY);\n\n\
                   -- emails are unique, missing ones too\n\
                   CREATE TABLE t (\n  email TEXT,\n  CONSTRAINT t_email UNIQUE NULLS NOT DISTINCT (email)\n);";
        too_new(server, info, sql, 4, "`NULLS NOT DISTINCT`", 15).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_generated_columns_before_18_name_the_line_and_the_server_version() {
    let before_18 = |m: u32| m < 18;
    common::each_postgres(
        "PostgreSQL older than 18",
        before_18,
        async |server: &str, info: &ServerInfo| {
            let sql = "CREATE TABLE t (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL);";
            too_new(
                server,
                info,
                sql,
                1,
                "virtual generated columns (`VIRTUAL`)",
                18,
            )
            .await;
        },
    )
    .await;
}
