//! A small Vault/OpenBao HTTP client on reqwest (rustls): login, read a
//! secret, revoke a lease; time-outs and retries with back-off on
//! transient errors (connect errors, 5xx, 429), none on other 4xx.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::config::VaultSettings;
use super::error::{VaultError, VaultErrorKind};
use crate::lookup::Lookup;
use crate::secret::Secret;

/// Default per-request time-out.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Default connect time-out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of retries after a transient error.
const RETRIES: u32 = 2;
/// First back-off; doubled at each retry.
const BACKOFF: Duration = Duration::from_millis(200);

/// What a client logs in with, read beforehand
/// ([`credentials::login`](super::credentials::login)).
pub(crate) enum Login {
    /// A token, used as is.
    Token(Secret),
    /// `auth/<mount>/login` with a role id and a secret id.
    AppRole {
        mount: String,
        role_id: Secret,
        secret_id: Secret,
    },
    /// `auth/<mount>/login` with a role and the service-account JWT.
    Kubernetes {
        mount: String,
        role: String,
        jwt: Secret,
    },
}

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
    pub(crate) fn new(lookup: &Lookup, vault: &VaultSettings) -> Result<Self, VaultError> {
        let address = match &vault.address {
            Some(a) => a.clone(),
            None => ["VAULT_ADDR", "BAO_ADDR"]
                .iter()
                .find_map(|var| lookup.var_or_dotenv(var).filter(|v| !v.trim().is_empty()))
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
                .find_map(|var| lookup.var_or_dotenv(var).filter(|v| !v.trim().is_empty()))
        });
        let mut builder = reqwest::Client::builder()
            .timeout(vault.timeout.unwrap_or(TIMEOUT))
            .connect_timeout(vault.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
            .user_agent(concat!("retort/", env!("CARGO_PKG_VERSION")));
        let ca_file = vault
            .ca_file
            .as_ref()
            .map(|p| lookup.resolve_path(p))
            .or_else(|| {
                ["VAULT_CACERT", "BAO_CACERT"]
                    .iter()
                    .find_map(|var| lookup.var_or_dotenv(var).filter(|v| !v.trim().is_empty()))
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

    /// A request error, with the secrets this client knows scrubbed from
    /// `detail`.
    pub(crate) fn error(
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
    pub(crate) async fn request(
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

    /// Logs in with `login`; returns an authenticated client.
    pub(crate) async fn login(&self, login: Login) -> Result<Self, VaultError> {
        let (mount, body, scrub) = match login {
            Login::Token(token) => return Ok(self.with_token(Some(token), Vec::new())),
            Login::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let body = serde_json::json!({
                    "role_id": role_id.expose(),
                    "secret_id": secret_id.expose(),
                });
                (mount, body, vec![secret_id, role_id])
            }
            Login::Kubernetes { mount, role, jwt } => {
                (mount, kubernetes_login_body(&role, &jwt), vec![jwt])
            }
        };
        // Scrub the login secrets from messages from now on.
        let scrubbed = self.with_token(None, scrub);
        let path = format!("auth/{mount}/login");
        let answer = scrubbed.request("POST", &path, Some(&body)).await?;
        let token = client_token(&scrubbed, &path, &answer)?;
        Ok(scrubbed.with_token(Some(token), Vec::new()))
    }

    /// The server's address.
    pub(crate) fn address(&self) -> &str {
        &self.inner.address
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

pub(crate) fn field(
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

pub(crate) fn data_object<'a>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

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
