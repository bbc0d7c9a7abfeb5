//! [`Migrations`]: the set of revisions a service carries, and the async
//! API that applies them.

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use retort_core::MigrationSet;
use retort_core::load::{LoadErrors, load_dir};
use retort_core::plan::Direction;
use tracing::Instrument as _;

use crate::code::Functions;
use crate::config::Config;
use crate::database::Database;
use crate::engine::{self, Locked};
use crate::error::Error;
use crate::history::HistoryEntry;
use crate::report::{CheckReport, PlannedStep, Report};

/// A validated set of revisions, embedded with `embed_migrations!` or
/// loaded from a directory at run time; both behave the same.
///
/// Every method takes the database as anything that converts into a
/// [`Database`]: an sqlx pool or connection, or a URL.
///
/// ```no_run
/// # async fn run(pool: sqlx::PgPool) -> Result<(), retort_runtime::Error> {
/// let migrations = retort_runtime::Migrations::from_dir("migrations")?;
/// let report = migrations.upgrade(&pool, "head").await?;
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrations {
    set: MigrationSet,
    code: &'static [Functions],
    name: Option<Cow<'static, str>>,
}

impl Migrations {
    /// Used by `embed_migrations!`; not part of the public API.
    #[doc(hidden)]
    pub const fn __embedded(set: MigrationSet) -> Self {
        Self {
            set,
            code: &[],
            name: None,
        }
    }

    /// Used by `embed_migrations!` for the functions of Rust revisions and
    /// a set's name; not part of the public API.
    #[doc(hidden)]
    pub const fn __embedded_as(
        set: MigrationSet,
        code: &'static [Functions],
        name: Option<&'static str>,
    ) -> Self {
        let name = match name {
            Some(name) => Some(Cow::Borrowed(name)),
            None => None,
        };
        Self { set, code, name }
    }

    /// The set's name (`embed_migrations!("migrations", name = "jobs")`),
    /// `None` for the default set. A named set keeps its own heads and
    /// history in its own tables ([`Config::for_set`]) and shares the
    /// database's migration lock; see [`crate::upgrade_all`] to upgrade
    /// several sets together.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// These migrations as the set `name`, for revisions read from a
    /// directory ([`Migrations::from_dir`]) that a library crate embeds as
    /// a named set: its tables are the named set's.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `name` cannot name a set.
    pub fn named(mut self, name: &str) -> Result<Self, Error> {
        retort_core::format::validate_set_name(name).map_err(|reason| Error::Config {
            setting: "migration set name",
            message: format!("invalid set name `{name}`: {reason}"),
        })?;
        self.name = Some(Cow::Owned(name.to_owned()));
        Ok(self)
    }

    /// The compiled functions of the Rust revision `id`: `None` when `id`
    /// is no Rust revision, or these migrations were loaded from a
    /// directory at run time ([`Migrations::from_dir`]), which cannot
    /// compile Rust.
    pub fn code(&self, id: &str) -> Option<&Functions> {
        self.code.iter().find(|f| f.id() == id)
    }

