//! The database password the settings file configures: `password`,
//! `password_file` or `password_env`.

use super::error::{Result, SettingsError};
use super::file::{PasswordSource, Val};
use super::lookup::Lookup;
use super::secret::Secret;

/// The password `source` gives: the literal, the contents of the file (one
/// trailing newline removed), or the variable (from the environment, else
/// the `.env` file). `origin` names the settings file in errors.
pub(crate) fn configured(
    origin: &str,
    source: Option<&Val<PasswordSource>>,
    lookup: &Lookup,
) -> Result<Option<Secret>> {
    let Some(source) = source else {
        return Ok(None);
    };
    match &source.value {
        PasswordSource::Literal(secret) => Ok(Some(secret.clone())),
        PasswordSource::File(path) => {
            let path = lookup.resolve_path(path);
            let error = |io| SettingsError::PasswordFile {
                origin: origin.to_owned(),
                key: source.key.clone(),
                position: source.position,
                path: path.clone(),
                source: io,
            };
            let text = std::fs::read_to_string(&path).map_err(error)?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.is_empty() {
                return Err(error(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the file is empty",
                )));
            }
            Ok(Some(Secret::new(text)))
        }
        PasswordSource::Env(var) => {
            let value = match lookup.var(var) {
                Some(value) => Some(value),
                None => lookup.dotenv_vars()?.and_then(|mut vars| vars.remove(var)),
            };
            match value {
                Some(value) => Ok(Some(Secret::new(value))),
                None => Err(SettingsError::PasswordEnv {
                    origin: origin.to_owned(),
                    key: source.key.clone(),
                    position: source.position,
                    var: var.clone(),
                }),
            }
        }
    }
}
