//! The library's tracing output, as a log pipeline sees it: a span around
//! each run (target `retort_runtime::run`, fields `operation` and
//! `target`), an INFO event when each revision starts (`status=running`)
//! and when it commits (`status=applied`, `duration_ms` an integer), and an
//! ERROR event when one fails (`status=failed`, `error`), each with the
//! `revision` and `file` fields. Checked with a subscriber that captures
//! every event and span, on every backend, per revision and in the
//! single-transaction mode.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{Backend, TestDb, write_revisions};
use retort::{Config, Error, Migrations, TransactionMode};
use tracing::instrument::WithSubscriber as _;
use tracing_subscriber::layer::SubscriberExt as _;

const RUN_TARGET: &str = "retort_runtime::run";

/// A field's value, with the type it was recorded as.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(i128),
    Float(f64),
    Str(String),
    Other(String),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Str(s) | Self::Other(s) => s.clone(),
        }
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, Value>);

impl tracing::field::Visit for Fields {
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0
            .insert(field.name().to_owned(), Value::Int(value.into()));
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0
            .insert(field.name().to_owned(), Value::Int(value.into()));
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::Float(value));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::Str(value.to_owned()));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::Other(format!("{value:?}")));
    }
}

/// One captured event.
#[derive(Debug, Clone)]
struct Event {
    level: tracing::Level,
    target: String,
    fields: BTreeMap<String, Value>,
    /// The spans it happened in, innermost first: (name, target, fields).
    spans: Vec<(String, String, BTreeMap<String, Value>)>,
}

impl Event {
    fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    fn str(&self, name: &str) -> String {
        self.get(name)
            .map(Value::text)
            .unwrap_or_else(|| panic!("no `{name}` field in {self:?}"))
    }
}

/// Span fields, kept until the span closes.
struct SpanFields(BTreeMap<String, Value>);

/// Captures every event with its span scope.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Event>>>);

impl<S> tracing_subscriber::Layer<S> for Capture
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .map(|span| {
                        let fields = span
                            .extensions()
                            .get::<SpanFields>()
                            .map(|f| f.0.clone())
                            .unwrap_or_default();
                        (
                            span.name().to_owned(),
                            span.metadata().target().to_owned(),
                            fields,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.0.lock().unwrap().push(Event {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields: fields.0,
            spans,
        });
    }
}

impl Capture {
    fn dispatch(&self) -> tracing::Dispatch {
        tracing::Dispatch::new(tracing_subscriber::registry().with(self.clone()))
    }

    /// The step events of the runs (those with a `status`).
    fn steps(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.target == RUN_TARGET && e.get("status").is_some())
            .cloned()
            .collect()
    }
}

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
