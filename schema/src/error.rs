//! The crate's errors: each names the file, line, object or setting at
//! fault. URLs in messages have their password replaced by `***`.

use std::path::PathBuf;

use retort_core::split::Dialect;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL retort cannot use.
    #[error(
        "unsupported database URL `{url}`: expected postgres://, mysql://, mariadb:// or sqlite:"
    )]
    UnsupportedUrl {
        /// The URL, password redacted.
        url: String,
    },

    /// A backend this build leaves out.
    #[error("this build of retort-schema has no {backend} support (cargo feature `{feature}`)")]
    BackendDisabled {
        /// The backend.
        backend: &'static str,
        /// The feature that enables it.
        feature: &'static str,
    },

    /// PostgreSQL and MySQL autogenerate need a server for scratch databases.
    #[error(
        "autogenerate on {backend} needs a dev database server for its scratch databases: set `dev_url` under [database] in retort.toml or pass --dev-url (e.g. {example}); retort creates and drops a temporary database there"
    )]
    NoDevUrl {
        /// The backend.
        backend: &'static str,
        /// An example URL.
        example: &'static str,
    },

    /// Connecting failed.
    #[error("cannot connect to {url}: {error}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's error, told in the message (so not the `source()`).
        error: sqlx::Error,
    },

    /// The dev server refused to create a scratch database.
    #[error("cannot create the scratch database `{name}` on {url}: {message}{hint}")]
    CreateScratch {
        /// The dev server's URL, password redacted.
        url: String,
        /// The database retort tried to create.
        name: String,
        /// The server's message.
        message: String,
        /// What to do about it (empty when nothing specific applies).
        hint: String,
        /// The driver's error, told in the message (so not the `source()`).
        error: sqlx::Error,
    },

    /// A catalog query failed.
    #[error("{what}: {error}")]
    Query {
        /// What retort was doing.
        what: String,
        /// The driver's error, told in the message (so not the `source()`).
        error: sqlx::Error,
    },

    /// A catalog held something retort could not read.
    #[error("cannot read {object}: {message}")]
    Introspect {
        /// The object (`table users`).
        object: String,
        /// What was wrong.
        message: String,
    },

    /// Reading the desired schema failed.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error, told in the message (so not the `source()`).
        error: std::io::Error,
    },

    /// The desired-schema path holds no `.sql` file.
    #[error("{} holds no .sql file: write the desired schema there (CREATE TABLE ... statements)", path.display())]
    EmptySchemaDir {
        /// The directory.
        path: PathBuf,
    },

    /// A statement of the desired schema failed in the scratch database.
    /// When it uses a feature newer than the server (`UNIQUE NULLS NOT
    /// DISTINCT` on PostgreSQL 13), the message says that first.
    #[error(
        "{file}:{line}: {}\n  in: {statement}",
        statement_message(.message, .server.as_deref(), .note.as_deref())
    )]
    Statement {
        /// The file.
        file: String,
        /// The statement's first line.
        line: u32,
        /// The statement (shortened).
        statement: String,
        /// The server's message.
        message: String,
        /// The server's product and version (`PostgreSQL 13.23`), if known.
        server: Option<String>,
        /// What the statement needs that the server's version lacks
        /// (`` `NULLS NOT DISTINCT` needs PostgreSQL 15 or later, ... ``).
        note: Option<String>,
        /// The driver's error, told in the message (so not the `source()`).
        error: sqlx::Error,
    },

    /// A malformed rename hint.
    #[error("{file}:{line}: {message}")]
    Hint {
        /// The file.
        file: String,
        /// The hint's line.
        line: u32,
        /// What is wrong, with the grammar.
        message: String,
    },

    /// Current and desired schemas come from different backends.
    #[error("cannot compare a {current:?} schema with a {desired:?} one")]
    DialectMismatch {
        /// The current schema's dialect.
        current: Dialect,
        /// The desired schema's dialect.
        desired: Dialect,
    },

    /// A change the backend cannot make.
    #[error("{0}")]
    Unsupported(String),
}

/// `url` with its password (in the user info or a `password=` query
/// parameter) replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let url = redact_userinfo(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => url,
    }
}

fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &rest[at..]
                ),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// The error of a backend left out of this build.
pub(crate) fn disabled(d: Dialect) -> Error {
    let (backend, feature) = match d {
        Dialect::Postgres => ("PostgreSQL", "postgres"),
        Dialect::MySql => ("MySQL", "mysql"),
        Dialect::Sqlite => ("SQLite", "sqlite"),
    };
    Error::BackendDisabled { backend, feature }
}

/// The text of [`Error::Statement`] after `file:line: `.
fn statement_message(message: &str, server: Option<&str>, note: Option<&str>) -> String {
    match (note, server) {
        (Some(note), _) => format!(
            "{note}: use a dev server of the version production runs, or leave it out of the schema (the server said: {message})"
        ),
        (None, Some(server)) => format!("{message} (on {server})"),
        (None, None) => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://u:p@ss@h/db?x=1"),
            "postgres://u:***@h/db?x=1"
        );
        assert_eq!(redact("mysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact("postgres://h/db?user=u&password=p"),
            "postgres://h/db?user=u&password=***"
        );
    }
}
