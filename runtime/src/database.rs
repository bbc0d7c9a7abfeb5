//! [`Database`]: what a service holds (an sqlx pool or connection, or a
//! URL), and how the engine gets a driver for it.

use std::time::Duration;

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

macro_rules! from_sqlx {
    ($feature:literal, $variant:ident, $ty:ty) => {
        #[cfg(feature = $feature)]
        impl<'a> From<&'a $ty> for Database<'a> {
            fn from(value: &'a $ty) -> Self {
                Self::$variant(value)
            }
        }
    };
    ($feature:literal, mut $variant:ident, $ty:ty) => {
        #[cfg(feature = $feature)]
        impl<'a> From<&'a mut $ty> for Database<'a> {
            fn from(value: &'a mut $ty) -> Self {
                Self::$variant(value)
            }
        }
    };
}

from_sqlx!("postgres", Postgres, sqlx::PgPool);
from_sqlx!("postgres", mut PostgresConnection, sqlx::PgConnection);
from_sqlx!("mysql", MySql, sqlx::MySqlPool);
from_sqlx!("mysql", mut MySqlConnection, sqlx::MySqlConnection);
from_sqlx!("sqlite", Sqlite, sqlx::SqlitePool);
from_sqlx!("sqlite", mut SqliteConnection, sqlx::SqliteConnection);

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

/// Runs `$body` with `$d` bound to a driver for `$db`, then closes what
/// was opened for it.
macro_rules! with_driver {
    ($db:expr, $config:expr, |$d:ident| $body:expr) => {{
        #[allow(unused_imports)]
        use sqlx::ConnectOptions as _;
        let config: &$crate::config::Config = $config;
        config.validate()?;
        match $db {
            #[cfg(feature = "postgres")]
            $crate::database::Database::Postgres(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    $crate::error::Error::database(
                        "acquiring a PostgreSQL connection from the pool",
                        e,
                    )
                })?;
                let mut $d = $crate::driver::postgres::PgDriver::new(
                    conn,
                    Some(pool.connect_options()),
                    config,
                );
                let result = $body;
                $d.close().await;
                result
            }
            #[cfg(feature = "postgres")]
            $crate::database::Database::PostgresConnection(conn) => {
                let mut $d = $crate::driver::postgres::PgDriver::new(conn, None, config);
                $body
            }
            #[cfg(feature = "mysql")]
            $crate::database::Database::MySql(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    $crate::error::Error::database("acquiring a MySQL connection from the pool", e)
                })?;
                let mut $d = $crate::driver::mysql::MySqlDriver::new(
                    conn,
                    Some(pool.connect_options()),
                    config,
                );
                let result = $body;
                $d.close().await;
                result
            }
            #[cfg(feature = "mysql")]
            $crate::database::Database::MySqlConnection(conn) => {
                let mut $d = $crate::driver::mysql::MySqlDriver::new(conn, None, config);
                $body
            }
            #[cfg(feature = "sqlite")]
            $crate::database::Database::Sqlite(pool) => {
                let conn = pool.acquire().await.map_err(|e| {
                    $crate::error::Error::database(
                        "acquiring an SQLite connection from the pool",
                        e,
                    )
                })?;
                let mut $d = $crate::driver::sqlite::SqliteDriver::new(conn, config);
                $body
            }
            #[cfg(feature = "sqlite")]
            $crate::database::Database::SqliteConnection(conn) => {
                let mut $d = $crate::driver::sqlite::SqliteDriver::new(conn, config);
                $body
            }
            $crate::database::Database::Url(url) => match $crate::database::url_backend(url)? {
                #[cfg(feature = "postgres")]
                $crate::url::Backend::Postgres => {
                    let options: sqlx::postgres::PgConnectOptions = url
                        .parse()
                        .map_err(|e| $crate::error::Error::connect(url, e))?;
                    let options = std::sync::Arc::new(options);
                    let conn =
                        $crate::database::connect(url, config.connect_timeout, options.connect())
                            .await?;
                    let mut $d = $crate::driver::postgres::PgDriver::new(
                        Box::new(conn),
                        Some(options),
                        config,
                    );
                    let result = $body;
                    $d.close().await;
                    result
                }
                #[cfg(feature = "mysql")]
                $crate::url::Backend::MySql => {
                    let options: sqlx::mysql::MySqlConnectOptions = url
                        .replacen("mariadb:", "mysql:", 1)
                        .parse()
                        .map_err(|e| $crate::error::Error::connect(url, e))?;
                    let options = std::sync::Arc::new(options);
                    let conn =
                        $crate::database::connect(url, config.connect_timeout, options.connect())
                            .await?;
                    let mut $d = $crate::driver::mysql::MySqlDriver::new(
                        Box::new(conn),
                        Some(options),
                        config,
                    );
                    let result = $body;
                    $d.close().await;
                    result
                }
                #[cfg(feature = "sqlite")]
                $crate::url::Backend::Sqlite => {
                    let options = $crate::driver::sqlite::options(url)?;
                    let conn =
                        $crate::database::connect(url, config.connect_timeout, options.connect())
                            .await?;
                    let mut $d = $crate::driver::sqlite::SqliteDriver::new(Box::new(conn), config);
                    $body
                }
                #[allow(unreachable_patterns)]
                _ => Err($crate::error::Error::UnsupportedUrl {
                    url: $crate::url::redact(url),
                    missing_feature: None,
                }),
            },
        }
    }};
}
pub(crate) use with_driver;
