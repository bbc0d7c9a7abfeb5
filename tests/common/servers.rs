//! Which database servers the tests run on, read from the environment
//! (`scripts/with-services.sh` sets it):
//!
//! - `RETORT_TEST_POSTGRES_URL`: the default PostgreSQL server (the
//!   Debian one, 15); `RETORT_TEST_POSTGRES<N>_URL`: a server of major
//!   version N (`--postgres-version N`). The PostgreSQL suites run on each
//!   of them (the same URL under two names counts once); tests that need
//!   one server use the default.
//! - `RETORT_TEST_MYSQL_URL`: MariaDB.
//! - SQLite needs no server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use super::Backend;

/// The default PostgreSQL server's variable.
pub const POSTGRES_VAR: &str = "RETORT_TEST_POSTGRES_URL";
/// The MariaDB server's variable.
pub const MYSQL_VAR: &str = "RETORT_TEST_MYSQL_URL";
/// How to get the servers, for skip messages.
pub const HINT: &str = "run the tests through scripts/with-services.sh";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test of any running test process uses: `prefix`, the
/// process id, a counter and the clock's nanoseconds, with `x` between
/// (letters, digits and `prefix` only, so it is a valid database, user or
/// Vault path name).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}x{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// A database server under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub backend: Backend,
    /// The server's URL (its admin database); empty for SQLite.
    pub url: String,
    /// The variable the URL came from (empty for SQLite).
    pub var: String,
    /// The major version the variable's name states
    /// (`RETORT_TEST_POSTGRES13_URL`), checked on connecting.
    pub stated_major: Option<u32>,
}

/// What a server says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `PostgreSQL 13`, `MariaDB 10.11`, `SQLite`.
    pub label: String,
    /// PostgreSQL's major version (13 for 13.23).
    pub postgres_major: Option<u32>,
}

/// The servers of `backend` that `vars` (the environment's variables)
/// name: for PostgreSQL the default server first, then the others in
/// order of version. Pure, for the harness's own tests.
pub fn servers_in(
    backend: Backend,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Vec<Server> {
    let vars: Vec<(String, String)> = vars.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let named = |var: &str| vars.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone());
    match backend {
        Backend::Sqlite => vec![Server {
            backend,
            url: String::new(),
            var: String::new(),
            stated_major: None,
        }],
        Backend::MySql => named(MYSQL_VAR)
            .map(|url| Server {
                backend,
                url,
                var: MYSQL_VAR.to_owned(),
                stated_major: None,
            })
            .into_iter()
            .collect(),
        Backend::Postgres => {
            let mut versioned: Vec<(u32, String, String)> = vars
                .iter()
                .filter_map(|(k, v)| Some((postgres_var_major(k)?, k.clone(), v.clone())))
                .collect();
            versioned.sort();
            let mut out: Vec<Server> = Vec::new();
            let default = named(POSTGRES_VAR).map(|url| (None, POSTGRES_VAR.to_owned(), url));
            let all = default
                .into_iter()
                .chain(versioned.into_iter().map(|(n, k, v)| (Some(n), k, v)));
            for (stated_major, var, url) in all {
                match out.iter_mut().find(|s| s.url == url) {
                    // The default server listed again under its version.
                    Some(known) => known.stated_major = known.stated_major.or(stated_major),
                    None => out.push(Server {
                        backend,
                        url,
                        var,
                        stated_major,
                    }),
                }
            }
            out
        }
    }
}

/// `13` for `RETORT_TEST_POSTGRES13_URL`.
fn postgres_var_major(var: &str) -> Option<u32> {
    let digits = var
        .strip_prefix("RETORT_TEST_POSTGRES")?
        .strip_suffix("_URL")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The servers of `backend` in this process's environment.
pub fn servers_from_env(backend: Backend) -> Vec<Server> {
    servers_in(backend, std::env::vars())
}

static INFO: Mutex<Option<HashMap<String, ServerInfo>>> = Mutex::new(None);

impl Server {
    /// Asks the server what it is (once per URL and process).
    pub async fn info(&self) -> ServerInfo {
        if self.backend == Backend::Sqlite {
            return ServerInfo {
                label: "SQLite".to_owned(),
                postgres_major: None,
            };
        }
        let cached = INFO
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .and_then(|m| m.get(&self.url).cloned());
        if let Some(info) = cached {
            return info;
        }
        let info = match self.backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to PostgreSQL ({}): {e}", self.var));
                let num: String = sqlx::query_scalar("SHOW server_version_num")
                    .fetch_one(&mut c)
                    .await
                    .expect("SHOW server_version_num");
                let _ = c.close().await;
                let num: u32 = num.trim().parse().expect("a numeric server_version_num");
                let major = num / 10_000;
                if let Some(stated) = self.stated_major {
                    assert_eq!(
                        stated, major,
                        "{} points at PostgreSQL {major}, not {stated}",
                        self.var
                    );
                }
                ServerInfo {
                    label: format!("PostgreSQL {major}"),
                    postgres_major: Some(major),
                }
            }
            Backend::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url)
                    .await
                    .unwrap_or_else(|e| panic!("connect to MariaDB ({}): {e}", self.var));
                let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
                    .fetch_one(&mut c)
                    .await
                    .expect("SELECT VERSION()");
                let _ = c.close().await;
                // `10.11.6-MariaDB-0+deb12u1` -> `MariaDB 10.11`
                let number: Vec<&str> = version.split(['-', '.']).take(2).collect();
                let product = if version.contains("MariaDB") {
                    "MariaDB"
                } else {
                    "MySQL"
                };
                ServerInfo {
                    label: format!("{product} {}", number.join(".")),
                    postgres_major: None,
                }
            }
            Backend::Sqlite => unreachable!("answered above"),
        };
        INFO.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(HashMap::new)
            .insert(self.url.clone(), info.clone());
        info
    }
}

/// Replaces the database part of a server URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Drops the database `name` from the server at `server_url` (SQLite:
/// nothing to do, its temporary directory goes with it).
pub async fn drop_database(backend: Backend, server_url: &str, name: &str) -> Result<(), String> {
    let sql = match backend {
        Backend::Sqlite => return Ok(()),
        Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        Backend::MySql => format!("DROP DATABASE IF EXISTS {name}"),
    };
    let sql = sqlx::AssertSqlSafe(sql);
    let e = |e: sqlx::Error| e.to_string();
    match backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(server_url).await.map_err(e)?;
            sqlx::raw_sql(sql).execute(&mut conn).await.map_err(e)?;
            let _ = conn.close().await;
        }
        Backend::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(server_url)
                .await
                .map_err(e)?;
            sqlx::raw_sql(sql).execute(&mut conn).await.map_err(e)?;
            let _ = conn.close().await;
        }
        Backend::Sqlite => {}
    }
    Ok(())
}

/// [`drop_database`] from a test database's `Drop`, so that a test that
/// fails (panics) leaves no database behind. `Drop` cannot await and may
/// run on a runtime's worker thread, where a nested runtime panics: the
/// drop runs on a thread of its own with its own runtime, and this waits
/// for it. It never panics (a panic while unwinding aborts the test
/// process); a failure is printed.
pub fn drop_database_now(backend: Backend, server_url: &str, name: &str) {
    if backend == Backend::Sqlite {
        return;
    }
    let (server_url, owned_name) = (server_url.to_owned(), name.to_owned());
    let dropped = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(drop_database(backend, &server_url, &owned_name))
    })
    .join();
    match dropped {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("test database {name} was not dropped: {e}"),
        Err(_) => eprintln!("test database {name} was not dropped: its thread panicked"),
    }
}
