//! `retort check`: exit 3 on drift, several heads, pending revisions, a
//! failed step or a broken history chain, naming each problem; with
//! `--json`, each of them as data (the shape is in docs/check.md).

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::output::{BAD, OK, paint};
use crate::{CheckArgs, Context, EXIT_CHECK_FAILED};
use retort_runtime::{CheckReport, FailedStep};

use super::upgrade::show_heads;

pub(crate) async fn run(ctx: &Context<'_>, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let url = ctx.connect_url().await?;
    let report = migrations
        .with_config(ctx.config())
        .check(url.expose())
        .await?;
    let problems = report.problems();
    if args.json {
        ctx.out.json(&to_json(&url.to_string(), &report, &problems));
    } else {
        if report.history.unchained > 0 {
            ctx.out.note(format!(
                "note: {} of the {} history rows predate the hash chain (written by an earlier release) and cannot be verified",
                report.history.unchained, report.history.rows
            ));
        }
        if problems.is_empty() {
            ctx.out.status(format!(
                "{} the database is at {}: no pending revision, no drift",
                paint(OK, "ok:"),
                show_heads(&report.current)
            ));
        }
        for problem in &problems {
            ctx.out
                .line(format!("{} {problem}", paint(BAD, "problem:")));
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CHECK_FAILED)
    })
}

/// The report as docs/check.md documents it.
fn to_json(database: &str, report: &CheckReport, problems: &[String]) -> Value {
    let drift = &report.drift;
    json!({
        "database": database,
        "ok": problems.is_empty(),
        "current": report.current,
        "heads": report.heads,
        "multiple_heads": report.heads.len() > 1,
        "pending": report.pending,
        "drift": {
            "edited": drift.edited.iter().map(|e| json!({
                "revision": e.revision,
                "file": e.file,
                "recorded_checksum": e.recorded,
                "checksum": e.actual,
            })).collect::<Vec<_>>(),
            "unknown": drift.unknown,
            "lineage_changed": drift.lineage_changed,
        },
        "failed": report.failed.as_ref().map(failed_json),
        "history": {
            "rows": report.history.rows,
            "unchained": report.history.unchained,
            "broken": report.history.broken.as_ref().map(|b| json!({
                "id": b.id,
                "revision": b.revision,
                "operation": b.operation.as_str(),
                "started_at": b.started_at,
                "reason": b.reason.as_str(),
                "message": b.to_string(),
            })),
        },
        "problems": problems,
    })
}

fn failed_json(step: &FailedStep) -> Value {
    json!({
        "revision": step.revision,
        "file": step.file,
        "direction": step.direction.as_str(),
        "statement": step.statement,
        "statement_count": step.statement_count,
        "interrupted": step.interrupted,
        "error": step.error,
        "stamp_hint": step.stamp_hint,
        "message": step.to_string(),
    })
}
