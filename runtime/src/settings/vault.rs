//! Database credentials from HashiCorp Vault / OpenBao: the `[vault]`
//! settings, [`VaultError`], [`ResolvedDatabase`] and [`Lease`].
//!
//! The settings are parsed whether or not the `vault` cargo feature is
//! enabled; asking the server needs the feature (on by default).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::database_url::DatabaseUrl;
use super::error::{Position, SettingsError};
use super::secret::Secret;

#[cfg(feature = "vault")]
mod client;

/// The default service-account token file for Kubernetes auth.
pub const KUBERNETES_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

// ---------------------------------------------------------------- raw TOML

/// A `[vault]` table as written.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVault {
    address: Option<String>,
    namespace: Option<String>,
    ca_file: Option<String>,
    skip_verify: Option<bool>,
    timeout: Option<Spanned<toml::Value>>,
    connect_timeout: Option<Spanned<toml::Value>>,
    retries: Option<u32>,
    auth: Option<Spanned<RawAuth>>,
    secret: Option<Spanned<RawSecret>>,
}

/// `[vault.auth]`.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    method: Option<String>,
    mount: Option<String>,
    token_file: Option<String>,
    role_id: Option<String>,
    role_id_env: Option<String>,
    role_id_file: Option<String>,
    secret_id_env: Option<String>,
    secret_id_file: Option<String>,
    role: Option<String>,
    jwt_file: Option<String>,
}

/// `[vault.secret]`.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    engine: Option<String>,
    mount: Option<String>,
    path: Option<String>,
    user_field: Option<String>,
    password_field: Option<String>,
    url_field: Option<String>,
    role: Option<String>,
    revoke_on_exit: Option<bool>,
}

// ---------------------------------------------------------- checked values

/// Where a value comes from: set in the file, or read from a variable or
/// a file at resolution time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// Written in the settings file (only for non-secrets: a role id).
    Literal(String),
    /// An environment variable (or the `.env` file).
    Env(String),
    /// A file, one trailing newline removed.
    File(PathBuf),
}

/// How to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `token_file`, else `VAULT_TOKEN`/`BAO_TOKEN`, else `~/.vault-token`.
    Token { file: Option<PathBuf> },
    /// `auth/<mount>/login` with a role id and a secret id.
    AppRole {
        mount: String,
        role_id: Input,
        secret_id: Input,
    },
    /// `auth/<mount>/login` with a role and the service-account JWT.
    Kubernetes {
        mount: String,
        role: String,
        jwt_file: PathBuf,
    },
}

/// Which field(s) of a KV secret hold the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fields {
    /// A user field (`None`: default `username`, optional) and a password
    /// field.
    UserPassword {
        user: Option<String>,
        password: String,
    },
    /// A field holding a whole database URL.
    Url(String),
}

/// Where the credentials live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretLocation {
    /// KV version 2: `GET <mount>/data/<path>`.
    Kv2 {
        mount: String,
        path: String,
        fields: Fields,
    },
    /// KV version 1: `GET <mount>/<path>`.
    Kv1 {
        mount: String,
        path: String,
        fields: Fields,
    },
    /// The database secrets engine: `GET <mount>/creds/<role>`.
    Database {
        mount: String,
        role: String,
        revoke_on_exit: bool,
    },
}

/// A checked `[vault]` table (before an environment's is laid over it).
#[derive(Debug, Clone, Default)]
pub(crate) struct VaultSettings {
    pub(crate) address: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) skip_verify: Option<bool>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) retries: Option<u32>,
    pub(crate) auth: Option<Auth>,
    pub(crate) secret: Option<SecretLocation>,
    /// `vault.` or `env.NAME.vault.` of the table that set `secret`.
    pub(crate) prefix: String,
}

impl VaultSettings {
    /// `env` over `self`, key by key; `auth` and `secret` as units.
    pub(crate) fn overlaid(&self, env: &Self) -> Self {
        Self {
            address: env.address.clone().or_else(|| self.address.clone()),
            namespace: env.namespace.clone().or_else(|| self.namespace.clone()),
            ca_file: env.ca_file.clone().or_else(|| self.ca_file.clone()),
            skip_verify: env.skip_verify.or(self.skip_verify),
            timeout: env.timeout.or(self.timeout),
            connect_timeout: env.connect_timeout.or(self.connect_timeout),
            retries: env.retries.or(self.retries),
            auth: env.auth.clone().or_else(|| self.auth.clone()),
            prefix: if env.secret.is_some() {
                env.prefix.clone()
            } else {
                self.prefix.clone()
            },
            secret: env.secret.clone().or_else(|| self.secret.clone()),
        }
    }
}

