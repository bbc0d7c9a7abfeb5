//! The `[vault]` table of the settings file: its raw TOML form, the checks
//! that turn it into [`VaultSettings`], and how an environment's table is
//! laid over the top level's.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::duration::parse_duration;
use crate::error::{Position, SettingsError};

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
        Some(v) => match parse_duration(v.get_ref()) {
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
