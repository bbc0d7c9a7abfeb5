//! A small Vault/OpenBao HTTP client on reqwest (rustls): login, read a
//! secret, revoke a lease; time-outs and retries with back-off on
//! transient errors (connect errors, 5xx, 429), none on other 4xx.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{
    Auth, Credentials, Fetched, Fields, Lease, SecretLocation, VaultError, VaultErrorKind,
    VaultSettings, read_file, read_input,
};
use crate::Settings;
use crate::secret::Secret;

/// Default per-request time-out.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Default connect time-out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of retries after a transient error.
const RETRIES: u32 = 2;
/// First back-off; doubled at each retry.
const BACKOFF: Duration = Duration::from_millis(200);

/// An authenticated client (cheap to clone).
#[derive(Clone)]
pub(crate) struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    address: String,
    namespace: Option<String>,
    token: Option<Secret>,
    retries: u32,
    /// Strings that must never appear in a message.
    secrets: Vec<Secret>,
}

impl Client {
    fn new(settings: &Settings, vault: &VaultSettings) -> Result<Self, VaultError> {
        let address = match &vault.address {
            Some(a) => a.clone(),
            None => ["VAULT_ADDR", "BAO_ADDR"]
                .iter()
                .find_map(|var| settings.var_or_dotenv(var).filter(|v| !v.trim().is_empty()))
                .map(|a| a.trim().trim_end_matches('/').to_owned())
                .ok_or_else(|| {
                    VaultError::Config(
                        "no server address: set `vault.address` in the settings, or VAULT_ADDR (or BAO_ADDR)".into(),
                    )
                })?,
        };
        let namespace = vault.namespace.clone().or_else(|| {
            ["VAULT_NAMESPACE", "BAO_NAMESPACE"]
                .iter()
                .find_map(|var| settings.var_or_dotenv(var).filter(|v| !v.trim().is_empty()))
        });
        let mut builder = reqwest::Client::builder()
            .timeout(vault.timeout.unwrap_or(TIMEOUT))
            .connect_timeout(vault.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
            .user_agent(concat!("retort/", env!("CARGO_PKG_VERSION")));
        let ca_file = vault
            .ca_file
            .as_ref()
            .map(|p| settings.resolve_path(p))
            .or_else(|| {
                ["VAULT_CACERT", "BAO_CACERT"]
                    .iter()
                    .find_map(|var| settings.var_or_dotenv(var).filter(|v| !v.trim().is_empty()))
                    .map(Into::into)
            });
        if let Some(path) = ca_file {
            let pem = std::fs::read(&path).map_err(|source| VaultError::File {
                what: "CA certificate",
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
                VaultError::Config(format!(
                    "`ca_file` {} holds no valid PEM certificate",
                    path.display()
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if vault.skip_verify == Some(true) {
            tracing::warn!(
                address = %address,
                "vault.skip_verify = true: the server's TLS certificate is not checked"
            );
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| VaultError::Config(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                address,
                namespace,
                token: None,
                retries: vault.retries.unwrap_or(RETRIES),
                secrets: Vec::new(),
            }),
        })
    }

    /// A client sending `token` (if any), and scrubbing it and `extra`
    /// from every message.
    fn with_token(&self, token: Option<Secret>, extra: Vec<Secret>) -> Self {
        let i = &self.inner;
        let mut secrets = i.secrets.clone();
        secrets.extend(token.clone());
        secrets.extend(extra);
        Self {
            inner: Arc::new(Inner {
                http: i.http.clone(),
                address: i.address.clone(),
                namespace: i.namespace.clone(),
                token: token.or_else(|| i.token.clone()),
                retries: i.retries,
                secrets,
            }),
        }
    }

    fn error(
        &self,
        method: &'static str,
        path: &str,
        kind: VaultErrorKind,
        detail: Option<String>,
    ) -> VaultError {
        let detail = detail.map(|d| {
            let mut d: String = d.chars().take(300).collect();
            for secret in &self.inner.secrets {
                if !secret.expose().is_empty() {
                    d = d.replace(secret.expose(), "***");
                }
            }
            d
        });
        VaultError::Request {
            address: self.inner.address.clone(),
            method,
            path: path.to_owned(),
            kind,
            detail,
        }
    }

    /// Sends a request, retrying transient failures; returns the JSON body
    /// of a 2xx answer (`Null` for 204).
    async fn request(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, VaultError> {
        let url = format!("{}/v1/{path}", self.inner.address);
        let mut attempt = 0;
        loop {
            tracing::debug!(address = %self.inner.address, method, path, attempt, "vault request");
            let mut request = match method {
                "GET" => self.inner.http.get(&url),
                "POST" => self.inner.http.post(&url),
                _ => self.inner.http.put(&url),
            };
            if let Some(token) = &self.inner.token {
                request = request.header("X-Vault-Token", token.expose());
            }
            if let Some(namespace) = &self.inner.namespace {
                request = request.header("X-Vault-Namespace", namespace);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let (kind, detail, transient) = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        if status == reqwest::StatusCode::NO_CONTENT {
                            return Ok(Value::Null);
                        }
                        return response.json::<Value>().await.map_err(|e| {
                            let kind = if e.is_timeout() {
                                VaultErrorKind::Timeout
                            } else {
                                VaultErrorKind::InvalidResponse
                            };
                            self.error(method, path, kind, None)
                        });
                    }
                    let code = status.as_u16();
                    let detail = response
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| {
                            v.get("errors")?.as_array().map(|errors| {
                                errors
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            })
                        })
                        .filter(|d| !d.is_empty());
                    let kind = match code {
                        403 => VaultErrorKind::PermissionDenied,
                        404 => VaultErrorKind::NotFound,
                        429 => VaultErrorKind::RateLimited,
                        503 => VaultErrorKind::Sealed,
                        _ => VaultErrorKind::Status(code),
                    };
                    (kind, detail, code == 429 || code >= 500)
                }
                Err(e) => {
                    let cause = root_cause(&e);
                    if e.is_timeout() {
                        (VaultErrorKind::Timeout, None, false)
                    } else if is_tls(&e) {
                        (VaultErrorKind::Tls, cause, false)
                    } else if e.is_connect() {
                        (VaultErrorKind::Connect, cause, true)
                    } else {
                        (VaultErrorKind::InvalidResponse, cause, false)
                    }
                }
            };
            if transient && attempt < self.inner.retries {
                let delay = BACKOFF * 2u32.saturating_pow(attempt);
                tracing::debug!(address = %self.inner.address, path, error = %kind, ?delay, "vault: transient error, retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return Err(self.error(method, path, kind, detail));
        }
    }

    /// Logs in as the settings say; returns an authenticated client.
    async fn login(&self, settings: &Settings, auth: &Auth) -> Result<Self, VaultError> {
        match auth {
            Auth::Token { file } => {
                let token = match file {
                    Some(file) => read_file(&settings.resolve_path(file), "token")?,
                    None => {
                        let from_env = ["VAULT_TOKEN", "BAO_TOKEN"].iter().find_map(|var| {
                            settings.var_or_dotenv(var).filter(|v| !v.trim().is_empty())
                        });
                        match from_env {
                            Some(token) => Secret::new(token.trim()),
                            None => {
                                let home = settings.var_or_dotenv("HOME").filter(|h| !h.is_empty());
                                let file =
                                    home.map(|h| std::path::Path::new(&h).join(".vault-token"));
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
                };
                Ok(self.with_token(Some(token), Vec::new()))
            }
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let role_id = read_input(settings, role_id, "AppRole role id")?;
                let secret_id = read_input(settings, secret_id, "AppRole secret id")?;
                // Scrub both from messages from now on.
                let scrubbed = self.with_token(None, vec![secret_id.clone(), role_id.clone()]);
                let body = serde_json::json!({
                    "role_id": role_id.expose(),
                    "secret_id": secret_id.expose(),
                });
                let path = format!("auth/{mount}/login");
                let answer = scrubbed.request("POST", &path, Some(&body)).await?;
                let token = client_token(&scrubbed, &path, &answer)?;
                Ok(scrubbed.with_token(Some(token), Vec::new()))
            }
            Auth::Kubernetes {
                mount,
                role,
                jwt_file,
            } => {
                let jwt = read_file(
                    &settings.resolve_path(jwt_file),
                    "Kubernetes service-account token",
                )?;
                let scrubbed = self.with_token(None, vec![jwt.clone()]);
                let body = kubernetes_login_body(role, &jwt);
                let path = format!("auth/{mount}/login");
                let answer = scrubbed.request("POST", &path, Some(&body)).await?;
                let token = client_token(&scrubbed, &path, &answer)?;
                Ok(scrubbed.with_token(Some(token), Vec::new()))
            }
        }
    }

    /// `PUT sys/leases/revoke`.
    pub(crate) async fn revoke(&self, lease_id: &str) -> Result<(), VaultError> {
        let body = serde_json::json!({ "lease_id": lease_id });
        self.request("PUT", "sys/leases/revoke", Some(&body))
            .await?;
        tracing::debug!(address = %self.inner.address, lease_id, "vault: lease revoked");
        Ok(())
    }
}

/// The body of a Kubernetes login.
pub(crate) fn kubernetes_login_body(role: &str, jwt: &Secret) -> Value {
    serde_json::json!({ "role": role, "jwt": jwt.expose() })
}

fn client_token(client: &Client, path: &str, answer: &Value) -> Result<Secret, VaultError> {
    answer
        .pointer("/auth/client_token")
        .and_then(Value::as_str)
        .map(Secret::new)
        .ok_or_else(|| {
            client.error(
                "POST",
                path,
                VaultErrorKind::InvalidResponse,
                Some("the login answer has no auth.client_token".into()),
            )
        })
}

/// The innermost error message (e.g. `Connection refused (os error 111)`);
/// never the URL, which reqwest puts only in the outer error.
fn root_cause(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut last = None;
    while let Some(e) = source {
        last = Some(e.to_string());
        source = e.source();
    }
    last
}

fn is_tls(error: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        source = e.source();
    }
    false
}

fn field(
    client: &Client,
    path: &str,
    data: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Secret, VaultError> {
    match data.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(Secret::new(s.clone())),
        Some(Value::Number(n)) => Ok(Secret::new(n.to_string())),
        Some(_) => Err(client.error(
            "GET",
            path,
            VaultErrorKind::InvalidResponse,
            Some(format!("the field `{name}` is empty or not a string")),
        )),
        None => Err(client.error(
            "GET",
            path,
            VaultErrorKind::FieldMissing {
                field: name.to_owned(),
                available: data.keys().cloned().collect(),
            },
            None,
        )),
    }
}

fn data_object<'a>(
    client: &Client,
    path: &str,
    answer: &'a Value,
    pointer: &str,
) -> Result<&'a serde_json::Map<String, Value>, VaultError> {
    answer
        .pointer(pointer)
        .and_then(Value::as_object)
        .ok_or_else(|| {
            client.error(
                "GET",
                path,
                VaultErrorKind::InvalidResponse,
                Some(format!(
                    "the answer has no `{}` object",
                    &pointer[1..].replace('/', ".")
                )),
            )
        })
}

/// Logs in and reads the credentials.
pub(crate) async fn fetch(
    settings: &Settings,
    vault: &VaultSettings,
    location: &SecretLocation,
) -> Result<Fetched, VaultError> {
    let client = Client::new(settings, vault)?;
    let auth = vault.auth.clone().unwrap_or(Auth::Token { file: None });
    let client = client.login(settings, &auth).await?;
    let address = client.inner.address.clone();
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
                    duration: Duration::from_secs(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-thread HTTP server answering each connection with the next
    /// canned `(status, body)`; returns its address and a request counter.
    fn canned(answers: Vec<(u16, &'static str)>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (address, count)
    }

    fn settings(address: &str) -> Settings {
        format!(
            "[database]\ndriver = \"postgres\"\n[vault]\naddress = \"{address}\"\n[vault.secret]\npath = \"app\"\n"
        )
        .parse::<Settings>()
        .unwrap()
        .with_vars(|var: &str| (var == "VAULT_TOKEN").then(|| "tok-123".to_owned()))
        .without_dotenv()
    }

    const KV: &str = r#"{"data":{"data":{"username":"u","password":"p"}}}"#;

    #[tokio::test]
    async fn transient_errors_are_retried() {
        let (address, count) = canned(vec![
            (503, r#"{"errors":["Vault is sealed"]}"#),
            (429, "{}"),
            (200, KV),
        ]);
        let url = settings(&address).resolve_database().await.unwrap().url;
        assert_eq!(url.expose(), "postgres://u:p@localhost");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn client_errors_are_not_retried_and_sealed_is_named() {
        let (address, count) = canned(vec![(400, r#"{"errors":["bad tok-123"]}"#), (200, KV)]);
        let err = settings(&address)
            .resolve_database()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(err.contains("unexpected HTTP status 400: bad ***"), "{err}");
        let sealed = r#"{"errors":["Vault is sealed"]}"#;
        let (address, _) = canned(vec![(503, sealed), (503, sealed), (503, sealed)]);
        let err = settings(&address)
            .resolve_database()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "/v1/secret/data/app: the server is sealed or unavailable (503): Vault is sealed"
            ),
            "{err}"
        );
    }

    #[test]
    fn kubernetes_login_request_shape() {
        let body = kubernetes_login_body("retort", &Secret::new("eyJ.jwt"));
        assert_eq!(
            body,
            serde_json::json!({"role": "retort", "jwt": "eyJ.jwt"})
        );
    }
}
