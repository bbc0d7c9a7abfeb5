//! The `retort` command line, usable as the `retort` binary (revisions
//! read from the migrations directory) or mounted in a service with the
//! revisions it embeds:
//!
//! ```no_run
//! static MIGRATIONS: retort_runtime::Migrations = {
//! #   retort_runtime::Migrations::__embedded(retort_core::MigrationSet::__embedded(&[], &[], &[]))
//! };
//! // `myservice migrate upgrade head`, `myservice migrate current`, ...
//! fn main() -> std::process::ExitCode {
//!     retort_cli::run(&MIGRATIONS)
//! }
//! ```
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command failed (the error and its causes are printed on stderr) |
//! | 2 | invalid usage: unknown verb or flag, missing argument |
//! | 3 | `check` found a problem: drift, several heads, pending revisions, a failed step, a broken history chain, or revisions that differ from the desired schema |

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use tracing::instrument::WithSubscriber as _;

use retort_runtime::Config;
use retort_runtime::Migrations;
use retort_settings::{DatabaseUrl, Lease, Settings};

mod args;
mod autogen;
mod commands;
mod live;
mod output;

pub use args::*;
pub use output::Output;

/// Exit code: the command failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: invalid usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: `check` found a problem.
pub const EXIT_CHECK_FAILED: u8 = 3;

/// What a command works with: settings, revisions, output.
pub struct Context<'m> {
    /// The resolved settings (file, environment, overrides).
    pub settings: Settings,
    /// Where output goes, and how.
    pub out: Output,
    /// The sets mounted in the service (none: the `retort` binary).
    embedded: &'m [&'m Migrations],
    /// `--set`.
    set: Option<String>,
    migrations_override: Option<PathBuf>,
    /// `--schema-file`.
    schema_file_override: Option<PathBuf>,
    /// `--dev-url`.
    dev_url_override: Option<String>,
    /// `-x KEY=VALUE`, for Rust revisions.
    args: Vec<(String, String)>,
    /// The URL once resolved (Vault is asked at most once per command).
    resolved: std::sync::OnceLock<DatabaseUrl>,
    /// The lease of dynamic credentials from Vault, revoked at the end.
    lease: std::sync::Mutex<Option<Lease>>,
}

impl<'m> Context<'m> {
    /// The migrations directory (from `--migrations`, else the settings).
    pub fn migrations_dir(&self) -> PathBuf {
        self.migrations_override
            .clone()
            .unwrap_or_else(|| self.settings.migrations_dir())
    }

