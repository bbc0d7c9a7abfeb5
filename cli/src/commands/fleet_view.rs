//! What a fleet run shows: a live count of done / running / failed /
//! remaining targets while it runs (a bar on a terminal, a line per
//! finished target otherwise), then a table of every target (or one JSON
//! record per target) and a summary.

use std::io::IsTerminal as _;
use std::time::Duration;

use retort_fleet::{Counts, Outcome, Progress, Status, Target, TargetReport};
use retort_runtime::{CheckReport, Report};
use serde_json::{Value, json};

use super::upgrade::show_heads;
use crate::Context;
use crate::output::{BAD, BOLD, OK, Output, paint};

/// The live display of a fleet run.
pub(super) struct Display {
    bar: Option<indicatif::ProgressBar>,
    out: Output,
    lines: bool,
}

impl Display {
    /// A bar on a terminal at the default verbosity; otherwise a line per
    /// finished target on stderr (none with `-q` or `--json`).
    pub(super) fn start(out: &Output, total: usize, json: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!out.is_quiet() && out.verbosity() == 0 && terminal).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            lines: bar.is_none() && !json,
            bar,
            out: out.clone(),
        }
    }

    /// The runner's progress callback.
    pub(super) fn callback(&self) -> impl Fn(&Progress<'_>) + Send + Sync + 'static {
        let bar = self.bar.clone();
        let out = self.out.clone();
        let lines = self.lines;
        move |progress| {
            let counts = progress.counts();
            if let Some(bar) = &bar {
                bar.set_position((counts.total - counts.remaining() - counts.running) as u64);
                bar.set_message(counts_line(&counts));
            } else if lines
                && let Progress::Finished {
                    target,
                    status,
                    elapsed,
                    ..
                } = progress
            {
                let finished = counts.total - counts.remaining() - counts.running;
                out.note(format!(
                    "[{finished}/{}] {target}: {status} ({:.2} s)",
                    counts.total,
                    elapsed.as_secs_f64()
                ));
            }
        }
    }

    /// Clears the bar.
    pub(super) fn end(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `done 12 · running 4 · failed 0 · busy 1 · remaining 183`.
fn counts_line(c: &Counts) -> String {
    format!(
        "done {} · running {} · failed {} · busy {} · remaining {}",
        c.done,
        c.running,
        c.failed,
        c.busy,
        c.remaining()
    )
}

/// One target's line in the table and record in `--json`.
pub(super) struct Row {
    target: String,
    status: Status,
    /// False when `check` found a problem.
    ok: bool,
    detail: String,
    json: Value,
    elapsed: Duration,
    /// The failure, each cause on its own line.
    error: Option<String>,
}

impl Row {
    pub(super) fn of<R>(
        report: &TargetReport<R>,
        done: &impl Fn(&R) -> (String, Value, bool),
    ) -> Self {
        let (detail, json, ok, error) = match &report.outcome {
            Outcome::Done(value) => {
                let (detail, json, ok) = done(value);
                (detail, json, ok, None)
            }
            Outcome::Busy => (
                "in progress elsewhere: another runner holds its lock".to_owned(),
                json!({}),
                true,
                None,
            ),
            Outcome::Failed(error) => {
                let mut chain = vec![error.to_string()];
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    chain.push(format!("caused by: {cause}"));
                    source = cause.source();
                }
                let applied: Vec<&str> = error
                    .applied()
                    .iter()
                    .map(|s| s.revision.as_str())
                    .collect();
                let first = chain[0].lines().next().unwrap_or("").to_owned();
                (
                    first,
                    json!({ "error": chain.join("\n"), "committed_before_failure": applied }),
                    false,
                    Some(chain.join("\n  ")),
                )
            }
            _ => (
                "not started: the run stopped at a failure (--keep-going goes on)".to_owned(),
                json!({}),
                true,
                None,
            ),
        };
        Self {
            target: report.target.clone(),
            status: report.outcome.status(),
            ok,
            detail,
            json,
            elapsed: report.elapsed,
            error,
        }
    }

    /// An upgrade's, downgrade's or stamp's result.
    pub(super) fn report(report: &Report) -> (String, Value, bool) {
        let applied: Vec<&str> = report.steps.iter().map(|s| s.revision.as_str()).collect();
        let detail = if report.is_noop() {
            format!("nothing to do; at {}", show_heads(&report.heads_after))
        } else if applied.is_empty() {
            format!(
                "{} -> {}",
                show_heads(&report.heads_before),
                show_heads(&report.heads_after)
            )
        } else {
            format!(
                "{} -> {} ({} revision{})",
                show_heads(&report.heads_before),
                show_heads(&report.heads_after),
                applied.len(),
                if applied.len() == 1 { "" } else { "s" }
            )
        };
        let json = json!({
            "heads_before": report.heads_before,
            "heads_after": report.heads_after,
            "steps": applied,
        });
        (detail, json, true)
    }

    /// `check`'s result.
    pub(super) fn check(report: &CheckReport) -> (String, Value, bool) {
        let problems = report.problems();
        let detail = if problems.is_empty() {
            format!("ok; at {}", show_heads(&report.current))
        } else {
            problems.join("; ")
        };
        let json =
            json!({ "ok": problems.is_empty(), "current": report.current, "problems": problems });
        (detail, json, problems.is_empty())
    }

    /// `current`'s result.
    pub(super) fn current(current: &Vec<String>) -> (String, Value, bool) {
        (show_heads(current), json!({ "current": current }), true)
    }
}

/// How a run ended, for the exit code.
pub(super) struct Summary {
    pub(super) failed: usize,
    pub(super) not_started: usize,
    pub(super) problems: usize,
}

/// Prints the table (or the records) and the summary.
pub(super) fn finish(ctx: &Context<'_>, targets: &[Target], rows: &[Row], json: bool) -> Summary {
    let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
    let summary = Summary {
        failed: count(Status::Failed),
        not_started: count(Status::NotStarted),
        problems: rows
            .iter()
            .filter(|r| r.status == Status::Done && !r.ok)
            .count(),
    };
    if json {
        for (row, target) in rows.iter().zip(targets) {
            let mut record = json!({
                "target": row.target,
                "url": target.redacted_url(),
                "status": row.status.as_str(),
                "elapsed_ms": u64::try_from(row.elapsed.as_millis()).unwrap_or(u64::MAX),
            });
            if let (Some(record), Value::Object(extra)) = (record.as_object_mut(), &row.json) {
                record.extend(extra.clone());
            }
            ctx.out
                .line(serde_json::to_string(&record).unwrap_or_default());
        }
        return summary;
    }
    let width = rows
        .iter()
        .map(|r| r.target.chars().count())
        .max()
        .unwrap_or(6);
    for row in rows {
        let status = match (row.status, row.ok) {
            (Status::Done, true) => paint(OK, "done   "),
            (Status::Done, false) => paint(BAD, "problem"),
            (Status::Failed, _) => paint(BAD, "failed "),
            (Status::Busy, _) => "busy   ".to_owned(),
            _ => "skipped".to_owned(),
        };
        ctx.out.line(format!(
            "{:width$}  {status}  {:>7.2} s  {}",
            row.target,
            row.elapsed.as_secs_f64(),
            row.detail,
        ));
    }
    for row in rows {
        if let Some(error) = &row.error {
            ctx.out.failure(format!(
                "{} {}: {error}",
                paint(BAD, "error on"),
                row.target
            ));
        }
    }
    let busy = count(Status::Busy);
    ctx.out.status(paint(
        BOLD,
        format!(
            "{} target{}: {} done{}, {} failed, {} in progress elsewhere, {} not started",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            count(Status::Done),
            if summary.problems > 0 {
                format!(" ({} with problems)", summary.problems)
            } else {
                String::new()
            },
            summary.failed,
            busy,
            summary.not_started
        ),
    ));
    summary
}
