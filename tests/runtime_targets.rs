//! Targets on every backend: upgrade to head, to a revision, `+N`,
//! `label@+N`, across a branch point and a merge; downgrade `-1`, to a
//! revision, `label@-1`, to base; `heads` with several heads; `stamp` (and
//! `Migrator::stamp` with purge). `current`, `history` and the schema are
//! checked after every step.

mod common;

use common::TestDb;
use retort::{Config, Direction, Migrations};
use retort_core::plan::PlanError;
use retort_core::target::TargetError;

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";
const D: &str = "d4d4d4d4d4d4";
const M: &str = "e5e5e5e5e5e5";
const F: &str = "f6f6f6f6f6f6";

/// ```text
///            +-- C (Branch Labels: feature) --+
/// A -- B ----+                                +-- M (merge) -- F
///            +-- D ---------------------------+
/// ```
/// Each revision creates (and its downgrade drops) the table `t_<letter>`.
fn branched() -> (tempfile::TempDir, Migrations) {
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
            "-- Branch Labels: feature",
            "CREATE TABLE t_c (id INT PRIMARY KEY);",
            "DROP TABLE t_c;",
        ),
        (
            D,
            B,
            "",
            "CREATE TABLE t_d (id INT PRIMARY KEY);",
            "DROP TABLE t_d;",
        ),
        (
            M,
            &format!("{C}, {D}"),
            "",
            "CREATE TABLE t_m (id INT PRIMARY KEY);",
            "DROP TABLE t_m;",
        ),
        (
            F,
            M,
            "",
            "CREATE TABLE t_f (id INT PRIMARY KEY);",
            "DROP TABLE t_f;",
        ),
    ]);
    let migrations = Migrations::from_dir(dir.path()).expect("valid revisions");
    (dir, migrations)
}

/// The tables the revisions created (retort's own left out).
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

/// Tracks what `history` must return: `(revision, operation, status)`.
struct Expected {
    history: Vec<(String, String, String)>,
}

impl Expected {
    fn new() -> Self {
        Self {
            history: Vec::new(),
        }
    }

    fn push(&mut self, revision: &str, operation: &str) {
        self.history.push((
            revision.to_owned(),
            operation.to_owned(),
            "applied".to_owned(),
        ));
    }

    /// Checks `current`, `history` and the user tables.
    async fn check(&self, m: &Migrations, db: &TestDb, current: &[&str], tables: &[&str]) {
        assert_eq!(m.current(db.url.as_str()).await.unwrap(), current);
        let history: Vec<(String, String, String)> = m
            .history(db.url.as_str())
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.revision, h.operation.to_string(), h.status.to_string()))
            .collect();
        assert_eq!(history, self.history);
        assert_eq!(user_tables(db).await, tables);
    }
}

fn ids(report: &retort::Report) -> Vec<&str> {
    report.steps.iter().map(|s| s.revision.as_str()).collect()
}

