//! Output: plain text (coloured on a terminal, unless `NO_COLOR`) or JSON,
//! and logging to stderr.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

/// Where command output goes.
#[derive(Debug, Clone)]
pub struct Output {
    _private: (),
}

/// Style of revision ids.
pub(crate) const ID: Style = AnsiColor::Yellow.on_default();
/// Style of headings and emphasis.
pub(crate) const BOLD: Style = Style::new().bold();
/// Style of good news.
pub(crate) const OK: Style = AnsiColor::Green.on_default();
/// Style of problems.
pub(crate) const BAD: Style = AnsiColor::Red.on_default().bold();

impl Output {
    /// Standard output; colours only on a terminal and without `NO_COLOR`.
    pub fn stdout() -> Self {
        Self { _private: () }
    }

    /// Prints a line on stdout.
    pub fn line(&self, text: impl std::fmt::Display) {
        let mut out = anstream::stdout();
        let _ = writeln!(out, "{text}");
    }

    /// Prints a JSON value on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let mut out = anstream::stdout();
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
        let _ = writeln!(out, "{text}");
    }

    /// Prints a note on stderr.
    pub fn note(&self, text: impl std::fmt::Display) {
        let mut err = anstream::stderr();
        let _ = writeln!(err, "{text}");
    }

    /// Prints an error and its causes on stderr, in plain words.
    pub fn error(&self, error: &anyhow::Error) {
        let mut err = anstream::stderr();
        let _ = writeln!(err, "{BAD}error:{BAD:#} {error}");
        // Messages often quote their cause already: print only causes
        // that add something.
        let mut shown = error.to_string();
        for cause in error.chain().skip(1) {
            let text = cause.to_string();
            if !shown.contains(&text) {
                let _ = writeln!(err, "  caused by: {text}");
                shown.push_str(&text);
            }
        }
    }
}

/// Paints `text` in `style` (a no-op when colours are off: anstream strips them).
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// The progress bar of the running upgrade or downgrade, if any: the
/// engine logs one event per step (`step`, `of`, `revision`), which
/// [`ProgressLayer`] turns into progress.
static PROGRESS: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Shows progress on stderr while it lives, only when stderr is a terminal:
/// a spinner until the first step reports, then a bar of steps.
pub(crate) struct Progress(bool);

impl Progress {
    pub(crate) fn start(message: String) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(false);
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        if let Ok(mut slot) = PROGRESS.lock() {
            *slot = Some(bar);
        }
        Self(true)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if !self.0 {
            return;
        }
        if let Ok(mut slot) = PROGRESS.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}

#[derive(Default)]
struct StepFields {
    step: Option<u64>,
    of: Option<u64>,
    revision: Option<String>,
}

impl tracing::field::Visit for StepFields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        match field.name() {
            "step" => self.step = Some(value),
            "of" => self.of = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "revision" {
            self.revision = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, _field: &tracing::field::Field, _value: &dyn std::fmt::Debug) {}
}

/// Advances the progress bar on the engine's per-step events.
struct ProgressLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProgressLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let Ok(slot) = PROGRESS.lock() else { return };
        let Some(bar) = slot.as_ref() else { return };
        let mut fields = StepFields::default();
        event.record(&mut fields);
        let (Some(step), Some(of)) = (fields.step, fields.of) else {
            return;
        };
        if bar.length().is_none() {
            let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
        }
        bar.set_length(of);
        bar.set_position(step);
        if let Some(revision) = fields.revision {
            bar.set_message(revision);
        }
    }
}

/// Logs to stderr: warnings by default, `-v` info, `-vv` debug, `-vvv`
/// trace, `-q` errors only; `RUST_LOG` overrides.
pub(crate) fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "retort={level},retort_runtime={level},sqlx=warn"
        ))
    });
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(filter);
    let progress = ProgressLayer.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("retort_runtime", tracing::Level::INFO),
    );
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(progress)
        .try_init();
}
