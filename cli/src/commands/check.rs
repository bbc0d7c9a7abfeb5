//! `retort check`: exit 3 on drift, several heads, pending revisions, a
//! failed step, a broken history chain or, when there is a desired schema
//! (`schema.sql`), revisions that build another schema, naming each
//! problem; with `--json`, each of them as data (the shape is in
//! docs/check.md).

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::autogen::{self, Scratch};
use crate::output::{BAD, OK, paint};
use crate::{CheckArgs, Context, EXIT_CHECK_FAILED};
use retort_runtime::url::Backend;
use retort_runtime::{CheckReport, FailedStep, Migrations};
use retort_schema::compare;

use super::upgrade::show_heads;

pub(crate) async fn run(ctx: &Context<'_>, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let url = ctx.connect_url().await?;
    let report = migrations
        .with_config(ctx.config())
        .check(url.expose())
        .await?;
    let mut problems = report.problems();
    let schema = schema_check(ctx, &migrations, url.backend()).await?;
    if let Some(schema) = &schema
        && !schema.differences.is_empty()
    {
        problems.push(format!(
            "the revisions and {} differ ({} change{}); write the revision with `retort revision --autogenerate -m MESSAGE`",
            schema.file,
            schema.differences.len(),
            if schema.differences.len() == 1 { "" } else { "s" }
        ));
    }
    if args.json {
        let mut value = to_json(&url.to_string(), &report, &problems);
        value["schema"] = schema.as_ref().map_or(Value::Null, SchemaCheck::to_json);
        ctx.out.json(&value);
    } else {
        if report.history.unchained > 0 {
            ctx.out.note(format!(
                "note: {} of the {} history rows predate the hash chain (written by an earlier release) and cannot be verified",
                report.history.unchained, report.history.rows
            ));
        }
        if problems.is_empty() {
            ctx.out.status(format!(
                "{} the database is at {}: no pending revision, no drift{}",
                paint(OK, "ok:"),
                show_heads(&report.current),
                schema.as_ref().map_or(String::new(), |s| format!(
                    ", the revisions match {}",
                    s.file
                ))
            ));
        }
        for problem in &problems {
            ctx.out
                .line(format!("{} {problem}", paint(BAD, "problem:")));
        }
        if let Some(schema) = &schema {
            for change in &schema.differences {
                ctx.out.line(format!("  {change}"));
            }
            for item in &schema.not_compared {
                ctx.out.note(format!("not compared: {item}"));
            }
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CHECK_FAILED)
    })
}

/// The comparison of the revisions with the desired schema.
struct SchemaCheck {
    file: String,
    differences: Vec<String>,
    not_compared: Vec<String>,
}

impl SchemaCheck {
    fn to_json(&self) -> Value {
        json!({
            "file": self.file,
            "ok": self.differences.is_empty(),
            "differences": self.differences,
            "not_compared": self.not_compared,
        })
    }
}

/// The revisions replayed into a scratch database, compared with the
/// desired schema; `None` when there is none (no `schema_file` set and no
/// `schema.sql`).
async fn schema_check(
    ctx: &Context<'_>,
    migrations: &Migrations,
    backend: Backend,
) -> anyhow::Result<Option<SchemaCheck>> {
    let (path, named) = autogen::schema_path(ctx);
    if !named && !path.exists() {
        return Ok(None);
    }
    let scratch = Scratch {
        dialect: autogen::dialect_of(backend),
        dev_url: autogen::dev_url(ctx),
        command: "retort check",
        database_url: ctx.database_url().ok().map(|u| u.expose().to_owned()),
    };
    let (desired, sql) = autogen::desired(ctx, &scratch, &path).await?;
    let current = autogen::replayed(ctx, &scratch, migrations, &["heads".to_owned()]).await?;
    let changes = compare(&current, &desired, sql.hints())?;
    let mut not_compared: Vec<String> = (current.not_compared.iter())
        .chain(&desired.not_compared)
        .map(ToString::to_string)
        .collect();
    not_compared.sort();
    not_compared.dedup();
    Ok(Some(SchemaCheck {
        file: path.display().to_string(),
        differences: changes.iter().map(ToString::to_string).collect(),
        not_compared,
    }))
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
