//! Database credentials from a real OpenBao server (`bao server -dev`,
//! started by `scripts/with-services.sh --with-openbao`, which exports
//! RETORT_TEST_VAULT_ADDR / RETORT_TEST_VAULT_TOKEN and puts `bao` on
//! PATH): KV v2 (user/password and a URL field), KV v1, token file,
//! AppRole, the database secrets engine against the real PostgreSQL (an
//! upgrade applied with dynamic credentials, then the lease revoked and the
//! role gone), and failures (wrong token, missing path, missing field,
//! server down) whose messages and logs never contain a secret.
//!
//! Without the server the tests print a notice and pass, unless `CI=true`.
//! Kubernetes auth needs a cluster: only its request shape is unit-tested
//! (in `runtime/src/settings/vault/client.rs`).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::servers::unique;
use common::{Backend, TestDb, bao};
use retort_settings::{Settings, SettingsError, UrlSource, VaultErrorKind};

/// The dev server, or `None` (the test is reported skipped, see
/// `tests/common/report.rs`) when it is not running.
fn server() -> Option<(String, String)> {
    match (
        std::env::var("RETORT_TEST_VAULT_ADDR"),
        std::env::var("RETORT_TEST_VAULT_TOKEN"),
    ) {
        (Ok(addr), Ok(token)) if !addr.is_empty() && !token.is_empty() => Some((addr, token)),
        _ => {
            common::report::skip(
                "RETORT_TEST_VAULT_ADDR is not set, so this Vault test did not run",
                "run the tests through scripts/with-services.sh --with-openbao",
            );
            None
        }
    }
}

/// A log sink for a tracing subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs `future` on a current-thread runtime with every tracing event (trace
/// level, all targets) captured; returns its output and the logs.
fn with_logs<T>(future: impl std::future::Future<Output = T>) -> (T, String) {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = subscriber.set_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(future);
    (out, logs.text())
}

fn settings(text: &str, vars: HashMap<String, String>) -> Settings {
    text.parse::<Settings>()
        .unwrap_or_else(|e| panic!("settings: {e}"))
        .with_vars(vars)
        .without_dotenv()
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn assert_no_secrets(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

#[test]
fn kv2_user_and_password() {
    let Some((addr, root)) = server() else { return };
    let path = unique("retort/kv2-");
    let password = unique("pw-kv2-");
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}"),
            "username=app",
            &format!("password={password}"),
        ],
    );
    let s = settings(
        &format!(
            r#"
            [database]
            driver = "postgres"
            host = "db.internal"
            database = "app"
            [vault]
            address = "{addr}"
            [vault.secret]
            engine = "kv2"
            mount = "secret"
            path = "{path}"
            "#
        ),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    // The sync path cannot ask Vault and says so.
    assert!(matches!(
        s.database_url(),
        Err(SettingsError::VaultNeedsAsync { .. })
    ));
    let (resolved, logs) = with_logs(s.resolve_database());
    let resolved = resolved.unwrap();
    assert_eq!(
        resolved.url.expose(),
        format!("postgres://app:{password}@db.internal/app")
    );
    assert_eq!(
        resolved.url.to_string(),
        "postgres://app:***@db.internal/app"
    );
    assert!(
        matches!(resolved.url.source(), UrlSource::Vault { path: p, .. } if p == &format!("secret/data/{path}"))
    );
    assert!(resolved.lease.is_none());
    assert_no_secrets("the logs", &logs, &[&password, &root]);
    assert_no_secrets("the Debug output", &format!("{resolved:?}"), &[&password]);

    // Field names are configurable; an explicit `--database-url` still wins.
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}"),
            "u=other",
            &format!("p={password}"),
        ],
    );
    let s = settings(
        &format!(
            r#"
            [database]
            driver = "mysql"
            host = "db"
            [vault]
            address = "{addr}"
            [vault.secret]
            path = "{path}"
            user_field = "u"
            password_field = "p"
            "#
        ),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    let (resolved, _) = with_logs(s.resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("mysql://other:{password}@db")
    );
    let s = s.with_database_url("sqlite://x.db");
    let (resolved, _) = with_logs(s.resolve_database());
    assert_eq!(resolved.unwrap().url.expose(), "sqlite://x.db");
}

