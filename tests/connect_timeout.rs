//! The connect timeout (issue 10, item 19): a server that accepts the TCP
//! connection but never answers used to keep retort waiting 30 s (and the
//! migration lock's own connection forever). Every connection retort opens
//! now gives up after `connect_timeout`, with an error naming the server
//! (password redacted), the timeout and the setting to raise.
//!
//! The silent server is a local TCP listener that accepts and never
//! answers; to reach the lock's connection, a proxy forwards the first
//! connection to a real server and keeps every later one silent. Nothing
//! asserts on elapsed time: the safety timeout turns a hang into a failure.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{Backend, TestDb, write_revisions};
use retort::{Config, Error, Migrations};

/// How long a test may take before it fails instead of hanging.
const SAFETY: Duration = Duration::from_secs(90);

/// A listener on 127.0.0.1 that forwards the first `forward` connections
/// to `upstream` and accepts every later one without ever answering.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    fn silent() -> Self {
        Self::start(None, 0)
    }

    fn proxy(upstream: SocketAddr, forward: usize) -> Self {
        Self::start(Some(upstream), forward)
    }

    fn start(upstream: Option<SocketAddr>, forward: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let acceptor = std::thread::spawn(move || {
            let mut silent = Vec::new();
            let mut forwarded = 0;
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => match upstream {
                        Some(upstream) if forwarded < forward => {
                            forwarded += 1;
                            forward_to(client, upstream);
                        }
                        _ => silent.push(client),
                    },
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
        });
        Self {
            addr,
            stop,
            acceptor: Some(acceptor),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Copies bytes both ways between `client` and a new connection to
/// `upstream` until either side closes.
fn forward_to(client: TcpStream, upstream: SocketAddr) {
    client
        .set_nonblocking(false)
        .expect("a blocking client socket");
    let server = TcpStream::connect(upstream).expect("connect to the real server");
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    };
    pipe(
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    pipe(server, client);
}

/// `url` with its host and port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let userinfo = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{addr}{path}")
}

/// The host and port of a URL, resolved.
fn address(url: &str) -> SocketAddr {
    use std::net::ToSocketAddrs as _;
    let rest = url.split_once("://").expect("scheme").1;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host.to_socket_addrs()
        .expect("resolve the test server")
        .next()
        .expect("an address")
}

fn one_revision() -> (tempfile::TempDir, Migrations) {
    let dir = write_revisions(&[(
        "c0ffee000001",
        "",
        "",
        "CREATE TABLE t (id INT PRIMARY KEY);",
        "DROP TABLE t;",
    )]);
    let migrations = Migrations::from_dir(dir.path()).expect("revisions load");
    (dir, migrations)
}

async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(SAFETY, fut)
        .await
        .unwrap_or_else(|_| panic!("safety timeout ({SAFETY:?}) waiting for {what}"))
}

/// The library, for each server backend: the error names the server
/// (without the password), the timeout and the setting.
#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = Server::silent();
    let (_dir, migrations) = one_revision();
    let timeout = Config::default().connect_timeout(Duration::from_millis(500));
    for scheme in ["postgres", "mysql"] {
        let url = format!("{scheme}://app:s3cret-pw@{}/app", server.addr);
        let err = bounded(
            "the upgrade",
            migrations
                .with_config(timeout.clone())
                .upgrade(&url, "head"),
        )
        .await
        .unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(
                err,
                Error::ConnectTimeout {
                    connection: None,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            message,
            format!(
                "cannot connect to {scheme}://app:***@{}/app: no answer within 0.5s; if the server is just slow, raise the connect timeout (`connect_timeout` under [database] in retort.toml, or `Config::connect_timeout`)",
                server.addr
            )
        );
    }
    // Zero would time out every connection: refused.
    let err = migrations
        .with_config(Config::default().connect_timeout(Duration::ZERO))
        .upgrade(format!("postgres://{}/app", server.addr).as_str(), "head")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid connect timeout: must be more than zero"
    );
}

