//! [`DatabaseUrl`] and the resolution of the database URL from its
//! sources, in precedence order.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::{Result, SettingsError};
use super::file::Database;
use super::lookup::Lookup;
use super::secret::Secret;
use retort_runtime::url::{Backend, backend, redact};

/// The environment variables consulted, in precedence order.
pub const URL_VARS: [&str; 2] = ["RETORT_DATABASE_URL", "DATABASE_URL"];

/// Where a [`DatabaseUrl`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlSource {
    /// [`Settings::with_database_url`](crate::Settings::with_database_url)
    /// (the CLI's `--database-url`).
    Override,
    /// An environment variable.
    EnvVar(&'static str),
    /// A variable in a `.env` file.
    Dotenv {
        /// The file.
        path: PathBuf,
        /// The variable.
        var: &'static str,
    },
    /// A `url` key in the settings file.
    File {
        /// The settings file (or `<string>`).
        origin: String,
        /// The key (`database.url` or `env.NAME.database.url`).
        key: String,
    },
    /// Built from the connection settings of the settings file.
    Components {
        /// The settings file (or `<string>`).
        origin: String,
    },
    /// From Vault/OpenBao: a whole URL, or the connection settings with
    /// the user and password Vault gave.
    Vault {
        /// The server.
        address: String,
        /// The secret's API path.
        path: String,
    },
}

impl fmt::Display for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Override => f.write_str("--database-url"),
            Self::EnvVar(var) => write!(f, "the environment variable {var}"),
            Self::Dotenv { path, var } => write!(f, "{var} in {}", path.display()),
            Self::File { origin, key } => write!(f, "`{key}` in {origin}"),
            Self::Components { origin } => {
                write!(f, "the connection settings of [database] in {origin}")
            }
            Self::Vault { address, path } => write!(f, "Vault at {address} ({path})"),
        }
    }
}

/// A database URL. It may hold a password, so its `Display` and `Debug`
/// redact it; [`expose`](Self::expose) gives the real URL to connect with.
///
/// ```
/// use retort_settings::Settings;
///
/// let settings: Settings = "".parse::<Settings>()?
///     .with_vars(|_: &str| None)
///     .with_database_url("postgres://app:s3cret@db/app");
/// let url = settings.database_url()?;
/// assert_eq!(url.to_string(), "postgres://app:***@db/app");
/// assert_eq!(url.expose(), "postgres://app:s3cret@db/app");
/// # Ok::<(), retort_settings::SettingsError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: Secret,
    backend: Backend,
    source: UrlSource,
}

