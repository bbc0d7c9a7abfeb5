//! [`Database`]: what a service holds (an sqlx pool or connection, or a
//! URL), and how the engine gets a driver for it.

#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::driver::AnyDriver;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
use crate::driver::Conn;
#[cfg(feature = "mysql")]
use crate::driver::mysql::MySqlDriver;
#[cfg(feature = "postgres")]
use crate::driver::postgres::PgDriver;
#[cfg(feature = "sqlite")]
use crate::driver::sqlite::SqliteDriver;
use crate::error::Error;
use crate::url::{Backend, backend, redact};

/// The database to migrate: an sqlx pool or connection of any enabled
/// backend, or a URL. Anything of these converts with `.into()`, so the
/// API takes `impl Into<Database>`.
#[non_exhaustive]
pub enum Database<'a> {
    /// A URL: `postgres://`, `mysql://`/`mariadb://` or `sqlite:`.
    Url(&'a str),
    /// A PostgreSQL pool; the lock uses a dedicated connection.
    #[cfg(feature = "postgres")]
    Postgres(&'a sqlx::PgPool),
    /// A PostgreSQL connection, used for the lock as well.
    #[cfg(feature = "postgres")]
    PostgresConnection(&'a mut sqlx::PgConnection),
    /// A MySQL/MariaDB pool; the lock uses a dedicated connection.
    #[cfg(feature = "mysql")]
    MySql(&'a sqlx::MySqlPool),
    /// A MySQL/MariaDB connection, used for the lock as well.
    #[cfg(feature = "mysql")]
    MySqlConnection(&'a mut sqlx::MySqlConnection),
    /// An SQLite pool.
    #[cfg(feature = "sqlite")]
    Sqlite(&'a sqlx::SqlitePool),
    /// An SQLite connection.
    #[cfg(feature = "sqlite")]
    SqliteConnection(&'a mut sqlx::SqliteConnection),
}

impl<'a> From<&'a str> for Database<'a> {
    fn from(url: &'a str) -> Self {
        Self::Url(url)
    }
}

impl<'a> From<&'a String> for Database<'a> {
    fn from(url: &'a String) -> Self {
        Self::Url(url)
    }
}

#[cfg(feature = "postgres")]
impl<'a> From<&'a sqlx::PgPool> for Database<'a> {
    fn from(pool: &'a sqlx::PgPool) -> Self {
        Self::Postgres(pool)
    }
}

#[cfg(feature = "postgres")]
impl<'a> From<&'a mut sqlx::PgConnection> for Database<'a> {
    fn from(conn: &'a mut sqlx::PgConnection) -> Self {
        Self::PostgresConnection(conn)
    }
}

#[cfg(feature = "mysql")]
impl<'a> From<&'a sqlx::MySqlPool> for Database<'a> {
    fn from(pool: &'a sqlx::MySqlPool) -> Self {
        Self::MySql(pool)
    }
}

#[cfg(feature = "mysql")]
impl<'a> From<&'a mut sqlx::MySqlConnection> for Database<'a> {
    fn from(conn: &'a mut sqlx::MySqlConnection) -> Self {
        Self::MySqlConnection(conn)
    }
}

#[cfg(feature = "sqlite")]
impl<'a> From<&'a sqlx::SqlitePool> for Database<'a> {
    fn from(pool: &'a sqlx::SqlitePool) -> Self {
        Self::Sqlite(pool)
    }
}

#[cfg(feature = "sqlite")]
impl<'a> From<&'a mut sqlx::SqliteConnection> for Database<'a> {
    fn from(conn: &'a mut sqlx::SqliteConnection) -> Self {
        Self::SqliteConnection(conn)
    }
}

/// Awaits `connecting`, for at most `timeout` ([`Config::connect_timeout`](crate::Config::connect_timeout)).
pub(crate) async fn connect<F, T>(url: &str, timeout: Duration, connecting: F) -> Result<T, Error>
where
    F: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    match tokio::time::timeout(timeout, connecting).await {
        Ok(result) => result.map_err(|e| Error::connect(url, e)),
        Err(_) => Err(Error::ConnectTimeout {
            url: redact(url),
            connection: None,
            timeout,
        }),
    }
}

