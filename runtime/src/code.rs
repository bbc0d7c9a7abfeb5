//! Rust revisions: what their `upgrade` and `downgrade` functions get
//! ([`Context`]) and return ([`Result`]).
//!
//! A Rust revision is a `.rs` file in the migrations directory with the
//! same header as a SQL revision, written as `//` comments;
//! `embed_migrations!` compiles it into the service as a module and places
//! it in the graph like any revision ([docs/rust-revisions.md]):
//!
//! ```
//! // copy the rows of `old_users` into `users`, in batches
//! //
//! // Revision ID: 5a1b2c3d4e5f
//! // Revises: 4f1c2a9b7e05
//!
//! use retort_runtime::code::{Context, Result};
//!
//! pub async fn upgrade(cx: &mut Context<'_>) -> Result {
//!     if !cx.table_exists("old_users").await? {
//!         return Ok(()); // nothing to copy on this database
//!     }
//!     let batch = cx.arg("batch").unwrap_or("1000").parse::<u64>()?;
//!     loop {
//!         let copied = cx
//!             .execute(&format!(
//!                 "INSERT INTO users (id, name) SELECT id, name FROM old_users \
//!                  WHERE id NOT IN (SELECT id FROM users) ORDER BY id LIMIT {batch}"
//!             ))
//!             .await?;
//!         tracing::info!(copied, "copied a batch");
//!         if copied < batch {
//!             return Ok(());
//!         }
//!     }
//! }
//! ```
//!
//! The function runs inside the revision's transaction, with its
//! bookkeeping, on PostgreSQL and SQLite (an error rolls both back); on
//! MySQL/MariaDB, and for `Transactional: false` revisions, it runs on the
//! connection in autocommit mode under the attempt protocol, as SQL
//! revisions do there.
//!
//! [docs/rust-revisions.md]: https://github.com/retort-rs/retort/blob/main/docs/rust-revisions.md

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

use retort_core::plan::Direction;
use tracing::Instrument as _;

use crate::url::Backend;

/// What a Rust revision's function returns on failure: any error (an
/// `sqlx::Error` from its own queries, a parse error, a message). It is
/// reported like a failed SQL statement: the file, the revision, and
/// whether the revision was rolled back.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a Rust revision's `upgrade` and `downgrade` return.
pub type Result = std::result::Result<(), Error>;

/// The boxed future a revision's function becomes once embedded.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = Result> + Send + 'a>>;

/// A revision's function once embedded: `embed_migrations!` wraps each
/// `async fn` in one of these.
pub type Function = for<'a, 'c> fn(&'a mut Context<'c>) -> BoxFuture<'a>;

/// The functions of one Rust revision, as `embed_migrations!` embeds them
/// (found through [`crate::Migrations`] by the revision's id).
#[derive(Clone, Copy)]
pub struct Functions {
    id: &'static str,
    upgrade: Function,
    downgrade: Option<Function>,
}

impl Functions {
    /// Used by `embed_migrations!`; not part of the public API.
    #[doc(hidden)]
    pub const fn __new(id: &'static str, upgrade: Function, downgrade: Option<Function>) -> Self {
        Self {
            id,
            upgrade,
            downgrade,
        }
    }

    /// The revision's id.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The function of `direction`; `None` for a downgrade the revision
    /// does not define.
    pub fn get(&self, direction: Direction) -> Option<Function> {
        match direction {
            Direction::Upgrade => Some(self.upgrade),
            Direction::Downgrade => self.downgrade,
        }
    }
}

impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Functions")
            .field("id", &self.id)
            .field("downgrade", &self.downgrade.is_some())
            .finish_non_exhaustive()
    }
}

/// The backend's own sqlx connection, for the revision's own queries and
/// types: inside the revision's transaction where it has one.
#[non_exhaustive]
pub enum Connection<'c> {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(&'c mut sqlx::PgConnection),
    /// MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(&'c mut sqlx::MySqlConnection),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(&'c mut sqlx::SqliteConnection),
    /// Built without any backend: no connection can exist.
    #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    #[doc(hidden)]
    None(std::convert::Infallible, std::marker::PhantomData<&'c ()>),
}

/// What a Rust revision's function gets: the connection, the run's
/// arguments (`-x key=value`, [`crate::Config::arg`]) and helpers for the
/// conditions a migration depends on.
///
/// The function runs inside a `tracing` span named `revision` with the
/// fields `revision`, `file` and `direction`, so its own events name the
/// revision.
pub struct Context<'c> {
    connection: Connection<'c>,
    exists: &'c ExistsSql,
    args: &'c BTreeMap<String, String>,
    revision: &'c str,
    direction: Direction,
}

impl<'c> Context<'c> {
    /// The revision being run.
    pub fn revision(&self) -> &str {
        self.revision
    }

