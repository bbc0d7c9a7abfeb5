//! [`VaultError`] and [`VaultErrorKind`]: what went wrong getting
//! credentials from Vault/OpenBao.

use std::fmt;
use std::path::PathBuf;

/// What went wrong talking to Vault (see [`VaultError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultErrorKind {
    /// 503: the server is sealed (or in standby).
    Sealed,
    /// 403: permission denied (wrong or expired token, or a policy).
    PermissionDenied,
    /// 404: nothing at the path.
    NotFound,
    /// 429: rate limited (after the retries).
    RateLimited,
    /// Another HTTP status.
    Status(u16),
    /// The secret has no such field.
    FieldMissing {
        /// The field looked for.
        field: String,
        /// The fields the secret has (names only).
        available: Vec<String>,
    },
    /// The TLS handshake or certificate check failed.
    Tls,
    /// No answer in time.
    Timeout,
    /// The server cannot be reached (down, wrong address).
    Connect,
    /// The answer is not what Vault sends.
    InvalidResponse,
}

impl fmt::Display for VaultErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sealed => f.write_str("the server is sealed or unavailable (503)"),
            Self::PermissionDenied => f.write_str(
                "permission denied (403): the token is wrong or expired, or its policies do not allow this path",
            ),
            Self::NotFound => f.write_str("no secret at this path (404)"),
            Self::RateLimited => f.write_str("rate limited (429)"),
            Self::Status(code) => write!(f, "unexpected HTTP status {code}"),
            Self::FieldMissing { field, available } => write!(
                f,
                "the secret has no field `{field}` (its fields: {})",
                if available.is_empty() {
                    "none".to_owned()
                } else {
                    available.join(", ")
                }
            ),
            Self::Tls => f.write_str("TLS error (check `vault.ca_file` and the server's certificate)"),
            Self::Timeout => f.write_str("timed out"),
            Self::Connect => f.write_str("cannot connect (is the server running at this address?)"),
            Self::InvalidResponse => f.write_str("unexpected response"),
        }
    }
}

/// An error getting credentials from Vault/OpenBao. Messages name the
/// server, the path and what was wrong; they never contain a token, a
/// secret id, a JWT or a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// A request failed.
    #[error("Vault at {address}: {method} /v1/{path}: {kind}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Request {
        /// The server address.
        address: String,
        /// `GET`, `POST`, `PUT`.
        method: &'static str,
        /// The API path (after `/v1/`).
        path: String,
        /// What was wrong.
        kind: VaultErrorKind,
        /// The server's or the transport's message (scrubbed of secrets).
        detail: Option<String>,
    },
    /// The settings are incomplete or a credential file/variable is
    /// unusable.
    #[error("Vault: {0}")]
    Config(String),
    /// A credential file could not be read.
    #[error("Vault: cannot read the {what} file {}", path.display())]
    File {
        /// What the file holds (`token`, `secret id`, ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// retort was built without the `vault` feature.
    #[error(
        "`[vault]` is configured but retort was built without its `vault` feature; enable it (it is on by default)"
    )]
    FeatureDisabled,
}

impl VaultError {
    /// What was wrong, for a failed request.
    pub fn kind(&self) -> Option<&VaultErrorKind> {
        match self {
            Self::Request { kind, .. } => Some(kind),
            _ => None,
        }
    }
}
