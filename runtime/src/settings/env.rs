//! [`Env`]: how settings read environment variables, injectable so tests
//! need no real environment; and the `.env` file, read into a map.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::error::{Result, SettingsError};

/// A source of environment variables.
///
/// [`Settings`](super::Settings) reads `RETORT_DATABASE_URL`,
/// `DATABASE_URL` and the variable named by `password_env` through this
/// trait. [`ProcessEnv`] is the real environment; closures and maps work
/// too, which keeps tests free of process-global state:
///
/// ```
/// use std::collections::HashMap;
/// use retort_runtime::settings::Env;
///
/// let vars = HashMap::from([("DATABASE_URL".to_owned(), "sqlite::memory:".to_owned())]);
/// assert_eq!(vars.var("DATABASE_URL").as_deref(), Some("sqlite::memory:"));
/// let none = |_: &str| None;
/// assert_eq!(none.var("DATABASE_URL"), None);
/// ```
pub trait Env: Send + Sync {
    /// The variable's value, or `None` when it is unset (or not valid UTF-8).
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment ([`std::env::var`]). Read only, never modified.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F> Env for F
where
    F: Fn(&str) -> Option<String> + Send + Sync,
{
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

impl<S: std::hash::BuildHasher + Send + Sync> Env for HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Reads a `.env` file into a map, without touching the process
/// environment. A missing file is an empty map.
pub(crate) fn read_dotenv(path: &Path) -> Result<HashMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(source) => {
            return Err(SettingsError::DotenvRead {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut vars = HashMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((key, value)) => {
                vars.insert(key, value);
            }
            Err(dotenvy::Error::LineParse(line, _)) => {
                // The bad line is not quoted (it may hold a password): only
                // its number.
                let line = text
                    .find(line.as_str())
                    .map_or(0, |offset| text[..offset].matches('\n').count() + 1);
                return Err(SettingsError::Dotenv {
                    path: path.to_owned(),
                    line,
                });
            }
            Err(dotenvy::Error::Io(source)) => {
                return Err(SettingsError::DotenvRead {
                    path: path.to_owned(),
                    source,
                });
            }
            Err(_) => {
                return Err(SettingsError::Dotenv {
                    path: path.to_owned(),
                    line: 0,
                });
            }
        }
    }
    Ok(vars)
}
