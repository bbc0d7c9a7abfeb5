//! `--fleet[=NAME]` on `upgrade`, `downgrade`, `stamp`, `check` and
//! `current`: the command on every target of a `[fleet.NAME]`, several at
//! once, each under its own lock; a target another runner holds is
//! skipped as in progress elsewhere. `--sql` writes one script per target.

use std::process::ExitCode;

use anyhow::Context as _;
use retort_fleet::{Fleet, FleetReport, Shape, Target, parse_list, query_targets};
use retort_settings::{FleetSettings, FleetShape, FleetSource};

use super::fleet_view::{Display, Row, finish};
use super::upgrade::{parse_dialect, print_script, split_range};
use crate::{Command, Context, EXIT_CHECK_FAILED, EXIT_FAILURE, FleetArgs};

/// `--fleet` on `upgrade`, `downgrade`, `stamp`, `check` or `current`:
/// the command on every target of the fleet (`None` without `--fleet`).
/// `check --fleet` leaves out the `schema.sql` comparison: it is about the
/// revisions, not a target, and `retort check` on one database makes it.
pub(crate) async fn dispatch(
    ctx: &Context<'_>,
    command: &Command,
) -> Option<anyhow::Result<ExitCode>> {
    let (args, op, sql, dialect, json) = match command {
        Command::Upgrade(a) => (&a.fleet, Op::Upgrade(&a.target), a.sql, &a.dialect, a.json),
        Command::Downgrade(a) => (
            &a.fleet,
            Op::Downgrade(&a.target),
            a.sql,
            &a.dialect,
            a.json,
        ),
        Command::Stamp(a) => {
            let op = Op::Stamp {
                revisions: &a.revisions,
                purge: a.purge,
            };
            (&a.fleet, op, a.sql, &a.dialect, a.json)
        }
        Command::Check(a) => (&a.fleet, Op::Check, false, &None, a.json),
        Command::Current(a) => (&a.fleet, Op::Current, false, &None, a.json),
        _ => return None,
    };
    args.fleet.as_ref()?;
    Some(match sql {
        true => offline(ctx, args, op, dialect.as_deref()).await,
        false => run(ctx, args, op, json).await,
    })
}

/// The command run on each target.
enum Op<'a> {
    Upgrade(&'a str),
    Downgrade(&'a str),
    Stamp {
        revisions: &'a [String],
        purge: bool,
    },
    Check,
    Current,
}

impl Op<'_> {
    fn verb(&self) -> &'static str {
        match self {
            Self::Upgrade(_) => "upgrade",
            Self::Downgrade(_) => "downgrade",
            Self::Stamp { .. } => "stamp",
            Self::Check => "check",
            Self::Current => "current",
        }
    }
}

/// The fleet's targets, after saying which fleet and where.
struct Resolved {
    fleet: FleetSettings,
    targets: Vec<Target>,
}

