//! Shared by `tests/crash.rs`, `tests/connection_loss.rs` and
//! `tests/races.rs`: a connection the test holds, child processes that
//! re-run the test binary, waiting for a killed client's sessions to end,
//! lock checks, and a tiny seeded RNG.
//!
//! As in `tests/concurrency.rs`, nothing asserts on elapsed time: the
//! timeouts here are safety nets that turn a hang into a failure.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use retort::{Config, Error, Migrations, Report};
use sqlx::Connection;

use crate::common::{Backend, TestDb};

/// How long anything may take before the test gives up.
pub const SAFETY: Duration = Duration::from_secs(120);

/// The lock timeout of runs that must *not* have to wait.
pub const SHORT: Duration = Duration::from_secs(5);

/// Awaits `fut`, failing the test instead of hanging.
pub async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(SAFETY, fut)
        .await
        .unwrap_or_else(|_| panic!("safety timeout ({SAFETY:?}) waiting for {what}"))
}

/// Polls `cond` until it holds, failing the test after [`SAFETY`].
/// `cond` may borrow state mutably across polls (an `async ||` closure
/// polling one connection the caller holds).
pub async fn wait_until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + SAFETY;
    while !cond().await {
        assert!(
            Instant::now() < deadline,
            "safety timeout ({SAFETY:?}) waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn short() -> Config {
    Config::default().lock_timeout(SHORT)
}

/// xorshift64*: enough randomness to spread kill moments, replayable
/// from a printed seed, and no dependency.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        // 53 random bits: exact in an f64.
        #[allow(clippy::cast_precision_loss)]
        let bits = (self.next_u64() >> 11) as f64;
        bits / (1u64 << 53) as f64
    }
}

