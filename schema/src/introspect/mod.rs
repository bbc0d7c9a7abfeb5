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

#[cfg(feature = "mysql")]
pub use mysql::mysql;
#[cfg(feature = "postgres")]
pub use postgres::postgres;
#[cfg(feature = "sqlite")]
pub use sqlite::sqlite;

use crate::error::{Error, redact};
use crate::{Dialect, Schema};

/// What to read: one PostgreSQL schema (MySQL: the connection's database;
/// SQLite: `main`), without retort's own tables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scope {
    /// The PostgreSQL schema to read (default `public`).
    pub schema: String,
    /// Tables left out (default: retort's `retort_version` and
    /// `retort_history`; pass the configured names if they differ).
    pub exclude: Vec<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Self {
            schema: "public".to_owned(),
            exclude: vec!["retort_version".to_owned(), "retort_history".to_owned()],
        }
    }
}

impl Scope {
    /// Reads PostgreSQL schema `schema` instead of `public`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Leaves these tables out instead of retort's default table names.
    pub fn exclude<I, S>(mut self, tables: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude = tables.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn excludes(&self, dialect: Dialect, table: &str) -> bool {
        let k = crate::model::key(dialect, table);
        self.exclude
            .iter()
            .any(|e| crate::model::key(dialect, e) == k)
    }
}

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
        source,
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
        other => Err(crate::scratch::disabled(other)),
    }
}

/// The error of a failed catalog query.
pub(crate) fn query_error(what: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
    move |source| Error::Query {
        what: format!("reading the schema ({what})"),
        source,
    }
}

/// Fills each view's `depends_on` with the tables and views its definition
/// names (by name: an over-approximation, which only makes retort recreate
/// a view more often than strictly needed).
pub(crate) fn view_dependencies(schema: &mut Schema) {
    let d = schema.dialect;
    let names: std::collections::BTreeSet<String> = schema
        .tables
        .keys()
        .chain(schema.views.keys())
        .cloned()
        .collect();
    for (k, view) in &mut schema.views {
        let mut deps: Vec<String> = crate::normalise::idents(d, &view.definition)
            .into_iter()
            .map(|n| crate::model::key(d, &n))
            .filter(|n| names.contains(n) && n != k)
            .collect();
        deps.sort();
        deps.dedup();
        view.depends_on = deps;
    }
}