    /// Loads and validates the revision files under `dir` (what the CLI
    /// does with a migrations directory), reporting every problem at once.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, LoadErrors> {
        let dir = dir.as_ref();
        let display = dir.to_string_lossy().replace('\\', "/");
        load_dir(dir, &display).map(|set| Self {
            set,
            code: &[],
            name: None,
        })
    }

    /// The compiled functions of every Rust revision.
    pub(crate) fn code_table(&self) -> &'static [Functions] {
        self.code
    }

    /// The validated revisions and their graph.
    pub fn set(&self) -> &MigrationSet {
        &self.set
    }

    /// The revisions, in id order.
    pub fn revisions(&self) -> &[retort_core::Revision] {
        self.set.revisions()
    }

    /// The revision with this full id.
    pub fn get(&self, id: &str) -> Option<&retort_core::Revision> {
        self.set.get(id)
    }

    /// The ids of the heads (revisions no other revision revises), sorted.
    /// With several heads, `upgrade head` is ambiguous.
    pub fn heads(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.set.heads()
    }

    /// How many revisions there are.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when there is no revision (a new project).
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// These migrations with non-default settings.
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool, m: &retort_runtime::Migrations) -> Result<(), retort_runtime::Error> {
    /// use retort_runtime::Config;
    /// m.with_config(Config::default().version_table("alembic_version"))
    ///     .upgrade(&pool, "head")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn with_config(&self, config: Config) -> Migrator<'_> {
        Migrator {
            set: &self.set,
            code: self.code,
            config: config.for_set(self.name()),
        }
    }

    /// Upgrades to `target` (`head`, `heads`, a revision, `+2`, `label@head`, ...).
    ///
    /// Takes the migration lock (so concurrent replicas apply each revision
    /// once), verifies that no applied revision was edited, then runs each
    /// revision in its own transaction with its bookkeeping. When the
    /// database is already at `head`, answers from the version table
    /// without locking.
    pub async fn upgrade<'a>(
        &self,
        db: impl Into<Database<'a>>,
        target: &str,
    ) -> Result<Report, Error> {
        self.with_config(Config::default())
            .locked(db.into(), Locked::Upgrade(target))
            .await
    }

    /// Downgrades to `target` (`-1`, `base`, a revision, `label@-1`, ...).
    pub async fn downgrade<'a>(
        &self,
        db: impl Into<Database<'a>>,
        target: &str,
    ) -> Result<Report, Error> {
        self.with_config(Config::default())
            .locked(db.into(), Locked::Downgrade(target))
            .await
    }

    /// The version table's rows (the applied heads), sorted.
    pub async fn current<'a>(&self, db: impl Into<Database<'a>>) -> Result<Vec<String>, Error> {
        self.with_config(Config::default())
            .current_of(db.into())
            .await
    }

    /// The history table, oldest first.
    pub async fn history<'a>(
        &self,
        db: impl Into<Database<'a>>,
    ) -> Result<Vec<HistoryEntry>, Error> {
        self.with_config(Config::default())
            .history_in(db.into())
            .await
    }

    /// Sets the version table to `revision` without running any SQL.
    pub async fn stamp<'a>(
        &self,
        db: impl Into<Database<'a>>,
        revision: &str,
    ) -> Result<Report, Error> {
        let targets = [revision];
        let stamp = Locked::Stamp {
            targets: &targets,
            purge: false,
        };
        self.with_config(Config::default())
            .locked(db.into(), stamp)
            .await
    }

    /// Drift, heads, pending revisions and failed steps, without changing anything.
    pub async fn check<'a>(&self, db: impl Into<Database<'a>>) -> Result<CheckReport, Error> {
        self.with_config(Config::default())
            .check_of(db.into())
            .await
    }

    /// A dry run: the steps of `upgrade` (or `downgrade`) to `target` and
    /// the statements each would run, without executing anything.
    pub async fn plan<'a>(
        &self,
        db: impl Into<Database<'a>>,
        direction: Direction,
        target: &str,
    ) -> Result<Vec<PlannedStep>, Error> {
        self.with_config(Config::default())
            .plan_of(db.into(), direction, target)
            .await
    }

    /// Accepts intentional edits of applied revisions (records their new
    /// checksums) and marks a failed step as resolved.
    pub async fn repair<'a>(&self, db: impl Into<Database<'a>>) -> Result<Report, Error> {
        self.with_config(Config::default())
            .locked(db.into(), Locked::Repair)
            .await
    }
}

/// [`Migrations`] with a [`Config`]: the same methods.
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    set: &'m MigrationSet,
    code: &'static [Functions],
    config: Config,
}

