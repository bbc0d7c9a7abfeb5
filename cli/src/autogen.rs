//! The two sides autogenerate compares, for `retort revision
//! --autogenerate` and `retort check`: the schema the revisions build
//! (replayed into a scratch database, or read from the live database) and
//! the desired schema (`schema.sql` loaded into another scratch database),
//! both read back through `retort-schema`'s introspection.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use retort_runtime::Migrations;
use retort_runtime::url::{Backend, redact};
use retort_schema::{DesiredSchema, Dialect, Schema, Scope, ScratchDatabase};

use crate::Context;

/// The desired schema's path, and whether it was named (by `--schema-file`
/// or `schema_file`) rather than the default `schema.sql`.
pub(crate) fn schema_path(ctx: &Context<'_>) -> (PathBuf, bool) {
    match &ctx.schema_file_override {
        Some(path) => (path.clone(), true),
        None => ctx.settings.schema_file(),
    }
}

/// The dev server's URL: `--dev-url`, else `dev_url` in the settings.
pub(crate) fn dev_url(ctx: &Context<'_>) -> Option<String> {
    (ctx.dev_url_override.clone())
        .or_else(|| ctx.settings.dev_url().map(|s| s.expose().to_owned()))
        .filter(|url| !url.trim().is_empty())
}

/// The dialect of a backend.
pub(crate) fn dialect_of(backend: Backend) -> Dialect {
    match backend {
        Backend::Postgres => Dialect::Postgres,
        Backend::MySql => Dialect::MySql,
        Backend::Sqlite => Dialect::Sqlite,
    }
}

/// The backend autogenerate works in when not reading a live database:
/// `--dialect`, else the configured database URL's scheme (not connected
/// to), else `dev_url`'s.
pub(crate) fn project_dialect(
    ctx: &Context<'_>,
    dialect: Option<&str>,
    message: &str,
) -> anyhow::Result<Dialect> {
    if let Some(dialect) = dialect {
        return Ok(dialect_of(crate::commands::upgrade::parse_dialect(
            dialect,
        )?));
    }
    if let Ok(url) = ctx.database_url() {
        return Ok(dialect_of(url.backend()));
    }
    if let Some(dev) = dev_url(ctx) {
        return retort_schema::dialect_of(&dev).map_err(anyhow::Error::new);
    }
    bail!(
        "autogenerate cannot tell the backend: no database URL is configured and no dev_url is set; for SQLite run `retort revision --autogenerate --dialect sqlite -m {}`, for PostgreSQL or MySQL pass `--dev-url URL`, a server where retort may create (and drop) scratch databases",
        shell_quote(message)
    )
}

/// `text` quoted for a POSIX shell, so a hint can be pasted as is.
pub(crate) fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// What a scratch database needs from the project: the dialect, the dev
/// server, the runtime settings, and a hint command for a missing dev
/// server.
pub(crate) struct Scratch<'a> {
    /// The backend.
    pub(crate) dialect: Dialect,
    /// The dev server (`None` for SQLite, or when not configured).
    pub(crate) dev_url: Option<String>,
    /// The command that, with `--dev-url`, would succeed: the hint of a
    /// missing dev server.
    pub(crate) command: &'a str,
    /// The configured database URL, if any: its server is offered as a
    /// dev server in the hint.
    pub(crate) database_url: Option<String>,
}

impl Scratch<'_> {
    async fn create(&self) -> anyhow::Result<ScratchDatabase> {
        match ScratchDatabase::create(self.dialect, self.dev_url.as_deref()).await {
            Ok(db) => Ok(db),
            Err(e @ retort_schema::Error::NoDevUrl { .. }) => {
                let example = match self.dialect {
                    Dialect::Postgres => "postgres://USER@HOST/postgres",
                    _ => "mysql://USER@HOST",
                };
                let server = self
                    .database_url
                    .as_deref()
                    .map_or_else(|| example.to_owned(), |u| server_of(self.dialect, u));
                Err(anyhow::Error::new(e).context(format!(
                    "no dev database server: run `{} --dev-url {}` (a server where the user may create databases; a throwaway local one is best), or set dev_url under [database] in retort.toml",
                    self.command,
                    shell_quote(&server)
                )))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The server of a database URL, redacted, as a dev URL: PostgreSQL's
/// `postgres` database, MySQL's without a database.
fn server_of(dialect: Dialect, url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = base[..path_start].to_owned();
    if dialect == Dialect::Postgres {
        out.push_str("/postgres");
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    redact(&out)
}

/// The tables retort keeps for itself, left out of every comparison.
pub(crate) fn scope(ctx: &Context<'_>) -> Scope {
    let config = ctx.config();
    Scope::default().exclude([
        config.version_table_name().to_owned(),
        config.history_table_name().to_owned(),
    ])
}

/// The schema the revisions build: `targets` (each a revision or `heads`)
/// applied in turn to a scratch database, read back.
pub(crate) async fn replayed(
    ctx: &Context<'_>,
    scratch: &Scratch<'_>,
    migrations: &Migrations,
    targets: &[String],
) -> anyhow::Result<Schema> {
    let db = scratch.create().await?;
    let migrator = migrations.with_config(ctx.config());
    for target in targets {
        migrator.upgrade(db.url(), target).await.with_context(|| {
            format!("replaying the revisions up to `{target}` into a scratch database")
        })?;
    }
    let schema = db.introspect(&scope(ctx)).await;
    db.drop().await?;
    Ok(schema?)
}

/// The desired schema read from `path`, loaded into a scratch database and
/// read back, with its rename hints.
pub(crate) async fn desired(
    ctx: &Context<'_>,
    scratch: &Scratch<'_>,
    path: &Path,
) -> anyhow::Result<(Schema, DesiredSchema)> {
    if !path.exists() {
        bail!(
            "the desired schema {} does not exist: write the schema you want there as CREATE statements (docs/autogenerate.md), or point `--schema-file` (or `schema_file` in retort.toml) at yours",
            path.display()
        );
    }
    let sql = DesiredSchema::read(path, scratch.dialect)?;
    let db = scratch.create().await?;
    let loaded = db.load(&sql).await;
    let schema = match loaded {
        Ok(()) => db.introspect(&scope(ctx)).await,
        Err(e) => Err(e),
    };
    db.drop().await?;
    Ok((schema?, sql))
}
