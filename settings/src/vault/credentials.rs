//! What Vault/OpenBao gives ([`Credentials`], a [`Lease`], the
//! [`ResolvedDatabase`]), and the credentials retort logs in with, read
//! from variables and files.

use std::fmt;
use std::path::Path;
use std::time::Duration;

#[cfg(feature = "vault")]
use super::client::{Client, Login};
#[cfg(feature = "vault")]
use super::config::Auth;
use super::config::Input;
use super::error::VaultError;
use crate::database_url::DatabaseUrl;
use crate::lookup::Lookup;
use crate::secret::Secret;

/// The database URL, and the Vault lease behind its credentials when they
/// are dynamic ([`Settings::resolve_database`](crate::Settings::resolve_database)).
#[derive(Debug)]
pub struct ResolvedDatabase {
    /// The URL to connect with (redacted in every display).
    pub url: DatabaseUrl,
    /// The lease of dynamic credentials (database secrets engine), which
    /// the caller should [`revoke`](Lease::revoke) when done (or let
    /// expire).
    pub lease: Option<Lease>,
}

/// A lease on dynamic database credentials. Dropping it does nothing (the
/// credentials expire with the lease); [`revoke`](Self::revoke) ends them
/// now.
pub struct Lease {
    pub(crate) id: String,
    pub(crate) duration: Duration,
    pub(crate) renewable: bool,
    pub(crate) revoke_on_exit: bool,
    #[cfg(feature = "vault")]
    pub(crate) client: Client,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("id", &self.id)
            .field("duration", &self.duration)
            .field("renewable", &self.renewable)
            .field("revoke_on_exit", &self.revoke_on_exit)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// The lease id (`database/creds/<role>/<id>`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How long the credentials live, from when they were issued.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Whether the lease can be renewed.
    pub fn renewable(&self) -> bool {
        self.renewable
    }

    /// `revoke_on_exit` from the settings (default true): whether the CLI
    /// revokes the lease when it finishes.
    pub fn revoke_on_exit(&self) -> bool {
        self.revoke_on_exit
    }

    /// Revokes the lease now (`PUT sys/leases/revoke`): the database
    /// secrets engine drops the user.
    pub async fn revoke(self) -> Result<(), VaultError> {
        #[cfg(feature = "vault")]
        {
            self.client.revoke(&self.id).await
        }
        #[cfg(not(feature = "vault"))]
        {
            Err(VaultError::FeatureDisabled)
        }
    }
}

/// The credentials read from Vault.
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
pub(crate) enum Credentials {
    /// A user (if the secret has one) and a password.
    UserPassword {
        user: Option<String>,
        password: Secret,
    },
    /// A whole URL.
    Url(Secret),
}

/// What [`fetch`](super::fetch) returns.
pub(crate) struct Fetched {
    pub(crate) credentials: Credentials,
    pub(crate) lease: Option<Lease>,
    /// `<address> (<path>)`, for the URL's source.
    pub(crate) address: String,
    pub(crate) path: String,
}

/// Reads a value from a variable (then the `.env` file) or a file.
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
pub(crate) fn read_input(
    lookup: &Lookup,
    input: &Input,
    what: &'static str,
) -> Result<Secret, VaultError> {
    match input {
        Input::Literal(v) => Ok(Secret::new(v.clone())),
        Input::Env(var) => match lookup.var_or_dotenv(var) {
            Some(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_owned())),
            _ => Err(VaultError::Config(format!(
                "the {what} is not set: the environment variable `{var}` is unset or empty"
            ))),
        },
        Input::File(path) => read_file(&lookup.resolve_path(path), what),
    }
}

/// A credential file's contents, trimmed; empty is an error.
#[cfg_attr(not(feature = "vault"), allow(dead_code))]
pub(crate) fn read_file(path: &Path, what: &'static str) -> Result<Secret, VaultError> {
    let text = std::fs::read_to_string(path).map_err(|source| VaultError::File {
        what,
        path: path.to_owned(),
        source,
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(VaultError::File {
            what,
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is empty"),
        });
    }
    Ok(Secret::new(text))
}

/// Reads what `auth` logs in with: the token (`token_file`, else
/// `VAULT_TOKEN`/`BAO_TOKEN`, else `~/.vault-token`), the AppRole role id
/// and secret id, or the Kubernetes service-account token.
#[cfg(feature = "vault")]
pub(crate) fn login(lookup: &Lookup, auth: &Auth) -> Result<Login, VaultError> {
    Ok(match auth {
        Auth::Token { file } => Login::Token(match file {
            Some(file) => read_file(&lookup.resolve_path(file), "token")?,
            None => {
                let from_env = ["VAULT_TOKEN", "BAO_TOKEN"]
                    .iter()
                    .find_map(|var| lookup.var_or_dotenv(var).filter(|v| !v.trim().is_empty()));
                match from_env {
                    Some(token) => Secret::new(token.trim()),
                    None => {
                        let home = lookup.var_or_dotenv("HOME").filter(|h| !h.is_empty());
                        let file = home.map(|h| Path::new(&h).join(".vault-token"));
                        match file.filter(|f| f.exists()) {
                            Some(file) => read_file(&file, "token")?,
                            None => {
                                return Err(VaultError::Config(
                                    "no token: set VAULT_TOKEN (or BAO_TOKEN), `vault.auth.token_file`, or write ~/.vault-token; or use another `vault.auth.method`".into(),
                                ));
                            }
                        }
                    }
                }
            }
        }),
        Auth::AppRole {
            mount,
            role_id,
            secret_id,
        } => Login::AppRole {
            mount: mount.clone(),
            role_id: read_input(lookup, role_id, "AppRole role id")?,
            secret_id: read_input(lookup, secret_id, "AppRole secret id")?,
        },
        Auth::Kubernetes {
            mount,
            role,
            jwt_file,
        } => Login::Kubernetes {
            mount: mount.clone(),
            role: role.clone(),
            jwt: read_file(
                &lookup.resolve_path(jwt_file),
                "Kubernetes service-account token",
            )?,
        },
    })
}
