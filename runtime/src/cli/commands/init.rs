//! `retort init`: scaffolds `retort.toml`, the migrations directory and its
//! revision template, and shows (or writes) the `build.rs` recipe.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use retort_core::template::DEFAULT_TEMPLATE;

use crate::cli::commands::revision::TEMPLATE_FILE;
use crate::cli::{Context, InitArgs};
use crate::settings::{DEFAULT_MIGRATIONS, FILE_NAME};

/// The scaffolded settings file: every setting, commented out except the
/// migrations directory (see `docs/settings.md`).
pub(crate) const SETTINGS: &str = r#"# retort settings; every key is optional (see docs/settings.md).
# Relative paths are relative to this file's directory.

migrations = "migrations"               # the revisions directory
# version_table = "retort_version"      # "alembic_version" to take over from Alembic
# history_table = "retort_history"
# schema = "public"                     # schema (PostgreSQL) / database (MySQL) of both tables
# template = "migrations/script.sql.tmpl"   # the revision template (this one is the default)
# file_template = "{rev}_{slug}"        # new file names; also {year} {month} {day} {hour} {minute} {second}
# transaction_mode = "per-revision"     # or "single"
# lock_timeout = "5m"                   # or seconds; "30s", "1h", "1m30s", "500ms"

# The database URL comes from --database-url, the database of the --env
# environment, RETORT_DATABASE_URL, DATABASE_URL, a .env file, or this
# table (in that order; see docs/settings.md).
[database]
# Either a URL ...
# url = "postgres://app@localhost/app"
# ... or the connection settings (not both):
# driver = "postgres"                   # postgres, mysql/mariadb or sqlite
# host = "localhost"
# port = 5432
# user = "app"
# database = "app"                      # for sqlite, the database file
# password_env = "APP_DB_PASSWORD"      # or password_file = "...", or password = "..."
# params = { sslmode = "require" }
# connect_timeout = "30s"               # how long connecting may take; also "10s", 60

# Named environments (`retort --env staging ...`) override the keys above.
# [env.staging]
# lock_timeout = 60
#
# [env.staging.database]
# host = "staging-db.internal"
# password_file = "/run/secrets/staging-db"
"#;

/// The line a `build.rs` needs so that adding a revision recompiles the crate.
const RERUN: &str = r#"println!("cargo:rerun-if-changed=migrations");"#;

pub(crate) fn run(ctx: &Context<'_>, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let root = &args.dir;
    let config = root.join(FILE_NAME);
    let migrations = root.join(DEFAULT_MIGRATIONS);
    let template = migrations.join(TEMPLATE_FILE);

    let mut existing: Vec<PathBuf> = Vec::new();
    if config.exists() {
        existing.push(config.clone());
    }
    if migrations.is_dir() {
        let mut entries = std::fs::read_dir(&migrations)
            .with_context(|| format!("cannot read {}", migrations.display()))?;
        if entries.next().is_some() {
            existing.push(migrations.clone());
        }
    } else if migrations.exists() {
        existing.push(migrations.clone());
    }
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite {}; remove {} or run `retort init` in another directory",
            existing
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(" and "),
            if existing.len() == 1 { "it" } else { "them" }
        );
    }

    if !migrations.is_dir() {
        std::fs::create_dir_all(&migrations)
            .with_context(|| format!("cannot create {}", migrations.display()))?;
        ctx.out.status(format!(
            "Creating directory {} ... done",
            migrations.display()
        ));
    }
    write_new(ctx, &config, SETTINGS)?;
    write_new(ctx, &template, DEFAULT_TEMPLATE)?;

    let build_rs = root.join("build.rs");
    let snippet = format!("fn main() {{\n    {RERUN}\n}}\n");
    if args.build_rs {
        if build_rs.exists() {
            let text = std::fs::read_to_string(&build_rs).unwrap_or_default();
            if text.contains("rerun-if-changed=migrations") {
                ctx.out
                    .status(format!("{} already has the rerun line", build_rs.display()));
            } else {
                ctx.out.line(format!(
                    "{} exists; add this line to its `main` yourself:\n\n    {RERUN}",
                    build_rs.display()
                ));
            }
        } else {
            write_new(ctx, &build_rs, &snippet)?;
        }
    } else {
        ctx.out.status(format!(
            "\nIf a crate embeds these migrations with `embed_migrations!`, give it this build.rs\n(or run `retort init --build-rs`) so that adding a revision recompiles it:\n\n{snippet}"
        ));
    }
    ctx.out.status(format!(
        "Please edit {} (the database settings) before proceeding; then `retort revision -m \"first revision\"`.",
        config.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// Writes a file that must not exist yet.
fn write_new(ctx: &Context<'_>, path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    ctx.out
        .status(format!("Generating {} ... done", path.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn scaffolded_settings_parse_with_defaults() {
        let settings: Settings = SETTINGS.parse().unwrap();
        assert_eq!(settings.migrations_dir(), Path::new("migrations"));
        assert!(settings.template().is_none());
        assert_eq!(settings.file_template().as_str(), "{rev}_{slug}");
    }

    #[test]
    fn every_commented_setting_is_a_real_key() {
        // Uncomment everything but the URL (a URL and connection settings
        // together are an error), and the file still parses.
        let text: String = SETTINGS
            .lines()
            .filter(|line| !line.starts_with("# url"))
            .map(|line| {
                let line = line.strip_prefix("# ").unwrap_or(line);
                if line.starts_with('[') || line.contains(" = ") {
                    format!("{line}\n")
                } else {
                    "\n".to_owned()
                }
            })
            .collect();
        let settings: Settings = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(settings.config().connect_timeout_duration().as_secs(), 30);
        let staging = settings.with_env("staging").unwrap();
        assert_eq!(staging.config().lock_timeout_duration().as_secs(), 60);
    }
}
