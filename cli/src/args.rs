//! The command line, as clap derive types: every verb and flag in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Alembic-style schema migrations: revision files in a graph, applied to
/// PostgreSQL, MySQL/MariaDB and SQLite.
#[derive(Debug, Parser)]
#[command(
    name = "retort",
    version,
    about = "Alembic-style schema migrations: revision files in a graph, applied to PostgreSQL, MySQL/MariaDB and SQLite",
    after_help = "-v is Alembic's --verbose on the verbs that list revisions (`retort history -v`) and raises the log level everywhere; -V is --version. Output: the answer on stdout; `Database: ...`, warnings and errors on stderr; colours only on a terminal (NO_COLOR turns them off). RUST_LOG sets the log filter when neither -v nor -q is given."
)]
pub struct Cli {
    /// The settings file (default: `retort.toml` in the current directory, if present).
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "FILE",
        env = "RETORT_CONFIG"
    )]
    pub config: Option<PathBuf>,
    /// A named environment of the settings file (`[env.NAME]`). When it names
    /// its database, that wins over `RETORT_DATABASE_URL` and `DATABASE_URL`.
    #[arg(
        long = "env",
        short = 'e',
        global = true,
        value_name = "NAME",
        env = "RETORT_ENV"
    )]
    pub environment: Option<String>,
    /// The database URL; overrides every other source (see `docs/settings.md`).
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The migrations directory (overrides the settings file).
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Autogenerate's desired schema: a `.sql` file or a directory of them
    /// (overrides `schema_file` in the settings file; default `schema.sql`).
    #[arg(long, global = true, value_name = "PATH", visible_alias = "schema")]
    pub schema_file: Option<PathBuf>,
    /// The server where autogenerate creates and drops its scratch
    /// databases (PostgreSQL, MySQL; overrides `dev_url` in the settings
    /// file).
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    pub dev_url: Option<String>,
    /// Say more, anywhere on the line: `current`, `history`, `heads` and
    /// `branches` show each revision's details (Alembic's `--verbose`);
    /// logs on stderr go from warnings to info (`-vv` debug, `-vvv` trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only the answer and errors: no `Database:` line, no `Running ...`
    /// progress, no warnings.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// The migration set to work on: a named set (`embed_migrations!(...,
    /// name = "NAME")`), such as one a library crate ships. Without it,
    /// the default set; `upgrade head` in a service mounting several sets
    /// upgrades them all (`docs/migration-sets.md`).
    #[arg(long = "set", global = true, value_name = "NAME")]
    pub set: Option<String>,
    /// An argument for Rust revisions, `KEY=VALUE` (Alembic's `-x`);
    /// repeat for several. A revision reads it with `cx.arg("KEY")`.
    #[arg(short = 'x', global = true, value_name = "KEY=VALUE", value_parser = key_value)]
    pub x: Vec<(String, String)>,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a settings file, a migrations directory and the revision template.
    Init(InitArgs),
    /// Write a new revision file.
    Revision(RevisionArgs),
    /// Write a merge revision joining several heads.
    Merge(MergeArgs),
    /// Upgrade to a target (default `head`).
    Upgrade(UpgradeArgs),
    /// Downgrade to a target.
    Downgrade(DowngradeArgs),
    /// Show the database's current revision(s).
    Current(CurrentArgs),
    /// List revisions, newest first.
    History(HistoryArgs),
    /// Show the heads of the revision graph.
    Heads(HeadsArgs),
    /// Show the branch points of the revision graph.
    Branches(BranchesArgs),
    /// Show one revision.
    Show(ShowArgs),
    /// Set the version table without running any migration.
    Stamp(StampArgs),
    /// Exit non-zero when the database has drift, the graph several heads,
    /// or revisions are pending.
    Check(CheckArgs),
    /// Record the current checksums of edited revisions and resolve a
    /// failed step.
    Repair(RepairArgs),
}

/// `retort init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to scaffold (default: the current directory).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Also write `build.rs` (with `cargo:rerun-if-changed=migrations`) if missing.
    #[arg(long)]
    pub build_rs: bool,
}

/// `retort revision`
#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// The message.
    #[arg(long, short = 'm')]
    pub message: String,
    /// The parent(s): a revision, `head` (default) or `label@head`; several
    /// make a revision on top of each.
    #[arg(long, value_name = "REV")]
    pub head: Vec<String>,
    /// Start a new branch with this label.
    #[arg(long, value_name = "LABEL")]
    pub branch_label: Vec<String>,
    /// Revisions this one depends on.
    #[arg(long, value_name = "REV")]
    pub depends_on: Vec<String>,
    /// Use this revision id instead of a random one.
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
    /// Allow `--head` to name a revision that is not a head (creates a branch).
    #[arg(long)]
    pub splice: bool,
    /// Mark the revision `Transactional: false`.
    #[arg(long)]
    pub no_transaction: bool,
    /// Write the upgrade and downgrade that take the revisions' schema to
    /// the desired schema (`schema.sql`) and back (docs/autogenerate.md).
    #[arg(long)]
    pub autogenerate: bool,
    /// With `--autogenerate`: compare the live database (the configured
    /// URL) with the desired schema, instead of the revisions replayed
    /// into a scratch database.
    #[arg(long, requires = "autogenerate")]
    pub from_database: bool,
    /// With `--autogenerate`: the backend (`postgres`, `mysql` or
    /// `sqlite`) when neither a database URL nor `dev_url` says it.
    #[arg(long, value_name = "DIALECT", requires = "autogenerate")]
    pub dialect: Option<String>,
}

