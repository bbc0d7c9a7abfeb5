//! The `retort.toml` format: parsing, checking every value, and merging an
//! `[env.NAME]` section over the top level.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::duration::parse_duration;
use super::error::{Position, Result, SettingsError};
use super::file_template::FileTemplate;
use super::fleet::{FleetSettings, RawFleets};
use super::secret::Secret;
use super::vault::{RawVault, VaultSettings};
use retort_runtime::TransactionMode;
use retort_runtime::url::Backend;

// ---------------------------------------------------------------- raw TOML

/// One level of the file: the top level or an `[env.NAME]` section.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    migrations: Option<Spanned<String>>,
    version_table: Option<Spanned<String>>,
    history_table: Option<Spanned<String>>,
    schema: Option<Spanned<String>>,
    template: Option<Spanned<String>>,
    file_template: Option<Spanned<String>>,
    schema_file: Option<Spanned<String>>,
    transaction_mode: Option<Spanned<String>>,
    lock_timeout: Option<Spanned<toml::Value>>,
    database: Option<RawDatabase>,
    vault: Option<Spanned<RawVault>>,
    fleet: Option<RawFleets>,
    env: Option<RawEnvs>,
}

type RawEnvs = Spanned<BTreeMap<String, RawLevel>>;

/// A `[database]` table. `url` and `password` are read as any value so
/// that a type error never echoes them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<Spanned<toml::Value>>,
    #[serde(alias = "scheme")]
    driver: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    #[serde(alias = "username")]
    user: Option<Spanned<String>>,
    #[serde(alias = "name")]
    database: Option<Spanned<String>>,
    password: Option<Spanned<toml::Value>>,
    password_file: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    params: Option<Spanned<BTreeMap<String, toml::Value>>>,
    connect_timeout: Option<Spanned<toml::Value>>,
    dev_url: Option<Spanned<toml::Value>>,
}

// ---------------------------------------------------------- checked values

/// A checked value with the key and place it came from, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Val<T> {
    pub(crate) value: T,
    pub(crate) key: String,
    pub(crate) position: Option<Position>,
}

/// Where the password comes from.
#[derive(Debug, Clone)]
pub(crate) enum PasswordSource {
    Literal(Secret),
    File(PathBuf),
    Env(String),
}

/// The connection components of a `[database]` table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Components {
    pub(crate) driver: Option<Val<Backend>>,
    pub(crate) host: Option<Val<String>>,
    pub(crate) port: Option<Val<u16>>,
    pub(crate) user: Option<Val<String>>,
    pub(crate) database: Option<Val<String>>,
    pub(crate) params: Option<Val<BTreeMap<String, String>>>,
}

impl Components {
    pub(crate) fn any(&self) -> bool {
        self.first_key().is_some()
    }

    fn first_key(&self) -> Option<&str> {
        let keys = [
            self.driver.as_ref().map(|v| v.key.as_str()),
            self.host.as_ref().map(|v| v.key.as_str()),
            self.port.as_ref().map(|v| v.key.as_str()),
            self.user.as_ref().map(|v| v.key.as_str()),
            self.database.as_ref().map(|v| v.key.as_str()),
            self.params.as_ref().map(|v| v.key.as_str()),
        ];
        keys.into_iter().flatten().next()
    }

    /// `other` over `self`, key by key (params merged key by key too).
    fn overlaid(&self, other: &Self) -> Self {
        let params = match (&self.params, &other.params) {
            (Some(base), Some(over)) => {
                let mut merged = base.clone();
                merged.value.extend(over.value.clone());
                merged.key = over.key.clone();
                merged.position = over.position;
                Some(merged)
            }
            (base, over) => over.clone().or_else(|| base.clone()),
        };
        Self {
            driver: other.driver.clone().or_else(|| self.driver.clone()),
            host: other.host.clone().or_else(|| self.host.clone()),
            port: other.port.clone().or_else(|| self.port.clone()),
            user: other.user.clone().or_else(|| self.user.clone()),
            database: other.database.clone().or_else(|| self.database.clone()),
            params,
        }
    }
}

