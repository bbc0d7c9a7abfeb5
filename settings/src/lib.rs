//! [`Settings`]: the `retort.toml` file, named environments, and the
//! resolution of the database URL, shared by the CLI and services so both
//! connect to the same database.
//!
//! ```
//! use retort_settings::Settings;
//! use std::collections::HashMap;
//!
//! let settings: Settings = r#"
//!     migrations = "db/migrations"
//!     lock_timeout = "30s"
//!
//!     [database]
//!     driver = "postgres"
//!     host = "localhost"
//!     user = "app"
//!     database = "app"
//!     password_env = "APP_DB_PASSWORD"
//!
//!     [env.staging.database]
//!     host = "staging-db.internal"
//! "#
//! .parse::<Settings>()?
//! // Tests inject the environment; `Settings::load()` uses the real one.
//! .with_vars(HashMap::from([("APP_DB_PASSWORD".to_owned(), "p@ss/word".to_owned())]))
//! .with_env("staging")?;
//!
//! let url = settings.database_url()?;
//! assert_eq!(url.expose(), "postgres://app:p%40ss%2Fword@staging-db.internal/app");
//! assert_eq!(url.to_string(), "postgres://app:***@staging-db.internal/app");
//! assert_eq!(settings.config().lock_timeout_duration().as_secs(), 30);
//! # Ok::<(), retort_settings::SettingsError>(())
//! ```
//!
//! # Database URL precedence
//!
//! What the user names (in code, or on the command line) wins over what
//! the environment happens to hold. The first source that gives a
//! non-empty value wins:
//!
//! 1. [`Settings::with_database_url`] (the CLI's `--database-url`);
//! 2. the environment selected with [`Settings::with_env`] (`--env`,
//!    `RETORT_ENV`) when its section names a database (resolved as in 6
//!    and 7; 3 to 5 are then not consulted);
//! 3. the environment variable `RETORT_DATABASE_URL`;
//! 4. the environment variable `DATABASE_URL`;
//! 5. `RETORT_DATABASE_URL`, then `DATABASE_URL`, in the `.env` file
//!    (parsed into a map; the process environment is never modified);
//! 6. `url` in the settings file's `[database]` (or the selected
//!    environment's, see [`Settings::with_env`] for how an environment
//!    overrides);
//! 7. the connection settings (`driver`, `host`, `port`, `user`,
//!    `database`, `params`, and the password from
//!    [`Settings::password`]).
//!
//! When an explicit choice (1 or 2) makes retort ignore a URL variable
//! that is set, an `info` log line says so. Without any URL,
//! [`SettingsError::NoDatabaseUrl`] lists every source looked at. The
//! file format and the precedence in full: `docs/settings.md`.
//!
//! With a `[vault.secret]` table, sources 6 and 7 come from Vault/OpenBao
//! (a whole URL, or the user and password for the connection settings):
//! use the async [`Settings::resolve_database`], which also hands back the
//! [`Lease`] of dynamic credentials (`docs/vault.md`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

mod database_url;
mod duration;
mod env;
mod error;
mod file;
mod file_template;
mod fleet;
mod lookup;
mod password;
mod secret;
mod vault;

pub use database_url::{DatabaseUrl, URL_VARS, UrlSource};
pub use env::{Env, ProcessEnv};
pub use error::{Position, SettingsError};
pub use file_template::{FileTemplate, PLACEHOLDERS};
pub use fleet::{FleetSettings, FleetShape, FleetSource};
pub use secret::Secret;
pub use vault::{KUBERNETES_JWT_FILE, Lease, ResolvedDatabase, VaultError, VaultErrorKind};

use database_url::FileDatabase;
use error::Result;
use file::Level;
use lookup::Lookup;
use retort_runtime::Config;

/// The settings file [`Settings::load`] looks for in the current directory.
pub const FILE_NAME: &str = "retort.toml";

/// The default migrations directory.
pub const DEFAULT_MIGRATIONS: &str = "migrations";

/// The default desired schema of autogenerate (`schema_file`).
pub const DEFAULT_SCHEMA_FILE: &str = "schema.sql";