    /// Whether this is the upgrade or the downgrade.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match &self.connection {
            #[cfg(feature = "postgres")]
            Connection::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Connection::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Connection::Sqlite(_) => Backend::Sqlite,
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Connection::None(never, _) => match *never {},
        }
    }

    /// The run's argument `key` (`retort -x key=value ...`, or
    /// [`crate::Config::arg`]).
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args.get(key).map(String::as_str)
    }

    /// All of the run's arguments.
    pub fn args(&self) -> &BTreeMap<String, String> {
        self.args
    }

    /// The backend's sqlx connection.
    pub fn connection(&mut self) -> &mut Connection<'c> {
        &mut self.connection
    }

    /// The PostgreSQL connection, or `None` on another backend.
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match &mut self.connection {
            Connection::Postgres(conn) => Some(conn),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The MySQL/MariaDB connection, or `None` on another backend.
    #[cfg(feature = "mysql")]
    pub fn mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        match &mut self.connection {
            Connection::MySql(conn) => Some(conn),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The SQLite connection, or `None` on another backend.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        match &mut self.connection {
            Connection::Sqlite(conn) => Some(conn),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Runs `sql` (one or several statements, no parameters) and returns
    /// the number of rows it changed.
    pub async fn execute(&mut self, sql: &str) -> std::result::Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql);
        match &mut self.connection {
            #[cfg(feature = "postgres")]
            Connection::Postgres(conn) => Ok(sqlx::raw_sql(sql)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
            #[cfg(feature = "mysql")]
            Connection::MySql(conn) => Ok(sqlx::raw_sql(sql)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
            #[cfg(feature = "sqlite")]
            Connection::Sqlite(conn) => Ok(sqlx::raw_sql(sql)
                .execute(&mut **conn)
                .await?
                .rows_affected()),
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Connection::None(never, _) => match *never {},
        }
    }

    /// True when the table `table` exists (in the connection's current
    /// schema on PostgreSQL, its current database on MySQL).
    pub async fn table_exists(&mut self, table: &str) -> std::result::Result<bool, sqlx::Error> {
        self.exists(|sql| sql.table, &[table]).await
    }

    /// True when the table `table` has the column `column`.
    pub async fn column_exists(
        &mut self,
        table: &str,
        column: &str,
    ) -> std::result::Result<bool, sqlx::Error> {
        self.exists(|sql| sql.column, &[table, column]).await
    }

    /// True when the table `table` has the index `index`.
    pub async fn index_exists(
        &mut self,
        table: &str,
        index: &str,
    ) -> std::result::Result<bool, sqlx::Error> {
        self.exists(|sql| sql.index, &[table, index]).await
    }

    /// Runs the backend's count query that `which` picks (its driver's
    /// [`ExistsSql`]) with `binds`; true when it counts a row.
    async fn exists(
        &mut self,
        which: fn(&ExistsSql) -> &'static str,
        binds: &[&str],
    ) -> std::result::Result<bool, sqlx::Error> {
        let sql = which(self.exists);
        let _ = (sql, binds);
        let count: i64 = match &mut self.connection {
            #[cfg(feature = "postgres")]
            Connection::Postgres(conn) => {
                let mut query = sqlx::query_scalar(sql);
                for value in binds {
                    query = query.bind(*value);
                }
                query.fetch_one(&mut **conn).await?
            }
            #[cfg(feature = "mysql")]
            Connection::MySql(conn) => {
                let mut query = sqlx::query_scalar(sql);
                for value in binds {
                    query = query.bind(*value);
                }
                query.fetch_one(&mut **conn).await?
            }
            #[cfg(feature = "sqlite")]
            Connection::Sqlite(conn) => {
                let mut query = sqlx::query_scalar(sql);
                for value in binds {
                    query = query.bind(*value);
                }
                query.fetch_one(&mut **conn).await?
            }
            #[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            Connection::None(never, _) => match *never {},
        };
        Ok(count > 0)
    }
}

/// A backend's queries behind a Rust revision's conditions
/// ([`crate::code::Context::table_exists`] and its siblings): each counts
/// the matching rows of the catalog, binding the table (and the column or
/// index) name, in the connection's current schema or database.
pub(crate) struct ExistsSql {
    /// Binds the table.
    pub(crate) table: &'static str,
    /// Binds the table and the column.
    pub(crate) column: &'static str,
    /// Binds the table and the index.
    pub(crate) index: &'static str,
}

/// One run of a revision's function, as the engine hands it to a driver
/// ([`crate::driver::Op::Code`]). The drivers' executors speak
/// `sqlx::Error`; the function's own error is kept here for the engine to
/// report, and the driver gets a stand-in.
pub(crate) struct Call<'a> {
    pub(crate) function: Function,
    pub(crate) args: &'a BTreeMap<String, String>,
    pub(crate) revision: &'a str,
    pub(crate) file: &'a str,
    pub(crate) direction: Direction,
    failure: Mutex<Option<Error>>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(
        function: Function,
        args: &'a BTreeMap<String, String>,
        revision: &'a str,
        file: &'a str,
        direction: Direction,
    ) -> Self {
        Self {
            function,
            args,
            revision,
            file,
            direction,
            failure: Mutex::new(None),
        }
    }

    /// Runs the function on `connection`, in a `revision` span.
    pub(crate) async fn run(
        &self,
        connection: Connection<'_>,
        exists: &ExistsSql,
    ) -> std::result::Result<(), sqlx::Error> {
        let mut cx = Context {
            connection,
            exists,
            args: self.args,
            revision: self.revision,
            direction: self.direction,
        };
        let span = tracing::info_span!(
            "revision",
            revision = self.revision,
            file = self.file,
            direction = self.direction.as_str()
        );
        match (self.function)(&mut cx).instrument(span).await {
            Ok(()) => Ok(()),
            Err(error) => {
                let shown = error.to_string();
                *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                Err(sqlx::Error::Protocol(format!(
                    "the Rust revision `{}` failed: {shown}",
                    self.revision
                )))
            }
        }
    }

    /// The function's own error, once [`Call::run`] failed with it.
    pub(crate) fn take_failure(&self) -> Option<Error> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("revision", &self.revision)
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}