#[test]
fn kv2_url_field_and_per_environment_override() {
    let Some((addr, root)) = server() else { return };
    let path = unique("retort/url-");
    let password = unique("pw-url-");
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}"),
            &format!("url=postgres://svc:{password}@db:5433/app?sslmode=require"),
        ],
    );
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}-staging"),
            &format!("url=postgres://stg:{password}@stg/app"),
        ],
    );
    let s = settings(
        &format!(
            r#"
            [vault]
            address = "{addr}"
            timeout = "60s"
            [vault.secret]
            path = "{path}"
            url_field = "url"
            [env.staging.vault.secret]
            path = "{path}-staging"
            url_field = "url"
            "#
        ),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    let (resolved, _) = with_logs(s.resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("postgres://svc:{password}@db:5433/app?sslmode=require")
    );
    let staging = s.with_env("staging").unwrap();
    let (resolved, _) = with_logs(staging.resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("postgres://stg:{password}@stg/app")
    );
}

#[test]
fn kv1_and_address_from_the_environment() {
    let Some((addr, root)) = server() else { return };
    let mount = unique("kv1-");
    let password = unique("pw-kv1-");
    bao(
        &addr,
        &root,
        &[
            "secrets",
            "enable",
            &format!("-path={mount}"),
            "-version=1",
            "kv",
        ],
    );
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("{mount}/db"),
            "username=old",
            &format!("password={password}"),
        ],
    );
    let s = settings(
        &format!(
            r#"
            [database]
            driver = "postgres"
            host = "h"
            [vault.secret]
            engine = "kv1"
            mount = "{mount}"
            path = "db"
            "#
        ),
        vars(&[("BAO_ADDR", &addr), ("BAO_TOKEN", &root)]),
    );
    let (resolved, _) = with_logs(s.resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("postgres://old:{password}@h")
    );
    bao(&addr, &root, &["secrets", "disable", &mount]);
}

#[test]
fn token_file_and_home_vault_token() {
    let Some((addr, root)) = server() else { return };
    let path = unique("retort/tf-");
    let password = unique("pw-tf-");
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}"),
            "username=app",
            &format!("password={password}"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{root}\n")).unwrap();
    let text = format!(
        r#"
        [database]
        driver = "postgres"
        [vault]
        address = "{addr}"
        [vault.auth]
        method = "token"
        token_file = "{}"
        [vault.secret]
        path = "{path}"
        "#,
        dir.path().join("token").display()
    );
    let (resolved, _) = with_logs(settings(&text, HashMap::new()).resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("postgres://app:{password}@localhost")
    );

    // No token anywhere: a clear error. ~/.vault-token (HOME) is the last resort.
    let text = format!(
        "[database]\ndriver = \"postgres\"\n[vault]\naddress = \"{addr}\"\n[vault.secret]\npath = \"{path}\"\n"
    );
    let home = tempfile::tempdir().unwrap();
    let home_str = home.path().display().to_string();
    let (err, _) = with_logs(settings(&text, vars(&[("HOME", &home_str)])).resolve_database());
    assert!(err.unwrap_err().to_string().contains("no token"));
    std::fs::write(home.path().join(".vault-token"), &root).unwrap();
    let (resolved, _) = with_logs(settings(&text, vars(&[("HOME", &home_str)])).resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("postgres://app:{password}@localhost")
    );
}