/// Provides the database password when the URL is built from the
/// `[database]` connection settings.
///
/// By default the password comes from the settings file (`password`,
/// `password_file` or `password_env` in the `[database]` table, see
/// [`Settings::configured_password`]). A `SecretSource` replaces that,
/// which is the seam for secret stores such as Vault/OpenBao.
///
/// Implemented for closures, so a one-off source is a closure:
///
/// ```
/// use retort_settings::{Secret, Settings, SettingsError};
///
/// let settings: Settings = r#"
///     [database]
///     driver = "postgres"
///     host = "db"
///     user = "app"
/// "#
/// .parse::<Settings>()?
/// .with_vars(|_: &str| None)
/// .with_secret_source(|settings: &Settings| -> Result<Option<Secret>, SettingsError> {
///     // e.g. ask a secret store, falling back to the file's settings
///     Ok(Some(Secret::new("from-the-store")))
/// });
/// assert_eq!(settings.database_url()?.expose(), "postgres://app:from-the-store@db");
/// # Ok::<(), SettingsError>(())
/// ```
pub trait SecretSource: Send + Sync {
    /// The password, or `None` to connect without one. Errors must not
    /// contain the secret.
    fn password(&self, settings: &Settings) -> Result<Option<Secret>, SettingsError>;
}

impl<F> SecretSource for F
where
    F: Fn(&Settings) -> Result<Option<Secret>, SettingsError> + Send + Sync,
{
    fn password(&self, settings: &Settings) -> Result<Option<Secret>, SettingsError> {
        self(settings)
    }
}

/// retort's settings: the `retort.toml` file (optional), a selected
/// environment, and where to look for the database URL.
///
/// Relative paths in the file (`migrations`, `template`, `password_file`)
/// are relative to the file's directory; with [`FromStr`], to the current
/// directory.
#[derive(Clone)]
pub struct Settings {
    origin: String,
    path: Option<PathBuf>,
    file: file::File,
    env_name: Option<String>,
    active: Level,
    database_url_override: Option<Secret>,
    lookup: Lookup,
    secrets: Option<Arc<dyn SecretSource>>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The file's values hold passwords only as `Secret`s; the override
        // is shown redacted.
        f.debug_struct("Settings")
            .field("origin", &self.origin)
            .field("env", &self.env_name)
            .field("settings", &self.active)
            .field(
                "database_url_override",
                &(self.database_url_override.as_ref())
                    .map(|u| retort_runtime::url::redact(u.expose())),
            )
            .field("dotenv", &self.lookup.dotenv())
            .finish_non_exhaustive()
    }
}

impl FromStr for Settings {
    type Err = SettingsError;

    /// Parses settings from TOML text (named `<string>` in errors). The
    /// process environment is used and no `.env` file is read unless
    /// [`with_dotenv`](Settings::with_dotenv) names one.
    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text, "<string>".to_owned(), None)
    }
}

impl Settings {
    fn parse(text: &str, origin: String, path: Option<PathBuf>) -> Result<Self> {
        let file = file::parse(text, &origin)?;
        let base_dir = path
            .as_deref()
            .and_then(Path::parent)
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(Path::to_owned);
        let settings = Self {
            active: file.top.clone(),
            file,
            origin,
            path,
            env_name: None,
            database_url_override: None,
            lookup: Lookup::new(base_dir),
            secrets: None,
        };
        settings.check()?;
        // Every environment is checked now, not only when selected.
        for name in settings.file.envs.keys() {
            settings.clone().with_env(name)?;
        }
        Ok(settings)
    }

    /// Loads `retort.toml` from the current directory if there is one
    /// (otherwise the defaults), with the process environment and the `.env`
    /// file of the current directory.
    pub fn load() -> Result<Self> {
        let path = Path::new(FILE_NAME);
        let settings = if path.exists() {
            Self::from_path(path)?
        } else {
            Self::parse("", format!("{FILE_NAME} (not found)"), None)?
        };
        Ok(settings.with_dotenv(".env"))
    }

