//! [`AnyDriver`]: the driver of whichever backend a call's database is,
//! as one type, so that the engine is compiled once, in this crate, for
//! every backend and every caller.

use std::time::Duration;

use retort_core::split::Dialect;

use super::protocol::{Driver, Op, RecordedFailure, RecordedStep, TxFailure};
use super::rows::{DbState, Layout};
use crate::error::Error;
use crate::history::HistoryEntry;

/// One backend's driver.
pub(crate) enum AnyDriver<'a> {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::PgDriver<'a>),
    /// MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(super::mysql::MySqlDriver<'a>),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(super::sqlite::SqliteDriver<'a>),
    /// Built without any backend: no driver can exist.
    #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    None(std::convert::Infallible, std::marker::PhantomData<&'a ()>),
}

impl AnyDriver<'_> {
    /// Closes what was opened for the driver (the dedicated lock
    /// connection); the work connection goes back to its pool, or to its
    /// owner, when the driver is dropped.
    pub(crate) async fn close(self) {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.close().await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.close().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => {}
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match never {},
        }
    }
}

/// Each method forwards to the backend's driver.
///
/// Written out per method below rather than generated: each arm is plain
/// code that "go to definition" follows.
impl Driver for AnyDriver<'_> {
    fn use_tables(&mut self, config: &crate::config::Config) {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.use_tables(config),
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.use_tables(config),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.use_tables(config),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.dialect(),
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.dialect(),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.dialect(),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    fn transactional_ddl(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.transactional_ddl(),
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.transactional_ddl(),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.transactional_ddl(),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    fn checks_lock_in_transaction(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.checks_lock_in_transaction(),
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.checks_lock_in_transaction(),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.checks_lock_in_transaction(),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    fn checks_lock_in_recorded_step(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.checks_lock_in_recorded_step(),
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.checks_lock_in_recorded_step(),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.checks_lock_in_recorded_step(),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.lock(timeout).await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.lock(timeout).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.lock(timeout).await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.unlock().await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.unlock().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.unlock().await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn check_lock(&mut self) -> Result<(), Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.check_lock().await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.check_lock().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.check_lock().await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn ensure_tables(&mut self, layout: Layout) -> Result<(), Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.ensure_tables(layout).await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.ensure_tables(layout).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.ensure_tables(layout).await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn read_state(&mut self) -> Result<DbState, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.read_state().await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.read_state().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.read_state().await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn peek_state(&mut self) -> Result<Option<DbState>, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.peek_state().await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.peek_state().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.peek_state().await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryEntry>, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.read_history().await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.read_history().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.read_history().await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn transaction(&mut self, ops: &[Op<'_>], verify_lock: bool) -> Result<(), TxFailure> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.transaction(ops, verify_lock).await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.transaction(ops, verify_lock).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.transaction(ops, verify_lock).await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn recorded_step(
        &mut self,
        step: &RecordedStep<'_>,
    ) -> Option<Result<(), RecordedFailure>> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.recorded_step(step).await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.recorded_step(step).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.recorded_step(step).await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }

    async fn autocommit(&mut self, op: &Op<'_>) -> Result<Option<i64>, sqlx::Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(d) => d.autocommit(op).await,
            #[cfg(feature = "mysql")]
            Self::MySql(d) => d.autocommit(op).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(d) => d.autocommit(op).await,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Self::None(never, _) => match *never {},
        }
    }
}