/// A connection the test holds open.
pub enum Conn {
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Conn {
    pub async fn open(db: &TestDb) -> Self {
        match db.backend {
            Backend::Postgres => {
                Self::Postgres(sqlx::PgConnection::connect(&db.url).await.expect("connect"))
            }
            Backend::MySql => Self::MySql(
                sqlx::MySqlConnection::connect(&db.url)
                    .await
                    .expect("connect"),
            ),
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url)
                    .expect("SQLite URL")
                    .create_if_missing(true);
                Self::Sqlite(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .expect("connect"),
                )
            }
        }
    }

    pub async fn execute(&mut self, sql: &str) {
        let text = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self {
            Self::Postgres(c) => sqlx::raw_sql(text).execute(c).await.map(drop),
            Self::MySql(c) => sqlx::raw_sql(text).execute(c).await.map(drop),
            Self::Sqlite(c) => sqlx::raw_sql(text).execute(c).await.map(drop),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A query returning one text column.
    pub async fn strings(&mut self, sql: &str) -> Vec<String> {
        let text = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self {
            Self::Postgres(c) => sqlx::query_scalar(text).fetch_all(c).await,
            Self::MySql(c) => sqlx::query_scalar(text).fetch_all(c).await,
            Self::Sqlite(c) => sqlx::query_scalar(text).fetch_all(c).await,
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// `SELECT COUNT(*) <rest>`.
    pub async fn count(&mut self, rest: &str) -> u64 {
        let cast = match self {
            Self::Postgres(_) => format!("SELECT COUNT(*)::text {rest}"),
            Self::MySql(_) => format!("SELECT CAST(COUNT(*) AS CHAR) {rest}"),
            Self::Sqlite(_) => format!("SELECT CAST(COUNT(*) AS TEXT) {rest}"),
        };
        self.strings(&cast).await[0].parse().expect("a count")
    }

    /// The user tables (retort's own included).
    pub async fn tables(&mut self) -> Vec<String> {
        let sql = match self {
            Self::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Self::Postgres(_) => {
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            }
            Self::MySql(_) => {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
            }
        };
        self.strings(sql).await
    }

    /// The columns of `table` (empty when it does not exist).
    pub async fn columns(&mut self, table: &str) -> Vec<String> {
        let sql = match self {
            Self::Sqlite(_) => format!("SELECT name FROM pragma_table_info('{table}')"),
            Self::Postgres(_) => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}'"
            ),
            Self::MySql(_) => format!(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
        };
        self.strings(&sql).await
    }

    pub async fn close(self) {
        let _ = match self {
            Self::Postgres(c) => c.close().await,
            Self::MySql(c) => c.close().await,
            Self::Sqlite(c) => c.close().await,
        };
    }
}

/// The ids of the other sessions on the test database, seen from `conn`
/// (PostgreSQL pids, MariaDB connection ids; SQLite has none).
async fn other_sessions_seen_from(conn: &mut Conn) -> Vec<String> {
    match conn {
        Conn::Postgres(_) => {
            conn.strings(
                "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid()",
            )
            .await
        }
        Conn::MySql(_) => {
            conn.strings(
                "SELECT CAST(id AS CHAR) FROM information_schema.processlist \
                 WHERE db = DATABASE() AND id <> CONNECTION_ID()",
            )
            .await
        }
        Conn::Sqlite(_) => Vec::new(),
    }
}

/// Other sessions on the test database (PostgreSQL, MariaDB; SQLite has
/// none), from a connection of its own. Careful: a connection closed just
/// before (an earlier call's, say) may still be listed, since a server ends
/// a session shortly *after* the client closed it; to wait for sessions to
/// end, use [`wait_sessions_gone`], which polls through one connection.
pub async fn other_sessions(db: &TestDb) -> u64 {
    let mut c = Conn::open(db).await;
    let n = other_sessions_seen_from(&mut c).await.len();
    c.close().await;
    n as u64
}

/// Waits until no other session is connected to the test database. A
/// SIGKILLed client's sessions end when the server reads the closed socket,
/// which may be after the statement in flight completed: the state is only
/// final once they are gone. All polls go through one connection, so no
/// poll's own session (ending asynchronously after a close) is counted.
pub async fn wait_sessions_gone(db: &TestDb) {
    let mut c = Conn::open(db).await;
    wait_until("the other sessions on the test database end", async || {
        other_sessions_seen_from(&mut c).await.is_empty()
    })
    .await;
    c.close().await;
}

/// The name of retort's MariaDB lock for the test database with the default
/// version table: `GET_LOCK` names are server-wide, so the driver hashes
/// `<database>.<version table>` (64-bit FNV-1a, as in
/// `runtime/src/driver/mysql.rs`).
fn mysql_lock_name(database: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{database}.retort_version").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("retort:{hash:016x}")
}

/// The sessions holding the migration lock of the test database (default
/// version table), found by the lock itself rather than by elimination
/// among the sessions: PostgreSQL, the holders of exclusive advisory locks
/// in this database (the lock and its lease, on one session; a work
/// session only ever takes the lease in shared mode); MariaDB,
/// `IS_USED_LOCK` of the lock's name. SQLite's lock is a file: empty.
pub async fn lock_holders(db: &TestDb) -> Vec<String> {
    match db.backend {
        Backend::Postgres => {
            db.query_strings(
                "SELECT DISTINCT pid::text FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND mode = 'ExclusiveLock' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await
        }
        Backend::MySql => db
            .query_strings(&format!(
                "SELECT COALESCE(CAST(IS_USED_LOCK('{}') AS CHAR), '')",
                mysql_lock_name(db.name())
            ))
            .await
            .into_iter()
            .filter(|id| !id.is_empty())
            .collect(),
        Backend::Sqlite => Vec::new(),
    }
}

/// Waits until nothing holds the migration lock of the test database. A
/// lock whose session was dropped (a cancelled or killed migration) is
/// released by the server once it reads the closed socket, a moment later.
pub async fn wait_lock_free(db: &TestDb) {
    wait_until("the migration lock is released", async || {
        match db.backend {
            Backend::Sqlite => !sqlite_lock_held(&sqlite_file(db)),
            Backend::Postgres | Backend::MySql => lock_holders(db).await.is_empty(),
        }
    })
    .await;
}

/// The SQLite database file of a test database.
pub fn sqlite_file(db: &TestDb) -> PathBuf {
    PathBuf::from(
        db.url
            .strip_prefix("sqlite://")
            .expect("SQLite test URLs start with sqlite://"),
    )
}

/// How retort names the SQLite migration lock of `path` (in
/// `Error::LockTimeout`): on Linux, a lock on the database file itself;
/// elsewhere, the lock file beside its real path (see
/// `runtime/src/driver/sqlite/lock.rs`).
pub fn sqlite_lock_name(path: &Path) -> String {
    if cfg!(target_os = "linux") {
        format!("lock on the database file {}", path.display())
    } else {
        format!("lock file {}", sqlite_lock_file(path).display())
    }
}

fn sqlite_lock_file(path: &Path) -> PathBuf {
    let mut lock = path
        .canonicalize()
        .expect("the database file exists")
        .into_os_string();
    lock.push(".retort-lock");
    PathBuf::from(lock)
}

/// The file this test process locks to see or take the SQLite migration
/// lock of `path` as another process would. On Linux it is the database
/// file itself, opened once per `role` and never closed: closing a
/// descriptor of the database file would drop the POSIX locks this
/// process's own SQLite connections (a gate, a migration in a task) hold
/// on it. Each role is its own open file description, so a probe sees a
/// hold taken through another role.
fn sqlite_lock_target(path: &Path, role: &'static str) -> &'static File {
    static FILES: std::sync::LazyLock<Mutex<HashMap<(PathBuf, &'static str), &'static File>>> =
        std::sync::LazyLock::new(Mutex::default);
    let mut files = FILES.lock().expect("the lock-file registry");
    files.entry((path.to_owned(), role)).or_insert_with(|| {
        let file = if cfg!(target_os = "linux") {
            File::open(path).expect("open the database file")
        } else {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(sqlite_lock_file(path))
                .expect("open the lock file")
        };
        Box::leak(Box::new(file))
    })
}

/// True while someone holds the SQLite migration lock of `path` (a brief
/// `try_lock` from here, released at once).
pub fn sqlite_lock_held(path: &Path) -> bool {
    let file = sqlite_lock_target(path, "probe");
    match file.try_lock() {
        Ok(()) => {
            file.unlock().expect("unlock the probe");
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(e)) => panic!("try_lock {}: {e}", path.display()),
    }
}

/// Takes the SQLite migration lock of `path` as another process would;
/// released by [`SqliteLockHold::release`].
pub fn hold_sqlite_lock(path: &Path) -> SqliteLockHold {
    let file = sqlite_lock_target(path, "holder");
    file.lock().expect("take the SQLite migration lock");
    SqliteLockHold(file)
}

/// The migration lock taken by [`hold_sqlite_lock`].
pub struct SqliteLockHold(&'static File);

impl SqliteLockHold {
    pub fn release(self) {
        self.0.unlock().expect("release the SQLite migration lock");
    }
}

/// Nothing holds the migration lock where that is visible from outside
/// (PostgreSQL: `pg_locks`; SQLite: the OS lock). MariaDB's named lock
/// is checked by a run with a short lock timeout getting it.
pub async fn assert_lock_free(db: &TestDb, context: &str) {
    match db.backend {
        Backend::Postgres => {
            let held = db
                .query_strings(
                    "SELECT pid::text FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                .await;
            assert!(
                held.is_empty(),
                "{context}: advisory lock still held by {held:?}"
            );
        }
        Backend::Sqlite => {
            let path = sqlite_file(db);
            assert!(
                !sqlite_lock_held(&path),
                "{context}: the migration lock of {} is still held",
                path.display()
            );
        }
        Backend::MySql => {}
    }
}

/// True once a migration of `db` is (PostgreSQL, MariaDB: visibly)
/// waiting at the gate row; SQLite: holds the migration lock.
pub async fn migration_at_gate(db: &TestDb) -> bool {
    !gate_waiters(db).await.is_empty()
        || (db.backend == Backend::Sqlite && sqlite_lock_held(&sqlite_file(db)))
}

/// The server-side ids of the sessions waiting at the gate (PostgreSQL
/// pids, MariaDB connection ids). The pattern is anchored: an earlier poll's
/// session, still closing, can show this very query, which contains
/// `UPDATE gate` too. On PostgreSQL a transactional revision runs as one
/// message (`BEGIN;` then its statements), so the waiting query is either
/// the gate's statement alone or such a message.
pub async fn gate_waiters(db: &TestDb) -> Vec<String> {
    match db.backend {
        Backend::Postgres => {
            db.query_strings(
                "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' \
                 AND (query LIKE 'UPDATE gate%' OR query LIKE 'BEGIN;%UPDATE gate%')",
            )
            .await
        }
        Backend::MySql => {
            db.query_strings(
                "SELECT CAST(id AS CHAR) FROM information_schema.processlist \
                 WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command = 'Query' \
                 AND info LIKE 'UPDATE gate%'",
            )
            .await
        }
        Backend::Sqlite => Vec::new(),
    }
}

/// The test's hold on the `gate` row: revisions updating it wait
/// (PostgreSQL/MariaDB: a row lock; SQLite: the database write lock).
pub struct Gate(Conn);

impl Gate {
    pub async fn close(db: &TestDb) -> Self {
        let mut conn = Conn::open(db).await;
        if db.backend == Backend::Sqlite {
            conn.execute("BEGIN IMMEDIATE").await;
        } else {
            conn.execute("BEGIN").await;
            conn.execute("SELECT n FROM gate WHERE id = 1 FOR UPDATE")
                .await;
        }
        Self(conn)
    }

    /// The server-side id of the gate's session (PostgreSQL pid, MariaDB
    /// connection id; empty on SQLite).
    pub async fn session_id(&mut self) -> String {
        match &mut self.0 {
            c @ Conn::Postgres(_) => c.strings("SELECT pg_backend_pid()::text").await.remove(0),
            c @ Conn::MySql(_) => c
                .strings("SELECT CAST(CONNECTION_ID() AS CHAR)")
                .await
                .remove(0),
            Conn::Sqlite(_) => String::new(),
        }
    }

    pub async fn open(self) {
        let Self(mut conn) = self;
        conn.execute("ROLLBACK").await;
        conn.close().await;
    }
}

pub fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

/// The revisions a report says it applied.
pub fn applied(report: &Report) -> Vec<String> {
    report.steps.iter().map(|s| s.revision.clone()).collect()
}

/// The statement with which each revision of [`gated_revisions`] (and
/// the suites' other revision sets) records that it ran.
pub fn log(id: &str) -> String {
    format!("INSERT INTO applied_log (rev) VALUES ('{id}');")
}

// ---------------------------------------------------------------------------
// A migration held inside a revision (`tests/concurrency.rs`,
// `cli/tests/sqlite_files.rs`)
// ---------------------------------------------------------------------------

/// Four revisions in a line; the third updates the `gate` row, so it
/// blocks while the test holds the gate (PostgreSQL/MariaDB: a row lock;
/// SQLite: the write lock, or a read transaction that its COMMIT waits
/// for).
pub const GATED: [&str; 4] = [
    "9a7e00000001",
    "9a7e00000002",
    "9a7e00000003",
    "9a7e00000004",
];
pub const BEFORE_GATE: &str = "9a7e00000002";
pub const GATE_REV: &str = "9a7e00000003";

pub fn gated_revisions(backend: Backend) -> tempfile::TempDir {
    let [g1, g2, g3, g4] = GATED;
    let up1 = format!(
        "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n\
         CREATE TABLE gate (id INT PRIMARY KEY, n INT NOT NULL);\n\
         INSERT INTO gate (id, n) VALUES (1, 0);\n{}",
        log(g1)
    );
    let up2 = format!(
        "CREATE TABLE before_gate (id INT PRIMARY KEY);\n{}",
        log(g2)
    );
    // SQLite waits for a write lock at most `busy_timeout` (5 s in sqlx);
    // let this revision wait as long as the other backends do.
    let busy = if backend == Backend::Sqlite {
        "PRAGMA busy_timeout = 120000;\n"
    } else {
        ""
    };
    let up3 = format!("{busy}UPDATE gate SET n = n + 1 WHERE id = 1;\n{}", log(g3));
    let up4 = format!("CREATE TABLE after_gate (id INT PRIMARY KEY);\n{}", log(g4));
    crate::common::write_revisions(&[
        (
            g1,
            "",
            "",
            &up1,
            "DROP TABLE gate;\nDROP TABLE applied_log;",
        ),
        (g2, g1, "", &up2, "DROP TABLE before_gate;"),
        (g3, g2, "", &up3, "UPDATE gate SET n = n - 1 WHERE id = 1;"),
        (g4, g3, "", &up4, "DROP TABLE after_gate;"),
    ])
}

// ---------------------------------------------------------------------------
// Child processes: the test binary re-run with `CHILD_ENV` set, running one
// blocking upgrade (see `tests/concurrency.rs` for why not an example).
// ---------------------------------------------------------------------------

pub const CHILD_ENV: &str = "RETORT_RELIABILITY_CHILD";
pub const CHILD_MARK: &str = "RETORT-CHILD-OUTCOME";

/// The body of each test binary's child test: does nothing unless
/// `CHILD_ENV` is set.
pub fn child_main() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let url = var("RETORT_CHILD_URL");
    let lock_timeout = Duration::from_millis(
        var("RETORT_CHILD_LOCK_TIMEOUT_MS")
            .parse()
            .expect("RETORT_CHILD_LOCK_TIMEOUT_MS"),
    );
    let migrations = Migrations::from_dir(var("RETORT_CHILD_DIR"))
        .unwrap_or_else(|e| panic!("child: revisions do not load: {e}"));
    if let Ok(go) = std::env::var("RETORT_CHILD_GO") {
        let deadline = Instant::now() + SAFETY;
        while !Path::new(&go).exists() {
            assert!(Instant::now() < deadline, "child: no go signal");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let result = migrations
        .with_config(Config::default().lock_timeout(lock_timeout))
        .blocking()
        .upgrade(&url, "head");
    match result {
        Ok(report) => println!("{CHILD_MARK} ok {}", applied(&report).join(",")),
        Err(e) => {
            let kind = match &e {
                Error::LockTimeout { .. } => "LockTimeout",
                Error::FailedState { .. } => "FailedState",
                Error::Statement { .. } => "Statement",
                Error::Database { .. } => "Database",
                _ => "Other",
            };
            println!(
                "{CHILD_MARK} err {kind} {}",
                e.to_string().replace('\n', " ")
            );
            std::process::exit(3);
        }
    }
}

/// Starts this test binary as a child running the test `child_test`.
pub fn spawn_child(
    child_test: &str,
    url: &str,
    dir: &Path,
    lock_timeout: Duration,
    go: Option<&Path>,
) -> tokio::process::Child {
    let exe = std::env::current_exe().expect("path of the test binary");
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args([
        child_test,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD_ENV, "1")
    .env("RETORT_CHILD_URL", url)
    .env("RETORT_CHILD_DIR", dir)
    .env(
        "RETORT_CHILD_LOCK_TIMEOUT_MS",
        lock_timeout.as_millis().to_string(),
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    if let Some(go) = go {
        cmd.env("RETORT_CHILD_GO", go);
    }
    cmd.spawn().expect("spawn the child process")
}

/// A finished child's outcome: `Ok(applied revisions)` or
/// `Err((error kind, message))`.
pub fn child_outcome(output: &std::process::Output) -> Result<Vec<String>, (String, String)> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(CHILD_MARK))
        .unwrap_or_else(|| {
            panic!(
                "child printed no outcome ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                output.status
            )
        })
        .trim();
    match line.split_once(' ').unwrap_or((line, "")) {
        ("ok", revs) => {
            assert!(output.status.success(), "{}: {stderr}", output.status);
            Ok(revs
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect())
        }
        ("err", rest) => {
            let (kind, message) = rest.split_once(' ').unwrap_or((rest, ""));
            Err((kind.to_owned(), message.to_owned()))
        }
        _ => panic!("unexpected child outcome line: {line}"),
    }
}
