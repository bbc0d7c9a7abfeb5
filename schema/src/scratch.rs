//! Scratch databases, where each side of a comparison is built: an
//! in-memory database for SQLite; for PostgreSQL and MySQL a temporary
//! database that retort creates on the server of a `dev_url` (Atlas's
//! model) and drops afterwards, on error and panic paths too (the drop
//! then runs on a thread of its own).

use std::sync::atomic::{AtomicU32, Ordering};

use retort_core::split::Dialect;

use crate::conn::{AnyConn, sqlx_url};
use crate::desired::{DesiredSchema, statement_error};
use crate::error::{Error, redact};
use crate::introspect::Scope;
use crate::model::Schema;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "retort_scratch_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000
    )
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A temporary database; [`ScratchDatabase::drop`] removes it (and so
/// does dropping the value, as a fallback).
pub struct ScratchDatabase {
    dialect: Dialect,
    url: String,
    /// The dev server's URL (PostgreSQL, MySQL).
    server: Option<String>,
    name: String,
    /// Keeps an in-memory SQLite database alive.
    keeper: Option<AnyConn>,
    dropped: bool,
}

impl std::fmt::Debug for ScratchDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchDatabase")
            .field("dialect", &self.dialect)
            .field("url", &redact(&self.url))
            .finish()
    }
}

impl ScratchDatabase {
    /// Creates a scratch database for `dialect`: in memory for SQLite
    /// (`dev_url` unused), else on the server of `dev_url`, which must be
    /// given and whose user may create databases.
    pub async fn create(dialect: Dialect, dev_url: Option<&str>) -> Result<Self, Error> {
        let name = unique_name();
        if dialect == Dialect::Sqlite {
            let url = format!("sqlite:file:{name}?mode=memory&cache=shared");
            let keeper = AnyConn::connect(&url).await?;
            return Ok(Self {
                dialect,
                url,
                server: None,
                name,
                keeper: Some(keeper),
                dropped: false,
            });
        }
        let (backend, example) = match dialect {
            Dialect::Postgres => ("PostgreSQL", "postgres://user@localhost/postgres"),
            _ => ("MySQL", "mysql://root@localhost/mysql"),
        };
        let server = dev_url.ok_or(Error::NoDevUrl { backend, example })?;
        let given = crate::introspect::dialect_of(server)?;
        if given != dialect {
            return Err(Error::UnsupportedUrl {
                url: format!("{} (dev_url for a {backend} project)", redact(server)),
            });
        }
        let mut admin = AnyConn::connect(&admin_url(dialect, server)).await?;
        let created = admin.execute(&format!("CREATE DATABASE {name}")).await;
        admin.close().await;
        if let Err(source) = created {
            return Err(create_error(dialect, server, &name, source));
        }
        tracing::debug!(database = %name, server = %redact(server), "created a scratch database");
        Ok(Self {
            dialect,
            url: with_database(&sqlx_url(server), &name),
            server: Some(server.to_owned()),
            name,
            keeper: None,
            dropped: false,
        })
    }

    /// Its URL (for the runtime, to replay revisions into it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs the desired schema's statements one by one; a failure names
    /// the file and line of its statement.
    pub async fn load(&self, desired: &DesiredSchema) -> Result<(), Error> {
        let mut conn = AnyConn::connect(&self.url).await?;
        for (file, line, sql) in desired.statements() {
            if let Err(source) = conn.execute(sql).await {
                let server = conn.server_version().await;
                conn.close().await;
                let mut e = statement_error(file, line, sql, source);
                if let (
                    Error::Statement {
                        server: at, note, ..
                    },
                    Some(version),
                ) = (&mut e, server)
                {
                    *note = crate::versions::too_new(self.dialect, &version, sql);
                    *at = Some(version);
                }
                return Err(e);
            }
        }
        conn.close().await;
        Ok(())
    }

    /// Reads its schema.
    pub async fn introspect(&self, scope: &Scope) -> Result<Schema, Error> {
        let mut conn = AnyConn::connect(&self.url).await?;
        let schema = conn.introspect(scope).await;
        conn.close().await;
        schema
    }

    /// Drops the database.
    pub async fn drop(mut self) -> Result<(), Error> {
        self.dropped = true;
        if let Some(keeper) = self.keeper.take() {
            keeper.close().await;
        }
        match &self.server {
            Some(server) => drop_database(self.dialect, server, &self.name).await,
            None => Ok(()),
        }
    }
}

/// The URL to create and drop databases through: MySQL's without a
/// database (the dev user need not have access to the one named).
fn admin_url(dialect: Dialect, server: &str) -> String {
    match dialect {
        Dialect::MySql => with_database(server, ""),
        _ => server.to_owned(),
    }
}

async fn drop_database(dialect: Dialect, server: &str, name: &str) -> Result<(), Error> {
    let mut admin = AnyConn::connect(&admin_url(dialect, server)).await?;
    let sql = match dialect {
        Dialect::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        _ => format!("DROP DATABASE IF EXISTS {name}"),
    };
    let done = admin.execute(&sql).await;
    admin.close().await;
    done.map_err(|source| Error::Query {
        what: format!(
            "dropping the scratch database `{name}` on {}",
            redact(server)
        ),
        error: source,
    })
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let Some(server) = self.server.clone() else {
            return;
        };
        let (dialect, name) = (self.dialect, self.name.clone());
        // Not dropped explicitly (an error or a panic on the way): drop it
        // from a thread with its own runtime, which works inside or
        // outside an async context.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(drop_database(dialect, &server, &name)).ok()
        })
        .join();
        if !matches!(done, Ok(Some(()))) {
            tracing::warn!(database = %self.name, "could not drop the scratch database; drop it by hand");
        }
    }
}

fn create_error(dialect: Dialect, server: &str, name: &str, source: sqlx::Error) -> Error {
    let (message, code) = match &source {
        sqlx::Error::Database(db) => (db.message().to_owned(), db.code().map(|c| c.into_owned())),
        other => (other.to_string(), None),
    };
    let user = server
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('@').next().filter(|_| rest.contains('@')))
        .map(|u| u.split(':').next().unwrap_or(u).to_owned())
        .unwrap_or_else(|| "the dev_url's user".to_owned());
    let hint = match (dialect, code.as_deref()) {
        (Dialect::Postgres, Some("42501")) => format!(
            "; the dev_url's user may not create databases: as a superuser run `ALTER ROLE {user} CREATEDB`, or point dev_url at a server where it may (a local throwaway server is best)"
        ),
        (Dialect::MySql, Some("42000")) => format!(
            "; the dev_url's user may not create databases: as an administrator run GRANT ALL ON `retort\\_scratch\\_%`.* TO '{user}'@'%'; or point dev_url at a server where it may"
        ),
        _ => String::new(),
    };
    Error::CreateScratch {
        url: redact(server),
        name: name.to_owned(),
        message,
        hint,
        error: source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@h:5/dev?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("mysql://root@h", "x"), "mysql://root@h/x");
    }
}