/// Checks a raw `[vault]` table. `prefix` is `vault.` or `env.NAME.vault.`;
/// `invalid(key, span_start, message)` builds the error.
pub(crate) fn check(
    raw: Spanned<RawVault>,
    prefix: &str,
    text: &str,
    origin: &str,
) -> Result<VaultSettings, SettingsError> {
    let start = raw.span().start;
    let raw = raw.into_inner();
    let invalid =
        |key: &str, at: usize, message: String| invalid_in(at, prefix, text, origin)(key, message);
    let duration = |value: Option<Spanned<toml::Value>>, key: &str| match value {
        None => Ok(None),
        Some(v) => match super::duration::parse_duration(v.get_ref()) {
            Ok(d) if d.is_zero() => Err(invalid(key, v.span().start, "must not be zero".into())),
            Ok(d) => Ok(Some(d)),
            Err(message) => Err(invalid(key, v.span().start, message)),
        },
    };
    let non_empty = |value: Option<String>, key: &str, at: usize| match value {
        Some(v) if v.trim().is_empty() => Err(invalid(key, at, "must not be empty".into())),
        v => Ok(v),
    };
    let address = non_empty(raw.address, "address", start)?;
    if let Some(address) = &address
        && !(address.starts_with("http://") || address.starts_with("https://"))
    {
        return Err(invalid(
            "address",
            start,
            "must start with http:// or https://".into(),
        ));
    }
    let auth = match raw.auth {
        None => None,
        Some(raw) => Some(check_auth(&raw, &format!("{prefix}auth."), text, origin)?),
    };
    let secret = match raw.secret {
        None => None,
        Some(raw) => Some(check_secret(
            &raw,
            &format!("{prefix}secret."),
            text,
            origin,
        )?),
    };
    Ok(VaultSettings {
        address: address.map(|a| a.trim_end_matches('/').to_owned()),
        namespace: non_empty(raw.namespace, "namespace", start)?,
        ca_file: non_empty(raw.ca_file, "ca_file", start)?.map(PathBuf::from),
        skip_verify: raw.skip_verify,
        timeout: duration(raw.timeout, "timeout")?,
        connect_timeout: duration(raw.connect_timeout, "connect_timeout")?,
        retries: raw.retries,
        auth,
        secret,
        prefix: prefix.to_owned(),
    })
}

/// Builds the error for a key of the table at `at` (under `prefix`).
fn invalid_in<'a>(
    at: usize,
    prefix: &'a str,
    text: &'a str,
    origin: &'a str,
) -> impl Fn(&str, String) -> SettingsError + 'a {
    move |key, message| SettingsError::Invalid {
        origin: origin.to_owned(),
        key: format!("{prefix}{key}"),
        position: Some(Position::of_offset(text, at)),
        message,
    }
}

fn check_auth(
    raw: &Spanned<RawAuth>,
    prefix: &str,
    text: &str,
    origin: &str,
) -> Result<Auth, SettingsError> {
    let invalid = invalid_in(raw.span().start, prefix, text, origin);
    let a = raw.get_ref();
    let method = a.method.as_deref().unwrap_or("token");
    let allowed: &[&str] = match method {
        "token" => &["token_file"],
        "approle" => &[
            "mount",
            "role_id",
            "role_id_env",
            "role_id_file",
            "secret_id_env",
            "secret_id_file",
        ],
        "kubernetes" => &["mount", "role", "jwt_file"],
        other => {
            return Err(invalid(
                "method",
                format!("unknown method `{other}`; use \"token\", \"approle\" or \"kubernetes\""),
            ));
        }
    };
    let set = [
        ("mount", a.mount.is_some()),
        ("token_file", a.token_file.is_some()),
        ("role_id", a.role_id.is_some()),
        ("role_id_env", a.role_id_env.is_some()),
        ("role_id_file", a.role_id_file.is_some()),
        ("secret_id_env", a.secret_id_env.is_some()),
        ("secret_id_file", a.secret_id_file.is_some()),
        ("role", a.role.is_some()),
        ("jwt_file", a.jwt_file.is_some()),
    ];
    if let Some((key, _)) = set.iter().find(|(k, s)| *s && !allowed.contains(k)) {
        return Err(invalid(
            key,
            format!("does not apply to method = \"{method}\""),
        ));
    }
    let one_of = |literal: Option<&String>,
                  env: Option<&String>,
                  file: Option<&String>,
                  name: &str,
                  default_env: &str|
     -> Result<Input, SettingsError> {
        let mut inputs = Vec::new();
        if let Some(v) = literal {
            inputs.push(Input::Literal(v.clone()));
        }
        if let Some(v) = env {
            inputs.push(Input::Env(v.clone()));
        }
        if let Some(v) = file {
            inputs.push(Input::File(PathBuf::from(v)));
        }
        match inputs.len() {
            0 => Ok(Input::Env(default_env.to_owned())),
            1 => Ok(inputs.remove(0)),
            _ => Err(invalid(
                &format!("{name}_file"),
                format!("set only one of the `{name}*` keys"),
            )),
        }
    };
    Ok(match method {
        "token" => Auth::Token {
            file: a.token_file.as_ref().map(PathBuf::from),
        },
        "approle" => Auth::AppRole {
            mount: a.mount.clone().unwrap_or_else(|| "approle".into()),
            role_id: one_of(
                a.role_id.as_ref(),
                a.role_id_env.as_ref(),
                a.role_id_file.as_ref(),
                "role_id",
                "VAULT_ROLE_ID",
            )?,
            secret_id: one_of(
                None,
                a.secret_id_env.as_ref(),
                a.secret_id_file.as_ref(),
                "secret_id",
                "VAULT_SECRET_ID",
            )?,
        },
        _ => Auth::Kubernetes {
            mount: a.mount.clone().unwrap_or_else(|| "kubernetes".into()),
            role: match &a.role {
                Some(role) if !role.trim().is_empty() => role.clone(),
                _ => {
                    return Err(invalid(
                        "role",
                        "is required for method = \"kubernetes\"".into(),
                    ));
                }
            },
            jwt_file: PathBuf::from(a.jwt_file.as_deref().unwrap_or(KUBERNETES_JWT_FILE)),
        },
    })
}

