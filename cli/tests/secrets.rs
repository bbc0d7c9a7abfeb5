//! Secrets never reach the output: every `retort` verb (and the `--sql` and
//! `--json` variants) runs with a database password in the settings (from
//! `--database-url`, `DATABASE_URL`, `.env`, `retort.toml` components with
//! `password`, `password_file`, `password_env`) and with Vault tokens and an
//! AppRole secret id, at every log level (`-q`, default, `-v`, `-vv`,
//! `-vvv`, `RUST_LOG=trace`), succeeding and failing (wrong password,
//! unreachable port, bad target, a revision whose SQL fails, wrong token,
//! wrong secret id, malformed URLs, settings and `.env` files), and with
//! Vault dynamic credentials. Each run's stdout and stderr (which carries the
//! logs) must contain neither a secret nor its percent-encoded form; the
//! number of runs checked is printed per suite. Where a connecting verb
//! succeeds, the `Database:` line it prints (and the `database` field of
//! `--json`, and `current -v`'s heading) must be there, with the password
//! shown as `***`, so that the check covers output that really appears.
//!
//! The matrix: every verb at every level with the password in `retort.toml`
//! (SQLite: with unused Vault tokens and secret id), every password source
//! with `upgrade`/`downgrade`/`current`/`stamp` at `-q`, `-vvv` and
//! `RUST_LOG=trace` (right password, wrong password, closed port), on
//! PostgreSQL and MariaDB; Vault's token from `VAULT_TOKEN`, `token_file`
//! and AppRole with the connecting verbs at every level.
//!
//! PostgreSQL and MariaDB come from `RETORT_TEST_POSTGRES_URL` /
//! `RETORT_TEST_MYSQL_URL`, OpenBao from `RETORT_TEST_VAULT_ADDR` /
//! `RETORT_TEST_VAULT_TOKEN` (`scripts/with-services.sh --with-openbao`).
//! Each test creates its own user with a password and its own databases,
//! and drops them. Without a server the test prints a notice and passes,
//! unless `CI=true`.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::bao;
use common::cli::{Run, project as project_of};
use common::servers::unique;
use sqlx::Connection;

/// The log levels: flags, and whether `RUST_LOG=trace` is set.
const LEVELS: [(&str, &[&str], bool); 6] = [
    ("-q", &["-q"], false),
    ("default", &[], false),
    ("-v", &["-v"], false),
    ("-vv", &["-vv"], false),
    ("-vvv", &["-vvv"], false),
    ("RUST_LOG=trace", &[], true),
];

/// The most verbose levels, for the larger matrices.
const LOUD_LEVELS: [usize; 3] = [0, 4, 5];

const REV1: &str = "1a2b3c4d5e6f";
const REV2: &str = "7f8e9d0c1b2a";
const BAD_REV: &str = "9f9f9f9f9f9f";

/// Percent-encodes everything but the URL-unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A password for user `n`: distinctive, with characters a URL must encode.
fn password(tag: &str) -> String {
    format!("Sup3r-S3cret-Pw/{tag}@x:y%z")
}

/// The forms of `secrets` that must not appear: as is, percent-encoded
/// (upper and lower case hex), and the distinctive prefix.
fn forms(secrets: &[String]) -> Vec<String> {
    let mut out = vec!["Sup3r-S3cret".to_owned()];
    for s in secrets {
        out.push(s.clone());
        out.push(encode(s));
        out.push(encode(s).to_lowercase());
    }
    out.retain(|s| s.len() >= 6);
    out.sort();
    out.dedup();
    out
}

/// Runs checked per suite: SQLite, PostgreSQL, MariaDB, Vault, malformed
/// settings.
static RUNS: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];
const SQLITE: usize = 0;
const VAULT: usize = 3;
const MALFORMED: usize = 4;

/// One way to run the binary: directory, extra global args and variables.
#[derive(Clone, Default)]
struct Invocation {
    dir: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Which entry of [`RUNS`] counts the run.
    suite: usize,
    /// The URL it connects with carries a password, which the `Database:`
    /// line must show as `***`.
    password: bool,
}

/// What a run must do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Success,
    Failure,
    Any,
}

/// Runs `retort` with `inv`, at `level`, with `args`; asserts the exit code
/// and that no form of `secrets` is printed.
fn check(inv: &Invocation, level: usize, args: &[&str], expect: Expect, secrets: &[String]) -> Run {
    let (level_name, level_flags, rust_log) = LEVELS[level];
    let mut cmd = common::cli::command(&inv.dir);
    // No ~/.vault-token of the developer's.
    cmd.env("HOME", &inv.dir);
    if rust_log {
        cmd.env("RUST_LOG", "trace");
    }
    for (k, v) in &inv.env {
        cmd.env(k, v);
    }
    cmd.args(level_flags).args(&inv.args);
    cmd.timeout(Duration::from_secs(60));
    let run = common::cli::run(cmd, args);
    let what = format!(
        "`retort {}` at {level_name} in {}",
        args.join(" "),
        inv.dir.display()
    );
    let dump = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{what} panicked:\n{dump}");
    if let Some(secret) = leaked(&format!("{}\n{}", run.stdout, run.stderr), secrets) {
        panic!("{what}: the output contains the secret {secret:?}:\n{dump}");
    }
    match expect {
        Expect::Success => assert_eq!(run.code, Some(0), "{what} failed:\n{dump}"),
        Expect::Failure => assert!(
            run.code.is_some_and(|c| c != 0),
            "{what} should fail:\n{dump}"
        ),
        Expect::Any => assert!(run.code.is_some(), "{what} was killed:\n{dump}"),
    }
    RUNS[inv.suite].fetch_add(1, Ordering::Relaxed);
    run
}