/// A checked `[database]` table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Database {
    /// Kept as a secret: a URL may hold a password.
    pub(crate) url: Option<Val<Secret>>,
    pub(crate) components: Components,
    pub(crate) password: Option<Val<PasswordSource>>,
    /// How long connecting may take; not part of the target (an
    /// environment setting only this keeps the top level's database).
    pub(crate) connect_timeout: Option<Val<Duration>>,
    /// The dev server autogenerate makes scratch databases on; not part
    /// of the target either. A secret: it may hold a password.
    pub(crate) dev_url: Option<Val<Secret>>,
}

/// A checked level (top level, an environment, or the two merged).
#[derive(Debug, Clone, Default)]
pub(crate) struct Level {
    pub(crate) migrations: Option<Val<PathBuf>>,
    pub(crate) version_table: Option<Val<String>>,
    pub(crate) history_table: Option<Val<String>>,
    pub(crate) schema: Option<Val<String>>,
    pub(crate) template: Option<Val<PathBuf>>,
    pub(crate) file_template: Option<Val<FileTemplate>>,
    /// The desired schema for autogenerate (a file or a directory).
    pub(crate) schema_file: Option<Val<PathBuf>>,
    pub(crate) transaction_mode: Option<Val<TransactionMode>>,
    pub(crate) lock_timeout: Option<Val<Duration>>,
    pub(crate) database: Database,
    /// `[vault]`: database credentials from Vault/OpenBao.
    pub(crate) vault: Option<VaultSettings>,
    /// `[fleet.NAME]` tables; an environment's replace the top level's by name.
    pub(crate) fleets: BTreeMap<String, FleetSettings>,
}

impl Level {
    /// Whether this level says which database to use: it sets `url`, a
    /// connection setting or a password source under `database`, or
    /// `vault.secret`.
    pub(crate) fn names_database(&self) -> bool {
        let database = &self.database;
        database.url.is_some()
            || database.components.any()
            || database.password.is_some()
            || self.vault.as_ref().is_some_and(|v| v.secret.is_some())
    }

    /// `dev_url` of the `[database]` table.
    pub(crate) fn dev_url(&self) -> Option<Secret> {
        (self.database.dev_url.as_ref()).map(|v| v.value.clone())
    }

    /// `env` over `self`: every key the environment sets wins.
    ///
    /// The database target is taken as a unit: an environment that sets
    /// `url` uses it; one that sets any connection component builds the URL
    /// from components (the environment's over the top level's), ignoring
    /// the top level's `url`; one that sets neither keeps the top level's.
    /// The password source is also a unit: the environment's, if it sets
    /// one, else the top level's.
    pub(crate) fn overlaid(&self, env: &Self) -> Self {
        let (top, over) = (&self.database, &env.database);
        let password = over.password.clone().or_else(|| top.password.clone());
        let connect_timeout =
            (over.connect_timeout.clone()).or_else(|| top.connect_timeout.clone());
        let dev_url = over.dev_url.clone().or_else(|| top.dev_url.clone());
        let database = if over.url.is_some() {
            Database {
                url: over.url.clone(),
                components: Components::default(),
                password,
                connect_timeout,
                dev_url,
            }
        } else if over.components.any() {
            Database {
                url: None,
                components: top.components.overlaid(&over.components),
                password,
                connect_timeout,
                dev_url,
            }
        } else {
            Database {
                url: top.url.clone(),
                components: top.components.clone(),
                password,
                connect_timeout,
                dev_url,
            }
        };
        Self {
            migrations: env.migrations.clone().or_else(|| self.migrations.clone()),
            version_table: (env.version_table.clone()).or_else(|| self.version_table.clone()),
            history_table: (env.history_table.clone()).or_else(|| self.history_table.clone()),
            schema: env.schema.clone().or_else(|| self.schema.clone()),
            template: env.template.clone().or_else(|| self.template.clone()),
            file_template: (env.file_template.clone()).or_else(|| self.file_template.clone()),
            schema_file: (env.schema_file.clone()).or_else(|| self.schema_file.clone()),
            transaction_mode: (env.transaction_mode.clone())
                .or_else(|| self.transaction_mode.clone()),
            lock_timeout: env
                .lock_timeout
                .clone()
                .or_else(|| self.lock_timeout.clone()),
            database,
            vault: match (&self.vault, &env.vault) {
                (Some(top), Some(over)) => Some(top.overlaid(over)),
                (top, over) => over.clone().or_else(|| top.clone()),
            },
            fleets: {
                let mut fleets = self.fleets.clone();
                fleets.extend(env.fleets.clone());
                fleets
            },
        }
    }
}

