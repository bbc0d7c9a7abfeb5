//! The sample migrations on every backend: upgrade to head, current,
//! history, downgrade to base.

mod common;

use common::TestDb;

static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

async fn sample_upgrade_and_back(db: &TestDb) {
    let report = MIGRATIONS.upgrade(db.url.as_str(), "head").await.unwrap();
    let ids: Vec<&str> = report.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(
        ids,
        [
            "4f1c2a9b7e01",
            "2b7d9e4f0a23",
            "8a3e5d0c6b12",
            "c6f08b1d2e34",
            "e9a14c7f3b45"
        ]
    );
    assert_eq!(
        MIGRATIONS.current(db.url.as_str()).await.unwrap(),
        ["e9a14c7f3b45"]
    );
    let tables = db.tables().await;
    for t in [
        "post_tags",
        "posts",
        "retort_history",
        "retort_version",
        "tags",
        "users",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing from {tables:?}");
    }
    let again = MIGRATIONS.upgrade(db.url.as_str(), "head").await.unwrap();
    assert!(again.is_noop(), "{again:?}");
    let history = MIGRATIONS.history(db.url.as_str()).await.unwrap();
    assert_eq!(history.len(), 5);
    assert!(
        history
            .iter()
            .all(|h| h.operation == "upgrade" && h.status == "applied")
    );
    let down = MIGRATIONS.downgrade(db.url.as_str(), "base").await.unwrap();
    assert_eq!(down.steps.len(), 5);
    assert!(
        MIGRATIONS
            .current(db.url.as_str())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.tables().await, ["retort_history", "retort_version"]);
}

backend_tests!(sample_upgrade_and_back);