async fn walk_branch_and_merge(db: &TestDb) {
    let (_dir, m) = branched();
    let url = db.url.as_str();
    let mut expected = Expected::new();
    expected.check(&m, db, &[], &[]).await;

    // +2 from base: A, then B.
    let r = m.upgrade(url, "+2").await.unwrap();
    assert_eq!(ids(&r), [A, B]);
    assert!(r.steps.iter().all(|s| s.direction == Direction::Upgrade));
    assert!(r.heads_before.is_empty());
    assert_eq!(r.heads_after, [B]);
    expected.push(A, "upgrade");
    expected.push(B, "upgrade");
    expected.check(&m, db, &[B], &["t_a", "t_b"]).await;

    // +1 from B is a branch point: ambiguous, nothing runs.
    let e = m.upgrade(url, "+1").await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::AmbiguousWalk { .. }))
        ),
        "{e:?}"
    );
    expected.check(&m, db, &[B], &["t_a", "t_b"]).await;

    // The branch label says which way: feature@+1 is C.
    let r = m.upgrade(url, "feature@+1").await.unwrap();
    assert_eq!(ids(&r), [C]);
    expected.push(C, "upgrade");
    expected.check(&m, db, &[C], &["t_a", "t_b", "t_c"]).await;

    // To a revision by unique prefix: D, on the other branch; two rows now.
    let r = m.upgrade(url, "d4d4").await.unwrap();
    assert_eq!(ids(&r), [D]);
    expected.push(D, "upgrade");
    expected
        .check(&m, db, &[C, D], &["t_a", "t_b", "t_c", "t_d"])
        .await;

    // Upgrading to an applied revision does nothing.
    let r = m.upgrade(url, C).await.unwrap();
    assert!(r.is_noop(), "{r:?}");
    // A relative target from two current heads is ambiguous.
    let e = m.upgrade(url, "+1").await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::AmbiguousCurrent { .. }))
        ),
        "{e:?}"
    );
    expected
        .check(&m, db, &[C, D], &["t_a", "t_b", "t_c", "t_d"])
        .await;

    // head: the merge (two rows become one), then F.
    let r = m.upgrade(url, "head").await.unwrap();
    assert_eq!(ids(&r), [M, F]);
    assert_eq!(r.heads_before, [C, D]);
    assert_eq!(r.heads_after, [F]);
    expected.push(M, "upgrade");
    expected.push(F, "upgrade");
    let all = ["t_a", "t_b", "t_c", "t_d", "t_f", "t_m"];
    expected.check(&m, db, &[F], &all).await;
    assert!(m.upgrade(url, "head").await.unwrap().is_noop());
    expected.check(&m, db, &[F], &all).await;

    // -1: F.
    let r = m.downgrade(url, "-1").await.unwrap();
    assert_eq!(ids(&r), [F]);
    assert!(r.steps.iter().all(|s| s.direction == Direction::Downgrade));
    expected.push(F, "downgrade");
    expected
        .check(&m, db, &[M], &["t_a", "t_b", "t_c", "t_d", "t_m"])
        .await;

    // Down to D: only the merge goes; both branch tips are current again.
    let r = m.downgrade(url, D).await.unwrap();
    assert_eq!(ids(&r), [M]);
    expected.push(M, "downgrade");
    expected
        .check(&m, db, &[C, D], &["t_a", "t_b", "t_c", "t_d"])
        .await;

    // feature@-1: only the feature branch steps back.
    let r = m.downgrade(url, "feature@-1").await.unwrap();
    assert_eq!(ids(&r), [C]);
    expected.push(C, "downgrade");
    expected.check(&m, db, &[D], &["t_a", "t_b", "t_d"]).await;

    // base: everything else, newest first.
    let r = m.downgrade(url, "base").await.unwrap();
    assert_eq!(ids(&r), [D, B, A]);
    assert!(r.heads_after.is_empty());
    for id in [D, B, A] {
        expected.push(id, "downgrade");
    }
    expected.check(&m, db, &[], &[]).await;
    assert!(m.downgrade(url, "base").await.unwrap().is_noop());

    // And all the way up again in one go.
    let r = m.upgrade(url, "head").await.unwrap();
    assert_eq!(r.steps.len(), 6);
    assert_eq!(m.current(url).await.unwrap(), [F]);
    assert_eq!(user_tables(db).await, all);
}

