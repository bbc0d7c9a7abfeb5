//! The blocking API: a thin wrapper running the async one on its own
//! current-thread runtime.

use std::future::Future;

use retort_core::plan::Direction;

use crate::config::Config;
use crate::error::Error;
use crate::history::HistoryEntry;
use crate::migrations::{Migrations, Migrator};
use crate::report::{CheckReport, PlannedStep, Report};

/// The same operations as [`crate::Migrations`], for code without an async
/// runtime; the database is given as a URL.
///
/// ```no_run
/// static MIGRATIONS: retort_runtime::Migrations = {
/// #   retort_runtime::Migrations::__embedded(retort_core::MigrationSet::__embedded(&[], &[], &[]))
/// };
/// fn main() -> Result<(), retort_runtime::Error> {
///     let report = MIGRATIONS.blocking().upgrade("sqlite://app.db", "head")?;
///     println!("{report}");
///     Ok(())
/// }
/// ```
///
/// Called from inside a tokio runtime, every method returns
/// [`Error::BlockingInsideRuntime`] instead of deadlocking. That includes
/// `tokio::task::spawn_blocking` closures, which tokio does not let a
/// library tell apart from async code; from async code, use the async API,
/// or a thread of its own (`std::thread::spawn`).
#[derive(Debug, Clone)]
pub struct Blocking<'m> {
    migrator: Migrator<'m>,
}

fn run<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::BlockingInsideRuntime);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?
        .block_on(work)
}

impl Migrations {
    /// The blocking API, for code without an async runtime.
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking {
            migrator: self.with_config(Config::default()),
        }
    }
}

impl<'m> Migrator<'m> {
    /// The blocking API with these settings.
    pub fn blocking(&self) -> Blocking<'m> {
        Blocking {
            migrator: self.clone(),
        }
    }
}

impl Blocking<'_> {
    /// See [`crate::Migrations::upgrade`].
    pub fn upgrade(&self, url: &str, target: &str) -> Result<Report, Error> {
        run(self.migrator.upgrade(url, target))
    }

    /// See [`crate::Migrations::downgrade`].
    pub fn downgrade(&self, url: &str, target: &str) -> Result<Report, Error> {
        run(self.migrator.downgrade(url, target))
    }

    /// See [`crate::Migrations::current`].
    pub fn current(&self, url: &str) -> Result<Vec<String>, Error> {
        run(self.migrator.current(url))
    }

    /// See [`crate::Migrations::history`].
    pub fn history(&self, url: &str) -> Result<Vec<HistoryEntry>, Error> {
        run(self.migrator.history(url))
    }

    /// See [`Migrator::stamp`].
    pub fn stamp(&self, url: &str, targets: &[&str], purge: bool) -> Result<Report, Error> {
        run(self.migrator.stamp(url, targets, purge))
    }

    /// See [`crate::Migrations::check`].
    pub fn check(&self, url: &str) -> Result<CheckReport, Error> {
        run(self.migrator.check(url))
    }

    /// See [`crate::Migrations::plan`].
    pub fn plan(
        &self,
        url: &str,
        direction: Direction,
        target: &str,
    ) -> Result<Vec<PlannedStep>, Error> {
        run(self.migrator.plan(url, direction, target))
    }

    /// See [`crate::Migrations::repair`].
    pub fn repair(&self, url: &str) -> Result<Report, Error> {
        run(self.migrator.repair(url))
    }
}
