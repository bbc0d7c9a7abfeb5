//! Offline mode (`--sql`): the script `retort upgrade|downgrade|stamp
//! --sql` prints for a branched and merged history, piped into `psql`,
//! `mariadb` and `sqlite3` on an empty database, leaves the same version
//! table, history and tables as the online command on another fresh
//! database, and the online engine accepts the result (`check` passes).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use common::cli::command;
use common::{Backend, TestDb};

/// A branch point (`a1` into `b2` and `c3`), a merge (`d4`), a
/// non-transactional revision (`c3`) and text that needs escaping in the
/// history table's literals (quotes, a backslash).
const REVISIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "aaaa0001",
        "",
        "",
        "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(50));",
        "DROP TABLE users;",
    ),
    (
        "bbbb0002",
        "aaaa0001",
        "",
        "CREATE TABLE posts (id INT PRIMARY KEY, body VARCHAR(100));\nINSERT INTO posts (id, body) VALUES (1, 'it''s a \"post\"');",
        "DELETE FROM posts WHERE body = 'it''s a \"post\"';\n-- a path: C:\\temp\\x\nDROP TABLE posts;",
    ),
    (
        "cccc0003",
        "aaaa0001",
        "-- Transactional: false",
        "CREATE TABLE tags (id INT PRIMARY KEY);",
        "DROP TABLE tags;",
    ),
    (
        "dddd0004",
        "bbbb0002 cccc0003",
        "",
        "CREATE TABLE links (id INT PRIMARY KEY);",
        "DROP TABLE links;",
    ),
    (
        "eeee0005",
        "dddd0004",
        "",
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);",
        "ALTER TABLE users DROP COLUMN email;",
    ),
];

fn dialect(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        Backend::MySql => "mysql",
    }
}

/// Runs `retort ARGS --migrations DIR` and returns stdout, asserting success.
fn run(dir: &Path, args: &[&str]) -> String {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = command(cwd.path())
        .args(args)
        .arg("--migrations")
        .arg(dir)
        .output()
        .expect("run retort");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "retort {args:?} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    stdout
}

/// The offline script of `args` (`--sql --dialect` added).
fn script(dir: &Path, backend: Backend, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--sql", "--dialect", dialect(backend)]);
    run(dir, &all)
}

/// Runs the online verb against `db`.
fn online(dir: &Path, db: &TestDb, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--database-url", &db.url]);
    run(dir, &all)
}

/// `check --json` finds every history row hashed as the engine hashes it
/// and linked: what the script wrote verifies.
fn assert_chain_holds(dir: &Path, db: &TestDb) {
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = command(cwd.path())
        .args(["check", "--json", "--database-url", &db.url, "--migrations"])
        .arg(dir)
        .output()
        .expect("run retort");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("check --json");
    assert_eq!(json["history"]["broken"], serde_json::Value::Null, "{json}");
    assert_eq!(json["history"]["unchained"], 0, "{json}");
}

/// `user`, `password`, `host`, `port`, `database` of a `mysql://` URL.
fn mysql_parts(url: &str) -> (String, Option<String>, String, String, String) {
    let rest = url.split_once("://").expect("scheme").1;
    let rest = rest.split('?').next().unwrap_or_default();
    let (userinfo, hostpath) = rest.rsplit_once('@').unwrap_or(("root", rest));
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
        None => (userinfo.to_owned(), None),
    };
    let (hostport, database) = hostpath.split_once('/').unwrap_or((hostpath, ""));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    (
        user,
        password,
        host.to_owned(),
        port.to_owned(),
        database.to_owned(),
    )
}

