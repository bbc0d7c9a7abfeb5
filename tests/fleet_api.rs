//! The fleet library API (`retort::fleet`, issue 14): a target whose
//! migration lock another migrator holds is reported busy ("in progress
//! elsewhere") while the others are done, or waited for with
//! `wait_for_busy`; progress counts; reports in the targets' order.
//!
//! A migration is kept inside a revision by the `gate` row the test holds
//! (see `tests/concurrency.rs`); every wait is on a condition.

mod common;
mod reliability;

use std::sync::{Arc, Mutex};

use common::{Backend, TestDb};
use reliability::{
    BEFORE_GATE, GATED, Gate, bounded, gated_revisions, migration_at_gate, wait_until,
};
use retort::Migrations;
use retort::fleet::{Fleet, Outcome, Progress, Status, Target};

async fn busy_target_is_skipped_and_the_rest_done(backend: Backend) {
    let Some(held) = TestDb::new(backend).await else {
        return;
    };
    let free = held.sibling().await;
    let dir = gated_revisions(backend);
    let migrations = Migrations::from_dir(dir.path()).unwrap();
    migrations
        .upgrade(held.url.as_str(), BEFORE_GATE)
        .await
        .unwrap();
    // Another migrator holds `held`'s lock, inside the gated revision.
    let gate = Gate::close(&held).await;
    let other = {
        let migrations = migrations.clone();
        let url = held.url.clone();
        tokio::spawn(async move { migrations.upgrade(url.as_str(), "head").await })
    };
    wait_until(
        "the other migrator is inside the gated revision",
        async || migration_at_gate(&held).await,
    )
    .await;

    let targets = [
        Target::named("held", held.url.as_str()).unwrap(),
        Target::named("free", free.url.as_str()).unwrap(),
    ];
    let seen = Arc::new(Mutex::new(Vec::new()));
    let report = {
        let seen = Arc::clone(&seen);
        Fleet::new(&migrations)
            .jobs(2)
            .on_progress(move |p| {
                if let Progress::Finished { target, status, .. } = p {
                    seen.lock().unwrap().push((target.to_string(), *status));
                }
            })
            .upgrade(&targets, "head")
            .await
    };
    let names: Vec<&str> = report.targets.iter().map(|t| t.target.as_str()).collect();
    assert_eq!(names, ["held", "free"], "reports in the targets' order");
    assert!(
        matches!(report.targets[0].outcome, Outcome::Busy),
        "{:?}",
        report.targets[0]
    );
    match &report.targets[1].outcome {
        Outcome::Done(r) => assert_eq!(r.steps.len(), GATED.len(), "{r:?}"),
        other => panic!("free: {other:?}"),
    }
    let counts = report.counts();
    assert_eq!((counts.done, counts.busy, counts.failed), (1, 1, 0));
    assert!(report.is_success(), "busy is not a failure");
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        [
            ("free".to_owned(), Status::Done),
            ("held".to_owned(), Status::Busy)
        ]
    );

    // Waiting instead of skipping: the fleet run ends once the other
    // migrator has, with nothing left to do on `held`.
    let waiting = {
        let migrations = migrations.clone();
        let targets = targets.clone();
        tokio::spawn(async move {
            Fleet::new(&migrations)
                .wait_for_busy(true)
                .upgrade(&targets, "head")
                .await
        })
    };
    gate.open().await;
    let first = bounded("the other migrator", other).await.unwrap().unwrap();
    assert_eq!(first.steps.len(), 2, "{first:?}");
    let waited = bounded("the waiting fleet run", waiting).await.unwrap();
    for target in &waited.targets {
        match &target.outcome {
            Outcome::Done(r) => assert!(r.is_noop(), "{}: {r:?}", target.target),
            other => panic!("{}: {other:?}", target.target),
        }
    }
    held.drop_db().await;
    free.drop_db().await;
}

#[tokio::test]
async fn busy_target_is_skipped_postgres() {
    busy_target_is_skipped_and_the_rest_done(Backend::Postgres).await;
}

#[tokio::test]
async fn busy_target_is_skipped_mysql() {
    busy_target_is_skipped_and_the_rest_done(Backend::MySql).await;
}

#[tokio::test]
async fn busy_target_is_skipped_sqlite() {
    busy_target_is_skipped_and_the_rest_done(Backend::Sqlite).await;
}

/// Without keep-going, targets after a failure are not started; with it,
/// every target runs and the failure is reported with its error.
#[tokio::test]
async fn fail_fast_and_keep_going() {
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let url = |i: usize| format!("sqlite://{}/t.db?mode=rwc", dirs[i].path().display());
    let migrations = Migrations::from_dir(gated_revisions(Backend::Sqlite).path()).unwrap();
    let targets = vec![
        Target::named("t0", url(0)).unwrap(),
        // A directory that does not exist: the connection fails.
        Target::named("missing", "sqlite:///nonexistent-retort-dir/x.db").unwrap(),
        Target::named("t2", url(2)).unwrap(),
        Target::named("t3", url(3)).unwrap(),
    ];
    let report = Fleet::new(&migrations)
        .jobs(1)
        .upgrade(&targets, "head")
        .await;
    let statuses: Vec<Status> = report.targets.iter().map(|t| t.outcome.status()).collect();
    assert_eq!(
        statuses,
        [
            Status::Done,
            Status::Failed,
            Status::NotStarted,
            Status::NotStarted
        ]
    );
    assert!(!report.is_success());
    let (name, error) = report.failures().next().unwrap();
    assert_eq!(name, "missing");
    assert!(
        error.to_string().contains("nonexistent-retort-dir"),
        "{error}"
    );
    let report = Fleet::new(&migrations)
        .jobs(1)
        .keep_going(true)
        .upgrade(&targets, "head")
        .await;
    let statuses: Vec<Status> = report.targets.iter().map(|t| t.outcome.status()).collect();
    assert_eq!(
        statuses,
        [Status::Done, Status::Failed, Status::Done, Status::Done]
    );
    let steps = |i: usize| report.targets[i].outcome.done().map(|r| r.steps.len());
    assert_eq!(
        (steps(0), steps(2), steps(3)),
        (Some(0), Some(GATED.len()), Some(GATED.len()))
    );
}