/// Runs `op` on every target of the fleet `args` names.
async fn run(
    ctx: &Context<'_>,
    args: &FleetArgs,
    op: Op<'_>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let Resolved { fleet, targets } = resolve(ctx, args, false).await?;
    let jobs = args
        .jobs
        .map(usize::from)
        .or(fleet.jobs)
        .unwrap_or(4)
        .min(targets.len().max(1));
    ctx.out.note(format!(
        "Fleet: `{}`, {} {} ({}), {jobs} at a time",
        fleet.name,
        targets.len(),
        if targets.len() == 1 {
            "target"
        } else {
            "targets"
        },
        shape_words(fleet.shape),
    ));
    if targets.is_empty() {
        ctx.out.note("nothing to do: the fleet has no targets");
        return Ok(ExitCode::SUCCESS);
    }
    let display = Display::start(&ctx.out, targets.len(), json);
    let runner = Fleet::new(&migrations)
        .config(ctx.config())
        .jobs(jobs)
        .keep_going(args.keep_going)
        .wait_for_busy(args.wait)
        .on_progress(display.callback());
    let rows = match op {
        Op::Upgrade(target) => rows(runner.upgrade(&targets, target).await, Row::report),
        Op::Downgrade(target) => rows(runner.downgrade(&targets, target).await, Row::report),
        Op::Stamp { revisions, purge } => {
            let revisions: Vec<&str> = revisions.iter().map(String::as_str).collect();
            rows(runner.stamp(&targets, &revisions, purge).await, Row::report)
        }
        Op::Check => rows(runner.check(&targets).await, Row::check),
        Op::Current => rows(runner.current(&targets).await, Row::current),
    };
    display.end();
    let summary = finish(ctx, &targets, &rows, json);
    Ok(if summary.failed > 0 || summary.not_started > 0 {
        ExitCode::from(EXIT_FAILURE)
    } else if summary.problems > 0 {
        ExitCode::from(EXIT_CHECK_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report's targets as display rows.
fn rows<R>(
    report: FleetReport<R>,
    done: impl Fn(&R) -> (String, serde_json::Value, bool),
) -> Vec<Row> {
    report.targets.iter().map(|t| Row::of(t, &done)).collect()
}

/// `--sql --fleet`: one offline script per target, each starting with a
/// comment naming it and the statement that points a session at it.
async fn offline(
    ctx: &Context<'_>,
    args: &FleetArgs,
    op: Op<'_>,
    dialect: Option<&str>,
) -> anyhow::Result<ExitCode> {
    if args.jobs.is_some() || args.keep_going || args.wait {
        anyhow::bail!(
            "`--jobs`, `--keep-going` and `--wait` apply to a connected fleet run; `--sql` connects to nothing"
        );
    }
    let migrations = ctx.migrations()?;
    let Resolved { fleet, targets } = resolve(ctx, args, true).await?;
    ctx.out.note(format!(
        "Fleet: `{}`, {} targets ({}); offline --sql writes a script per target",
        fleet.name,
        targets.len(),
        shape_words(fleet.shape)
    ));
    let forced = dialect.map(parse_dialect).transpose()?;
    for target in &targets {
        let backend = forced
            .or(target.backend())
            .with_context(|| format!("fleet target `{}`: no dialect", target.name()))?;
        let config = target.config(&ctx.config());
        let script = match &op {
            Op::Upgrade(range) => {
                let (start, end) = split_range(range);
                let end = if end.is_empty() { "heads" } else { end };
                retort_runtime::offline::upgrade(&migrations, &config, backend, start, end)?
            }
            Op::Downgrade(range) => {
                let (Some(start), end) = split_range(range) else {
                    anyhow::bail!(
                        "offline downgrade needs a starting point, as in Alembic: `retort downgrade START:END --sql --fleet` (e.g. `head:base`)"
                    );
                };
                retort_runtime::offline::downgrade(&migrations, &config, backend, start, end)?
            }
            Op::Stamp { revisions, purge } => {
                let revisions: Vec<&str> = revisions.iter().map(String::as_str).collect();
                retort_runtime::offline::stamp(
                    &migrations,
                    &config,
                    backend,
                    None,
                    &revisions,
                    *purge,
                )?
            }
            Op::Check | Op::Current => anyhow::bail!("`{}` has no offline mode", op.verb()),
        };
        ctx.out.line(preamble(fleet.shape, target, backend));
        print_script(ctx, &script);
    }
    Ok(ExitCode::SUCCESS)
}

/// The comment naming a target's script, and the statement that points a
/// session at the target (psql's `\connect` for a PostgreSQL database).
fn preamble(shape: FleetShape, target: &Target, backend: retort_runtime::url::Backend) -> String {
    use retort_runtime::url::Backend;
    let name = target.name();
    let switch = match (shape, backend) {
        (FleetShape::Schema, _) => format!("SET search_path TO \"{name}\";\n"),
        (FleetShape::Database, Backend::MySql) => format!("USE `{}`;\n", name.replace('`', "``")),
        (FleetShape::Database, _) => format!("\\connect \"{}\"\n", name.replace('"', "\"\"")),
        _ => String::new(),
    };
    format!(
        "\n-- retort fleet target: {}\n{switch}",
        target.redacted_url()
    )
}

/// The fleet `args` names and its targets: the names from the list, the
/// file or the query (which connects to the project's database, saying
/// so), made targets in the fleet's shape on the project's database URL.
async fn resolve(ctx: &Context<'_>, args: &FleetArgs, offline: bool) -> anyhow::Result<Resolved> {
    let name = args.fleet.as_deref().filter(|n| !n.is_empty());
    let fleet = ctx.settings.fleet(name)?;
    let names = match &fleet.source {
        FleetSource::List(list) => list.iter().map(|s| s.expose().to_owned()).collect(),
        FleetSource::File(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read {}, the targets file of fleet `{}`",
                    path.display(),
                    fleet.name
                )
            })?;
            parse_list(&text)
        }
        FleetSource::Query(sql) => {
            let url = ctx.connect_url().await?;
            query_targets(url.expose(), sql)
                .await
                .with_context(|| format!("cannot list the targets of fleet `{}`", fleet.name))?
        }
        _ => anyhow::bail!(
            "fleet `{}`: a source of targets this build does not know",
            fleet.name
        ),
    };
    let shape = match fleet.shape {
        FleetShape::Url => Shape::Url,
        FleetShape::Database => Shape::Database,
        FleetShape::Schema => Shape::Schema,
        _ => anyhow::bail!("fleet `{}`: a shape this build does not know", fleet.name),
    };
    let base = match shape {
        Shape::Url => None,
        _ if offline => Some(ctx.database_url()?.expose().to_owned()),
        _ => Some(ctx.connect_url().await?.expose().to_owned()),
    };
    let mut targets = Vec::with_capacity(names.len());
    let mut seen = std::collections::HashSet::new();
    for name in &names {
        let target = shape.target(base.as_deref(), name)?;
        if !seen.insert(target.expose_url().to_owned()) {
            anyhow::bail!(
                "fleet `{}` lists the target `{}` twice; each target is migrated once per run",
                fleet.name,
                target.name()
            );
        }
        targets.push(target);
    }
    Ok(Resolved { fleet, targets })
}

/// What a fleet's targets are, in words.
fn shape_words(shape: FleetShape) -> &'static str {
    match shape {
        FleetShape::Database => "databases on the project's database server",
        FleetShape::Schema => "schemas in the project's database",
        _ => "database URLs",
    }
}