#[test]
fn approle_login() {
    let Some((addr, root)) = server() else { return };
    let mount = unique("approle-");
    let path = unique("retort/ar-");
    let password = unique("pw-ar-");
    let policy = unique("retort-read-");
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}"),
            "username=app",
            &format!("password={password}"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let policy_file = dir.path().join("policy.hcl");
    std::fs::write(
        &policy_file,
        format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}\n"),
    )
    .unwrap();
    bao(
        &addr,
        &root,
        &[
            "policy",
            "write",
            &policy,
            &policy_file.display().to_string(),
        ],
    );
    bao(
        &addr,
        &root,
        &["auth", "enable", &format!("-path={mount}"), "approle"],
    );
    bao(
        &addr,
        &root,
        &[
            "write",
            &format!("auth/{mount}/role/retort"),
            &format!("token_policies={policy}"),
            "token_ttl=5m",
        ],
    );
    let role_id = bao(
        &addr,
        &root,
        &[
            "read",
            "-field=role_id",
            &format!("auth/{mount}/role/retort/role-id"),
        ],
    );
    let secret_id = bao(
        &addr,
        &root,
        &[
            "write",
            "-f",
            "-field=secret_id",
            &format!("auth/{mount}/role/retort/secret-id"),
        ],
    );
    std::fs::write(dir.path().join("secret-id"), format!("{secret_id}\n")).unwrap();
    let text = format!(
        r#"
        [database]
        driver = "postgres"
        host = "db"
        [vault]
        address = "{addr}"
        [vault.auth]
        method = "approle"
        mount = "{mount}"
        role_id_env = "APP_ROLE_ID"
        secret_id_file = "{}"
        [vault.secret]
        path = "{path}"
        "#,
        dir.path().join("secret-id").display()
    );
    let (resolved, logs) =
        with_logs(settings(&text, vars(&[("APP_ROLE_ID", &role_id)])).resolve_database());
    assert_eq!(
        resolved.unwrap().url.expose(),
        format!("postgres://app:{password}@db")
    );
    assert_no_secrets("the logs", &logs, &[&password, &secret_id, &root]);

    // The AppRole's policy does not reach other paths: 403, named.
    let other = text.replace(&format!("path = \"{path}\""), "path = \"retort/elsewhere\"");
    let (err, logs) =
        with_logs(settings(&other, vars(&[("APP_ROLE_ID", &role_id)])).resolve_database());
    let message = err.unwrap_err().to_string();
    assert!(message.contains("permission denied"), "{message}");
    assert!(
        message.contains("secret/data/retort/elsewhere"),
        "{message}"
    );
    assert_no_secrets("the message", &message, &[&secret_id, &root]);
    assert_no_secrets("the logs", &logs, &[&secret_id, &root]);

    // A wrong secret id: the login fails with a clear error.
    std::fs::write(dir.path().join("secret-id"), "not-the-secret-id-4242").unwrap();
    let (err, logs) =
        with_logs(settings(&text, vars(&[("APP_ROLE_ID", &role_id)])).resolve_database());
    let message = err.unwrap_err().to_string();
    assert!(
        message.contains(&format!("auth/{mount}/login")),
        "{message}"
    );
    assert_no_secrets("the message", &message, &["not-the-secret-id-4242", &root]);
    assert_no_secrets("the logs", &logs, &["not-the-secret-id-4242"]);
    bao(&addr, &root, &["auth", "disable", &mount]);
}

/// The error a settings text gives, and the captured logs.
fn failure(text: &str, vars: HashMap<String, String>) -> (SettingsError, String) {
    let (result, logs) = with_logs(settings(text, vars).resolve_database());
    (result.expect_err("an error"), logs)
}