fn check_secret(
    raw: &Spanned<RawSecret>,
    prefix: &str,
    text: &str,
    origin: &str,
) -> Result<SecretLocation, SettingsError> {
    let invalid = invalid_in(raw.span().start, prefix, text, origin);
    let s = raw.get_ref();
    let engine = s.engine.as_deref().unwrap_or("kv2");
    let trim = |v: &str| v.trim_matches('/').to_owned();
    match engine {
        "kv2" | "kv1" | "kv" => {
            for (key, set) in [
                ("role", s.role.is_some()),
                ("revoke_on_exit", s.revoke_on_exit.is_some()),
            ] {
                if set {
                    return Err(invalid(
                        key,
                        format!(
                            "does not apply to engine = \"{engine}\"; it is for engine = \"database\""
                        ),
                    ));
                }
            }
            let path = match &s.path {
                Some(p) if !trim(p).is_empty() => trim(p),
                _ => {
                    return Err(invalid(
                        "path",
                        format!("is required for engine = \"{engine}\""),
                    ));
                }
            };
            let fields = match &s.url_field {
                Some(url) => {
                    if let Some(key) = [
                        ("user_field", &s.user_field),
                        ("password_field", &s.password_field),
                    ]
                    .iter()
                    .find_map(|(k, v)| v.as_ref().map(|_| *k))
                    {
                        return Err(invalid(
                            key,
                            "set either `url_field` or the user/password fields, not both".into(),
                        ));
                    }
                    Fields::Url(url.clone())
                }
                None => Fields::UserPassword {
                    user: s.user_field.clone(),
                    password: s
                        .password_field
                        .clone()
                        .unwrap_or_else(|| "password".into()),
                },
            };
            let mount = trim(s.mount.as_deref().unwrap_or("secret"));
            Ok(if engine == "kv2" {
                SecretLocation::Kv2 {
                    mount,
                    path,
                    fields,
                }
            } else {
                SecretLocation::Kv1 {
                    mount,
                    path,
                    fields,
                }
            })
        }
        "database" => {
            for (key, set) in [
                ("path", s.path.is_some()),
                ("user_field", s.user_field.is_some()),
                ("password_field", s.password_field.is_some()),
                ("url_field", s.url_field.is_some()),
            ] {
                if set {
                    return Err(invalid(key, "does not apply to engine = \"database\" (it issues a username and a password for `role`)".into()));
                }
            }
            let role = match &s.role {
                Some(r) if !trim(r).is_empty() => trim(r),
                _ => {
                    return Err(invalid(
                        "role",
                        "is required for engine = \"database\"".into(),
                    ));
                }
            };
            Ok(SecretLocation::Database {
                mount: trim(s.mount.as_deref().unwrap_or("database")),
                role,
                revoke_on_exit: s.revoke_on_exit.unwrap_or(true),
            })
        }
        other => Err(invalid(
            "engine",
            format!("unknown engine `{other}`; use \"kv2\", \"kv1\" or \"database\""),
        )),
    }
}

// ------------------------------------------------------------------ errors

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

// ------------------------------------------------------- resolved results

/// The database URL, and the Vault lease behind its credentials when they
/// are dynamic ([`Settings::resolve_database`](super::Settings::resolve_database)).
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
    pub(crate) client: client::Client,
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

/// What [`fetch`] returns.
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
    settings: &super::Settings,
    input: &Input,
    what: &'static str,
) -> Result<Secret, VaultError> {
    match input {
        Input::Literal(v) => Ok(Secret::new(v.clone())),
        Input::Env(var) => match settings.var_or_dotenv(var) {
            Some(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_owned())),
            _ => Err(VaultError::Config(format!(
                "the {what} is not set: the environment variable `{var}` is unset or empty"
            ))),
        },
        Input::File(path) => read_file(&settings.resolve_path(path), what),
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

/// Gets the credentials from the server.
pub(crate) async fn fetch(
    settings: &super::Settings,
    vault: &VaultSettings,
    location: &SecretLocation,
) -> Result<Fetched, VaultError> {
    #[cfg(feature = "vault")]
    {
        client::fetch(settings, vault, location).await
    }
    #[cfg(not(feature = "vault"))]
    {
        let _ = (settings, vault, location);
        Err(VaultError::FeatureDisabled)
    }
}
