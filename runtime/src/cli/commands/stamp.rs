//! `retort stamp REV... [--purge] [--sql]`.

use std::process::ExitCode;

use crate::cli::output::{BOLD, paint};
use crate::cli::{Context, StampArgs};

use super::upgrade::{
    no_dialect_without_sql, offline_backend, print_script, show_heads, split_range,
};

pub(crate) async fn run(ctx: &Context<'_>, args: &StampArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    if args.sql {
        let backend = offline_backend(ctx, args.dialect.as_deref())?;
        // Alembic: `stamp START:END --sql` with a single revision.
        let (start, targets): (Option<&str>, Vec<&str>) = match args.revisions.as_slice() {
            [one] => {
                let (start, end) = split_range(one);
                (start, vec![end])
            }
            many => (None, many.iter().map(String::as_str).collect()),
        };
        if targets.iter().any(|t| t.is_empty() || t.contains(':')) {
            anyhow::bail!(
                "`START:END` takes one revision on each side, and only as the single argument of `stamp`"
            );
        }
        let script = crate::offline::stamp(
            &migrations,
            &ctx.config(),
            backend,
            start,
            &targets,
            args.purge,
        )?;
        print_script(ctx, &script);
        return Ok(ExitCode::SUCCESS);
    }
    no_dialect_without_sql(args.dialect.as_deref())?;
    let url = ctx.connect_url().await?;
    let targets: Vec<&str> = args.revisions.iter().map(String::as_str).collect();
    let report = migrations
        .with_config(ctx.config())
        .stamp(url.expose(), &targets, args.purge)
        .await?;
    ctx.out.status(format!(
        "Stamped {} -> {}",
        show_heads(&report.heads_before),
        paint(BOLD, show_heads(&report.heads_after))
    ));
    Ok(ExitCode::SUCCESS)
}
