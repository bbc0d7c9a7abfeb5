//! `retort current [-V] [--json]`: the database's version-table rows.

use std::process::ExitCode;

use serde_json::json;

use crate::cli::output::{ID, paint};
use crate::cli::{Context, CurrentArgs};

use super::history::{Marks, graph_of, revision_details, revision_json};

pub(crate) async fn run(ctx: &Context<'_>, args: &CurrentArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let graph = graph_of(&migrations)?;
    let url = ctx.connect_url().await?;
    let current = migrations
        .with_config(ctx.config())
        .current(url.expose())
        .await?;
    let known = |id: &str| {
        migrations
            .index_of(id)
            .map(|i| (i, &migrations.revisions()[i]))
    };
    if args.json {
        let rows: Vec<_> = current
            .iter()
            .map(|id| match known(id) {
                Some((i, _)) => revision_json(
                    &migrations,
                    i,
                    Marks {
                        current: true,
                        ..Marks::of(graph, i)
                    },
                    true,
                ),
                None => json!({ "revision": id, "unknown": true }),
            })
            .collect();
        ctx.out.json(&json!({
            "database": url.to_string(),
            "current": rows,
            "heads": migrations.heads().collect::<Vec<_>>(),
            "at_head": current.iter().map(String::as_str).eq(migrations.heads()),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    if args.details {
        // Alembic's `current --verbose` names the database first.
        ctx.out.line(format!("Current revision(s) for {url}:"));
    }
    if current.is_empty() {
        ctx.out
            .note("no revision applied (the database is at base)");
    }
    for id in &current {
        match known(id) {
            Some((i, _)) if args.details => {
                ctx.out
                    .line(revision_details(&migrations, i, Marks::of(graph, i)))
            }
            Some((i, _)) => {
                let head = if Marks::of(graph, i).head {
                    " (head)"
                } else {
                    ""
                };
                ctx.out.line(format!("{}{head}", paint(ID, id)));
            }
            None => ctx.out.line(format!(
                "{} (unknown revision: not in {})",
                paint(ID, id),
                if ctx.is_embedded() {
                    "the embedded migrations".to_owned()
                } else {
                    ctx.migrations_dir().display().to_string()
                }
            )),
        }
    }
    Ok(ExitCode::SUCCESS)
}