/// Pipes `script` into the backend's command-line client on `db`.
fn apply(db: &TestDb, script: &str) {
    let mut cmd = match db.backend {
        Backend::Sqlite => {
            let path = db
                .url
                .strip_prefix("sqlite://")
                .expect("sqlite:// URL")
                .to_owned();
            let mut cmd = Process::new("sqlite3");
            cmd.args(["-bail", &path]);
            cmd
        }
        Backend::Postgres => {
            let mut cmd = Process::new("psql");
            cmd.args([&db.url, "-X", "-q", "-v", "ON_ERROR_STOP=1"]);
            cmd
        }
        Backend::MySql => {
            let (user, password, host, port, database) = mysql_parts(&db.url);
            let mut cmd = Process::new("mariadb");
            cmd.args(["--protocol=tcp", "-h", &host, "-P", &port, "-u", &user]);
            if let Some(password) = password {
                cmd.arg(format!("-p{password}"));
            }
            cmd.arg(database);
            cmd
        }
    };
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the database's command-line client");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let out = child.wait_with_output().expect("wait for the client");
    assert!(
        out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("ERROR"),
        "the {:?} client rejected the script ({:?}):\n{}\n--- script ---\n{script}",
        db.backend,
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Version rows, history rows, tables: what must be equal.
async fn state(db: &TestDb) -> Vec<Vec<String>> {
    let mut all = vec![
        db.query_strings("SELECT version_num FROM retort_version ORDER BY version_num")
            .await,
        db.tables().await,
    ];
    for column in [
        "revision",
        "operation",
        "status",
        "parents",
        "checksum",
        "lineage",
        "COALESCE(downgrade_sql, '')",
        // The hash chain: every row hashed and linked to the row before it
        // (the hashes differ between databases: each row has a nonce).
        "CASE WHEN row_hash IS NULL THEN 'unhashed' \
         WHEN prev_hash = COALESCE((SELECT p.row_hash FROM retort_history p WHERE p.id < h.id \
         ORDER BY p.id DESC LIMIT 1), '') THEN 'linked' ELSE 'unlinked' END",
    ] {
        all.push(
            db.query_strings(&format!(
                "SELECT {column} FROM retort_history h ORDER BY id"
            ))
            .await,
        );
    }
    all
}

async fn assert_same(offline: &TestDb, online: &TestDb, what: &str) {
    let (a, b) = (state(offline).await, state(online).await);
    assert_eq!(a, b, "{what}: offline script and online run differ");
}

async fn upgrade_and_downgrade_scripts(db: &TestDb) {
    let other = db.sibling().await;
    let dir = common::write_revisions(REVISIONS);
    let dir = dir.path();

    let up = script(dir, db.backend, &["upgrade", "head"]);
    assert!(
        up.contains("-- Running upgrade bbbb0002, cccc0003 -> dddd0004"),
        "{up}"
    );
    apply(db, &up);
    online(dir, &other, &["upgrade", "head"]);
    assert_same(db, &other, "upgrade head").await;
    assert_eq!(
        db.query_strings("SELECT version_num FROM retort_version")
            .await,
        ["eeee0005"]
    );
    // The online engine accepts what the script recorded: no drift, at head.
    online(dir, db, &["check"]);
    let current = online(dir, db, &["current"]);
    assert!(current.contains("eeee0005 (head)"), "{current}");

    // A range from a revision: only what is above it.
    let partial = script(dir, db.backend, &["upgrade", "dddd0004:head"]);
    assert!(
        partial.contains("-> eeee0005") && !partial.contains("-> dddd0004"),
        "{partial}"
    );

    let down = script(dir, db.backend, &["downgrade", "head:base"]);
    apply(db, &down);
    online(dir, &other, &["downgrade", "base"]);
    assert_same(db, &other, "downgrade head:base").await;
    assert_chain_holds(dir, db);
    assert!(
        db.query_strings("SELECT version_num FROM retort_version")
            .await
            .is_empty()
    );
    other.drop_db().await;
}

async fn stamp_scripts(db: &TestDb) {
    let other = db.sibling().await;
    let dir = common::write_revisions(REVISIONS);
    let dir = dir.path();

    apply(
        db,
        &script(dir, db.backend, &["stamp", "bbbb0002", "cccc0003"]),
    );
    online(dir, &other, &["stamp", "bbbb0002", "cccc0003"]);
    assert_same(db, &other, "stamp of two branches").await;
    assert_chain_holds(dir, db);
    assert_eq!(
        db.query_strings("SELECT version_num FROM retort_version ORDER BY version_num")
            .await,
        ["bbbb0002", "cccc0003"]
    );

    apply(
        db,
        &script(dir, db.backend, &["stamp", "--purge", "aaaa0001"]),
    );
    online(dir, &other, &["stamp", "--purge", "aaaa0001"]);
    assert_same(db, &other, "stamp --purge").await;

    // From the stamped revision, an offline upgrade range applies on top.
    // (`aaaa0001` was stamped, not run: create its table as a DBA would.)
    for d in [db, &other] {
        d.execute("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(50))")
            .await;
    }
    apply(db, &script(dir, db.backend, &["upgrade", "aaaa0001:head"]));
    online(dir, &other, &["upgrade", "head"]);
    assert_eq!(
        db.query_strings("SELECT version_num FROM retort_version")
            .await,
        ["eeee0005"]
    );
    online(dir, db, &["check"]);
    other.drop_db().await;
}

backend_tests!(upgrade_and_downgrade_scripts, stamp_scripts);

#[test]
fn the_dialect_comes_from_the_url_which_is_never_printed_nor_connected_to() {
    let dir = common::write_revisions(REVISIONS);
    // Nothing listens on port 9: connecting would fail.
    let url = "mysql://app:s3cret@127.0.0.1:9/app";
    let out = run(dir.path(), &["upgrade", "--sql", "--database-url", url]);
    assert!(
        out.contains("CREATE TABLE IF NOT EXISTS `retort_version`"),
        "{out}"
    );
    assert!(
        !out.contains("s3cret") && !out.contains("127.0.0.1"),
        "{out}"
    );
}

#[test]
fn offline_mode_without_a_dialect_or_url_says_what_to_do() {
    let dir = common::write_revisions(REVISIONS);
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = command(cwd.path())
        .args(["upgrade", "--sql", "--migrations"])
        .arg(dir.path())
        .output()
        .expect("run retort");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--dialect"), "{stderr}");
}

#[test]
fn offline_downgrade_needs_a_starting_point() {
    let dir = common::write_revisions(REVISIONS);
    let cwd = tempfile::tempdir().expect("temp dir");
    let out = command(cwd.path())
        .args([
            "downgrade",
            "base",
            "--sql",
            "--dialect",
            "sqlite",
            "--migrations",
        ])
        .arg(dir.path())
        .output()
        .expect("run retort");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("START:END"), "{stderr}");
}

#[test]
fn history_rows_escape_quotes_and_backslashes_per_dialect() {
    let dir = common::write_revisions(REVISIONS);
    let my = script(dir.path(), Backend::MySql, &["upgrade", "head"]);
    assert!(
        my.contains(r#"'DELETE FROM posts WHERE body = ''it''''s a "post"'';"#),
        "{my}"
    );
    assert!(my.contains(r"C:\\temp\\x"), "{my}");
    let pg = script(dir.path(), Backend::Postgres, &["upgrade", "head"]);
    assert!(pg.contains(r"E'DELETE FROM posts"), "{pg}");
    assert!(pg.contains(r"C:\\temp\\x"), "{pg}");
    let lite = script(dir.path(), Backend::Sqlite, &["upgrade", "head"]);
    assert!(lite.contains(r"C:\temp\x"), "{lite}");
    // The non-transactional revision runs outside BEGIN ... COMMIT.
    let tags = lite.find("CREATE TABLE tags").expect("tags");
    let before = &lite[..tags];
    assert!(before.rfind("COMMIT;") > before.rfind("BEGIN;"), "{lite}");
}
