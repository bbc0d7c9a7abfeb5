//! Output: plain text (coloured on a terminal, unless `NO_COLOR`) or JSON,
//! and logging to stderr.

use std::io::Write as _;

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
        for cause in error.chain().skip(1) {
            let _ = writeln!(err, "  caused by: {cause}");
        }
    }
}

/// Paints `text` in `style` (a no-op when colours are off: anstream strips them).
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Logs to stderr: warnings by default, `-v` info, `-vv` debug, `-vvv`
/// trace, `-q` errors only; `RUST_LOG` overrides.
pub(crate) fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("retort={level},retort_runtime={level},sqlx=warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