/// The command line: `connect_timeout` in retort.toml, whichever source
/// gives the URL.
#[test]
fn connect_timeout_in_retort_toml() {
    let server = Server::silent();
    let dir = tempfile::tempdir().expect("temp dir");
    let (revisions, _) = one_revision();
    let run = |toml: &str, args: &[&str]| {
        std::fs::write(dir.path().join("retort.toml"), toml).expect("write retort.toml");
        let mut cmd = assert_cmd::Command::cargo_bin("retort").expect("the retort binary is built");
        cmd.current_dir(dir.path())
            .args(["--migrations", &revisions.path().display().to_string()])
            .args(args)
            .env("NO_COLOR", "1")
            .timeout(SAFETY);
        for var in [
            "RETORT_DATABASE_URL",
            "DATABASE_URL",
            "RETORT_ENV",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        let output = cmd.output().expect("run retort");
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let url = format!("postgres://app:s3cret-pw@{}/app", server.addr);
    let expected = |secs: &str| {
        format!(
            "cannot connect to postgres://app:***@{}/app: no answer within {secs}; if the server is just slow, raise the connect timeout (`connect_timeout` under [database] in retort.toml",
            server.addr
        )
    };

    let stderr = run(
        &format!("[database]\nurl = \"{url}\"\nconnect_timeout = \"1s\"\n"),
        &["upgrade"],
    );
    assert!(stderr.contains(&expected("1s")), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");

    // With the URL from --database-url, and an environment's own timeout
    // (which does not make the environment choose a database).
    let stderr = run(
        "[database]\nconnect_timeout = 30\n\n[env.ci.database]\nconnect_timeout = \"500ms\"\n",
        &["--env", "ci", "--database-url", &url, "upgrade"],
    );
    assert!(stderr.contains(&expected("0.5s")), "{stderr}");

    // A bad value names the key.
    let stderr = run(
        "[database]\nconnect_timeout = \"soon\"\n",
        &["--database-url", &url, "upgrade"],
    );
    assert!(
        stderr.contains("retort.toml:2:19: `database.connect_timeout`: invalid duration `soon`"),
        "{stderr}"
    );
    let stderr = run(
        "[database]\nconnect_timeout = 0\n",
        &["--database-url", &url, "upgrade"],
    );
    assert!(
        stderr.contains("`database.connect_timeout`: must be more than zero"),
        "{stderr}"
    );
}

/// The migration lock's own connection (PostgreSQL, MySQL) honours the
/// timeout too, when the work connection comes from a URL and from the
/// service's pool: the proxy lets the work connection through and keeps
/// the lock's silent.
async fn lock_connection_times_out(db: &TestDb) {
    let (_dir, migrations) = one_revision();
    let upstream = address(&db.url);
    let config = Config::default().connect_timeout(Duration::from_secs(1));
    let expect_lock_timeout = |err: Error, url: &str| {
        assert!(
            matches!(
                err,
                Error::ConnectTimeout {
                    connection: Some(_),
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        let host = url.split_once('@').map_or(url, |(_, h)| h);
        assert!(
            message.contains(host.split('/').next().unwrap_or(host))
                && message.contains("(the migration lock's connection): no answer within 1s")
                && message.contains("`connect_timeout` under [database]"),
            "{message}"
        );
    };

    let proxy = Server::proxy(upstream, 1);
    let url = via(&db.url, proxy.addr);
    let err = bounded(
        "the upgrade through a URL",
        migrations.with_config(config.clone()).upgrade(&url, "head"),
    )
    .await
    .unwrap_err();
    expect_lock_timeout(err, &url);

    let proxy = Server::proxy(upstream, 1);
    let url = via(&db.url, proxy.addr);
    let err = match db.backend {
        Backend::Postgres => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .expect("pool");
            let result = bounded(
                "the upgrade through a pool",
                migrations
                    .with_config(config.clone())
                    .upgrade(&pool, "head"),
            )
            .await;
            pool.close().await;
            result
        }
        _ => {
            let pool = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .expect("pool");
            let result = bounded(
                "the upgrade through a pool",
                migrations
                    .with_config(config.clone())
                    .upgrade(&pool, "head"),
            )
            .await;
            pool.close().await;
            result
        }
    }
    .unwrap_err();
    expect_lock_timeout(err, &url);

    // Nothing was applied: the lock was never taken.
    let applied = migrations.current(db.url.as_str()).await.expect("current");
    assert!(applied.is_empty(), "{applied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_connection_times_out() {
    if let Some(db) = TestDb::new(Backend::Postgres).await {
        lock_connection_times_out(&db).await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_lock_connection_times_out() {
    if let Some(db) = TestDb::new(Backend::MySql).await {
        lock_connection_times_out(&db).await;
        db.drop_db().await;
    }
}
