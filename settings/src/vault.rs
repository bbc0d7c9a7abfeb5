//! Database credentials from HashiCorp Vault / OpenBao: the `[vault]`
//! settings, [`VaultError`], [`ResolvedDatabase`] and [`Lease`].
//!
//! The settings are parsed whether or not the `vault` cargo feature is
//! enabled; asking the server needs the feature (on by default).

#[cfg(feature = "vault")]
mod client;
mod config;
mod credentials;
mod error;

pub use config::KUBERNETES_JWT_FILE;
pub(crate) use config::{Fields, RawVault, SecretLocation, VaultSettings, check};
pub(crate) use credentials::{Credentials, Fetched};
pub use credentials::{Lease, ResolvedDatabase};
pub use error::{VaultError, VaultErrorKind};

use crate::lookup::Lookup;
#[cfg(feature = "vault")]
use crate::secret::Secret;
#[cfg(feature = "vault")]
use config::Auth;

/// Gets the credentials from the server: variables and relative paths
/// come from `lookup`.
pub(crate) async fn fetch(
    lookup: &Lookup,
    vault: &VaultSettings,
    location: &SecretLocation,
) -> Result<Fetched, VaultError> {
    #[cfg(feature = "vault")]
    {
        read(lookup, vault, location).await
    }
    #[cfg(not(feature = "vault"))]
    {
        let _ = (lookup, vault, location);
        Err(VaultError::FeatureDisabled)
    }
}

/// Logs in and reads the credentials.
#[cfg(feature = "vault")]
async fn read(
    lookup: &Lookup,
    vault: &VaultSettings,
    location: &SecretLocation,
) -> Result<Fetched, VaultError> {
    use client::{Client, data_object, field};
    use serde_json::Value;

    let client = Client::new(lookup, vault)?;
    let auth = vault.auth.clone().unwrap_or(Auth::Token { file: None });
    let client = client.login(credentials::login(lookup, &auth)?).await?;
    let address = client.address().to_owned();
    match location {
        SecretLocation::Kv2 {
            mount,
            path,
            fields,
        }
        | SecretLocation::Kv1 {
            mount,
            path,
            fields,
        } => {
            let (api_path, pointer) = if matches!(location, SecretLocation::Kv2 { .. }) {
                (format!("{mount}/data/{path}"), "/data/data")
            } else {
                (format!("{mount}/{path}"), "/data")
            };
            let answer = client.request("GET", &api_path, None).await?;
            let data = data_object(&client, &api_path, &answer, pointer)?;
            let credentials = match fields {
                Fields::Url(name) => Credentials::Url(field(&client, &api_path, data, name)?),
                Fields::UserPassword { user, password } => {
                    let user = match user {
                        Some(name) => Some(field(&client, &api_path, data, name)?),
                        None => data
                            .get("username")
                            .or_else(|| data.get("user"))
                            .and_then(Value::as_str)
                            .map(Secret::new),
                    };
                    Credentials::UserPassword {
                        user: user.map(|u| u.expose().to_owned()),
                        password: field(&client, &api_path, data, password)?,
                    }
                }
            };
            Ok(Fetched {
                credentials,
                lease: None,
                address,
                path: api_path,
            })
        }
        SecretLocation::Database {
            mount,
            role,
            revoke_on_exit,
        } => {
            let api_path = format!("{mount}/creds/{role}");
            let answer = client.request("GET", &api_path, None).await?;
            let data = data_object(&client, &api_path, &answer, "/data")?;
            let user = field(&client, &api_path, data, "username")?;
            let password = field(&client, &api_path, data, "password")?;
            let lease = answer
                .get("lease_id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(|id| Lease {
                    id: id.to_owned(),
                    duration: std::time::Duration::from_secs(
                        answer
                            .get("lease_duration")
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                    ),
                    renewable: answer
                        .get("renewable")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    revoke_on_exit: *revoke_on_exit,
                    client: client.clone(),
                });
            tracing::debug!(
                address = %address,
                path = %api_path,
                lease_id = lease.as_ref().map(|l| l.id.as_str()),
                "vault: dynamic database credentials issued"
            );
            Ok(Fetched {
                credentials: Credentials::UserPassword {
                    user: Some(user.expose().to_owned()),
                    password,
                },
                lease,
                address,
                path: api_path,
            })
        }
    }
}
