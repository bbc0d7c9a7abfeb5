//! [`Secret`] and [`SecretSource`]: where the database password comes from.
//!
//! By default the password comes from the settings file (`password`,
//! `password_file` or `password_env` in the `[database]` table, see
//! [`Settings::configured_password`]). A [`SecretSource`] replaces that,
//! which is the seam for secret stores such as Vault/OpenBao.

use std::fmt;

use super::{Settings, SettingsError};

/// A secret string (a password) whose `Debug` output is redacted.
///
/// ```
/// use retort_settings::Secret;
/// let secret = Secret::new("hunter2");
/// assert_eq!(format!("{secret:?}"), "Secret(***)");
/// assert_eq!(secret.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Provides the database password when the URL is built from the
/// `[database]` connection settings.
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