impl DatabaseUrl {
    /// The URL with its password. Pass it to the driver; never log it.
    pub fn expose(&self) -> &str {
        self.url.expose()
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the URL came from.
    pub fn source(&self) -> &UrlSource {
        &self.source
    }

    /// The URL with its password replaced by `***` (as `Display`).
    pub fn redacted(&self) -> String {
        redact(self.url.expose())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("url", &self.redacted())
            .field("backend", &self.backend)
            .field("source", &self.source)
            .finish()
    }
}

/// Unreserved characters (RFC 3986) stay, everything else is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Checks a URL's scheme, without ever quoting the URL.
pub(crate) fn checked(url: String, source: UrlSource) -> Result<DatabaseUrl> {
    match backend(&url) {
        Some(backend) => Ok(DatabaseUrl {
            url: Secret::new(url),
            backend,
            source,
        }),
        None => {
            let scheme = url.split_once(':').map(|(scheme, _)| scheme).filter(|s| {
                !s.is_empty()
                    && s.len() <= 20
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            });
            let message = match scheme {
                Some(scheme) => format!(
                    "has the unsupported scheme `{scheme}`; use postgres://, mysql:// or sqlite:"
                ),
                None => "has no scheme; use postgres://, mysql:// or sqlite:".to_owned(),
            };
            Err(SettingsError::InvalidUrl {
                setting: source.to_string(),
                message,
            })
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Sources 1 to 5: `--database-url` (`override_url`), then the URL
/// variables of the environment and the `.env` file, unless an explicitly
/// selected environment names its own database (source 2: `own_env` is its
/// name; `None` is returned and the caller resolves the file's database).
pub(crate) fn resolve_external(
    override_url: Option<&Secret>,
    own_env: Option<&str>,
    lookup: &Lookup,
    looked_at: &mut Vec<String>,
) -> Result<Option<DatabaseUrl>> {
    let url = override_url.map(|s| s.expose().to_owned());
    if let Some(url) = non_empty(url) {
        let url = checked(url, UrlSource::Override)?;
        let mut ignored = ambient_urls(lookup);
        if let Some(env) = own_env {
            ignored.push(format!("the database of [env.{env}]"));
        }
        note_ignored(&UrlSource::Override.to_string(), &ignored);
        return Ok(Some(url));
    }
    looked_at.push(UrlSource::Override.to_string());

    if let Some(env) = own_env {
        note_ignored(
            &format!("the selected environment's [env.{env}] section"),
            &ambient_urls(lookup),
        );
        return Ok(None);
    }

    for var in URL_VARS {
        if let Some(url) = non_empty(lookup.var(var)) {
            return checked(url, UrlSource::EnvVar(var)).map(Some);
        }
        looked_at.push(UrlSource::EnvVar(var).to_string());
    }

    if let (Some(path), Some(vars)) = (lookup.dotenv(), lookup.dotenv_vars()?) {
        for var in URL_VARS {
            if let Some(url) = non_empty(vars.get(var).cloned()) {
                return checked(
                    url,
                    UrlSource::Dotenv {
                        path: path.to_owned(),
                        var,
                    },
                )
                .map(Some);
            }
        }
        looked_at.push(format!(
            "{} and {} in {}",
            URL_VARS[0],
            URL_VARS[1],
            path.display()
        ));
    }

    Ok(None)
}

/// The URL variables that are set (environment, then `.env`), for the log
/// line saying they were ignored. A `.env` file that cannot be read is
/// skipped here: it is not needed.
fn ambient_urls(lookup: &Lookup) -> Vec<String> {
    let mut set: Vec<String> = URL_VARS
        .into_iter()
        .filter(|var| non_empty(lookup.var(var)).is_some())
        .map(|var| UrlSource::EnvVar(var).to_string())
        .collect();
    if let (Some(path), Ok(Some(vars))) = (lookup.dotenv(), lookup.dotenv_vars()) {
        set.extend(
            URL_VARS
                .into_iter()
                .filter(|var| non_empty(vars.get(*var).cloned()).is_some())
                .map(|var| {
                    UrlSource::Dotenv {
                        path: path.to_owned(),
                        var,
                    }
                    .to_string()
                }),
        );
    }
    set
}

/// Logs that an explicit choice (`winner`) made retort ignore database
/// URLs the environment holds, so a user who expected one of them can see
/// why it was not used.
fn note_ignored(winner: &str, ignored: &[String]) {
    if !ignored.is_empty() {
        tracing::info!(
            "the database URL comes from {winner}; ignoring {}",
            ignored.join(", ")
        );
    }
}

/// The settings file's database (the selected environment's over the top
/// level's), as sources 6 and 7 read it.
pub(crate) struct FileDatabase<'a> {
    /// The settings file (or `<string>`), for messages.
    pub(crate) origin: &'a str,
    /// The `[database]` table.
    pub(crate) database: &'a Database,
    /// `database.` or `env.NAME.database.`, for keys that are missing.
    pub(crate) prefix: String,
}

impl FileDatabase<'_> {
    /// Sources 6 and 7: the settings file. `password` gives the password for
    /// the connection settings (asked only when they need one).
    pub(crate) fn resolve(
        &self,
        password: impl FnOnce() -> Result<Option<Secret>>,
        mut looked_at: Vec<String>,
    ) -> Result<DatabaseUrl> {
        let database = self.database;
        if let Some(url) = &database.url {
            let source = UrlSource::File {
                origin: self.origin.to_owned(),
                key: url.key.clone(),
            };
            return match non_empty(Some(url.value.expose().to_owned())) {
                Some(text) => checked(text, source),
                None => Err(SettingsError::Invalid {
                    origin: self.origin.to_owned(),
                    key: url.key.clone(),
                    position: url.position,
                    message: "must not be empty".to_owned(),
                }),
            };
        }
        if database.components.any() {
            return self.connection_url(password, None);
        }
        looked_at.push(format!(
            "`database.url` and the connection settings in {}",
            self.origin
        ));
        Err(SettingsError::NoDatabaseUrl { looked_at })
    }

    /// Builds a URL from the connection settings, percent-encoding user,
    /// password, database name and parameters.
    ///
    /// `vault`: the user (if any) and password Vault gave, replacing the file's,
    /// and the URL's source.
    pub(crate) fn connection_url(
        &self,
        password: impl FnOnce() -> Result<Option<Secret>>,
        vault: Option<(Option<String>, Secret, UrlSource)>,
    ) -> Result<DatabaseUrl> {
        let origin = self.origin;
        let c = &self.database.components;
        let invalid = |key: String, position, message: String| SettingsError::Invalid {
            origin: origin.to_owned(),
            key,
            position,
            message,
        };
        let prefix = &self.prefix;
        let Some(driver) = &c.driver else {
            return Err(invalid(
            format!("{prefix}driver"),
            None,
            "is not set; the connection settings need a driver: \"postgres\", \"mysql\" or \"sqlite\"".to_owned(),
        ));
        };
        let query = c
            .params
            .as_ref()
            .filter(|p| !p.value.is_empty())
            .map(|params| {
                let pairs: Vec<String> = params
                    .value
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                    .collect();
                format!("?{}", pairs.join("&"))
            });
        let query = query.unwrap_or_default();
        let (vault_user, vault_password, source) = match vault {
            Some((user, password, source)) => (user, Some(password), source),
            None => (
                None,
                None,
                UrlSource::Components {
                    origin: origin.to_owned(),
                },
            ),
        };

        if driver.value == Backend::Sqlite {
            let extra = [
                c.host.as_ref().map(|v| (&v.key, v.position)),
                c.port.as_ref().map(|v| (&v.key, v.position)),
                c.user.as_ref().map(|v| (&v.key, v.position)),
                self.database
                    .password
                    .as_ref()
                    .map(|v| (&v.key, v.position)),
            ];
            if let Some((key, position)) = extra.into_iter().flatten().next() {
                return Err(invalid(
                    key.clone(),
                    position,
                    "does not apply to sqlite; set `database` to the database file's path"
                        .to_owned(),
                ));
            }
            let Some(path) = &c.database else {
                return Err(invalid(
                    format!("{prefix}database"),
                    None,
                    "is not set; sqlite needs the database file's path".to_owned(),
                ));
            };
            return checked(format!("sqlite://{}{query}", path.value), source);
        }

        let scheme = match driver.value {
            Backend::Postgres => "postgres",
            _ => "mysql",
        };
        let mut url = format!("{scheme}://");
        let password = match vault_password {
            Some(password) => Some(password),
            None => password()?,
        };
        let user = match &vault_user {
            Some(user) => user.as_str(),
            None => c
                .user
                .as_ref()
                .map(|u| u.value.as_str())
                .unwrap_or_default(),
        };
        if !user.is_empty() || password.is_some() {
            url.push_str(&encode(user));
            if let Some(password) = &password {
                url.push(':');
                url.push_str(&encode(password.expose()));
            }
            url.push('@');
        }
        let host = c.host.as_ref().map_or("localhost", |h| h.value.as_str());
        if host.contains(':') && !host.starts_with('[') {
            url.push_str(&format!("[{host}]"));
        } else {
            url.push_str(host);
        }
        if let Some(port) = &c.port {
            url.push_str(&format!(":{}", port.value));
        }
        if let Some(database) = &c.database {
            url.push('/');
            url.push_str(&encode(&database.value));
        }
        url.push_str(&query);
        checked(url, source)
    }

    /// Checks that the file's database fits credentials from Vault: with
    /// `wants_url` (`url_field`), no `url` of its own; otherwise connection
    /// settings without a password. `vault_prefix` is `vault.` or
    /// `env.NAME.vault.` of the table that set `[vault.secret]`.
    pub(crate) fn check_vault_target(&self, vault_prefix: &str, wants_url: bool) -> Result<()> {
        let key = |name: &str| format!("{vault_prefix}secret.{name}");
        let invalid = |key: String, message: &str| SettingsError::Invalid {
            origin: self.origin.to_owned(),
            key,
            position: None,
            message: message.to_owned(),
        };
        let database = self.database;
        if wants_url {
            if let Some(url) = &database.url {
                return Err(invalid(
                    url.key.clone(),
                    "is set, but `vault.secret.url_field` also gives the URL; remove one",
                ));
            }
            return Ok(());
        }
        if let Some(url) = &database.url {
            return Err(invalid(
                url.key.clone(),
                "is set, but the user and password from Vault need the connection settings (`driver`, `host`, `database`, ...) instead of a URL",
            ));
        }
        if !database.components.any() {
            return Err(invalid(
                format!("{}driver", self.prefix),
                "is not set; the user and password from Vault need the connection settings (`driver`, `host`, `database`, ...), or use `vault.secret.url_field`",
            ));
        }
        if let Some(password) = &database.password {
            return Err(invalid(
                password.key.clone(),
                "is set, but the password comes from Vault; remove one",
            ));
        }
        if database.components.driver.as_ref().map(|d| d.value) == Some(Backend::Sqlite) {
            return Err(invalid(
                key("engine"),
                "does not apply to sqlite, which has no user or password",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_redaction() {
        assert_eq!(redact("postgres://u:pa/ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:pa?ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
    }

    #[test]
    fn encoding() {
        assert_eq!(
            encode("p@ss:w/rd?#%é ~._-"),
            "p%40ss%3Aw%2Frd%3F%23%25%C3%A9%20~._-"
        );
    }

    #[test]
    fn scheme_errors_never_quote_the_url() {
        let err = checked("oracle://u:hunter2@h".to_owned(), UrlSource::Override).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the database URL from --database-url has the unsupported scheme `oracle`; use postgres://, mysql:// or sqlite:"
        );
        let err = checked(
            "u hunter2@h/x".to_owned(),
            UrlSource::EnvVar("DATABASE_URL"),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        assert!(err.to_string().contains("has no scheme"));
    }
}