/// What every operation returns inside this crate: a boxed future of a
/// non-generic function. The public methods, generic over the database
/// argument, only convert it and await this, so the engine's state
/// machines are compiled once, here, not again in every calling crate.
type Op<'f, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'f>>;

impl<'m> Migrator<'m> {
    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn locked<'f>(&'f self, db: Database<'f>, op: Locked<'f>) -> Op<'f, Report> {
        let set = self.set;
        let span = op.span();
        Box::pin(
            async move {
                let mut d = db.driver(&self.config).await?;
                let result = engine::locked(&mut d, set, &self.config, self.code, op).await;
                d.close().await;
                result
            }
            .instrument(span),
        )
    }

    fn current_of<'f>(&'f self, db: Database<'f>) -> Op<'f, Vec<String>> {
        Box::pin(async move {
            let mut d = db.driver(&self.config).await?;
            let result = engine::current(&mut d).await;
            d.close().await;
            result
        })
    }

    fn history_in<'f>(&'f self, db: Database<'f>) -> Op<'f, Vec<HistoryEntry>> {
        Box::pin(async move {
            let mut d = db.driver(&self.config).await?;
            let result = engine::history_of(&mut d).await;
            d.close().await;
            result
        })
    }

    fn check_of<'f>(&'f self, db: Database<'f>) -> Op<'f, CheckReport> {
        Box::pin(async move {
            let mut d = db.driver(&self.config).await?;
            let result = engine::check(&mut d, self.set).await;
            d.close().await;
            result
        })
    }

    fn plan_of<'f>(
        &'f self,
        db: Database<'f>,
        direction: Direction,
        target: &'f str,
    ) -> Op<'f, Vec<PlannedStep>> {
        Box::pin(async move {
            let mut d = db.driver(&self.config).await?;
            let result = engine::plan(&mut d, self.set, direction, target).await;
            d.close().await;
            result
        })
    }

    /// See [`Migrations::upgrade`].
    pub async fn upgrade<'a>(
        &self,
        db: impl Into<Database<'a>>,
        target: &str,
    ) -> Result<Report, Error> {
        self.locked(db.into(), Locked::Upgrade(target)).await
    }

    /// See [`Migrations::downgrade`].
    pub async fn downgrade<'a>(
        &self,
        db: impl Into<Database<'a>>,
        target: &str,
    ) -> Result<Report, Error> {
        self.locked(db.into(), Locked::Downgrade(target)).await
    }

    /// Sets the version table to `targets` without running SQL; with
    /// `purge`, empties it first (Alembic's `stamp --purge`).
    pub async fn stamp<'a>(
        &self,
        db: impl Into<Database<'a>>,
        targets: &[&str],
        purge: bool,
    ) -> Result<Report, Error> {
        self.locked(db.into(), Locked::Stamp { targets, purge })
            .await
    }

    /// See [`Migrations::repair`].
    pub async fn repair<'a>(&self, db: impl Into<Database<'a>>) -> Result<Report, Error> {
        self.locked(db.into(), Locked::Repair).await
    }

    /// See [`Migrations::current`].
    pub async fn current<'a>(&self, db: impl Into<Database<'a>>) -> Result<Vec<String>, Error> {
        self.current_of(db.into()).await
    }

    /// See [`Migrations::history`].
    pub async fn history<'a>(
        &self,
        db: impl Into<Database<'a>>,
    ) -> Result<Vec<HistoryEntry>, Error> {
        self.history_in(db.into()).await
    }

    /// See [`Migrations::check`].
    pub async fn check<'a>(&self, db: impl Into<Database<'a>>) -> Result<CheckReport, Error> {
        self.check_of(db.into()).await
    }

    /// See [`Migrations::plan`].
    pub async fn plan<'a>(
        &self,
        db: impl Into<Database<'a>>,
        direction: Direction,
        target: &str,
    ) -> Result<Vec<PlannedStep>, Error> {
        self.plan_of(db.into(), direction, target).await
    }
}
