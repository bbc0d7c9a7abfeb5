//! `retort downgrade TARGET` (`START:END` with `--sql`).

use std::process::ExitCode;

use crate::cli::{Context, DowngradeArgs};

use super::upgrade::{finish, no_dialect_without_sql, offline_backend, print_script, split_range};

pub(crate) async fn run(ctx: &Context<'_>, args: &DowngradeArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    if args.sql {
        let backend = offline_backend(ctx, args.dialect.as_deref())?;
        let (Some(start), end) = split_range(&args.target) else {
            anyhow::bail!(
                "offline downgrade needs a starting point, as in Alembic: `retort downgrade START:END --sql` (e.g. `head:base`)"
            );
        };
        if end.is_empty() {
            anyhow::bail!("offline downgrade needs a target after `:` (e.g. `{start}:base`)");
        }
        let script = crate::offline::downgrade(&migrations, &ctx.config(), backend, start, end)?;
        print_script(ctx, &script);
        return Ok(ExitCode::SUCCESS);
    }
    no_dialect_without_sql(args.dialect.as_deref())?;
    let url = ctx.connect_url().await?;
    let live = ctx
        .out
        .live()
        .start(format!("downgrading {} to {}", url, args.target));
    let report = migrations
        .with_config(ctx.config())
        .downgrade(url.expose(), &args.target)
        .await;
    finish(ctx, live, report)
}