async fn upgrade_to_revision_and_relative(db: &TestDb) {
    let (_dir, m) = branched();
    let url = db.url.as_str();
    let mut expected = Expected::new();

    // To a revision (full id) pulls in its ancestors only.
    let r = m.upgrade(url, C).await.unwrap();
    assert_eq!(ids(&r), [A, B, C]);
    for id in [A, B, C] {
        expected.push(id, "upgrade");
    }
    expected.check(&m, db, &[C], &["t_a", "t_b", "t_c"]).await;

    // To the merge: D, then M.
    let r = m.upgrade(url, M).await.unwrap();
    assert_eq!(ids(&r), [D, M]);
    expected.push(D, "upgrade");
    expected.push(M, "upgrade");
    expected
        .check(&m, db, &[M], &["t_a", "t_b", "t_c", "t_d", "t_m"])
        .await;

    // +1 from a single current head.
    let r = m.upgrade(url, "+1").await.unwrap();
    assert_eq!(ids(&r), [F]);
    expected.push(F, "upgrade");
    // Too far: out of range, nothing runs.
    let e = m.upgrade(url, "+1").await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::OutOfRange { .. }))
        ),
        "{e:?}"
    );
    expected
        .check(&m, db, &[F], &["t_a", "t_b", "t_c", "t_d", "t_f", "t_m"])
        .await;

    // -2 from F would walk down through the merge: ambiguous, nothing runs.
    let e = m.downgrade(url, "-2").await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::AmbiguousWalk { .. }))
        ),
        "{e:?}"
    );
    // head-1 is M: F goes.
    let r = m.downgrade(url, "head-1").await.unwrap();
    assert_eq!(ids(&r), [F]);
    expected.push(F, "downgrade");
    expected
        .check(&m, db, &[M], &["t_a", "t_b", "t_c", "t_d", "t_m"])
        .await;

    // Down to C (by prefix): the merge goes, both branch tips stay.
    let r = m.downgrade(url, "c3c3c3").await.unwrap();
    assert_eq!(ids(&r), [M]);
    expected.push(M, "downgrade");
    expected
        .check(&m, db, &[C, D], &["t_a", "t_b", "t_c", "t_d"])
        .await;

    // Down to B: both branches go.
    let r = m.downgrade(url, B).await.unwrap();
    let mut dropped = ids(&r);
    dropped.sort_unstable();
    assert_eq!(dropped, [C, D]);
    for id in ids(&r) {
        expected.push(id, "downgrade");
    }
    expected.check(&m, db, &[B], &["t_a", "t_b"]).await;

    // Downgrading "to" a revision that is not applied is the wrong direction.
    let e = m.downgrade(url, F).await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::WrongDirection { .. }))
        ),
        "{e:?}"
    );
    // Upgrading to base is too.
    let e = m.upgrade(url, "base").await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::WrongDirection { .. }))
        ),
        "{e:?}"
    );
    expected.check(&m, db, &[B], &["t_a", "t_b"]).await;

    // The dry run shows the steps without running them.
    let plan = m.plan(url, Direction::Upgrade, "head").await.unwrap();
    let planned: Vec<&str> = plan.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(planned.len(), 4);
    assert_eq!(planned[2..], [M, F]);
    assert!(plan.iter().all(|s| s.statements.len() == 1));
    expected.check(&m, db, &[B], &["t_a", "t_b"]).await;
}