    /// The revisions: the embedded ones when mounted in a service, else
    /// the migrations directory's.
    /// With `--set NAME`, that set: the embedded one of that name, or the
    /// directory's revisions as that set.
    pub fn migrations(&self) -> anyhow::Result<Cow<'m, Migrations>> {
        let wanted = self.set.as_deref();
        match (self.embedded, wanted) {
            ([], _) => {
                let dir = self.migrations_dir();
                let loaded = Migrations::from_dir(&dir)
                    .with_context(|| format!("cannot load the revisions in {}", dir.display()))?;
                Ok(Cow::Owned(match wanted {
                    Some(name) => loaded.named(name)?,
                    None => loaded,
                }))
            }
            ([only], None) => Ok(Cow::Borrowed(only)),
            (sets, wanted) => match sets.iter().find(|m| m.name() == wanted) {
                Some(set) => Ok(Cow::Borrowed(set)),
                None => anyhow::bail!(
                    "{} here (the sets: {}); choose one with `--set NAME`",
                    match wanted {
                        Some(name) => format!("no migration set named `{name}`"),
                        None => "no default (unnamed) migration set".to_owned(),
                    },
                    set_names(sets)
                ),
            },
        }
    }

    /// Every set mounted in the service, when there are several and no
    /// `--set` chose one: what `upgrade head` upgrades together.
    pub fn all_sets(&self) -> Option<&'m [&'m Migrations]> {
        (self.embedded.len() > 1 && self.set.is_none()).then_some(self.embedded)
    }

    /// True when the revisions are embedded in the running binary.
    pub fn is_embedded(&self) -> bool {
        !self.embedded.is_empty()
    }

    /// The database URL (password redacted in every display of it),
    /// without asking Vault (see [`connect_url`](Self::connect_url)).
    pub fn database_url(&self) -> anyhow::Result<DatabaseUrl> {
        Ok(self.settings.database_url()?)
    }

    /// The database URL to connect to, asking Vault/OpenBao when the
    /// settings say so ([`Settings::resolve_database`]). A lease on dynamic
    /// credentials is kept and revoked when the command finishes (unless
    /// `revoke_on_exit = false`).
    ///
    /// Every command that connects comes through here first, so this is
    /// where the target is stated, once, before anything runs (as Flyway's
    /// `Database: ...`): `Database: URL (from SOURCE)` on stderr, password
    /// redacted, unless `-q`.
    pub async fn connect_url(&self) -> anyhow::Result<DatabaseUrl> {
        if let Some(url) = self.resolved.get() {
            return Ok(url.clone());
        }
        let resolved = self.settings.resolve_database().await?;
        if let Some(lease) = resolved.lease {
            tracing::info!(
                lease_id = lease.id(),
                lease_duration_s = lease.duration().as_secs(),
                "dynamic database credentials from Vault"
            );
            if let Ok(mut slot) = self.lease.lock() {
                *slot = Some(lease);
            }
        }
        let url = self.resolved.get_or_init(|| resolved.url);
        self.out
            .note(format!("Database: {url} (from {})", url.source()));
        Ok(url.clone())
    }

    /// Revokes the lease of dynamic credentials, if any and if
    /// `revoke_on_exit`; a failure is reported, not fatal.
    async fn finish(&self) {
        let lease = self.lease.lock().ok().and_then(|mut slot| slot.take());
        if let Some(lease) = lease.filter(Lease::revoke_on_exit) {
            let id = lease.id().to_owned();
            match lease.revoke().await {
                Ok(()) => tracing::info!(lease_id = %id, "Vault lease revoked"),
                Err(e) => self.out.note(format!(
                    "warning: cannot revoke the Vault lease {id} (it expires on its own): {e}"
                )),
            }
        }
    }

    /// The runtime settings (version table, lock timeout, ...) with the
    /// run's `-x` arguments.
    pub fn config(&self) -> Config {
        let config = self.settings.config();
        self.args
            .iter()
            .fold(config, |config, (key, value)| config.arg(key, value))
    }
}

/// Runs the command line with the process's arguments and the revisions
/// embedded in the service: `retort::cli::run(&MIGRATIONS)` in `main`.
///
/// Must not be called from inside an async runtime (use [`run_async`]).
pub fn run(migrations: &Migrations) -> ExitCode {
    run_from(std::env::args_os(), Some(migrations))
}

/// [`run`] for a service that carries several migration sets, its own and
/// its libraries' (`retort::cli::run_sets(&[&jobs::MIGRATIONS,
/// &MIGRATIONS])`): `--set NAME` chooses one, and `upgrade head` without
/// it upgrades them all, in dependency order (`docs/migration-sets.md`).
pub fn run_sets(sets: &[&Migrations]) -> ExitCode {
    match start_runtime() {
        Ok(runtime) => runtime.block_on(run_sets_async(std::env::args_os(), sets)),
        Err(code) => code,
    }
}

/// Runs the `retort` binary: revisions from the migrations directory.
pub fn main() -> ExitCode {
    run_from(std::env::args_os(), None)
}

/// Runs the command line on `args` (the first one is the program name).
pub fn run_from(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    embedded: Option<&Migrations>,
) -> ExitCode {
    match start_runtime() {
        Ok(runtime) => runtime.block_on(run_async(args, embedded)),
        Err(code) => code,
    }
}

/// The runtime the blocking entry points run on, refused inside one.
fn start_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    if tokio::runtime::Handle::try_current().is_ok() {
        eprintln!(
            "error: retort::cli::run was called inside an async runtime; call retort::cli::run_async(...).await instead"
        );
        return Err(ExitCode::from(EXIT_FAILURE));
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(EXIT_FAILURE)
        })
}