#[test]
fn failures_name_server_path_and_cause_without_secrets() {
    let Some((addr, root)) = server() else { return };
    let path = unique("retort/fail-");
    let password = unique("pw-fail-");
    bao(
        &addr,
        &root,
        &[
            "kv",
            "put",
            &format!("secret/{path}"),
            "username=app",
            &format!("password={password}"),
        ],
    );
    let text = |path: &str, extra: &str| {
        format!(
            "[database]\ndriver = \"postgres\"\n[vault]\naddress = \"{addr}\"\n[vault.secret]\npath = \"{path}\"\n{extra}"
        )
    };
    let wrong_token = "hvs.wrong-token-123456789";

    // Wrong token: 403.
    let (err, logs) = failure(&text(&path, ""), vars(&[("VAULT_TOKEN", wrong_token)]));
    let message = err.to_string();
    assert!(
        matches!(&err, SettingsError::Vault(e) if e.kind() == Some(&VaultErrorKind::PermissionDenied)),
        "{message}"
    );
    assert!(
        message.contains(&addr) && message.contains(&format!("secret/data/{path}")),
        "{message}"
    );
    assert!(message.contains("permission denied"), "{message}");
    assert_no_secrets("the message", &message, &[wrong_token, &password, &root]);
    assert_no_secrets("the logs", &logs, &[wrong_token, &password, &root]);

    // Missing path: 404.
    let (err, logs) = failure(
        &text("retort/no-such-secret", ""),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    let message = err.to_string();
    assert!(
        message.contains("no secret at this path (404)"),
        "{message}"
    );
    assert!(
        message.contains("secret/data/retort/no-such-secret"),
        "{message}"
    );
    assert_no_secrets("the message", &message, &[&root]);
    assert_no_secrets("the logs", &logs, &[&root]);

    // Missing field: names the field and the fields there are, not their values.
    let (err, logs) = failure(
        &text(&path, "password_field = \"pass\"\n"),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    let message = err.to_string();
    assert!(message.contains("no field `pass`"), "{message}");
    assert!(message.contains("password, username"), "{message}");
    assert_no_secrets("the message", &message, &[&password, &root]);
    assert_no_secrets("the logs", &logs, &[&password, &root]);

    // Server down (a closed port): a connect error after a few quick retries
    // (no timing assertion: a hang would stop the suite).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{port}");
    let (err, logs) = failure(
        &text(&path, "").replace(&addr, &down),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    let message = err.to_string();
    assert!(
        message.contains(&down) && message.contains("cannot connect"),
        "{message}"
    );
    assert_no_secrets("the message", &message, &[&root]);
    assert_no_secrets("the logs", &logs, &[&root]);

    // Settings errors are caught when the file is read.
    let err = "[vault.secret]\nengine = \"database\"\n"
        .parse::<Settings>()
        .unwrap_err();
    assert!(
        err.to_string().contains("`vault.secret.role`: is required"),
        "{err}"
    );
    let err = "[vault]\nadress = \"x\"\n".parse::<Settings>().unwrap_err();
    assert!(err.to_string().contains("unknown field `adress`"), "{err}");
}

#[test]
fn cli_failure_output_has_no_secrets() {
    let Some((addr, _root)) = server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("retort.toml"),
        format!("[database]\ndriver = \"postgres\"\n[vault]\naddress = \"{addr}\"\n[vault.secret]\npath = \"retort/x\"\n"),
    )
    .unwrap();
    let wrong_token = "hvs.cli-wrong-token-987654321";
    let output = assert_cmd::Command::cargo_bin("retort")
        .unwrap()
        .current_dir(dir.path())
        .env("VAULT_TOKEN", wrong_token)
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .args(["-vvv", "current"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(
        all.contains("permission denied") && all.contains("secret/data/retort/x"),
        "{all}"
    );
    assert_no_secrets("the CLI output", &all, &[wrong_token]);
}

/// The database name of a PostgreSQL URL.
fn db_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap().split('?').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_engine_dynamic_credentials_upgrade_and_revoke() {
    let Some((addr, root)) = server() else { return };
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let host_port = db
        .server
        .url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let (host, port) = host_port.rsplit_once(':').unwrap();
    let name = db_name(&db.url).to_owned();
    let mount = unique("db-");
    bao(
        &addr,
        &root,
        &["secrets", "enable", &format!("-path={mount}"), "database"],
    );
    bao(
        &addr,
        &root,
        &[
            "write",
            &format!("{mount}/config/pg"),
            "plugin_name=postgresql-database-plugin",
            &format!(
                "connection_url=postgresql://{{{{username}}}}:{{{{password}}}}@{host_port}/{name}?sslmode=disable"
            ),
            "username=postgres",
            "password=unused-trust-auth",
            "allowed_roles=*",
            "verify_connection=true",
        ],
    );
    bao(
        &addr,
        &root,
        &[
            "write",
            &format!("{mount}/roles/retort"),
            "db_name=pg",
            "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' SUPERUSER;",
            "revocation_statements=REASSIGN OWNED BY \"{{name}}\" TO postgres; DROP OWNED BY \"{{name}}\"; DROP ROLE IF EXISTS \"{{name}}\";",
            "default_ttl=10m",
            "max_ttl=1h",
        ],
    );

    // The CLI: `retort upgrade head` with dynamic credentials, the lease
    // revoked at exit.
    let migrations = common::write_revisions(&[(
        "a1",
        "",
        "",
        "CREATE TABLE who AS SELECT current_user::text AS name;",
        "DROP TABLE who;",
    )]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("retort.toml"),
        format!(
            r#"
            migrations = "{}"
            [database]
            driver = "postgres"
            host = "{host}"
            port = {port}
            database = "{name}"
            [vault]
            address = "{addr}"
            [vault.secret]
            engine = "database"
            mount = "{mount}"
            role = "retort"
            "#,
            migrations.path().display()
        ),
    )
    .unwrap();
    let output = assert_cmd::Command::cargo_bin("retort")
        .unwrap()
        .current_dir(dir.path())
        .env("VAULT_TOKEN", &root)
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .args(["-vv", "upgrade", "head"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{all}");
    assert!(all.contains("Vault lease revoked"), "{all}");
    assert_no_secrets("the CLI output", &all, &[&root]);
    let who = db.query_strings("SELECT name FROM who").await;
    assert_eq!(who.len(), 1);
    let dynamic_user = &who[0];
    assert!(
        dynamic_user.starts_with("v-"),
        "the upgrade ran as {dynamic_user}"
    );
    let roles = db
        .query_strings(&format!(
            "SELECT rolname::text FROM pg_roles WHERE rolname = '{dynamic_user}'"
        ))
        .await;
    assert!(
        roles.is_empty(),
        "the dynamic role {dynamic_user} is still there"
    );

    // The library: the lease is handed back; the role exists until it is
    // revoked.
    let s = settings(
        &std::fs::read_to_string(dir.path().join("retort.toml"))
            .unwrap()
            .replace(
                &format!("migrations = \"{}\"", migrations.path().display()),
                "",
            ),
        vars(&[("VAULT_TOKEN", &root)]),
    );
    let resolved = s.resolve_database().await.unwrap();
    let lease = resolved.lease.expect("a lease");
    assert!(lease.id().starts_with(&format!("{mount}/creds/retort/")));
    assert!(lease.duration() > Duration::from_secs(60));
    assert!(lease.revoke_on_exit());
    let user = resolved
        .url
        .expose()
        .split("://")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let migrator = retort::Migrations::from_dir(migrations.path()).unwrap();
    let current = migrator.current(resolved.url.expose()).await.unwrap();
    assert_eq!(current.len(), 1, "{current:?}");
    let query = format!("SELECT rolname::text FROM pg_roles WHERE rolname = '{user}'");
    assert_eq!(db.query_strings(&query).await.len(), 1);
    lease.revoke().await.unwrap();
    assert!(db.query_strings(&query).await.is_empty());

    bao(&addr, &root, &["secrets", "disable", &mount]);
    db.drop_db().await;
}

#[test]
fn skip_verify_is_only_on_when_true() {
    // Parsing: `skip_verify` must be a boolean, and other auth keys do not mix.
    let err = "[vault]\nskip_verify = \"yes\"\n"
        .parse::<Settings>()
        .unwrap_err();
    assert!(err.to_string().contains("expected a boolean"), "{err}");
    let err = "[vault.auth]\nmethod = \"kubernetes\"\n"
        .parse::<Settings>()
        .unwrap_err();
    assert!(
        err.to_string().contains("`vault.auth.role`: is required"),
        "{err}"
    );
    let err = "[vault.auth]\nmethod = \"token\"\nrole = \"x\"\n"
        .parse::<Settings>()
        .unwrap_err();
    assert!(err.to_string().contains("does not apply"), "{err}");
    assert!(Path::new(retort_settings::KUBERNETES_JWT_FILE).is_absolute());
}

/// A TLS OpenBao dev server of this test's own (`bao server -dev -dev-tls`,
/// which generates a CA and a certificate for 127.0.0.1), stopped on drop.
struct TlsServer {
    addr: String,
    token: String,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl TlsServer {
    fn start() -> Self {
        // The dev server also listens on the next port (its cluster port).
        let port = (0..50)
            .find_map(|_| {
                let api = std::net::TcpListener::bind(("127.0.0.1", 0)).ok()?;
                let port = api.local_addr().ok()?.port();
                std::net::TcpListener::bind(("127.0.0.1", port.checked_add(1)?)).ok()?;
                Some(port)
            })
            .expect("two free consecutive loopback ports");
        let dir = tempfile::tempdir().unwrap();
        let token = unique("root-tls-");
        let child = Command::new("bao")
            .args([
                "server",
                "-dev",
                "-dev-tls",
                &format!("-dev-tls-cert-dir={}", dir.path().display()),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                &format!("-dev-root-token-id={token}"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start bao (scripts/with-services.sh --with-openbao puts it on PATH)");
        let server = Self {
            addr: format!("https://127.0.0.1:{port}"),
            token,
            dir,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !server.bao_ok(&["status"]) {
            assert!(
                Instant::now() < deadline,
                "the TLS dev server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn ca_file(&self) -> std::path::PathBuf {
        self.dir.path().join("vault-ca.pem")
    }

    /// Runs `bao ARGS` against this server, trusting its CA.
    fn bao_ok(&self, args: &[&str]) -> bool {
        Command::new("bao")
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", &self.token)
            .env("BAO_CACERT", self.ca_file())
            .env("VAULT_ADDR", &self.addr)
            .env("VAULT_TOKEN", &self.token)
            .env("VAULT_CACERT", self.ca_file())
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// TLS against a real TLS server: its CA given as `vault.ca_file` is
/// trusted; without it the connection fails with a TLS error naming the
/// server; `skip_verify = true` connects without it.
#[test]
fn tls_ca_file_and_skip_verify_against_a_tls_server() {
    // Needs the `bao` binary, which the OpenBao of with-services provides.
    let Some(_) = server() else { return };
    let tls = TlsServer::start();
    let path = unique("retort/tls-");
    let password = unique("pw-tls-");
    assert!(tls.bao_ok(&[
        "kv",
        "put",
        &format!("secret/{path}"),
        "username=app",
        &format!("password={password}"),
    ]));
    let text = |extra: &str| {
        format!(
            "[database]\ndriver = \"postgres\"\nhost = \"db.internal\"\ndatabase = \"app\"\n\
             [vault]\naddress = \"{}\"\n{extra}\n[vault.secret]\npath = \"{path}\"\n",
            tls.addr
        )
    };
    let token = vars(&[("VAULT_TOKEN", &tls.token)]);
    let expected = format!("postgres://app:{password}@db.internal/app");

    let ca = format!("ca_file = \"{}\"", tls.ca_file().display());
    let (resolved, logs) = with_logs(settings(&text(&ca), token.clone()).resolve_database());
    assert_eq!(resolved.expect("with the CA").url.expose(), expected);
    assert_no_secrets("the logs", &logs, &[&password, &tls.token]);

    let (err, logs) = failure(&text(""), token.clone());
    let message = err.to_string();
    assert!(
        matches!(&err, SettingsError::Vault(e) if e.kind() == Some(&VaultErrorKind::Tls)),
        "{message}"
    );
    assert!(message.contains(&tls.addr), "{message}");
    assert!(message.contains("vault.ca_file"), "{message}");
    assert_no_secrets("the message", &message, &[&password, &tls.token]);
    assert_no_secrets("the logs", &logs, &[&password, &tls.token]);

    let (resolved, _) = with_logs(settings(&text("skip_verify = true"), token).resolve_database());
    assert_eq!(resolved.expect("skip_verify").url.expose(), expected);
}
