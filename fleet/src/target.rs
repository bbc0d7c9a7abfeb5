//! One database of a fleet ([`Target`]) and the shapes a fleet takes
//! ([`Shape`]): a URL per target, a database per tenant on one server, or
//! a PostgreSQL schema per tenant in one database.

use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use retort_runtime::Config;
use retort_runtime::url::{Backend, backend, redact};

use crate::error::TargetError;

/// What a fleet's target names are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// Each target is a database URL of its own.
    Url,
    /// Each target is a database on the server of a base URL (MySQL's
    /// database per tenant, or PostgreSQL's).
    Database,
    /// Each target is a PostgreSQL schema in the database of a base URL:
    /// retort's version and history tables live in the schema, and the
    /// run's `search_path` is the schema, so the revisions' unqualified
    /// names land there too.
    Schema,
}

impl Shape {
    /// The target `item` names in this shape: a URL, or a database or
    /// schema name on `base` (the project's database URL).
    pub fn target(self, base: Option<&str>, item: &str) -> Result<Target, TargetError> {
        let base = || {
            base.ok_or_else(|| TargetError::NoBase {
                target: item.to_owned(),
                shape: self.name(),
            })
        };
        match self {
            Self::Url => Target::url(item),
            Self::Database => Target::database(base()?, item),
            Self::Schema => Target::schema(base()?, item),
        }
    }

    /// The shape's name in settings and messages: `url`, `database`, `schema`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Url => "url",
            Self::Database => "database",
            Self::Schema => "schema",
        }
    }
}

/// One database (or schema) of a fleet: a name for reports and the URL
/// retort connects to. The URL may hold a password: `Debug` and
/// [`Target::redacted_url`] hide it.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    name: String,
    url: String,
    schema: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("url", &self.redacted_url())
            .field("schema", &self.schema)
            .finish()
    }
}

/// What a database name may not hold unencoded in a URL's path.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'@')
    .add(b':');

impl Target {
    /// A target given by its own URL; it is named by the URL, password
    /// redacted.
    pub fn url(url: impl Into<String>) -> Result<Self, TargetError> {
        let url = url.into();
        if backend(&url).is_none() {
            return Err(TargetError::Url {
                target: redact(&url),
                message:
                    "not a database URL: expected postgres://, mysql://, mariadb:// or sqlite:"
                        .to_owned(),
            });
        }
        Ok(Self {
            name: redact(&url),
            url,
            schema: None,
        })
    }

    /// A target given by its own URL, with a name of the caller's (a
    /// tenant id) for reports.
    pub fn named(name: impl Into<String>, url: impl Into<String>) -> Result<Self, TargetError> {
        let mut target = Self::url(url)?;
        target.name = name.into();
        Ok(target)
    }

    /// The database `database` on the server of `base` (a PostgreSQL or
    /// MySQL URL): `base` with its database replaced, its credentials and
    /// parameters kept. The database must exist.
    pub fn database(base: &str, database: &str) -> Result<Self, TargetError> {
        server_backend(
            base,
            database,
            "database",
            &[Backend::Postgres, Backend::MySql],
        )?;
        check_name(database, "database")?;
        let (prefix, _, query) = split_url(base);
        let path = utf8_percent_encode(database, PATH_SEGMENT);
        Ok(Self {
            name: database.to_owned(),
            url: format!("{prefix}/{path}{query}"),
            schema: None,
        })
    }

    /// The schema `schema` in the database of `base` (a PostgreSQL URL):
    /// retort's tables are created in it and the session's `search_path`
    /// is set to it. The schema must exist.
    pub fn schema(base: &str, schema: &str) -> Result<Self, TargetError> {
        server_backend(base, schema, "schema", &[Backend::Postgres])?;
        check_name(schema, "schema")?;
        Config::default()
            .schema(schema)
            .validate()
            .map_err(|e| TargetError::Name {
                target: schema.to_owned(),
                message: e.to_string(),
            })?;
        let (prefix, path, query) = split_url(base);
        let separator = if query.is_empty() { '?' } else { '&' };
        // Quoted, as retort quotes the schema of its own tables, so a name
        // with capitals means the same schema to both.
        Ok(Self {
            name: schema.to_owned(),
            url: format!("{prefix}{path}{query}{separator}options%5Bsearch_path%5D=%22{schema}%22"),
            schema: Some(schema.to_owned()),
        })
    }

