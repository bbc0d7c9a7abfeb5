//! The standalone `retort` binary and Rust revisions: it reads revisions
//! from files, so it refuses to run a `.rs` one before changing anything,
//! naming the file and pointing at the service's own CLI; what needs no
//! code (`history`, `check`, an upgrade up to the Rust revision, `--sql`)
//! works; `-x` is checked.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::cli::{project, retort};

const RUST_REVISION: &str = "// backfill\n//\n// Revision ID: b2\n// Revises: a1\n\nuse retort::code::{Context, Result};\n\npub async fn upgrade(cx: &mut Context<'_>) -> Result {\n    cx.execute(\"INSERT INTO t (id) VALUES (1)\").await?;\n    Ok(())\n}\n";

#[test]
fn standalone_binary_refuses_a_rust_revision() {
    let dir = project(&[("a1", "", "CREATE TABLE t (id INT);", "DROP TABLE t;")]);
    std::fs::write(dir.path().join("migrations/b2_backfill.rs"), RUST_REVISION).unwrap();
    let db = dir.path().join("app.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());

    let refused = retort(dir.path(), &["upgrade", "head", "--database-url", &url])
        .code(1)
        .mentions(&[
            "migrations/b2_backfill.rs: revision `b2` is a Rust revision, which this program cannot run",
            "nothing was changed",
            "retort::cli::run(&MIGRATIONS)",
        ]);
    assert!(
        !refused.stdout.contains("Running upgrade"),
        "{}",
        refused.describe()
    );
    // Nothing was written: not even the bookkeeping tables.
    retort(dir.path(), &["current", "--database-url", &url])
        .ok()
        .mentions(&["no revision applied (the database is at base)"]);

    // Up to the Rust revision, and everything that runs no code, works.
    retort(dir.path(), &["upgrade", "a1", "--database-url", &url]).ok();
    retort(dir.path(), &["history", "--database-url", &url])
        .ok()
        .mentions(&["a1 -> b2 (head), backfill"]);
    retort(dir.path(), &["upgrade", "head", "--sql", "--dialect", "sqlite"])
        .ok()
        .mentions(&["-- retort: NOT RENDERED: the upgrade of revision `b2` is Rust code (migrations/b2_backfill.rs)"]);
}

#[test]
fn x_takes_key_value() {
    let dir = project(&[("a1", "", "CREATE TABLE t (id INT);", "DROP TABLE t;")]);
    retort(dir.path(), &["-x", "batch=500", "-x", "dry=", "heads"]).ok();
    retort(dir.path(), &["heads", "-x", "batch"])
        .code(2)
        .mentions(&["expected KEY=VALUE, such as `-x batch=500`, found `batch`"]);
}