/// A connecting verb states its database once on stderr (`Database:
/// URL (from SOURCE)`) at every level but `-q`, and the URL's password
/// (when it has one) as `***`: the leak check then covers a line that is
/// really printed. With `--json` (but `history`'s list), the `database`
/// field likewise; with `current -v`, Alembic's `Current revision(s) for
/// URL:` heading.
#[track_caller]
fn states_database(inv: &Invocation, level: usize, args: &[&str], run: &Run) {
    let dump = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("Database: "))
        .collect();
    if LEVELS[level].0 == "-q" {
        assert!(lines.is_empty(), "-q printed the database:\n{dump}");
        return;
    }
    assert_eq!(
        lines.len(),
        1,
        "`retort {args:?}`: one `Database:` line:\n{dump}"
    );
    let mut shown = vec![lines[0].to_owned()];
    // `history --json` is a list of revisions: no place for the field.
    if args.contains(&"--json") && args[0] != "history" {
        let json: serde_json::Value =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{dump}"));
        let database = json["database"]
            .as_str()
            .unwrap_or_else(|| panic!("no `database` field:\n{dump}"));
        assert!(lines[0].contains(database), "{dump}");
        shown.push(database.to_owned());
    }
    if args.contains(&"-v") {
        let heading = run
            .stdout
            .lines()
            .next()
            .filter(|l| l.starts_with("Current revision(s) for "))
            .unwrap_or_else(|| panic!("no `Current revision(s) for` heading:\n{dump}"));
        shown.push(heading.to_owned());
    }
    if inv.password {
        for text in shown {
            assert!(
                text.contains(":***@"),
                "the password is not shown as ***: {text}\n{dump}"
            );
        }
    }
}

/// The first form of a secret that `text` contains.
fn leaked(text: &str, secrets: &[String]) -> Option<String> {
    forms(secrets)
        .into_iter()
        .find(|s| text.contains(s.as_str()))
}

/// Asserts that a failed run says why (any of `needles`, case-insensitive).
fn says(run: &Run, needles: &[&str]) {
    let all = format!("{}\n{}", run.stdout, run.stderr).to_lowercase();
    assert!(
        needles.iter().any(|n| all.contains(&n.to_lowercase())),
        "the output mentions none of {needles:?}:\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn the_leak_check_finds_every_form() {
    let pw = password("t");
    let secrets = [pw.clone()];
    assert_eq!(encode(&pw), "Sup3r-S3cret-Pw%2Ft%40x%3Ay%25z");
    for text in [
        format!("postgres://u:{}@h/db", encode(&pw)),
        format!("postgres://u:{}@h/db", encode(&pw).to_lowercase()),
        format!("password={pw}"),
        "Sup3r-S3cret".to_owned(),
    ] {
        assert!(leaked(&text, &secrets).is_some(), "{text}");
    }
    assert!(leaked("postgres://u:***@h/db", &secrets).is_none());
}

/// A project directory with two good revisions and, when `bad`, a third
/// whose upgrade fails.
fn project(bad: bool) -> tempfile::TempDir {
    let mut revisions = vec![
        (
            REV1,
            "",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            "DROP TABLE users;",
        ),
        (
            REV2,
            REV1,
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);",
            "DROP TABLE posts;",
        ),
    ];
    if bad {
        revisions.push((
            BAD_REV,
            REV2,
            "INSERT INTO no_such_table_xyz VALUES (1);",
            "SELECT 1;",
        ));
    }
    project_of(&revisions)
}

/// A server-side backend.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backend {
    Postgres = 1,
    MySql = 2,
}

impl Backend {
    fn var(self) -> &'static str {
        match self {
            Self::Postgres => "RETORT_TEST_POSTGRES_URL",
            Self::MySql => "RETORT_TEST_MYSQL_URL",
        }
    }
    fn scheme(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }
}

/// Skips (reported, see `tests/common/report.rs`) without the variable,
/// fails under `CI=true`.
fn required_var(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            common::report::skip(
                &format!("{var} is not set, so the {what} secrets test did not run"),
                "run the tests through scripts/with-services.sh --with-openbao",
            );
            None
        }
    }
}

/// A user with a password and its databases on a real server.
struct Server {
    backend: Backend,
    admin: String,
    host_port: String,
    user: String,
    password: String,
    /// What a run with a wrong password must do: fail, unless the server
    /// does not check passwords (PostgreSQL `trust` authentication).
    wrong_password: Expect,
    databases: std::sync::Mutex<Vec<String>>,
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Runs `;`-separated statements one at a time (`DROP DATABASE` cannot run
/// in the implicit transaction of a multi-statement query on PostgreSQL).
async fn admin_sql(backend: Backend, admin: &str, sql: &str) {
    let statements = sql.split(';').map(str::trim).filter(|s| !s.is_empty());
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(admin)
                .await
                .expect("connect to PostgreSQL");
            for st in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(st.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{st}: {e}"));
            }
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(admin)
                .await
                .expect("connect to MariaDB");
            for st in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(st.to_owned()))
                    .execute(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("{st}: {e}"));
            }
        }
    }
}