/// `retort merge`
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The message.
    #[arg(long, short = 'm')]
    pub message: String,
    /// The revisions to merge (default: all heads).
    #[arg(value_name = "REV")]
    pub revisions: Vec<String>,
    /// A branch label for the merge revision.
    #[arg(long, value_name = "LABEL")]
    pub branch_label: Vec<String>,
    /// Use this revision id instead of a random one.
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
}

/// `retort upgrade`
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// The target: `head`, `heads`, a revision, `+N`, `label@head`, ...;
    /// with `--sql`, `START:END` as in Alembic.
    #[arg(value_name = "TARGET", default_value = "head")]
    pub target: String,
    /// Print the SQL script instead of connecting (offline mode).
    #[arg(long)]
    pub sql: bool,
    /// The SQL dialect of `--sql` when no database URL is configured
    /// (`postgres`, `mysql` or `sqlite`).
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,
    /// With `--fleet`: one JSON record per target on stdout.
    #[arg(long, requires = "fleet")]
    pub json: bool,
    /// Fleet options (`--fleet`, `--jobs`, `--keep-going`, `--wait`).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `retort downgrade`
#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// The target: `-1`, `base`, a revision, `label@-1`, ...; with
    /// `--sql`, `START:END`.
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub target: String,
    /// Print the SQL script instead of connecting (offline mode).
    #[arg(long)]
    pub sql: bool,
    /// The SQL dialect of `--sql` when no database URL is configured.
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,
    /// With `--fleet`: one JSON record per target on stdout.
    #[arg(long, requires = "fleet")]
    pub json: bool,
    /// Fleet options (`--fleet`, `--jobs`, `--keep-going`, `--wait`).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `retort current`
#[derive(Debug, Args)]
pub struct CurrentArgs {
    /// Each revision's details (Alembic's verbose form): set by `-v`.
    #[arg(skip)]
    pub details: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Fleet options (`--fleet`, `--jobs`, `--keep-going`, `--wait`).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `retort history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A range `START:END` (either side may be empty, e.g. `base:head`, `ae10:`).
    #[arg(long, short = 'r', value_name = "RANGE", allow_hyphen_values = true)]
    pub rev_range: Option<String>,
    /// Mark the database's current revision(s) (needs a database).
    #[arg(long, short = 'i')]
    pub indicate_current: bool,
    /// Each revision's details (Alembic's verbose form): set by `-v`.
    #[arg(skip)]
    pub details: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `retort heads`
#[derive(Debug, Args)]
pub struct HeadsArgs {
    /// Each revision's details (Alembic's verbose form): set by `-v`.
    #[arg(skip)]
    pub details: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `retort branches`
#[derive(Debug, Args)]
pub struct BranchesArgs {
    /// Each revision's details (Alembic's verbose form): set by `-v`.
    #[arg(skip)]
    pub details: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `retort show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The revision (id, prefix, label, `head`, ...).
    #[arg(value_name = "REV")]
    pub revision: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// `retort stamp`
#[derive(Debug, Args)]
pub struct StampArgs {
    /// The revision(s) to record (`head`, `base`, ids, `label@head`).
    #[arg(value_name = "REV", required = true)]
    pub revisions: Vec<String>,
    /// Empty the version table first.
    #[arg(long)]
    pub purge: bool,
    /// Print the SQL script instead of connecting (offline mode).
    #[arg(long)]
    pub sql: bool,
    /// The SQL dialect of `--sql` when no database URL is configured.
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,
    /// With `--fleet`: one JSON record per target on stdout.
    #[arg(long, requires = "fleet")]
    pub json: bool,
    /// Fleet options (`--fleet`, `--jobs`, `--keep-going`, `--wait`).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `retort check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Fleet options (`--fleet`, `--jobs`, `--keep-going`, `--wait`).
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `retort repair`
#[derive(Debug, Args)]
pub struct RepairArgs {}

/// Running a command on every target of a fleet (`[fleet.NAME]` in
/// retort.toml): databases or tenant schemas, several at once, each under
/// its own lock.
#[derive(Debug, Default, Args)]
pub struct FleetArgs {
    /// Run on every target of the fleet NAME (`--fleet=NAME`; plain
    /// `--fleet` when retort.toml configures one fleet).
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    pub fleet: Option<String>,
    /// With `--fleet`: how many targets at once (default: the fleet's
    /// `jobs`, else 4).
    #[arg(long, short = 'j', value_name = "N", requires = "fleet",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// With `--fleet`: go on after a target fails (default: start no new
    /// target once one has failed).
    #[arg(long, requires = "fleet")]
    pub keep_going: bool,
    /// With `--fleet`: wait for a target another runner is migrating (up
    /// to the lock timeout) instead of skipping it as in progress elsewhere.
    #[arg(long, requires = "fleet")]
    pub wait: bool,
}

/// Parses `-x KEY=VALUE`.
fn key_value(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "expected KEY=VALUE, such as `-x batch=500`, found `{arg}`"
        )),
    }
}
