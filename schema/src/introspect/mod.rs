//! Reading a database's schema into the [model](crate::model), one module
//! per backend. Everything in scope is either in the model or named in
//! [`Schema::not_compared`](crate::Schema::not_compared).

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(feature = "sqlite", test))]
pub(crate) mod sqlite_parse;

mod catalog;
mod scope;

#[cfg(feature = "mysql")]
pub use mysql::mysql;
#[cfg(feature = "postgres")]
pub use postgres::postgres;
#[cfg(feature = "sqlite")]
pub use sqlite::sqlite;

pub use scope::Scope;

use retort_core::split::Dialect;

use crate::error::{Error, redact};
use crate::model::Schema;

/// The backend a URL names.
pub fn dialect_of(url: &str) -> Result<Dialect, Error> {
    let scheme = url
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Ok(Dialect::Postgres),
        "mysql" | "mariadb" => Ok(Dialect::MySql),
        "sqlite" => Ok(Dialect::Sqlite),
        _ => Err(Error::UnsupportedUrl { url: redact(url) }),
    }
}

/// Connects to `url` and reads its schema.
pub async fn introspect_url(url: &str, scope: &Scope) -> Result<Schema, Error> {
    use sqlx::Connection as _;
    let connect = |source| Error::Connect {
        url: redact(url),
        error: source,
    };
    match dialect_of(url)? {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.map_err(connect)?;
            let schema = postgres(&mut conn, scope).await;
            let _ = conn.close().await;
            schema
        }
        #[cfg(feature = "mysql")]
        Dialect::MySql => {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let mut conn = sqlx::MySqlConnection::connect(&url)
                .await
                .map_err(connect)?;
            let schema = mysql(&mut conn, scope).await;
            let _ = conn.close().await;
            schema
        }
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url)
                .await
                .map_err(connect)?;
            let schema = sqlite(&mut conn, scope).await;
            let _ = conn.close().await;
            schema
        }
        #[allow(unreachable_patterns)]
        other => Err(crate::error::disabled(other)),
    }
}