/// Which backend a URL names, or the error explaining why none.
pub(crate) fn url_backend(url: &str) -> Result<Backend, Error> {
    let unsupported = |missing_feature| Error::UnsupportedUrl {
        url: redact(url),
        missing_feature,
    };
    match backend(url) {
        #[cfg(feature = "postgres")]
        Some(Backend::Postgres) => Ok(Backend::Postgres),
        #[cfg(feature = "mysql")]
        Some(Backend::MySql) => Ok(Backend::MySql),
        #[cfg(feature = "sqlite")]
        Some(Backend::Sqlite) => Ok(Backend::Sqlite),
        #[allow(unreachable_patterns)]
        Some(Backend::Postgres) => Err(unsupported(Some("postgres"))),
        #[allow(unreachable_patterns)]
        Some(Backend::MySql) => Err(unsupported(Some("mysql"))),
        #[allow(unreachable_patterns)]
        Some(Backend::Sqlite) => Err(unsupported(Some("sqlite"))),
        None => Err(unsupported(None)),
    }
}

impl<'a> Database<'a> {
    /// Validates `config`, then opens a driver for this database: a
    /// connection from the pool, the caller's connection, or a new one to
    /// the URL. Close it with [`AnyDriver::close`] once done.
    pub(crate) async fn driver(self, config: &Config) -> Result<AnyDriver<'a>, Error> {
        config.validate()?;
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    Error::database("acquiring a PostgreSQL connection from the pool", e)
                })?;
                Ok(AnyDriver::Postgres(PgDriver::new(
                    Conn::Pooled(conn),
                    Some(pool.connect_options()),
                    config,
                )))
            }
            #[cfg(feature = "postgres")]
            Self::PostgresConnection(conn) => Ok(AnyDriver::Postgres(PgDriver::new(
                Conn::Borrowed(conn),
                None,
                config,
            ))),
            #[cfg(feature = "mysql")]
            Self::MySql(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    Error::database("acquiring a MySQL connection from the pool", e)
                })?;
                Ok(AnyDriver::MySql(MySqlDriver::new(
                    Conn::Pooled(conn),
                    Some(pool.connect_options()),
                    config,
                )))
            }
            #[cfg(feature = "mysql")]
            Self::MySqlConnection(conn) => Ok(AnyDriver::MySql(MySqlDriver::new(
                Conn::Borrowed(conn),
                None,
                config,
            ))),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    Error::database("acquiring an SQLite connection from the pool", e)
                })?;
                Ok(AnyDriver::Sqlite(SqliteDriver::new(
                    Conn::Pooled(conn),
                    config,
                )))
            }
            #[cfg(feature = "sqlite")]
            Self::SqliteConnection(conn) => Ok(AnyDriver::Sqlite(SqliteDriver::new(
                Conn::Borrowed(conn),
                config,
            ))),
            Self::Url(url) => open_url(url, config).await,
        }
    }
}

/// A driver on a new connection to `url`.
async fn open_url<'a>(url: &str, config: &Config) -> Result<AnyDriver<'a>, Error> {
    #[allow(unused_imports)]
    use sqlx::ConnectOptions as _;
    match url_backend(url)? {
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let options: sqlx::postgres::PgConnectOptions =
                url.parse().map_err(|e| Error::connect(url, e))?;
            let options = Arc::new(options);
            let conn = connect(url, config.connect_timeout, options.connect()).await?;
            Ok(AnyDriver::Postgres(PgDriver::new(
                Conn::Owned(Box::new(conn)),
                Some(options),
                config,
            )))
        }
        #[cfg(feature = "mysql")]
        Backend::MySql => {
            let options: sqlx::mysql::MySqlConnectOptions = url
                .replacen("mariadb:", "mysql:", 1)
                .parse()
                .map_err(|e| Error::connect(url, e))?;
            let options = Arc::new(options);
            let conn = connect(url, config.connect_timeout, options.connect()).await?;
            Ok(AnyDriver::MySql(MySqlDriver::new(
                Conn::Owned(Box::new(conn)),
                Some(options),
                config,
            )))
        }
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let options = crate::driver::sqlite::options(url)?;
            let conn = connect(url, config.connect_timeout, options.connect()).await?;
            Ok(AnyDriver::Sqlite(SqliteDriver::new(
                Conn::Owned(Box::new(conn)),
                config,
            )))
        }
        // `url_backend` accepts only the backends this build has.
        #[allow(unreachable_patterns)]
        _ => Err(Error::UnsupportedUrl {
            url: redact(url),
            missing_feature: None,
        }),
    }
}