/// A parsed and checked settings file.
#[derive(Debug, Clone, Default)]
pub(crate) struct File {
    pub(crate) top: Level,
    pub(crate) envs: BTreeMap<String, Level>,
}

// ----------------------------------------------------------------- parsing

/// Converts spans to positions and builds errors for one source text.
struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    fn val<T, U>(&self, prefix: &str, name: &str, raw: &Spanned<T>, value: U) -> Val<U> {
        Val {
            value,
            key: format!("{prefix}{name}"),
            position: Some(Position::of_offset(self.text, raw.span().start)),
        }
    }

    fn invalid<T>(
        &self,
        prefix: &str,
        name: &str,
        raw: &Spanned<T>,
        message: String,
    ) -> SettingsError {
        SettingsError::Invalid {
            origin: self.origin.to_owned(),
            key: format!("{prefix}{name}"),
            position: Some(Position::of_offset(self.text, raw.span().start)),
            message,
        }
    }

    fn plain(&self, prefix: &str, name: &str, raw: Option<Spanned<String>>) -> Option<Val<String>> {
        raw.map(|raw| self.val(prefix, name, &raw, raw.get_ref().clone()))
    }

    fn non_empty(
        &self,
        prefix: &str,
        name: &str,
        raw: Option<Spanned<String>>,
    ) -> Result<Option<Val<String>>> {
        match raw {
            Some(raw) if raw.get_ref().trim().is_empty() => {
                Err(self.invalid(prefix, name, &raw, "must not be empty".to_owned()))
            }
            raw => Ok(self.plain(prefix, name, raw)),
        }
    }

    /// The checked level, and its raw `[env.*]` sections.
    fn level(&self, prefix: &str, raw: RawLevel) -> Result<(Level, Option<RawEnvs>)> {
        let path = |raw: Option<Spanned<String>>, name: &str| -> Result<Option<Val<PathBuf>>> {
            Ok(self.non_empty(prefix, name, raw)?.map(|v| Val {
                value: PathBuf::from(v.value),
                key: v.key,
                position: v.position,
            }))
        };
        let file_template = match raw.file_template {
            None => None,
            Some(raw) => match FileTemplate::parse(raw.get_ref()) {
                Ok(template) => Some(self.val(prefix, "file_template", &raw, template)),
                Err(message) => return Err(self.invalid(prefix, "file_template", &raw, message)),
            },
        };
        let transaction_mode = match raw.transaction_mode {
            None => None,
            Some(raw) => {
                let mode = match raw.get_ref().as_str() {
                    "per-revision" => TransactionMode::PerRevision,
                    "single" => TransactionMode::Single,
                    other => {
                        return Err(self.invalid(
                            prefix,
                            "transaction_mode",
                            &raw,
                            format!("unknown mode `{other}`; use \"per-revision\" or \"single\""),
                        ));
                    }
                };
                Some(self.val(prefix, "transaction_mode", &raw, mode))
            }
        };
        let lock_timeout = match raw.lock_timeout {
            None => None,
            Some(raw) => match parse_duration(raw.get_ref()) {
                Ok(duration) => Some(self.val(prefix, "lock_timeout", &raw, duration)),
                Err(message) => return Err(self.invalid(prefix, "lock_timeout", &raw, message)),
            },
        };
        let level = Level {
            migrations: path(raw.migrations, "migrations")?,
            version_table: self.plain(prefix, "version_table", raw.version_table),
            history_table: self.plain(prefix, "history_table", raw.history_table),
            schema: self.plain(prefix, "schema", raw.schema),
            template: path(raw.template, "template")?,
            file_template,
            schema_file: path(raw.schema_file, "schema_file")?,
            transaction_mode,
            lock_timeout,
            database: self.database(
                &format!("{prefix}database."),
                raw.database.unwrap_or_default(),
            )?,
            vault: raw
                .vault
                .map(|raw| {
                    super::vault::check(raw, &format!("{prefix}vault."), self.text, self.origin)
                })
                .transpose()?,
            fleets: super::fleet::check(
                raw.fleet.unwrap_or_default(),
                prefix,
                self.text,
                self.origin,
            )?,
        };
        Ok((level, raw.env))
    }

    fn database(&self, prefix: &str, raw: RawDatabase) -> Result<Database> {
        let string = |raw: Spanned<toml::Value>, name: &str| -> Result<Val<Secret>> {
            match raw.get_ref() {
                // The value is not quoted: it may be a password.
                toml::Value::String(s) => Ok(self.val(prefix, name, &raw, Secret::new(s.clone()))),
                _ => Err(self.invalid(prefix, name, &raw, "must be a string".to_owned())),
            }
        };
        let url = raw.url.map(|raw| string(raw, "url")).transpose()?;
        let dev_url = raw.dev_url.map(|raw| string(raw, "dev_url")).transpose()?;
        let driver = match raw.driver {
            None => None,
            Some(raw) => {
                let backend = match raw.get_ref().to_ascii_lowercase().as_str() {
                    "postgres" | "postgresql" => Backend::Postgres,
                    "mysql" | "mariadb" => Backend::MySql,
                    "sqlite" => Backend::Sqlite,
                    other => {
                        return Err(self.invalid(
                            prefix,
                            "driver",
                            &raw,
                            format!("unknown driver `{other}`; use \"postgres\", \"mysql\" or \"sqlite\""),
                        ));
                    }
                };
                Some(self.val(prefix, "driver", &raw, backend))
            }
        };
        let params = match raw.params {
            None => None,
            Some(raw) => {
                let mut params = BTreeMap::new();
                for (key, value) in raw.get_ref() {
                    let value = match value {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        _ => {
                            return Err(self.invalid(
                                prefix,
                                &format!("params.{key}"),
                                &raw,
                                "must be a string, an integer or a boolean".to_owned(),
                            ));
                        }
                    };
                    params.insert(key.clone(), value);
                }
                Some(self.val(prefix, "params", &raw, params))
            }
        };
        let components = Components {
            driver,
            host: self.non_empty(prefix, "host", raw.host)?,
            port: raw
                .port
                .map(|raw| self.val(prefix, "port", &raw, *raw.get_ref())),
            user: self.plain(prefix, "user", raw.user),
            database: self.non_empty(prefix, "database", raw.database)?,
            params,
        };
        if let (Some(url), Some(key)) = (&url, components.first_key()) {
            return Err(SettingsError::Invalid {
                origin: self.origin.to_owned(),
                key: url.key.clone(),
                position: url.position,
                message: format!(
                    "set either `url` or the connection settings, not both (`{key}` is also set)"
                ),
            });
        }
        let mut sources = Vec::new();
        if let Some(raw) = raw.password {
            let secret = string(raw, "password")?;
            sources.push(Val {
                value: PasswordSource::Literal(secret.value),
                key: secret.key,
                position: secret.position,
            });
        }
        if let Some(v) = self.non_empty(prefix, "password_file", raw.password_file)? {
            sources.push(Val {
                value: PasswordSource::File(PathBuf::from(v.value)),
                key: v.key,
                position: v.position,
            });
        }
        if let Some(v) = self.non_empty(prefix, "password_env", raw.password_env)? {
            sources.push(Val {
                value: PasswordSource::Env(v.value),
                key: v.key,
                position: v.position,
            });
        }
        if sources.len() > 1 {
            let keys: Vec<&str> = sources.iter().map(|s| s.key.as_str()).collect();
            return Err(SettingsError::Invalid {
                origin: self.origin.to_owned(),
                key: sources[1].key.clone(),
                position: sources[1].position,
                message: format!(
                    "set only one of `password`, `password_file` and `password_env` (found {})",
                    keys.join(", ")
                ),
            });
        }
        let password = sources.pop();
        if let (Some(url), Some(password)) = (&url, &password) {
            return Err(SettingsError::Invalid {
                origin: self.origin.to_owned(),
                key: password.key.clone(),
                position: password.position,
                message: format!(
                    "only applies to the connection settings, not to `{}`; put the password in the URL or use the connection settings",
                    url.key
                ),
            });
        }
        let connect_timeout = match raw.connect_timeout {
            None => None,
            Some(raw) => match parse_duration(raw.get_ref()) {
                Ok(duration) if duration.is_zero() => {
                    return Err(self.invalid(
                        prefix,
                        "connect_timeout",
                        &raw,
                        "must be more than zero".to_owned(),
                    ));
                }
                Ok(duration) => Some(self.val(prefix, "connect_timeout", &raw, duration)),
                Err(message) => {
                    return Err(self.invalid(prefix, "connect_timeout", &raw, message));
                }
            },
        };
        Ok(Database {
            url,
            components,
            password,
            connect_timeout,
            dev_url,
        })
    }
}