/// Whether the server accepts `url` (a connection with a wrong password).
async fn accepts(backend: Backend, url: &str) -> bool {
    match backend {
        Backend::Postgres => sqlx::PgConnection::connect(url).await.is_ok(),
        Backend::MySql => sqlx::MySqlConnection::connect(url).await.is_ok(),
    }
}

impl Server {
    fn new(backend: Backend) -> Option<Self> {
        let admin = required_var(backend.var(), &format!("{backend:?}"))?;
        let after_scheme = &admin[admin.find("://").expect("a URL") + 3..];
        let authority = after_scheme.split('/').next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default().to_owned();
        let tag = unique("");
        let user = format!("u_{tag}");
        let password = password(&tag);
        let sql = match backend {
            Backend::Postgres => format!("CREATE ROLE {user} LOGIN PASSWORD '{password}'"),
            Backend::MySql => format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'; CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}'"
            ),
        };
        block_on(admin_sql(backend, &admin, &sql));
        let mut server = Self {
            backend,
            admin,
            host_port,
            user,
            password,
            wrong_password: Expect::Failure,
            databases: std::sync::Mutex::new(Vec::new()),
        };
        let db = server.database();
        let wrong = server.url(&self::password("wr0ng"), &server.host_port, &db);
        if block_on(accepts(backend, &wrong)) {
            eprintln!(
                "NOTICE: the {backend:?} server accepts a wrong password (trust authentication); wrong-password runs are only checked for leaks"
            );
            server.wrong_password = Expect::Any;
        }
        Some(server)
    }

    /// A fresh database the user owns.
    fn database(&self) -> String {
        let name = unique("retort_s");
        let sql = match self.backend {
            Backend::Postgres => format!("CREATE DATABASE {name} OWNER {}", self.user),
            Backend::MySql => format!(
                "CREATE DATABASE {name}; GRANT ALL ON {name}.* TO '{u}'@'%'; GRANT ALL ON {name}.* TO '{u}'@'localhost'",
                u = self.user
            ),
        };
        block_on(admin_sql(self.backend, &self.admin, &sql));
        self.databases.lock().unwrap().push(name.clone());
        name
    }

    fn url(&self, password: &str, host_port: &str, db: &str) -> String {
        format!(
            "{}://{}:{}@{host_port}/{db}",
            self.backend.scheme(),
            self.user,
            encode(password)
        )
    }

    fn port(&self) -> &str {
        self.host_port.rsplit(':').next().unwrap_or_default()
    }

    fn drop_all(&self) {
        let mut sql = String::new();
        for db in self.databases.lock().unwrap().iter() {
            match self.backend {
                Backend::Postgres => {
                    sql.push_str(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE);"));
                }
                Backend::MySql => sql.push_str(&format!("DROP DATABASE IF EXISTS {db};")),
            }
        }
        match self.backend {
            Backend::Postgres => sql.push_str(&format!("DROP ROLE IF EXISTS {};", self.user)),
            Backend::MySql => sql.push_str(&format!(
                "DROP USER IF EXISTS '{u}'@'%'; DROP USER IF EXISTS '{u}'@'localhost';",
                u = self.user
            )),
        }
        block_on(admin_sql(self.backend, &self.admin, &sql));
    }
}

/// Where the password comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    Flag,
    EnvVar,
    DotEnv,
    Components,
    PasswordFile,
    PasswordEnvInDotEnv,
    RetortEnvVar,
    TomlUrl,
    /// `[env.staging.database]` with `--env staging`.
    Environment,
}

const SOURCES: [Source; 9] = [
    Source::Flag,
    Source::EnvVar,
    Source::DotEnv,
    Source::Components,
    Source::PasswordFile,
    Source::PasswordEnvInDotEnv,
    Source::RetortEnvVar,
    Source::TomlUrl,
    Source::Environment,
];

/// Sets up `dir` so that retort connects to `db` with `password` from
/// `source`.
fn configure(
    server: &Server,
    source: Source,
    dir: &Path,
    password: &str,
    host_port: &str,
    db: &str,
) -> Invocation {
    let url = server.url(password, host_port, db);
    let (host, port) = host_port.rsplit_once(':').expect("host:port");
    let components = |pw_line: &str| {
        format!(
            "[database]\ndriver = \"{}\"\nhost = \"{host}\"\nport = {port}\nuser = \"{}\"\ndatabase = \"{db}\"\n{pw_line}\n",
            server.backend.scheme(),
            server.user
        )
    };
    let mut inv = Invocation {
        dir: dir.to_owned(),
        suite: server.backend as usize,
        password: true,
        ..Invocation::default()
    };
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).expect("write");
    match source {
        Source::Flag => inv.args = vec!["--database-url".into(), url],
        Source::EnvVar => inv.env.push(("DATABASE_URL".into(), url)),
        Source::DotEnv => write(".env", format!("DATABASE_URL={url}\n")),
        Source::Components => write(
            "retort.toml",
            components(&format!("password = \"{password}\"")),
        ),
        Source::PasswordFile => {
            write("db-password", format!("{password}\n"));
            write("retort.toml", components("password_file = \"db-password\""));
        }
        Source::PasswordEnvInDotEnv => {
            write(".env", format!("APP_DB_PASSWORD={password}\n"));
            write(
                "retort.toml",
                components("password_env = \"APP_DB_PASSWORD\""),
            );
        }
        Source::RetortEnvVar => inv.env.push(("RETORT_DATABASE_URL".into(), url)),
        Source::TomlUrl => write("retort.toml", format!("[database]\nurl = \"{url}\"\n")),
        Source::Environment => {
            let staging = components(&format!("password = \"{password}\""))
                .replace("[database]", "[env.staging.database]");
            write(
                "retort.toml",
                format!("[database]\nurl = \"sqlite://nowhere.db\"\n{staging}"),
            );
            inv.args = vec!["--env".into(), "staging".into()];
        }
    }
    inv
}

