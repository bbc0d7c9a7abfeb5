//! The live display of an upgrade or downgrade, driven by the engine's
//! step events (target [`RUN_TARGET`](crate::engine::RUN_TARGET)): a
//! `Running upgrade a -> b, message` line when each revision starts, a
//! progress bar naming the running revision (only on a terminal, at the
//! default verbosity), and the revisions committed so far, which the
//! command reports if the run fails.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The display of the current run, shared by the command (which starts
/// and ends it), the [`LiveLayer`] (which the engine's events drive) and
/// the log writer (which must not draw over the progress bar).
#[derive(Clone)]
pub(crate) struct Live {
    quiet: bool,
    verbose: u8,
    run: Arc<Mutex<Option<Run>>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("quiet", &self.quiet)
            .field("verbose", &self.verbose)
            .finish_non_exhaustive()
    }
}

/// What one run has shown and done so far.
struct Run {
    bar: Option<indicatif::ProgressBar>,
    /// Steps in the plan (from the events' `of`).
    of: u64,
    /// Steps that started.
    started: u64,
    /// Revisions whose step committed, in order.
    committed: Vec<String>,
}

/// What a run did before it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Steps in the plan (0 when no step started).
    pub(crate) of: u64,
    /// Steps that started.
    pub(crate) started: u64,
    /// Revisions whose step committed, in order.
    pub(crate) committed: Vec<String>,
}

impl Live {
    pub(crate) fn new(quiet: bool, verbose: u8) -> Self {
        Self {
            quiet,
            verbose,
            run: Arc::new(Mutex::new(None)),
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, Option<Run>>> {
        self.run.lock().ok()
    }

    /// Starts the display of a run; `what` labels the spinner shown until
    /// the first revision starts.
    pub(crate) fn start(&self, what: String) -> LiveRun {
        let bar =
            (!self.quiet && self.verbose == 0 && std::io::stderr().is_terminal()).then(|| {
                let bar = indicatif::ProgressBar::new_spinner().with_message(what);
                bar.enable_steady_tick(Duration::from_millis(100));
                bar
            });
        if let Some(mut slot) = self.lock() {
            *slot = Some(Run {
                bar,
                of: 0,
                started: 0,
                committed: Vec::new(),
            });
        }
        LiveRun {
            live: self.clone(),
            ended: false,
        }
    }

    /// A writer for log lines on stderr that clears the progress bar
    /// while it writes.
    pub(crate) fn stderr(&self) -> LogWriter {
        LogWriter { live: self.clone() }
    }

    fn on_step(&self, fields: &StepFields) {
        let Some(mut slot) = self.lock() else { return };
        let Some(run) = slot.as_mut() else { return };
        let (Some(status), Some(revision)) = (fields.status.as_deref(), &fields.revision) else {
            return;
        };
        let step = fields.step.unwrap_or(0);
        run.of = fields.of.unwrap_or(run.of);
        match status {
            "running" => {
                run.started += 1;
                if let Some(bar) = &run.bar {
                    if bar.length().is_none() {
                        let style =
                            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                        bar.set_style(style);
                    }
                    bar.set_length(run.of);
                    bar.set_position(step.saturating_sub(1));
                    bar.set_message(format!(
                        "{} {revision}",
                        fields.direction.as_deref().unwrap_or("running")
                    ));
                }
                if !self.quiet
                    && let Some(line) = &fields.message
                {
                    let print = || {
                        let mut out = anstream::stdout();
                        let _ = writeln!(out, "{line}");
                    };
                    match &run.bar {
                        Some(bar) => bar.suspend(print),
                        None => print(),
                    }
                }
            }
            "applied" => {
                run.committed.push(revision.clone());
                if let Some(bar) = &run.bar {
                    bar.set_position(step);
                }
            }
            _ => {}
        }
    }
}

/// The display of one run; clears the progress bar when dropped.
pub(crate) struct LiveRun {
    live: Live,
    ended: bool,
}

impl LiveRun {
    /// Ends the display: what the run did.
    pub(crate) fn end(mut self) -> Outcome {
        self.ended = true;
        self.take()
    }

    fn take(&self) -> Outcome {
        let run = self.live.lock().and_then(|mut slot| slot.take());
        let Some(run) = run else {
            return Outcome::default();
        };
        if let Some(bar) = run.bar {
            bar.finish_and_clear();
        }
        Outcome {
            of: run.of,
            started: run.started,
            committed: run.committed,
        }
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        if !self.ended {
            self.take();
        }
    }
}

/// The fields of a step event the display uses.
#[derive(Default)]
struct StepFields {
    status: Option<String>,
    revision: Option<String>,
    direction: Option<String>,
    message: Option<String>,
    step: Option<u64>,
    of: Option<u64>,
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
        let slot = match field.name() {
            "status" => &mut self.status,
            "revision" => &mut self.revision,
            "direction" => &mut self.direction,
            _ => return,
        };
        *slot = Some(value.to_owned());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{value:?}"));
        }
    }
}

/// Feeds the engine's step events to the [`Live`] display.
pub(crate) struct LiveLayer(Live);

impl LiveLayer {
    pub(crate) fn new(live: Live) -> Self {
        Self(live)
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LiveLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = StepFields::default();
        event.record(&mut fields);
        self.0.on_step(&fields);
    }
}

/// Log lines to stderr, written with the progress bar (if any) cleared.
pub(crate) struct LogWriter {
    live: Live,
}

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let slot = self.live.lock();
        match slot
            .as_ref()
            .and_then(|s| s.as_ref())
            .and_then(|r| r.bar.as_ref())
        {
            Some(bar) => bar.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter {
            live: self.live.clone(),
        }
    }
}
