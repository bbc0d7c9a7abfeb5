//! Assertions for a service's own tests: the migrations have one head, and
//! the database has no drift from the files.
//!
//! ```no_run
//! static MIGRATIONS: retort_runtime::Migrations = {
//! #   retort_runtime::Migrations::__embedded(retort_core::MigrationSet::__embedded(&[], &[], &[]))
//! };
//! #[test]
//! fn migrations_have_one_head() {
//!     retort_runtime::testing::assert_single_head(&MIGRATIONS);
//! }
//!
//! #[tokio::test]
//! async fn staging_has_no_drift() {
//!     let url = std::env::var("DATABASE_URL").unwrap();
//!     retort_runtime::testing::assert_no_drift(&MIGRATIONS, url.as_str()).await;
//! }
//! ```

use crate::database::Database;
use crate::migrations::Migrations;

/// Panics unless the migrations have exactly one head, naming the heads
/// and how to merge them.
#[track_caller]
pub fn assert_single_head(migrations: &Migrations) {
    let heads: Vec<&str> = migrations.heads().collect();
    assert!(
        heads.len() == 1,
        "the migrations have {} heads ({}); merge them with `retort merge -m \"merge heads\" {}`",
        heads.len(),
        heads.join(", "),
        heads.join(" ")
    );
}

/// Panics if an applied revision's file changed since it was applied (or
/// the database has revisions the migrations lack), naming each file.
#[track_caller]
pub fn assert_no_drift_report(report: &crate::report::CheckReport) {
    assert!(report.drift.is_empty(), "{}", report.drift);
}

/// Connects, checks and panics on drift, naming each edited file.
pub async fn assert_no_drift<'a>(migrations: &Migrations, db: impl Into<Database<'a>>) {
    match migrations.check(db).await {
        Ok(report) => assert_no_drift_report(&report),
        Err(e) => panic!("cannot check the database for drift: {e}"),
    }
}