/// Every verb, in an order that works on a fresh database, at `level`.
/// `inv` connects with the right password; `project` has the failing
/// third revision.
fn every_verb(inv: &Invocation, level: usize, secrets: &[String]) {
    use Expect::{Any, Failure, Success};
    let run = |args: &[&str], expect| check(inv, level, args, expect, secrets);
    run(&["init", "scaffold"], Success);
    // revision and merge in a copy of the project, so the history here stays.
    let scratch = tempfile::tempdir().expect("temp dir");
    copy_dir(&inv.dir, scratch.path());
    let scratch_inv = Invocation {
        dir: scratch.path().to_owned(),
        ..inv.clone()
    };
    let run_scratch = |args: &[&str], expect| check(&scratch_inv, level, args, expect, secrets);
    run_scratch(
        &[
            "revision",
            "-m",
            "branch",
            "--head",
            REV1,
            "--splice",
            "--rev-id",
            "b0b0b0b0b0b0",
        ],
        Success,
    );
    run_scratch(
        &["merge", "-m", "join", "--rev-id", "c0c0c0c0c0c0"],
        Success,
    );

    run(&["upgrade", "--sql", REV2], Success);
    let connecting = |args: &[&str], expect| {
        let out = run(args, expect);
        states_database(inv, level, args, &out);
    };
    connecting(&["upgrade", REV2], Success);
    connecting(&["current"], Success);
    connecting(&["current", "--json"], Success);
    if LEVELS[level].0 != "-q" {
        // `-q` and `-v` contradict each other (a usage error).
        connecting(&["current", "-v"], Success);
    }
    run(&["history"], Success);
    run(&["history", "--json"], Success);
    connecting(&["history", "-i"], Success);
    connecting(&["history", "-i", "--json"], Success);
    run(&["heads"], Success);
    run(&["heads", "--json"], Success);
    run(&["branches"], Success);
    run(&["branches", "--json"], Success);
    run(&["show", REV2], Success);
    run(&["show", REV2, "--json"], Success);
    connecting(&["check"], Any);
    connecting(&["check", "--json"], Any);
    run(&["stamp", "--sql", REV1], Success);
    connecting(&["stamp", REV1], Success);
    run(&["stamp", REV2], Success);
    run(&["downgrade", "--sql", &format!("{REV2}:base")], Success);
    // Failing runs.
    run(&["upgrade", "no_such_rev"], Failure);
    run(&["downgrade", "zzzz"], Failure);
    run(&["show", "no_such_rev"], Failure);
    run(&["stamp", "no_such_rev"], Failure);
    run(&["upgrade", "head"], Failure);
    run(&["repair"], Any);
    run(&["downgrade", "base"], Any);
    run(&["current"], Any);
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Runs `jobs` on threads; propagates a panic.
fn parallel(jobs: Vec<Box<dyn FnOnce() + Send + '_>>) {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|j| s.spawn(j)).collect();
        let mut first = None;
        for h in handles {
            if let Err(e) = h.join() {
                first.get_or_insert(e);
            }
        }
        if let Some(e) = first {
            std::panic::resume_unwind(e);
        }
    });
}

/// Every verb at every level (password in `retort.toml`), and every password
/// source with `upgrade`/`current` plus failing connections at the loud
/// levels.
fn server_matrix(backend: Backend) {
    let Some(server) = Server::new(backend) else {
        return;
    };
    let wrong = password("wr0ng");
    let secrets = vec![server.password.clone(), wrong.clone()];
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut jobs: Vec<Box<dyn FnOnce() + Send + '_>> = Vec::new();
        for level in 0..LEVELS.len() {
            let (server, secrets) = (&server, &secrets);
            jobs.push(Box::new(move || {
                let db = server.database();
                let dir = project(true);
                let inv = configure(
                    server,
                    Source::Components,
                    dir.path(),
                    &server.password,
                    &server.host_port,
                    &db,
                );
                every_verb(&inv, level, secrets);
            }));
        }
        for source in SOURCES {
            let (server, secrets, wrong) = (&server, &secrets, &wrong);
            jobs.push(Box::new(move || {
                let db = server.database();
                for (i, level) in LOUD_LEVELS.into_iter().enumerate() {
                    let good = project(false);
                    let inv = configure(
                        server,
                        source,
                        good.path(),
                        &server.password,
                        &server.host_port,
                        &db,
                    );
                    let up = if i % 2 == 0 { "head" } else { "base" };
                    let verb = if up == "head" { "upgrade" } else { "downgrade" };
                    check(&inv, level, &[verb, up], Expect::Success, secrets);
                    check(&inv, level, &["current"], Expect::Success, secrets);
                    // Wrong password against the real server.
                    let bad = project(false);
                    let inv = configure(server, source, bad.path(), wrong, &server.host_port, &db);
                    let expect = server.wrong_password;
                    for args in [&["upgrade"][..], &["current"]] {
                        let run = check(&inv, level, args, expect, secrets);
                        if expect == Expect::Failure {
                            says(&run, &["password authentication failed", "access denied"]);
                        }
                    }
                    // Nothing listening.
                    let closed = project(false);
                    let inv = configure(
                        server,
                        source,
                        closed.path(),
                        &server.password,
                        "127.0.0.1:1",
                        &db,
                    );
                    for args in [&["current"][..], &["stamp", "head"]] {
                        let run = check(&inv, level, args, Expect::Failure, secrets);
                        says(&run, &["refused", "connect"]);
                    }
                }
            }));
        }
        parallel(jobs);
    }));
    server.drop_all();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    eprintln!(
        "{backend:?}: {} runs checked, no secret in stdout/stderr (user {} on port {})",
        RUNS[backend as usize].load(Ordering::Relaxed),
        server.user,
        server.port()
    );
}