/// A set with two heads (no merge): `head` is refused, `heads` and
/// `label@head` work.
async fn multiple_heads(db: &TestDb) {
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
            A,
            "-- Branch Labels: other",
            "CREATE TABLE t_c (id INT PRIMARY KEY);",
            "DROP TABLE t_c;",
        ),
    ]);
    let m = Migrations::from_dir(dir.path()).unwrap();
    let url = db.url.as_str();
    let mut expected = Expected::new();

    let e = m.upgrade(url, "head").await.unwrap_err();
    match &e {
        retort::Error::Plan(PlanError::Target(TargetError::MultipleHeads { heads, .. })) => {
            assert_eq!(heads, &[B, C]);
        }
        other => panic!("expected MultipleHeads, got {other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains(B) && text.contains(C), "{text}");
    assert!(text.contains("retort merge"), "{text}");
    expected.check(&m, db, &[], &[]).await;

    let r = m.upgrade(url, "other@head").await.unwrap();
    assert_eq!(ids(&r), [A, C]);
    expected.push(A, "upgrade");
    expected.push(C, "upgrade");
    expected.check(&m, db, &[C], &["t_a", "t_c"]).await;

    let r = m.upgrade(url, "heads").await.unwrap();
    assert_eq!(ids(&r), [B]);
    expected.push(B, "upgrade");
    expected
        .check(&m, db, &[B, C], &["t_a", "t_b", "t_c"])
        .await;
    assert!(m.upgrade(url, "heads").await.unwrap().is_noop());

    // -1 with two current heads is ambiguous; other@-1 is not.
    let e = m.downgrade(url, "-1").await.unwrap_err();
    assert!(
        matches!(
            &e,
            retort::Error::Plan(PlanError::Target(TargetError::AmbiguousCurrent { .. }))
        ),
        "{e:?}"
    );
    let r = m.downgrade(url, "other@-1").await.unwrap();
    assert_eq!(ids(&r), [C]);
    expected.push(C, "downgrade");
    expected.check(&m, db, &[B], &["t_a", "t_b"]).await;

    let r = m.downgrade(url, "base").await.unwrap();
    assert_eq!(ids(&r), [B, A]);
    expected.push(B, "downgrade");
    expected.push(A, "downgrade");
    expected.check(&m, db, &[], &[]).await;
}

async fn stamp_and_purge(db: &TestDb) {
    let (_dir, m) = branched();
    let url = db.url.as_str();
    let mut expected = Expected::new();

    // Stamp runs no SQL: the version table says B, no table exists.
    let r = m.stamp(url, B).await.unwrap();
    assert!(r.steps.is_empty());
    assert_eq!(r.heads_after, [B]);
    expected.push(B, "stamp");
    expected.check(&m, db, &[B], &[]).await;

    // Upgrading from there runs only what is above B.
    let r = m.upgrade(url, "head").await.unwrap();
    let ran = ids(&r);
    assert_eq!(ran.len(), 4, "{ran:?}");
    assert!(ran[..2].contains(&C) && ran[..2].contains(&D), "{ran:?}");
    assert_eq!(ran[2..], [M, F]);
    for id in ran {
        expected.push(id, "upgrade");
    }
    expected
        .check(&m, db, &[F], &["t_c", "t_d", "t_f", "t_m"])
        .await;

    // Stamp down to a revision: the row moves, no SQL runs.
    let r = m.stamp(url, D).await.unwrap();
    assert_eq!(r.heads_before, [F]);
    assert_eq!(r.heads_after, [D]);
    expected.push(D, "stamp");
    expected
        .check(&m, db, &[D], &["t_c", "t_d", "t_f", "t_m"])
        .await;

    // Stamp an unrelated branch tip next to it: two rows.
    let migrator = m.with_config(Config::default());
    let r = migrator.stamp(url, &[C], false).await.unwrap();
    assert_eq!(r.heads_after, [C, D]);
    expected.push(C, "stamp");
    expected
        .check(&m, db, &[C, D], &["t_c", "t_d", "t_f", "t_m"])
        .await;

    // Purge empties the table first, even of rows this set does not know.
    db.execute("INSERT INTO retort_version (version_num) VALUES ('0123456789ab')")
        .await;
    assert_eq!(m.current(url).await.unwrap(), ["0123456789ab", C, D]);
    let e = migrator.stamp(url, &[A], false).await.unwrap_err();
    assert!(
        matches!(&e, retort::Error::Plan(PlanError::UnknownApplied { ids }) if ids == &["0123456789ab"]),
        "{e:?}"
    );
    let r = migrator.stamp(url, &[A], true).await.unwrap();
    assert_eq!(r.heads_after, [A]);
    expected.push(A, "stamp");
    expected
        .check(&m, db, &[A], &["t_c", "t_d", "t_f", "t_m"])
        .await;

    // Several targets at once.
    let r = migrator.stamp(url, &[C, D], true).await.unwrap();
    assert_eq!(r.heads_after, [C, D]);
    expected.push(C, "stamp");
    expected.push(D, "stamp");
    expected
        .check(&m, db, &[C, D], &["t_c", "t_d", "t_f", "t_m"])
        .await;

    // Stamp base: nothing applied, still no SQL run.
    let r = migrator.stamp(url, &["base"], false).await.unwrap();
    assert!(r.heads_after.is_empty());
    assert_eq!(m.current(url).await.unwrap(), Vec::<String>::new());
    assert_eq!(user_tables(db).await, ["t_c", "t_d", "t_f", "t_m"]);
}

backend_tests!(
    walk_branch_and_merge,
    upgrade_to_revision_and_relative,
    multiple_heads,
    stamp_and_purge
);
