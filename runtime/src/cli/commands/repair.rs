//! `retort repair`: accept intentional edits of applied revisions and
//! resolve a failed step.

use std::process::ExitCode;

use crate::cli::output::{BOLD, paint};
use crate::cli::{Context, RepairArgs};

use super::upgrade::show_heads;

pub(crate) async fn run(ctx: &Context<'_>, _args: &RepairArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let url = ctx.connect_url().await?;
    let report = migrations
        .with_config(ctx.config())
        .repair(url.expose())
        .await?;
    ctx.out.status(format!(
        "Repaired: recorded the current checksums of the applied revisions and resolved any failed step; at {}",
        paint(BOLD, show_heads(&report.heads_after))
    ));
    Ok(ExitCode::SUCCESS)
}
