//! A tracing layer that captures every event with its fields and the
//! fields of the spans it happened in, as a log pipeline sees them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt as _;

/// The runs' target (`retort_runtime::RUN_TARGET`).
pub const RUN_TARGET: &str = "retort_runtime::run";

/// A field's value, with the type it was recorded as.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i128),
    Float(f64),
    Str(String),
    Other(String),
}

impl Value {
    pub fn text(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Str(s) | Self::Other(s) => s.clone(),
        }
    }
}

#[derive(Default)]
pub struct Fields(pub BTreeMap<String, Value>);

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
pub struct Event {
    pub level: tracing::Level,
    pub target: String,
    pub fields: BTreeMap<String, Value>,
    /// The spans it happened in, innermost first: (name, target, fields).
    pub spans: Vec<(String, String, BTreeMap<String, Value>)>,
}

impl Event {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    pub fn str(&self, name: &str) -> String {
        self.get(name)
            .map(Value::text)
            .unwrap_or_else(|| panic!("no `{name}` field in {self:?}"))
    }
}

/// Span fields, kept until the span closes.
struct SpanFields(BTreeMap<String, Value>);

/// Captures every event with its span scope.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<Event>>>);

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
    pub fn dispatch(&self) -> tracing::Dispatch {
        tracing::Dispatch::new(tracing_subscriber::registry().with(self.clone()))
    }

    /// Every event captured so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    /// The step events of the runs (those with a `status`).
    pub fn steps(&self) -> Vec<Event> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.target == RUN_TARGET && e.get("status").is_some())
            .cloned()
            .collect()
    }
}
