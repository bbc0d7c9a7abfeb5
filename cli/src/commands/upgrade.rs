//! `retort upgrade [TARGET]`, and what `downgrade` and `stamp` share with
//! it: the offline mode's dialect and range, the end of a run's live
//! display.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::live::LiveRun;
use crate::output::{BOLD, ID, paint};
use crate::{Context, UpgradeArgs};
use retort_runtime::Report;
use retort_runtime::url::Backend;

pub(crate) async fn run(ctx: &Context<'_>, args: &UpgradeArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    if args.sql {
        let backend = offline_backend(ctx, args.dialect.as_deref())?;
        let (start, end) = split_range(&args.target);
        let end = if end.is_empty() { "heads" } else { end };
        let script =
            retort_runtime::offline::upgrade(&migrations, &ctx.config(), backend, start, end)?;
        print_script(ctx, &script);
        return Ok(ExitCode::SUCCESS);
    }
    no_dialect_without_sql(args.dialect.as_deref())?;
    let url = ctx.connect_url().await?;
    let live = ctx
        .out
        .live()
        .start(format!("upgrading {} to {}", url, args.target));
    if let Some(sets) = ctx.all_sets()
        && (args.target == "head" || args.target == "heads")
    {
        let reports = retort_runtime::upgrade_all_with(url.expose(), sets, &ctx.config()).await;
        return finish(ctx, live, reports.map(|reports| combined(sets, reports)));
    }
    let report = migrations
        .with_config(ctx.config())
        .upgrade(url.expose(), &args.target)
        .await;
    finish(ctx, live, report)
}

/// One report of several sets' runs: their steps, set after set, and
/// their heads, a named set's as `name@head`.
fn combined(sets: &[&retort_runtime::Migrations], reports: Vec<Report>) -> Report {
    let mut all = Report::default();
    let qualify = |name: Option<&str>, heads: &[String]| -> Vec<String> {
        heads
            .iter()
            .map(|h| name.map_or_else(|| h.clone(), |n| format!("{n}@{h}")))
            .collect()
    };
    for (set, report) in sets.iter().zip(reports) {
        all.direction = report.direction;
        all.heads_before
            .extend(qualify(set.name(), &report.heads_before));
        all.heads_after
            .extend(qualify(set.name(), &report.heads_after));
        all.steps.extend(report.steps);
    }
    all
}

/// Ends the live display of an upgrade or downgrade (whose `Running ...`
/// lines were printed as each revision started): `Now at ...` on success;
/// on failure, the revisions committed before it, then the error.
pub(crate) fn finish(
    ctx: &Context<'_>,
    live: LiveRun,
    report: Result<Report, retort_runtime::Error>,
) -> anyhow::Result<ExitCode> {
    let outcome = live.end();
    match report {
        Ok(report) => {
            print_report(ctx, &report);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            if outcome.started > 0 {
                let committed = if outcome.committed.is_empty() {
                    "none".to_owned()
                } else {
                    outcome
                        .committed
                        .iter()
                        .map(|id| paint(ID, id))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                ctx.out.failure(format!(
                    "Committed before the failure: {committed} ({} of {} planned revisions)",
                    outcome.committed.len(),
                    outcome.of
                ));
            }
            Err(error.into())
        }
    }
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
        let backend = parse_dialect(dialect)?;
        offline_note(ctx, backend, "--dialect");
        return Ok(backend);
    }
    let url = ctx.database_url().context("offline mode needs a dialect: pass `--dialect postgres|mysql|sqlite`, or configure a database URL (it is not connected to)")?;
    offline_note(ctx, url.backend(), &format!("the URL in {}", url.source()));
    Ok(url.backend())
}

/// A `--dialect` value.
pub(crate) fn parse_dialect(dialect: &str) -> anyhow::Result<Backend> {
    Ok(match dialect.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" | "pg" => Backend::Postgres,
        "mysql" | "mariadb" => Backend::MySql,
        "sqlite" | "sqlite3" => Backend::Sqlite,
        _ => anyhow::bail!(
            "unknown dialect `{dialect}`: expected `postgres`, `mysql` (also for MariaDB) or `sqlite`"
        ),
    })
}

/// Offline mode connects to nothing: says so, where the `Database:` line
/// of a connecting command would be.
fn offline_note(ctx: &Context<'_>, backend: Backend, dialect_from: &str) {
    ctx.out.note(format!(
        "Database: none (offline --sql writes a {} script; dialect from {dialect_from})",
        backend.name()
    ));
}

/// Prints an offline script on stdout, as is, and on stderr that it does
/// nothing, when it does nothing.
pub(crate) fn print_script(ctx: &Context<'_>, script: &retort_runtime::offline::Script) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(script.sql.as_bytes());
    let _ = out.flush();
    if let Some(nothing) = &script.nothing {
        ctx.out.note(nothing);
    }
}

/// Where the run left the database.
fn print_report(ctx: &Context<'_>, report: &Report) {
    if report.is_noop() {
        ctx.out.status(format!(
            "Nothing to do; at {}",
            paint(BOLD, show_heads(&report.heads_after))
        ));
    } else {
        ctx.out.status(format!(
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
