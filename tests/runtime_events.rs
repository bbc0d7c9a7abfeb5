//! The library's tracing output, as a log pipeline sees it: a span around
//! each run (target `retort_runtime::run`, fields `operation` and
//! `target`), an INFO event when each revision starts (`status=running`)
//! and when it commits (`status=applied`, `duration_ms` an integer), and an
//! ERROR event when one fails (`status=failed`, `error`), each with the
//! `revision` and `file` fields. Checked with a subscriber that captures
//! every event and span, on every backend, per revision and in the
//! single-transaction mode.

mod common;

use common::capture::{Capture, Event, RUN_TARGET, Value};
use common::{Backend, TestDb, write_revisions};
use retort::{Config, Error, Migrations, TransactionMode};
use tracing::instrument::WithSubscriber as _;

const A: &str = "e7e700000001";
const B: &str = "e7e700000002";
const C: &str = "e7e700000003";

/// Three revisions in a line; the third fails when `broken`.
fn revisions(broken: bool) -> tempfile::TempDir {
    let up_c = if broken {
        "CREATE TABLE ev_a (id INT PRIMARY KEY);"
    } else {
        "CREATE TABLE ev_c (id INT PRIMARY KEY);"
    };
    write_revisions(&[
        (
            A,
            "",
            "",
            "CREATE TABLE ev_a (id INT PRIMARY KEY);",
            "DROP TABLE ev_a;",
        ),
        (
            B,
            A,
            "",
            "CREATE TABLE ev_b (id INT PRIMARY KEY);",
            "DROP TABLE ev_b;",
        ),
        (C, B, "", up_c, "DROP TABLE ev_c;"),
    ])
}

/// `(status, revision)` of each step event, in order.
fn sequence(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (e.str("status"), e.str("revision")))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(s, r)| ((*s).to_owned(), (*r).to_owned()))
        .collect()
}

/// What every step event carries, whatever its status.
#[track_caller]
fn assert_common_fields(event: &Event, dir: &std::path::Path, of: i128, direction: &str) {
    let revision = event.str("revision");
    let file = event.str("file");
    assert!(
        file.ends_with(&format!("{revision}.sql")) && file.starts_with(&*dir.to_string_lossy()),
        "`file` should be the revision's file: {event:?}"
    );
    assert_eq!(event.str("direction"), direction, "{event:?}");
    assert_eq!(event.get("of"), Some(&Value::Int(of)), "{event:?}");
    assert!(
        matches!(event.get("step"), Some(Value::Int(n)) if (1..=of).contains(n)),
        "{event:?}"
    );
    let (name, target, span) = event
        .spans
        .iter()
        .find(|(name, ..)| name == "migrate")
        .unwrap_or_else(|| panic!("a step event outside the run's span: {event:?}"));
    assert_eq!((name.as_str(), target.as_str()), ("migrate", RUN_TARGET));
    assert_eq!(
        span.get("operation").map(Value::text).as_deref(),
        Some(direction),
        "{event:?}"
    );
}

#[track_caller]
fn assert_outcome_fields(event: &Event) {
    match event.str("status").as_str() {
        "running" => {
            assert_eq!(event.level, tracing::Level::INFO, "{event:?}");
            assert!(event.get("duration_ms").is_none(), "{event:?}");
            assert!(
                event.str("message").starts_with("Running "),
                "a start event reads as Alembic's line: {event:?}"
            );
        }
        "applied" => {
            assert_eq!(event.level, tracing::Level::INFO, "{event:?}");
            assert!(
                matches!(event.get("duration_ms"), Some(Value::Int(ms)) if *ms >= 0),
                "duration_ms must be an integer: {event:?}"
            );
        }
        "failed" => {
            assert_eq!(event.level, tracing::Level::ERROR, "{event:?}");
            assert!(
                matches!(event.get("duration_ms"), Some(Value::Int(_))),
                "duration_ms must be an integer: {event:?}"
            );
            assert!(
                event.str("error").contains(&event.str("revision")),
                "the error names the revision: {event:?}"
            );
        }
        other => panic!("unknown status {other}: {event:?}"),
    }
}

async fn upgrade_and_failure_events(db: &TestDb) {
    let dir = revisions(true);
    let migrations = Migrations::from_dir(dir.path()).expect("revisions load");
    let capture = Capture::default();
    let result = migrations
        .upgrade(db.url.as_str(), "head")
        .with_subscriber(capture.dispatch())
        .await;
    assert!(
        matches!(result, Err(Error::Statement { ref revision, .. }) if revision == C),
        "{result:?}"
    );
    let steps = capture.steps();
    assert_eq!(
        sequence(&steps),
        pairs(&[
            ("running", A),
            ("applied", A),
            ("running", B),
            ("applied", B),
            ("running", C),
            ("failed", C),
        ]),
        "{steps:#?}"
    );
    for event in &steps {
        assert_common_fields(event, dir.path(), 3, "upgrade");
        assert_outcome_fields(event);
    }
    let span = &steps[0].spans.iter().find(|s| s.0 == "migrate").unwrap().2;
    assert_eq!(span.get("target").map(Value::text).as_deref(), Some("head"));

    // The downgrade of what committed: its own span and events. (MariaDB
    // recorded the failed attempt, which blocks runs until resolved.)
    if db.backend == Backend::MySql {
        migrations.repair(db.url.as_str()).await.expect("repair");
    }
    let capture = Capture::default();
    migrations
        .downgrade(db.url.as_str(), "base")
        .with_subscriber(capture.dispatch())
        .await
        .expect("downgrade");
    let steps = capture.steps();
    assert_eq!(
        sequence(&steps),
        pairs(&[
            ("running", B),
            ("applied", B),
            ("running", A),
            ("applied", A)
        ]),
        "{steps:#?}"
    );
    for event in &steps {
        assert_common_fields(event, dir.path(), 2, "downgrade");
        assert_outcome_fields(event);
    }
}

/// One transaction for the whole run: every step starts, the failing one
/// is named, nothing is applied. On MariaDB the mode is refused before
/// any step starts (DDL commits implicitly there).
async fn single_transaction_events(db: &TestDb) {
    let dir = revisions(true);
    let migrations = Migrations::from_dir(dir.path()).expect("revisions load");
    let capture = Capture::default();
    let result = migrations
        .with_config(Config::default().transaction_mode(TransactionMode::Single))
        .upgrade(db.url.as_str(), "head")
        .with_subscriber(capture.dispatch())
        .await;
    if db.backend == Backend::MySql {
        assert!(
            matches!(result, Err(Error::SingleTransactionUnsupported { .. })),
            "{result:?}"
        );
        assert_eq!(sequence(&capture.steps()), []);
        return;
    }
    assert!(
        matches!(result, Err(Error::Statement { ref revision, .. }) if revision == C),
        "{result:?}"
    );
    let steps = capture.steps();
    assert_eq!(
        sequence(&steps),
        pairs(&[
            ("running", A),
            ("running", B),
            ("running", C),
            ("failed", C)
        ]),
        "{steps:#?}"
    );
    for event in &steps {
        assert_common_fields(event, dir.path(), 3, "upgrade");
        assert_outcome_fields(event);
    }
}

backend_tests!(upgrade_and_failure_events, single_transaction_events);
