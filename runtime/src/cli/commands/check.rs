//! `retort check`: exit 3 on drift, several heads, pending revisions or a
//! failed step, naming each problem.

use std::process::ExitCode;

use serde_json::json;

use crate::cli::output::{BAD, OK, paint};
use crate::cli::{CheckArgs, Context, EXIT_CHECK_FAILED};

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
        ctx.out.json(&json!({
            "database": url.to_string(),
            "ok": problems.is_empty(),
            "current": report.current,
            "heads": report.heads,
            "pending": report.pending,
            "problems": problems,
        }));
    } else if problems.is_empty() {
        ctx.out.status(format!(
            "{} the database is at {}: no pending revision, no drift",
            paint(OK, "ok:"),
            show_heads(&report.current)
        ));
    } else {
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