#[test]
fn postgres_password_never_printed() {
    server_matrix(Backend::Postgres);
}

#[test]
fn mysql_password_never_printed() {
    server_matrix(Backend::MySql);
}

/// SQLite needs no password: a `[vault]` token (file, `.env`) and secret id
/// that go unused (the URL comes from `.env`), then used against a closed
/// Vault port when no URL is set.
#[test]
fn sqlite_unused_vault_secrets_never_printed() {
    let token = format!("hvs.Sup3r-S3cret-T0ken-{}", unique(""));
    let env_token = format!("hvs.Sup3r-S3cret-EnvT0ken-{}", unique(""));
    let secret_id = format!("Sup3r-S3cret-Id-{}", unique(""));
    let secrets = vec![token.clone(), env_token.clone(), secret_id.clone()];
    let setup = |with_url: bool, approle: bool| {
        let dir = project(true);
        let auth = if approle {
            "[vault.auth]\nmethod = \"approle\"\nrole_id = \"r0le\"\nsecret_id_file = \"secret-id\"\n"
        } else {
            "[vault.auth]\ntoken_file = \"vault-token\"\n"
        };
        std::fs::write(
            dir.path().join("retort.toml"),
            format!(
                "[database]\ndriver = \"sqlite\"\ndatabase = \"app.db\"\n[vault]\naddress = \"http://127.0.0.1:1\"\nretries = 0\n{auth}[vault.secret]\npath = \"db/app\"\nurl_field = \"url\"\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("vault-token"), format!("{token}\n")).unwrap();
        std::fs::write(dir.path().join("secret-id"), format!("{secret_id}\n")).unwrap();
        let mut dotenv = format!("VAULT_TOKEN={env_token}\nVAULT_SECRET_ID={secret_id}\n");
        if with_url {
            dotenv.push_str(&format!(
                "DATABASE_URL=sqlite://{}\n",
                dir.path().join("app.db").display()
            ));
        }
        std::fs::write(dir.path().join(".env"), dotenv).unwrap();
        dir
    };
    let env_token = &env_token;
    let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = (0..LEVELS.len())
        .map(|level| {
            let (secrets, setup) = (&secrets, &setup);
            Box::new(move || {
                let dir = setup(true, false);
                let inv = Invocation {
                    dir: dir.path().to_owned(),
                    ..Invocation::default()
                };
                every_verb(&inv, level, secrets);
                for approle in [false, true] {
                    let dir = setup(false, approle);
                    let inv = Invocation {
                        dir: dir.path().to_owned(),
                        env: vec![("VAULT_TOKEN".into(), env_token.clone())],
                        ..Invocation::default()
                    };
                    let run = check(&inv, level, &["upgrade"], Expect::Failure, secrets);
                    says(&run, &["vault"]);
                    check(
                        &inv,
                        level,
                        &["current", "--json"],
                        Expect::Failure,
                        secrets,
                    );
                    check(
                        &inv,
                        level,
                        &["upgrade", "--sql", "--dialect", "sqlite"],
                        Expect::Any,
                        secrets,
                    );
                }
            }) as Box<dyn FnOnce() + Send + '_>
        })
        .collect();
    parallel(jobs);
    eprintln!(
        "SQLite: {} runs checked, no token or secret id in stdout/stderr",
        RUNS[SQLITE].load(Ordering::Relaxed)
    );
}

/// Vault auth in the CLI runs.
#[derive(Clone, Copy, Debug)]
enum Auth {
    TokenEnv,
    TokenFile,
    AppRole,
}

/// The database password comes from OpenBao (KV v2), the token from
/// `VAULT_TOKEN`, `[vault.auth] token_file` or AppRole: every connecting verb
/// at every level, and failures (wrong token, wrong secret id, a wrong
/// password in the secret).
#[test]
fn vault_tokens_and_passwords_never_printed() {
    let Some(addr) = required_var("RETORT_TEST_VAULT_ADDR", "Vault") else {
        return;
    };
    let Some(root) = required_var("RETORT_TEST_VAULT_TOKEN", "Vault") else {
        return;
    };
    let Some(server) = Server::new(Backend::Postgres) else {
        return;
    };
    let tag = unique("");
    let path = format!("retort/secrets-{tag}");
    let wrong_path = format!("retort/secrets-wrong-{tag}");
    let wrong = password("wr0ng");
    let policy = format!("retort-secrets-{tag}");
    let mount = format!("approle-secrets-{tag}");
    let put = |p: &str, pw: &str| {
        bao(
            &addr,
            &root,
            &[
                "kv",
                "put",
                &format!("secret/{p}"),
                &format!("username={}", server.user),
                &format!("password={pw}"),
            ],
        );
    };
    put(&path, &server.password);
    put(&wrong_path, &wrong);
    let policy_dir = tempfile::tempdir().unwrap();
    let policy_file = policy_dir.path().join("policy.hcl");
    std::fs::write(
        &policy_file,
        format!(
            "path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}\npath \"secret/data/{wrong_path}\" {{ capabilities = [\"read\"] }}\n"
        ),
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
    let token = bao(
        &addr,
        &root,
        &[
            "token",
            "create",
            &format!("-policy={policy}"),
            "-field=token",
        ],
    );
    bao(
        &addr,
        &root,
        &["auth", "enable", &format!("-path={mount}"), "approle"],
    );
    // Failed logins lock a role out (OpenBao user lockout), so the runs
    // with a wrong secret id use a role of their own.
    let role = |name: &str| {
        bao(
            &addr,
            &root,
            &[
                "write",
                &format!("auth/{mount}/role/{name}"),
                &format!("token_policies={policy}"),
                "token_ttl=5m",
            ],
        );
        bao(
            &addr,
            &root,
            &[
                "read",
                "-field=role_id",
                &format!("auth/{mount}/role/{name}/role-id"),
            ],
        )
    };
    let role_id = role("retort");
    let locked_role_id = role("retort-locked");
    // A secret id per level, as separate deployments would have.
    let new_secret_id = || {
        bao(
            &addr,
            &root,
            &[
                "write",
                "-f",
                "-field=secret_id",
                &format!("auth/{mount}/role/retort/secret-id"),
            ],
        )
    };
    let secret_ids: Vec<String> = (0..LEVELS.len()).map(|_| new_secret_id()).collect();
    let wrong_token = format!("hvs.Sup3r-S3cret-Wr0ngT0ken-{tag}");
    let wrong_secret_id = format!("Sup3r-S3cret-Wr0ngId-{tag}");
    let secrets = vec![
        server.password.clone(),
        wrong.clone(),
        root.clone(),
        token.clone(),
        wrong_token.clone(),
        wrong_secret_id.clone(),
    ]
    .into_iter()
    .chain(secret_ids.iter().cloned())
    .collect::<Vec<_>>();
    let (host, port) = server.host_port.rsplit_once(':').unwrap();
    let setup = |auth: Auth, db: &str, secret_path: &str, tok: &str, sid: &str| {
        let dir = project(true);
        let auth_toml = match auth {
            Auth::TokenEnv => String::new(),
            Auth::TokenFile => "[vault.auth]\ntoken_file = \"vault-token\"\n".to_owned(),
            Auth::AppRole => format!(
                "[vault.auth]\nmethod = \"approle\"\nmount = \"{mount}\"\nrole_id_env = \"APP_ROLE_ID\"\nsecret_id_file = \"secret-id\"\n"
            ),
        };
        std::fs::write(
            dir.path().join("retort.toml"),
            format!(
                "[database]\ndriver = \"postgres\"\nhost = \"{host}\"\nport = {port}\ndatabase = \"{db}\"\n[vault]\naddress = \"{addr}\"\n{auth_toml}[vault.secret]\npath = \"{secret_path}\"\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("vault-token"), format!("{tok}\n")).unwrap();
        std::fs::write(dir.path().join("secret-id"), format!("{sid}\n")).unwrap();
        let role_id = if sid == wrong_secret_id {
            &locked_role_id
        } else {
            &role_id
        };
        let mut env = vec![("APP_ROLE_ID".to_owned(), role_id.clone())];
        if matches!(auth, Auth::TokenEnv) {
            env.push(("VAULT_TOKEN".to_owned(), tok.to_owned()));
        }
        let inv = Invocation {
            dir: dir.path().to_owned(),
            env,
            suite: VAULT,
            password: true,
            ..Invocation::default()
        };
        (dir, inv)
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut jobs: Vec<Box<dyn FnOnce() + Send + '_>> = Vec::new();
        for auth in [Auth::TokenEnv, Auth::TokenFile, Auth::AppRole] {
            for (level, secret_id) in secret_ids.iter().enumerate() {
                let (server, secrets, setup) = (&server, &secrets, &setup);
                let (path, wrong_path, token) = (&path, &wrong_path, &token);
                let (wrong_token, wrong_secret_id) = (&wrong_token, &wrong_secret_id);
                jobs.push(Box::new(move || {
                    use Expect::{Any, Failure, Success};
                    let db = server.database();
                    let (_dir, inv) = setup(auth, &db, path, token, secret_id);
                    let run = |args: &[&str], expect| check(&inv, level, args, expect, secrets);
                    run(
                        &["upgrade", "--sql", "--dialect", "postgres", REV2],
                        Success,
                    );
                    let connecting = |args: &[&str], expect| {
                        states_database(&inv, level, args, &run(args, expect));
                    };
                    connecting(&["upgrade", REV2], Success);
                    connecting(&["current"], Success);
                    connecting(&["current", "--json"], Success);
                    connecting(&["history", "-i"], Success);
                    run(&["history", "-i", "--json"], Success);
                    run(&["check"], Any);
                    run(&["check", "--json"], Any);
                    run(&["stamp", REV1], Success);
                    run(&["stamp", "--sql", "--dialect", "postgres", REV2], Success);
                    run(
                        &[
                            "downgrade",
                            "--sql",
                            "--dialect",
                            "postgres",
                            &format!("{REV2}:base"),
                        ],
                        Success,
                    );
                    run(&["upgrade", "head"], Failure);
                    run(&["repair"], Any);
                    run(&["downgrade", "base"], Success);
                    // A wrong password in the secret.
                    let (_d, inv) = setup(auth, &db, wrong_path, token, secret_id);
                    let expect = server.wrong_password;
                    for args in [&["upgrade"][..], &["current", "--json"]] {
                        let run = check(&inv, level, args, expect, secrets);
                        if expect == Failure {
                            says(&run, &["password authentication failed"]);
                        }
                    }
                    // A wrong token / secret id.
                    let (_d, inv) = setup(auth, &db, path, wrong_token, wrong_secret_id);
                    for args in [&["upgrade"][..], &["stamp", "head"]] {
                        let run = check(&inv, level, args, Failure, secrets);
                        says(&run, &["permission denied", "secret id", "403", "400"]);
                    }
                }));
            }
        }
        // Dynamic credentials (database secrets engine) whose password
        // policy makes the password known: 24 times `q`.
        let (server, secrets, addr, root) = (&server, &secrets, &addr, &root);
        jobs.push(Box::new(move || {
            use Expect::{Any, Failure, Success};
            let db = server.database();
            let mount = format!("db-secrets-{}", unique(""));
            let policy = format!("retort-q-{}", unique(""));
            bao(
                addr,
                root,
                &[
                    "write",
                    &format!("sys/policies/password/{policy}"),
                    "policy=length = 24\nrule \"charset\" {\n  charset = \"q\"\n}\n",
                ],
            );
            bao(addr, root, &["secrets", "enable", &format!("-path={mount}"), "database"]);
            bao(
                addr,
                root,
                &[
                    "write",
                    &format!("{mount}/config/pg"),
                    "plugin_name=postgresql-database-plugin",
                    &format!(
                        "connection_url=postgresql://{{{{username}}}}:{{{{password}}}}@{}/{db}?sslmode=disable",
                        server.host_port
                    ),
                    "username=postgres",
                    "password=unused-trust-auth",
                    "allowed_roles=*",
                    &format!("password_policy={policy}"),
                ],
            );
            bao(
                addr,
                root,
                &[
                    "write",
                    &format!("{mount}/roles/retort"),
                    "db_name=pg",
                    "creation_statements=CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' SUPERUSER;",
                    "revocation_statements=REASSIGN OWNED BY \"{{name}}\" TO postgres; DROP OWNED BY \"{{name}}\"; DROP ROLE IF EXISTS \"{{name}}\";",
                    "default_ttl=10m",
                ],
            );
            // The policy applies: the password is the one checked for.
            let creds = format!("{mount}/creds/retort");
            let password = bao(addr, root, &["read", "-field=password", &creds]);
            assert_eq!(password, "q".repeat(24));
            bao(addr, root, &["lease", "revoke", "-prefix", &creds]);
            let dir = project(true);
            std::fs::write(
                dir.path().join("retort.toml"),
                format!(
                    "[database]\ndriver = \"postgres\"\nhost = \"{host}\"\nport = {port}\ndatabase = \"{db}\"\n[vault]\naddress = \"{addr}\"\n[vault.secret]\nengine = \"database\"\nmount = \"{mount}\"\nrole = \"retort\"\n"
                ),
            )
            .unwrap();
            let inv = Invocation {
                dir: dir.path().to_owned(),
                env: vec![("VAULT_TOKEN".to_owned(), root.clone())],
                suite: VAULT,
                password: true,
                ..Invocation::default()
            };
            let mut secrets = secrets.clone();
            secrets.push("q".repeat(24));
            for (level, (level_name, ..)) in LEVELS.iter().enumerate() {
                let run = |args: &[&str], expect| check(&inv, level, args, expect, &secrets);
                run(&["upgrade", REV2], Success);
                let json = run(&["current", "--json"], Success);
                states_database(&inv, level, &["current", "--json"], &json);
                // The user Vault issued, not the one of the settings.
                if *level_name != "-q" {
                    assert!(
                        json.stderr.contains("Database: postgres://v-"),
                        "{}",
                        json.stderr
                    );
                }
                run(&["history", "-i"], Success);
                run(&["upgrade", "head"], Failure);
                run(&["repair"], Any);
                run(&["downgrade", "base"], Success);
            }
        }));
        parallel(jobs);
    }));
    server.drop_all();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    eprintln!(
        "Vault: {} runs checked, no token, secret id or password in stdout/stderr",
        RUNS[VAULT].load(Ordering::Relaxed)
    );
}

/// One malformed-settings case: `--database-url`, `retort.toml`, `.env`,
/// variables and global arguments.
#[derive(Clone, Default)]
struct Case {
    url: Option<String>,
    toml: Option<String>,
    dotenv: Option<String>,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

/// Malformed settings and URLs that carry a secret, at every level: the
/// error names the fault without echoing the secret (no server needed).
#[test]
fn malformed_settings_never_echo_secrets() {
    use Expect::{Any, Failure};
    let pw = password(&unique(""));
    let enc = encode(&pw);
    let token = format!("hvs.Sup3r-S3cret-T0ken-{}", unique(""));
    let secrets = vec![pw.clone(), token.clone()];
    let flag = |url: String| Case {
        url: Some(url),
        ..Case::default()
    };
    let toml = |text: String| Case {
        toml: Some(text),
        ..Case::default()
    };
    let dotenv = |text: String| Case {
        dotenv: Some(text),
        ..Case::default()
    };
    let vault_toml = |address: &str| {
        format!(
            "[database]\ndriver = \"postgres\"\nhost = \"h\"\n[vault]\naddress = \"{address}\"\nretries = 0\n[vault.secret]\npath = \"p\"\n"
        )
    };
    let cases: Vec<(&str, Case)> = vec![
        (
            "bad port",
            flag(format!("postgres://u:{enc}@127.0.0.1:notaport/db")),
        ),
        (
            "unsupported scheme",
            flag(format!("oracle://u:{enc}@127.0.0.1/db")),
        ),
        (
            "password parameter",
            flag(format!("postgres://u@127.0.0.1:1/db?password={enc}")),
        ),
        (
            "bad percent-encoding",
            flag("postgres://u:Sup3r-S3cret-Pw%zz@127.0.0.1:1/db".to_owned()),
        ),
        ("no host", flag(format!("postgres://u:{enc}@/db"))),
        ("no scheme", flag(format!("u:{enc}@127.0.0.1/db"))),
        (
            "bad sslmode",
            flag(format!("postgres://u:{enc}@127.0.0.1:1/db?sslmode=bogus")),
        ),
        (
            "bad MySQL parameter",
            flag(format!("mysql://u:{enc}@127.0.0.1:1/db?ssl-mode=bogus")),
        ),
        (
            "closed MySQL port",
            flag(format!("mysql://u:{enc}@127.0.0.1:1/db")),
        ),
        (
            "SQLite with a password",
            flag(format!("sqlite://u:{enc}@/nonexistent/dir/x.db")),
        ),
        (
            "settings typo",
            toml(format!("[database]\npasword = \"{pw}\"\n")),
        ),
        (
            "unterminated string",
            toml(format!(
                "[database]\ndriver = \"postgres\"\npassword = \"{pw}\n"
            )),
        ),
        (
            "url and password",
            toml(format!(
                "[database]\nurl = \"postgres://u:{enc}@h/db\"\npassword = \"{pw}\"\n"
            )),
        ),
        (
            "bad url in settings",
            toml(format!("[database]\nurl = \"postgres://u:{enc}@h:x/db\"\n")),
        ),
        (
            "unknown environment",
            Case {
                args: vec!["--env".into(), "prod".into()],
                ..toml(format!(
                    "[env.staging.database]\ndriver = \"postgres\"\nhost = \"h\"\npassword = \"{pw}\"\n"
                ))
            },
        ),
        (
            "token in settings",
            toml(format!(
                "{}[vault.auth]\ntoken = \"{token}\"\n",
                vault_toml("http://127.0.0.1:1")
            )),
        ),
        (
            "bad vault address",
            Case {
                env: vec![("VAULT_TOKEN".to_owned(), token.clone())],
                ..toml(vault_toml("not a url"))
            },
        ),
        (
            "vault down",
            Case {
                dotenv: Some(format!("BAO_TOKEN={token}\n")),
                ..toml(vault_toml("http://127.0.0.1:1"))
            },
        ),
        (
            "space in .env",
            dotenv(format!("DATABASE_URL=postgres://u:{pw} x@h/db\n")),
        ),
        (
            "unterminated .env quote",
            dotenv(format!("DATABASE_URL=\"postgres://u:{enc}@h/db\n")),
        ),
        ("garbage .env line", dotenv(format!("{pw} garbage\n"))),
        (
            "bad port in DATABASE_URL",
            Case {
                env: vec![(
                    "DATABASE_URL".to_owned(),
                    format!("postgres://u:{enc}@127.0.0.1:99999/db"),
                )],
                ..Case::default()
            },
        ),
    ];
    let cases = &cases;
    let secrets = &secrets;
    let jobs: Vec<Box<dyn FnOnce() + Send + '_>> = (0..LEVELS.len())
        .map(|level| {
            Box::new(move || {
                for (_name, case) in cases {
                    let dir = project(false);
                    let mut inv = Invocation {
                        dir: dir.path().to_owned(),
                        env: case.env.clone(),
                        args: case.args.clone(),
                        suite: MALFORMED,
                        password: false,
                    };
                    if let Some(url) = &case.url {
                        inv.args = vec!["--database-url".into(), url.clone()];
                    }
                    if let Some(text) = &case.toml {
                        std::fs::write(dir.path().join("retort.toml"), text).unwrap();
                    }
                    if let Some(text) = &case.dotenv {
                        std::fs::write(dir.path().join(".env"), text).unwrap();
                    }
                    check(&inv, level, &["current"], Failure, secrets);
                    check(&inv, level, &["upgrade"], Failure, secrets);
                    check(&inv, level, &["stamp", "head"], Failure, secrets);
                    check(&inv, level, &["upgrade", "--sql"], Any, secrets);
                    check(&inv, level, &["history", "--json"], Any, secrets);
                }
            }) as Box<dyn FnOnce() + Send + '_>
        })
        .collect();
    parallel(jobs);
    eprintln!(
        "malformed settings: {} runs checked, no secret in stdout/stderr",
        RUNS[MALFORMED].load(Ordering::Relaxed)
    );
}
