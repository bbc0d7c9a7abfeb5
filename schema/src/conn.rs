//! A connection to any of the three backends, for the few things the crate
//! does on all of them alike (running statements, introspecting).

use retort_core::split::Dialect;
use sqlx::Connection as _;

use crate::error::{Error, redact};
use crate::introspect::{Scope, dialect_of};
use crate::model::Schema;

/// An open connection.
pub(crate) enum AnyConn {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgConnection),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqliteConnection),
}

/// sqlx knows MariaDB URLs as `mysql://`.
pub(crate) fn sqlx_url(url: &str) -> String {
    match url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => url.to_owned(),
    }
}

impl AnyConn {
    /// Connects to `url`.
    pub(crate) async fn connect(url: &str) -> Result<Self, Error> {
        let connect = |source| Error::Connect {
            url: redact(url),
            error: source,
        };
        match dialect_of(url)? {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Ok(Self::Postgres(
                sqlx::PgConnection::connect(url).await.map_err(connect)?,
            )),
            #[cfg(feature = "mysql")]
            Dialect::MySql => Ok(Self::MySql(
                sqlx::MySqlConnection::connect(&sqlx_url(url))
                    .await
                    .map_err(connect)?,
            )),
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Ok(Self::Sqlite(
                sqlx::SqliteConnection::connect(url)
                    .await
                    .map_err(connect)?,
            )),
            #[allow(unreachable_patterns)]
            other => Err(crate::error::disabled(other)),
        }
    }

    /// Runs one statement (or several, unprepared).
    pub(crate) async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql);
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            #[cfg(feature = "mysql")]
            Self::MySql(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => sqlx::raw_sql(sql).execute(c).await.map(drop),
        }
    }

    /// Reads the schema.
    pub(crate) async fn introspect(&mut self, scope: &Scope) -> Result<Schema, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => crate::introspect::postgres(c, scope).await,
            #[cfg(feature = "mysql")]
            Self::MySql(c) => crate::introspect::mysql(c, scope).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => crate::introspect::sqlite(c, scope).await,
        }
    }

    /// The server's product and version (`PostgreSQL 13.23`, `MariaDB
    /// 10.11.6`, `SQLite 3.46.0`), for error messages; `None` if it will
    /// not say.
    pub(crate) async fn server_version(&mut self) -> Option<String> {
        let (product, sql) = match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => ("PostgreSQL", "SHOW server_version"),
            #[cfg(feature = "mysql")]
            Self::MySql(_) => ("MySQL", "SELECT CAST(VERSION() AS CHAR)"),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => ("SQLite", "SELECT sqlite_version()"),
        };
        let version: Result<String, _> = match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            #[cfg(feature = "mysql")]
            Self::MySql(c) => sqlx::query_scalar(sql).fetch_one(c).await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await,
        };
        let version = version.ok()?;
        // `18.1 (Debian 18.1-1)`, `10.11.6-MariaDB-0+deb12u1`
        let number = version.split([' ', '-']).next().unwrap_or_default();
        let product = if version.contains("MariaDB") {
            "MariaDB"
        } else {
            product
        };
        Some(format!("{product} {number}"))
    }

    /// Closes the connection.
    pub(crate) async fn close(self) {
        let _ = match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => c.close().await,
            #[cfg(feature = "mysql")]
            Self::MySql(c) => c.close().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => c.close().await,
        };
    }
}