/// Parses and checks a settings file. `origin` names it in errors.
pub(crate) fn parse(text: &str, origin: &str) -> Result<File> {
    let raw: RawLevel = toml::from_str(text).map_err(|error| SettingsError::Parse {
        origin: origin.to_owned(),
        position: Position::of_offset(text, error.span().map_or(0, |span| span.start)),
        // `message()`, not `Display`: the latter quotes the source line,
        // which may hold a password.
        message: match error
            .span()
            .and_then(|span| key_of_value_at(text, span.start))
        {
            Some(key) => format!("`{key}`: {}", error.message().trim_end()),
            None => error.message().trim_end().to_owned(),
        },
    })?;
    let ctx = Ctx { text, origin };
    let (top, envs) = ctx.level("", raw)?;
    let mut out = File {
        top,
        envs: BTreeMap::new(),
    };
    if let Some(envs) = envs {
        for (name, raw) in envs.into_inner() {
            let prefix = format!("env.{name}.");
            let (level, nested) = ctx.level(&prefix, raw)?;
            if let Some(nested) = nested {
                return Err(SettingsError::Invalid {
                    origin: origin.to_owned(),
                    key: format!("{prefix}env"),
                    position: Some(Position::of_offset(text, nested.span().start)),
                    message: "environments cannot be nested".to_owned(),
                });
            }
            out.envs.insert(name, level);
        }
    }
    Ok(out)
}

/// The dotted key (`database.port`) whose value holds `offset`, for
/// serde's type errors ("invalid type: integer `5`, expected a string"),
/// which point at the value but do not name the key. Found in the parsed
/// document, so text inside strings is never taken for a key; `None` for
/// syntax errors (the document does not parse) and offsets outside any
/// value.
fn key_of_value_at(text: &str, offset: usize) -> Option<String> {
    use toml::de::{DeTable, DeValue};

    fn find(table: &DeTable<'_>, offset: usize, path: &str) -> Option<String> {
        table.iter().find_map(|(key, value)| {
            let path = if path.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{path}.{}", key.get_ref())
            };
            match value.get_ref() {
                DeValue::Table(inner) => find(inner, offset, &path),
                _ => value.span().contains(&offset).then_some(path),
            }
        })
    }

    let document = DeTable::parse(text).ok()?;
    find(document.get_ref(), offset, "")
}

#[cfg(test)]
mod tests;
