//! `retort upgrade [TARGET]`, and what `downgrade` and `stamp` share with
//! it: the offline mode's dialect and range, the report of applied steps,
//! the progress display.

use std::process::ExitCode;

use anyhow::Context as _;
use retort_core::MigrationSet;
use retort_core::plan::Direction;

use crate::cli::output::{BOLD, ID, Progress, paint};
use crate::cli::{Context, UpgradeArgs};
use crate::report::Report;
use crate::url::Backend;

pub(crate) async fn run(ctx: &Context<'_>, args: &UpgradeArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    if args.sql {
        let backend = offline_backend(ctx, args.dialect.as_deref())?;
        let (start, end) = split_range(&args.target);
        let end = if end.is_empty() { "heads" } else { end };
        let script = crate::offline::upgrade(&migrations, &ctx.config(), backend, start, end)?;
        print_script(ctx, &script);
        return Ok(ExitCode::SUCCESS);
    }
    no_dialect_without_sql(args.dialect.as_deref())?;
    let url = ctx.connect_url().await?;
    let spinner = Progress::start(format!("upgrading {} to {}", url, args.target));
    let report = migrations
        .with_config(ctx.config())
        .upgrade(url.expose(), &args.target)
        .await;
    drop(spinner);
    print_report(ctx, &migrations, &report?);
    Ok(ExitCode::SUCCESS)
}

/// `--dialect` only means something with `--sql`.
pub(crate) fn no_dialect_without_sql(dialect: Option<&str>) -> anyhow::Result<()> {
    match dialect {
        Some(_) => anyhow::bail!("`--dialect` only applies to offline mode; add `--sql`"),
        None => Ok(()),
    }
}

/// `START:END` (either side may be empty) or `END`.
pub(crate) fn split_range(range: &str) -> (Option<&str>, &str) {
    match range.split_once(':') {
        Some((start, end)) => ((!start.is_empty()).then_some(start), end),
        None => (None, range),
    }
}

/// The dialect of an offline script: `--dialect` when given, else the
/// scheme of the configured database URL (never connecting), else an error.
pub(crate) fn offline_backend(ctx: &Context<'_>, dialect: Option<&str>) -> anyhow::Result<Backend> {
    if let Some(dialect) = dialect {
        return match dialect.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            "sqlite" | "sqlite3" => Ok(Backend::Sqlite),
            _ => anyhow::bail!(
                "unknown dialect `{dialect}`: expected `postgres`, `mysql` (also for MariaDB) or `sqlite`"
            ),
        };
    }
    ctx.database_url()
        .map(|url| url.backend())
        .context("offline mode needs a dialect: pass `--dialect postgres|mysql|sqlite`, or configure a database URL (it is not connected to)")
}

/// Prints an offline script on stdout, as is, and on stderr that it does
/// nothing, when it does nothing.
pub(crate) fn print_script(ctx: &Context<'_>, script: &crate::offline::Script) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(script.sql.as_bytes());
    let _ = out.flush();
    if let Some(nothing) = &script.nothing {
        ctx.out.note(nothing);
    }
}

/// `Running upgrade a -> b, message (1.2 ms)` per step, then the heads.
pub(crate) fn print_report(ctx: &Context<'_>, set: &MigrationSet, report: &Report) {
    for step in &report.steps {
        let parents = set
            .get(&step.revision)
            .map(|r| r.parents().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let id = paint(ID, &step.revision);
        let (from, to) = match step.direction {
            Direction::Upgrade => (parents, id),
            Direction::Downgrade => (id, parents),
        };
        ctx.out.line(format!(
            "Running {} {from} -> {to}, {} ({:.1} ms)",
            step.direction.as_str(),
            step.message,
            step.duration.as_secs_f64() * 1000.0
        ));
    }
    if report.is_noop() {
        ctx.out.line(format!(
            "Nothing to do; at {}",
            paint(BOLD, show_heads(&report.heads_after))
        ));
    } else {
        ctx.out.line(format!(
            "Now at {}",
            paint(BOLD, show_heads(&report.heads_after))
        ));
    }
}

pub(crate) fn show_heads(heads: &[String]) -> String {
    if heads.is_empty() {
        "base".to_owned()
    } else {
        heads.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::split_range;

    #[test]
    fn ranges_split_like_alembic() {
        assert_eq!(split_range("head"), (None, "head"));
        assert_eq!(split_range("ae10:head"), (Some("ae10"), "head"));
        assert_eq!(split_range(":head"), (None, "head"));
        assert_eq!(split_range("head:"), (Some("head"), ""));
    }
}