    /// [`load`](Self::load), then [`with_env`](Self::with_env) when `env`
    /// is given (the CLI's `--env`).
    pub fn load_env(env: Option<&str>) -> Result<Self> {
        let settings = Self::load()?;
        match env {
            Some(name) => settings.with_env(name),
            None => Ok(settings),
        }
    }

    /// Reads a settings file (which must exist), with the process
    /// environment and the `.env` file beside the settings file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let settings = Self::parse(&text, path.display().to_string(), Some(path.to_owned()))?;
        let dotenv = settings.lookup.resolve_path(Path::new(".env"));
        Ok(settings.with_dotenv(dotenv))
    }

    /// Selects the environment `[env.NAME]`: every key it sets overrides
    /// the top level's.
    ///
    /// Selecting an environment is an explicit choice: when its section
    /// says which database to use (`url`, a connection setting or a
    /// password source under `[env.NAME.database]`, or
    /// `[env.NAME.vault.secret]`), that database wins over
    /// `RETORT_DATABASE_URL` and `DATABASE_URL` (environment or `.env`);
    /// only [`with_database_url`](Self::with_database_url) beats it.
    ///
    /// The database target is overridden as a whole: an environment that
    /// sets `url` uses it; one that sets any connection setting (`driver`,
    /// `host`, `port`, `user`, `database`, `params`) builds the URL from
    /// those over the top level's, ignoring the top level's `url`. A
    /// password source (`password`, `password_file`, `password_env`) set
    /// by the environment replaces the top level's.
    pub fn with_env(mut self, name: &str) -> Result<Self> {
        let Some(env) = self.file.envs.get(name) else {
            return Err(SettingsError::UnknownEnvironment {
                origin: self.origin.clone(),
                name: name.to_owned(),
                available: self.file.envs.keys().cloned().collect(),
            });
        };
        self.active = self.file.top.overlaid(env);
        self.env_name = Some(name.to_owned());
        self.check()?;
        Ok(self)
    }

    /// Sets the database URL explicitly (the CLI's `--database-url`): it
    /// wins over every other source. An empty string counts as unset.
    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url_override = Some(Secret::new(url));
        self
    }

    /// Reads environment variables from `vars` instead of the process
    /// environment (for tests, or a service with its own configuration).
    pub fn with_vars(mut self, vars: impl Env + 'static) -> Self {
        self.lookup.set_vars(vars);
        self
    }

    /// Reads this `.env` file (if it exists) when resolving the database
    /// URL and `password_env`.
    pub fn with_dotenv(mut self, path: impl Into<PathBuf>) -> Self {
        self.lookup.set_dotenv(Some(path.into()));
        self
    }

    /// Reads no `.env` file.
    pub fn without_dotenv(mut self) -> Self {
        self.lookup.set_dotenv(None);
        self
    }

    /// Gets the database password from `source` instead of the settings
    /// file (the seam for secret stores).
    pub fn with_secret_source(mut self, source: impl SecretSource + 'static) -> Self {
        self.secrets = Some(Arc::new(source));
        self
    }

    /// The settings file, if one was read.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The selected environment, if any.
    pub fn env_name(&self) -> Option<&str> {
        self.env_name.as_deref()
    }

    /// The environments the file defines, sorted.
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.file.envs.keys().map(String::as_str)
    }

    /// The `.env` file that is read, if any.
    pub fn dotenv_path(&self) -> Option<&Path> {
        self.lookup.dotenv()
    }

    /// The migrations directory (default `migrations`).
    pub fn migrations_dir(&self) -> PathBuf {
        let dir = self
            .active
            .migrations
            .as_ref()
            .map_or(Path::new(DEFAULT_MIGRATIONS), |v| &v.value);
        self.lookup.resolve_path(dir)
    }

    /// Autogenerate's desired schema (`schema_file`, a file or a
    /// directory; default `schema.sql` beside the settings file), and
    /// whether the file sets it.
    pub fn schema_file(&self) -> (PathBuf, bool) {
        let set = self.active.schema_file.as_ref().map(|v| v.value.as_path());
        let path = set.unwrap_or(Path::new(DEFAULT_SCHEMA_FILE));
        (self.lookup.resolve_path(path), set.is_some())
    }

    /// `dev_url` in `[database]`: the server where autogenerate makes its
    /// scratch databases (PostgreSQL, MySQL). May hold a password.
    pub fn dev_url(&self) -> Option<Secret> {
        self.active.dev_url()
    }

    /// The revision template file, if one is set.
    pub fn template(&self) -> Option<PathBuf> {
        self.active
            .template
            .as_ref()
            .map(|v| self.lookup.resolve_path(&v.value))
    }

    /// The template for new revision files' names (default `{rev}_{slug}`).
    pub fn file_template(&self) -> FileTemplate {
        self.active
            .file_template
            .as_ref()
            .map(|v| v.value.clone())
            .unwrap_or_default()
    }

    /// The runtime [`Config`]: version and history tables, schema,
    /// transaction mode, lock timeout and connect timeout; unset keys keep
    /// [`Config::default`]'s values.
    pub fn config(&self) -> Config {
        let a = &self.active;
        let mut config = Config::default();
        if let Some(v) = &a.version_table {
            config = config.version_table(v.value.clone());
        }
        if let Some(v) = &a.history_table {
            config = config.history_table(v.value.clone());
        }
        if let Some(v) = &a.schema {
            config = config.schema(v.value.clone());
        }
        if let Some(v) = &a.transaction_mode {
            config = config.transaction_mode(v.value);
        }
        if let Some(v) = &a.lock_timeout {
            config = config.lock_timeout(v.value);
        }
        if let Some(v) = &a.database.connect_timeout {
            config = config.connect_timeout(v.value);
        }
        config
    }

    /// The fleet `name`, or without a name the only one configured
    /// (`docs/fleet.md`); a `targets_file` is relative to the settings file.
    pub fn fleet(&self, name: Option<&str>) -> Result<FleetSettings> {
        let resolve = |path: &Path| self.lookup.resolve_path(path);
        fleet::select(&self.active.fleets, name, &self.origin, resolve)
    }

    /// The database URL, from the first source that sets one (see the
    /// [module docs](self) for the order).
    pub fn database_url(&self) -> Result<DatabaseUrl> {
        let mut looked_at = Vec::new();
        if let Some(url) = self.resolve_external(&mut looked_at)? {
            return Ok(url);
        }
        if self.vault_secret().is_some() {
            return Err(SettingsError::VaultNeedsAsync {
                origin: self.origin.clone(),
            });
        }
        self.file_database().resolve(|| self.password(), looked_at)
    }

    /// The database URL, asking Vault/OpenBao when `[vault.secret]` is
    /// set (and neither `--database-url` nor a URL variable gives a URL),
    /// plus the
    /// lease of dynamic credentials, which the caller revokes when done
    /// ([`Lease::revoke`]). Without `[vault.secret]`, the same as
    /// [`database_url`](Self::database_url) with no lease.
    ///
    /// With Vault, a KV secret's `url_field` gives the whole URL (instead
    /// of `database.url`); otherwise the connection settings are used with
    /// the user and password from Vault.
    pub async fn resolve_database(&self) -> Result<ResolvedDatabase> {
        let mut looked_at = Vec::new();
        if let Some(url) = self.resolve_external(&mut looked_at)? {
            return Ok(ResolvedDatabase { url, lease: None });
        }
        let file = self.file_database();
        let (Some(settings), Some(location)) = (self.active.vault.as_ref(), self.vault_secret())
        else {
            return Ok(ResolvedDatabase {
                url: file.resolve(|| self.password(), looked_at)?,
                lease: None,
            });
        };
        let wants_url = matches!(
            location,
            vault::SecretLocation::Kv2 {
                fields: vault::Fields::Url(_),
                ..
            } | vault::SecretLocation::Kv1 {
                fields: vault::Fields::Url(_),
                ..
            }
        );
        file.check_vault_target(&settings.prefix, wants_url)?;
        let fetched = vault::fetch(&self.lookup, settings, location).await?;
        let source = UrlSource::Vault {
            address: fetched.address.clone(),
            path: fetched.path.clone(),
        };
        let url = match fetched.credentials {
            vault::Credentials::Url(url) => database_url::checked(url.expose().to_owned(), source),
            vault::Credentials::UserPassword { user, password } => {
                file.connection_url(|| self.password(), Some((user, password, source)))
            }
        };
        match url {
            Ok(url) => Ok(ResolvedDatabase {
                url,
                lease: fetched.lease,
            }),
            Err(e) => {
                // Do not leave dynamic credentials behind.
                if let Some(lease) = fetched.lease {
                    let _ = lease.revoke().await;
                }
                Err(e)
            }
        }
    }

    /// Sources 1 to 5 of the database URL (see the [module docs](self)).
    fn resolve_external(&self, looked_at: &mut Vec<String>) -> Result<Option<DatabaseUrl>> {
        database_url::resolve_external(
            self.database_url_override.as_ref(),
            self.env_with_own_database(),
            &self.lookup,
            looked_at,
        )
    }

    /// The selected environment's name when its section says which
    /// database to use ([`with_env`](Self::with_env)): such an environment,
    /// chosen explicitly, wins over the URL variables.
    fn env_with_own_database(&self) -> Option<&str> {
        let name = self.env_name.as_deref()?;
        self.file.envs.get(name)?.names_database().then_some(name)
    }

    /// The selected database of the settings file (sources 6 and 7).
    fn file_database(&self) -> FileDatabase<'_> {
        FileDatabase {
            origin: &self.origin,
            database: &self.active.database,
            prefix: self.database_prefix(),
        }
    }

    /// `[vault.secret]` of the selected settings, if set.
    fn vault_secret(&self) -> Option<&vault::SecretLocation> {
        self.active.vault.as_ref()?.secret.as_ref()
    }

    /// The password used when the URL is built from the connection
    /// settings: from the [`SecretSource`] if one is set, else
    /// [`configured_password`](Self::configured_password).
    pub fn password(&self) -> Result<Option<Secret>> {
        match &self.secrets {
            Some(source) => source.password(self),
            None => self.configured_password(),
        }
    }

    /// The password the settings file configures: `password` as written,
    /// the contents of `password_file` (one trailing newline removed), or
    /// the variable named by `password_env` (from the environment, else
    /// the `.env` file). A secret source can fall back to this.
    pub fn configured_password(&self) -> Result<Option<Secret>> {
        password::configured(
            &self.origin,
            self.active.database.password.as_ref(),
            &self.lookup,
        )
    }

    /// `database.` or `env.NAME.database.`, for messages about keys that
    /// are missing.
    fn database_prefix(&self) -> String {
        match &self.env_name {
            Some(name)
                if self
                    .file
                    .envs
                    .get(name)
                    .is_some_and(|e| e.database.components.any()) =>
            {
                format!("env.{name}.database.")
            }
            _ => "database.".to_owned(),
        }
    }

    /// Checks what only the merged settings can show.
    fn check(&self) -> Result<()> {
        let a = &self.active;
        if let (Some(url), Some(password)) = (&a.database.url, &a.database.password) {
            return Err(SettingsError::Invalid {
                origin: self.origin.clone(),
                key: password.key.clone(),
                position: password.position,
                message: format!(
                    "only applies to the connection settings, but `{}` is used; put the password in the URL or use the connection settings",
                    url.key
                ),
            });
        }
        match self.config().validate() {
            Err(retort_runtime::Error::Config { setting, message }) => {
                let val = match setting {
                    "version table" => a.version_table.as_ref().map(|v| (&v.key, v.position)),
                    "history table" => (a.history_table.as_ref())
                        .or(a.version_table.as_ref())
                        .map(|v| (&v.key, v.position)),
                    "connect timeout" => {
                        (a.database.connect_timeout.as_ref()).map(|v| (&v.key, v.position))
                    }
                    _ => a.schema.as_ref().map(|v| (&v.key, v.position)),
                };
                Err(SettingsError::Invalid {
                    origin: self.origin.clone(),
                    key: val.map_or_else(|| setting.replace(' ', "_"), |(key, _)| key.clone()),
                    position: val.and_then(|(_, position)| position),
                    message,
                })
            }
            _ => Ok(()),
        }
    }
}
