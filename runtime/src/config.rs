//! [`Config`]: where retort keeps its bookkeeping and how it runs revisions.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::Error;

/// How revisions are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TransactionMode {
    /// Each revision runs in its own transaction together with its
    /// bookkeeping (the default): a failure leaves the previous revision applied.
    #[default]
    PerRevision,
    /// A whole upgrade or downgrade runs in one transaction: a failure
    /// leaves the database as it was. Refused on MySQL/MariaDB (DDL commits
    /// implicitly there) and for plans with a `Transactional: false` revision.
    Single,
}

/// How long connecting to the database may take by default.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of a migration run.
///
/// ```
/// use std::time::Duration;
/// let config = retort_runtime::Config::default()
///     .version_table("alembic_version")
///     .lock_timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(5));
/// assert_eq!(config.version_table_name(), "alembic_version");
/// assert_eq!(config.connect_timeout_duration(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) version_table: String,
    pub(crate) history_table: String,
    pub(crate) schema: Option<String>,
    pub(crate) lock_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) transaction_mode: TransactionMode,
    pub(crate) verify_checksums: bool,
    pub(crate) args: BTreeMap<String, String>,
    /// The version table the migration lock is named after, when it is not
    /// this config's own: a named set's tables are the default set's with
    /// a suffix, and every set of a database shares the default set's lock.
    pub(crate) lock_table: Option<String>,
    /// The default set's history table, when this config is a named
    /// set's (so that [`Config::for_set`] derives from the default set's
    /// names whatever config it is given).
    pub(crate) base_history: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version_table: "retort_version".to_owned(),
            history_table: "retort_history".to_owned(),
            schema: None,
            lock_timeout: Duration::from_secs(300),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            transaction_mode: TransactionMode::PerRevision,
            verify_checksums: true,
            args: BTreeMap::new(),
            lock_table: None,
            base_history: None,
        }
    }
}

impl Config {
    /// The version table (default `retort_version`): one row per applied
    /// head, `version_num VARCHAR(32)` as in Alembic. Point it at
    /// `alembic_version` to take over a database Alembic manages.
    pub fn version_table(mut self, name: impl Into<String>) -> Self {
        self.version_table = name.into();
        self
    }

    /// The history table (default `retort_history`): one row per step.
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.history_table = name.into();
        self
    }

    /// The schema (PostgreSQL) or database (MySQL) holding both tables;
    /// default: the connection's current one. Ignored on SQLite.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// How long to wait for another process's migration lock (default 5 minutes).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How long opening a connection may take (default 30 seconds): the
    /// connection retort opens from a URL, and the dedicated connection of
    /// the migration lock (PostgreSQL, MySQL), also when the work
    /// connection comes from a pool. A server that accepts the connection
    /// but never answers fails with [`Error::ConnectTimeout`] after this
    /// long. Must be more than zero.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How revisions are grouped into transactions.
    pub fn transaction_mode(mut self, mode: TransactionMode) -> Self {
        self.transaction_mode = mode;
        self
    }

    /// Whether upgrades first verify that no applied revision was edited
    /// (default true). Turning it off is for emergencies; `repair` is the
    /// way to accept an intentional edit.
    pub fn verify_checksums(mut self, verify: bool) -> Self {
        self.verify_checksums = verify;
        self
    }

    /// Sets the run's argument `key` to `value`, for Rust revisions to read
    /// ([`crate::code::Context::arg`]); the CLI's `-x key=value`, as in
    /// Alembic. A later value for the same key replaces the earlier one.
    ///
    /// ```
    /// let config = retort_runtime::Config::default().arg("batch", "500");
    /// assert_eq!(config.args().get("batch").map(String::as_str), Some("500"));
    /// ```
    pub fn arg(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.args.insert(key.into(), value.into());
        self
    }

    /// The run's arguments.
    pub fn args(&self) -> &BTreeMap<String, String> {
        &self.args
    }

    /// The settings of the migration set `name` (`None`: the default,
    /// unnamed set, whose settings these are): its own version and history
    /// tables, `{table}__{name}` (`retort_version__jobs`), so that each set
    /// has its own heads and history, and the default set's migration
    /// lock, so that every set of a database runs under one lock.
    ///
    /// ```
    /// let config = retort_runtime::Config::default().for_set(Some("jobs"));
    /// assert_eq!(config.version_table_name(), "retort_version__jobs");
    /// assert_eq!(config.history_table_name(), "retort_history__jobs");
    /// // Derived from the default set's names, whatever it is given:
    /// assert_eq!(config.for_set(Some("jobs")), config);
    /// assert_eq!(config.for_set(None), retort_runtime::Config::default());
    /// ```
    pub fn for_set(&self, name: Option<&str>) -> Self {
        let version = self.lock_table().to_owned();
        let history = self
            .base_history
            .clone()
            .unwrap_or_else(|| self.history_table.clone());
        let mut config = self.clone();
        match name {
            Some(name) => {
                config.version_table = format!("{version}__{name}");
                config.history_table = format!("{history}__{name}");
                config.lock_table = Some(version);
                config.base_history = Some(history);
            }
            None => {
                config.version_table = version;
                config.history_table = history;
                config.lock_table = None;
                config.base_history = None;
            }
        }
        config
    }

    /// The version table the migration lock is named after.
    pub(crate) fn lock_table(&self) -> &str {
        self.lock_table.as_deref().unwrap_or(&self.version_table)
    }

    /// The version table's name.
    pub fn version_table_name(&self) -> &str {
        &self.version_table
    }

    /// The history table's name.
    pub fn history_table_name(&self) -> &str {
        &self.history_table
    }

    /// The schema, if set.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The lock timeout.
    pub fn lock_timeout_duration(&self) -> Duration {
        self.lock_timeout
    }

    /// The connect timeout.
    pub fn connect_timeout_duration(&self) -> Duration {
        self.connect_timeout
    }

    /// Checks the settings as every run does before it connects: the
    /// identifiers are spliced into SQL, so only plain names are allowed;
    /// the connect timeout is positive; the two tables differ.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        let names = [
            ("version table", Some(self.version_table.as_str())),
            ("history table", Some(self.history_table.as_str())),
            ("schema", self.schema.as_deref()),
        ];
        for (what, name) in names {
            let Some(name) = name else { continue };
            let valid = !name.is_empty()
                && name.len() <= 63
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit();
            if !valid {
                return Err(Error::Config {
                    setting: what,
                    message: format!(
                        "invalid name `{name}`: use 1 to 63 ASCII letters, digits and `_`, not starting with a digit"
                    ),
                });
            }
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::Config {
                setting: "connect timeout",
                message: "must be more than zero".to_owned(),
            });
        }
        if self.version_table == self.history_table {
            return Err(Error::Config {
                setting: "history table",
                message: "the version table and the history table must be different tables"
                    .to_owned(),
            });
        }
        Ok(())
    }
}