    /// The name reports use: the database or schema name, the caller's
    /// name, or the redacted URL.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL to connect to, password included: only for connecting.
    pub fn expose_url(&self) -> &str {
        &self.url
    }

    /// The URL with its password redacted.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// The schema retort's tables live in, for a schema target.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The backend of the target's URL.
    pub fn backend(&self) -> Option<Backend> {
        backend(&self.url)
    }

    /// `config` for this target: a schema target's tables live in its schema.
    pub fn config(&self, config: &Config) -> Config {
        match &self.schema {
            Some(schema) => config.clone().schema(schema.clone()),
            None => config.clone(),
        }
    }
}

/// Checks that `base` is a URL of one of `allowed`.
fn server_backend(
    base: &str,
    target: &str,
    shape: &'static str,
    allowed: &[Backend],
) -> Result<(), TargetError> {
    match backend(base) {
        Some(found) if allowed.contains(&found) => Ok(()),
        found => Err(TargetError::Url {
            target: target.to_owned(),
            message: format!(
                "a fleet of `{shape}` targets needs a {} base URL, not `{}`{}",
                allowed
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(" or "),
                redact(base),
                match found {
                    Some(Backend::Sqlite) => {
                        "; list SQLite databases as URLs (`shape = \"url\"`)"
                    }
                    _ => "",
                }
            ),
        }),
    }
}

/// A database or schema name: not empty, no control characters.
fn check_name(name: &str, what: &str) -> Result<(), TargetError> {
    if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 64 {
        return Err(TargetError::Name {
            target: name.escape_debug().to_string(),
            message: format!(
                "not a {what} name: it must be 1 to 64 characters, none of them control characters"
            ),
        });
    }
    Ok(())
}

/// `scheme://authority`, the path (with its `/`) and `?query` (with its
/// `?`) of a server URL.
fn split_url(url: &str) -> (&str, &str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = start + rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (prefix, tail) = url.split_at(authority_end);
    let tail = tail.split('#').next().unwrap_or("");
    match tail.find('?') {
        Some(q) => (prefix, &tail[..q], &tail[q..]),
        None => (prefix, tail, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_target_replaces_the_database_and_keeps_the_rest() {
        let t =
            Target::database("postgres://u:secret@h:5432/control?sslmode=disable", "acme").unwrap();
        assert_eq!(
            t.expose_url(),
            "postgres://u:secret@h:5432/acme?sslmode=disable"
        );
        assert_eq!(t.name(), "acme");
        assert!(!format!("{t:?}").contains("secret"));
        let t = Target::database("mysql://root@127.0.0.1:3306", "tenant 7/x").unwrap();
        assert_eq!(t.expose_url(), "mysql://root@127.0.0.1:3306/tenant%207%2Fx");
    }

    #[test]
    fn a_schema_target_sets_the_search_path_and_the_tables_schema() {
        let t = Target::schema("postgres://u:p@h/app", "Tenant_1").unwrap();
        assert_eq!(
            t.expose_url(),
            "postgres://u:p@h/app?options%5Bsearch_path%5D=%22Tenant_1%22"
        );
        assert_eq!(t.config(&Config::default()).schema_name(), Some("Tenant_1"));
        let t = Target::schema("postgres://h/app?sslmode=disable", "t").unwrap();
        assert!(
            t.expose_url()
                .ends_with("?sslmode=disable&options%5Bsearch_path%5D=%22t%22")
        );
    }

    #[test]
    fn shapes_refuse_what_they_cannot_address() {
        let err = Target::schema("mysql://h/app", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("PostgreSQL base URL"), "{err}");
        let err = Target::database("sqlite://x.db", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shape = \"url\""), "{err}");
        let err = Target::schema("postgres://h/app", "bad-name")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad-name"), "{err}");
        let err = Target::url("http://example.com").unwrap_err().to_string();
        assert!(err.contains("not a database URL"), "{err}");
        let err = Shape::Schema.target(None, "t").unwrap_err().to_string();
        assert!(err.contains("base"), "{err}");
        assert!(Target::database("postgres://h/app", "").is_err());
    }
}
