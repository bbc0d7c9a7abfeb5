//! Output: plain text (coloured only on a terminal, unless `NO_COLOR`) or
//! JSON, and logging to stderr, at the verbosity `-q`/`-v` ask for.
//!
//! What goes where: the command's answer (revisions, `--json`, `--sql`
//! scripts, `check`'s problems) on stdout, always; status lines (`Running
//! upgrade ...`, `Now at ...`, `Generating ... done`) on stdout and notes
//! (`Database: ...`, warnings) on stderr, both hidden by `-q`; errors on
//! stderr, always.

use std::io::Write as _;

use anstyle::{AnsiColor, Style};

use super::live::{Live, LiveLayer};

/// Where command output goes, and how much of it.
#[derive(Debug, Clone)]
pub struct Output {
    quiet: bool,
    verbose: u8,
    live: Live,
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
    /// Standard output at the default verbosity; colours only on a
    /// terminal and without `NO_COLOR`.
    pub fn stdout() -> Self {
        Self::new(0, false)
    }

    /// Standard output at the verbosity of `-v` (counted) or `-q`.
    pub(crate) fn new(verbose: u8, quiet: bool) -> Self {
        Self {
            quiet,
            verbose: if quiet { 0 } else { verbose },
            live: Live::new(quiet, verbose),
        }
    }

    /// Prints a line of the command's answer on stdout (even with `-q`).
    pub fn line(&self, text: impl std::fmt::Display) {
        let mut out = anstream::stdout();
        let _ = writeln!(out, "{text}");
    }

    /// Prints a status line on stdout, unless `-q`.
    pub fn status(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            self.line(text);
        }
    }

    /// Prints a JSON value on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let mut out = anstream::stdout();
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
        let _ = writeln!(out, "{text}");
    }

    /// Prints a note on stderr, unless `-q`.
    pub fn note(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "{text}");
        }
    }

    /// Prints on stderr, even with `-q`, what a failure report needs
    /// beside the error (what was committed before it).
    pub fn failure(&self, text: impl std::fmt::Display) {
        let mut err = anstream::stderr();
        let _ = writeln!(err, "{text}");
    }

    /// Prints an error and each of its causes on stderr. retort's errors
    /// tell a cause either in their message or as their `source()`, never
    /// both, so each line adds something.
    pub fn error(&self, error: &anyhow::Error) {
        let mut err = anstream::stderr();
        let _ = writeln!(err, "{BAD}error:{BAD:#} {error}");
        for cause in error.chain().skip(1) {
            let _ = writeln!(err, "  caused by: {cause}");
        }
    }

    /// True with `-q`.
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// How many `-v` (0 with `-q`).
    pub(crate) fn verbosity(&self) -> u8 {
        self.verbose
    }

    /// The display of the upgrade or downgrade about to run.
    pub(crate) fn live(&self) -> &Live {
        &self.live
    }
}

/// Paints `text` in `style` (a no-op when colours are off: anstream strips them).
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// The logging of one command: to stderr, warnings by default, `-v` info,
/// `-vv` debug, `-vvv` trace, `-q` errors only. `RUST_LOG` applies when
/// neither `-v` nor `-q` is given (what the command line names wins over
/// the environment). Escape codes only when stderr is a terminal that
/// takes colours (`NO_COLOR`, `CLICOLOR_FORCE` are honoured).
pub(crate) fn logging(out: &Output) -> tracing::Dispatch {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    let level = match (out.quiet, out.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let from_env = (!out.quiet && out.verbose == 0)
        .then(|| tracing_subscriber::EnvFilter::try_from_default_env().ok())
        .flatten();
    let filter = from_env.unwrap_or_else(|| {
        let sqlx = if out.quiet { "error" } else { "warn" };
        // The run's own events are what the live display shows (and the
        // error `main` prints): as log lines only from `-v` on. A Rust
        // revision's own events have its crate's target: RUST_LOG shows
        // them. (A span directive, `[revision]=info`, would catch them
        // whatever their target, but made runs hang now and then.)
        let run = if out.verbose == 0 { "off" } else { level };
        tracing_subscriber::EnvFilter::new(format!(
            "retort={level},retort_runtime={level},{}={run},sqlx={sqlx}",
            retort_runtime::RUN_TARGET
        ))
    });
    let ansi = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(out.live.stderr())
        .with_ansi(ansi)
        .with_target(false)
        .with_filter(filter);
    let live = LiveLayer::new(out.live.clone()).with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target(retort_runtime::RUN_TARGET, tracing::Level::INFO),
    );
    tracing::Dispatch::new(tracing_subscriber::registry().with(logs).with(live))
}