/// [`run_from`] for callers already inside a tokio runtime.
pub async fn run_async(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    embedded: Option<&Migrations>,
) -> ExitCode {
    run_sets_async(args, embedded.as_slice()).await
}

/// [`run_sets`] on `args`, for callers already inside a tokio runtime.
pub async fn run_sets_async(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    embedded: &[&Migrations],
) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cli = with_details(cli);
    let out = Output::new(cli.verbose, cli.quiet);
    let logging = output::logging(&out);
    // Global, so that events from other threads (SQLite's worker) follow
    // `-q`/`-v` too; when the host service already set its own, this
    // command's output still works, scoped to its future.
    let _ = tracing_subscriber::util::SubscriberInitExt::try_init(logging.clone());
    let result = execute(cli, embedded, out.clone())
        .with_subscriber(logging)
        .await;
    match result {
        Ok(code) => code,
        Err(error) => {
            out.error(&error);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `-v` on the read verbs is Alembic's `--verbose`: each revision's details.
fn with_details(mut cli: Cli) -> Cli {
    let verbose = cli.verbose > 0 && !cli.quiet;
    match &mut cli.command {
        Command::Current(args) => args.details = verbose,
        Command::History(args) => args.details = verbose,
        Command::Heads(args) => args.details = verbose,
        Command::Branches(args) => args.details = verbose,
        _ => {}
    }
    cli
}

fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut settings = match &cli.config {
        Some(path) => Settings::from_path(path)?,
        None => Settings::load()?,
    };
    if let Some(env) = &cli.environment {
        settings = settings.with_env(env)?;
    }
    if let Some(url) = &cli.database_url {
        settings = settings.with_database_url(url.clone());
    }
    Ok(settings)
}

async fn execute(cli: Cli, embedded: &[&Migrations], out: Output) -> anyhow::Result<ExitCode> {
    let settings = settings(&cli)?;
    let ctx = Context {
        settings,
        out,
        embedded,
        set: cli.set.clone(),
        migrations_override: cli.migrations.clone(),
        schema_file_override: cli.schema_file.clone(),
        dev_url_override: cli.dev_url.clone(),
        args: cli.x.clone(),
        resolved: std::sync::OnceLock::new(),
        lease: std::sync::Mutex::new(None),
    };
    let result = dispatch(&ctx, &cli).await;
    ctx.finish().await;
    result
}

async fn dispatch(ctx: &Context<'_>, cli: &Cli) -> anyhow::Result<ExitCode> {
    if let Some(result) = commands::fleet::dispatch(ctx, &cli.command).await {
        return result;
    }
    match &cli.command {
        Command::Init(args) => commands::init::run(ctx, args),
        Command::Revision(args) if args.autogenerate => {
            commands::autogenerate::run(ctx, args).await
        }
        Command::Revision(args) => commands::revision::run(ctx, args),
        Command::Merge(args) => commands::merge::run(ctx, args),
        Command::Upgrade(args) => commands::upgrade::run(ctx, args).await,
        Command::Downgrade(args) => commands::downgrade::run(ctx, args).await,
        Command::Current(args) => commands::current::run(ctx, args).await,
        Command::History(args) => commands::history::run(ctx, args).await,
        Command::Heads(args) => commands::heads::run(ctx, args),
        Command::Branches(args) => commands::branches::run(ctx, args),
        Command::Show(args) => commands::show::run(ctx, args),
        Command::Stamp(args) => commands::stamp::run(ctx, args).await,
        Command::Check(args) => commands::check::run(ctx, args).await,
        Command::Repair(args) => commands::repair::run(ctx, args).await,
    }
}

/// `` `jobs`, `app` and the default set `` for messages.
fn set_names(sets: &[&Migrations]) -> String {
    sets.iter()
        .map(|m| {
            m.name()
                .map_or("the default set".to_owned(), |n| format!("`{n}`"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
