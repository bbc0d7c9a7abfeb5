//! [`SettingsError`]: what went wrong while loading settings or resolving
//! the database URL. No variant ever holds a password or a URL.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A line and column (both 1-based) in a settings file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`.
    pub(crate) fn of_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// `origin:line:column` when the position is known, else `origin`.
fn at(origin: &str, position: &Option<Position>) -> String {
    match position {
        Some(position) => format!("{origin}:{position}"),
        None => origin.to_owned(),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none is defined".to_owned()
    } else {
        format!("available: {}", items.join(", "))
    }
}

/// An error loading settings or resolving the database URL.
///
/// Messages name the file, the key and what is wrong; they never contain a
/// password (URLs are not quoted at all, only their scheme).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The settings file could not be read.
    #[error("cannot read settings file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The settings file is not valid TOML, has an unknown key or a value
    /// of the wrong type.
    #[error("{origin}:{position}: {message}")]
    Parse {
        /// The file (or `<string>`).
        origin: String,
        /// Where.
        position: Position,
        /// What the TOML parser said.
        message: String,
    },
    /// A setting has an invalid value.
    #[error("{}: `{key}`: {message}", at(origin, position))]
    Invalid {
        /// The file (or `<string>`).
        origin: String,
        /// The key, dotted (`env.staging.lock_timeout`).
        key: String,
        /// Where, when known.
        position: Option<Position>,
        /// What is wrong.
        message: String,
    },
    /// The requested environment has no `[env.NAME]` section.
    #[error("{origin}: unknown environment `{name}` ({})", list(available))]
    UnknownEnvironment {
        /// The file (or `<string>`).
        origin: String,
        /// The requested environment.
        name: String,
        /// The environments the file defines.
        available: Vec<String>,
    },
    /// The file named by `password_file` could not be read, or is empty.
    #[error("{}: `{key}`: cannot read password file {}", at(origin, position), path.display())]
    PasswordFile {
        /// The settings file (or `<string>`).
        origin: String,
        /// The key naming the file.
        key: String,
        /// Where the key is.
        position: Option<Position>,
        /// The password file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The variable named by `password_env` is not set.
    #[error(
        "{}: `{key}`: the environment variable `{var}` is not set (nor in the .env file)",
        at(origin, position)
    )]
    PasswordEnv {
        /// The settings file (or `<string>`).
        origin: String,
        /// The key naming the variable.
        key: String,
        /// Where the key is.
        position: Option<Position>,
        /// The variable.
        var: String,
    },
    /// The `.env` file exists but could not be read.
    #[error("cannot read {}", path.display())]
    DotenvRead {
        /// The `.env` file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The `.env` file is malformed.
    #[error("{}:{line}: malformed .env line (expected `KEY=value`)", path.display())]
    Dotenv {
        /// The `.env` file.
        path: PathBuf,
        /// The line where the bad entry starts.
        line: usize,
    },
    /// A database URL from some source is unusable.
    #[error("the database URL from {setting} {message}")]
    InvalidUrl {
        /// Where the URL came from (see [`UrlSource`](super::UrlSource)).
        setting: String,
        /// What is wrong (never the URL itself).
        message: String,
    },
    /// No source provided a database URL.
    #[error(
        "no database URL is set; looked at: {}. Set one of them, or the connection settings (`driver`, `host`, `user`, `database`, ...) in the [database] table",
        looked_at.join(", ")
    )]
    NoDatabaseUrl {
        /// Every source looked at, in precedence order.
        looked_at: Vec<String>,
    },
    /// A [`SecretSource`](super::SecretSource) failed.
    #[error("cannot get the database password from {name}")]
    Secret {
        /// The secret source (e.g. `vault`).
        name: String,
        /// Why (must not contain the secret).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The credentials come from Vault (`[vault.secret]`), which only the
    /// async [`Settings::resolve_database`](super::Settings::resolve_database) asks.
    #[error(
        "{origin}: the database credentials come from Vault (`[vault.secret]`); resolve the URL with `Settings::resolve_database().await`"
    )]
    VaultNeedsAsync {
        /// The settings file (or `<string>`).
        origin: String,
    },
    /// Vault/OpenBao could not give the credentials.
    #[error(transparent)]
    Vault(#[from] super::vault::VaultError),
}

pub(crate) type Result<T, E = SettingsError> = std::result::Result<T, E>;
