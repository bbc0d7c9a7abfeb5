//! SQLite database files through the `retort` binary and the library (issue
//! 10): which file a URL names (item 3); a migrator waiting for another's
//! long revision (item 12); the lock taken on the database's real identity,
//! whatever link leads to it (item 13); and nothing left beside the
//! database, a read-only directory explained (item 14).
//!
//! A migration is kept "inside a revision" by a gate the test controls:
//! the test holds a read transaction open on the database, so the gated
//! revision's COMMIT waits for it (its busy timeout is raised in the
//! revision). Meanwhile that migrator holds SQLite's PENDING lock, which
//! turns every new reader away: the state of a migrator committing a long
//! revision. Nothing here asserts on elapsed time; the timeouts are safety
//! nets, and every wait is on a condition.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/reliability/mod.rs"]
mod reliability;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::cli::{LEAKY_VARS, Run, retort};
use common::{Backend, TestDb, write_revisions};
use reliability::{
    BEFORE_GATE, GATED, SAFETY, bounded, child_outcome, gated_revisions, log, spawn_child,
    sqlite_file, sqlite_lock_held, sqlite_lock_name, wait_until,
};
use retort::{Config, Error, Migrations, Report};
use sqlx::Connection as _;

/// A project directory with one revision.
fn project() -> tempfile::TempDir {
    common::cli::project(&[(
        "5eed00000001",
        "",
        "CREATE TABLE seeded (id INTEGER PRIMARY KEY);",
        "DROP TABLE seeded;",
    )])
}

/// Removes a database file at the filesystem root (and SQLite's side
/// files) when the test ends, even if it failed.
struct RootFile(PathBuf);

impl Drop for RootFile {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm", ".retort-lock"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Issue 10, item 3: `sqlite:///app.db`, SQLAlchemy's spelling of a
/// relative path, created `/app.db`. It is refused with both spellings,
/// and each spelling does what the message says.
#[test]
fn a_new_file_at_the_root_is_refused_with_both_spellings() {
    let dir = project();
    let name = format!(
        "retort-root-test-{}-{}.db",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let root_file = RootFile(Path::new("/").join(&name));
    assert!(!root_file.0.exists());
    let sqlalchemy = format!("sqlite:///{name}");
    let relative = format!("sqlite://{name}");
    let root = format!("sqlite:///{name}?mode=rwc");

    retort(dir.path(), &["--database-url", &sqlalchemy, "upgrade"])
        .code(1)
        .mentions(&[
            &format!("invalid database URL `{sqlalchemy}`: it names `/{name}`, a new file at the root of the filesystem"),
            &format!("For `{name}` in the current directory, use `{relative}`"),
            &format!("to create `/{name}` itself, use `{root}`"),
        ]);
    assert!(
        !root_file.0.exists(),
        "{} was created",
        root_file.0.display()
    );

    // The first spelling: the file in the current directory.
    retort(dir.path(), &["--database-url", &relative, "upgrade"]).code(0);
    assert!(dir.path().join(&name).exists());

    // The second: the file at the root, where this user may write there.
    let probe = Path::new("/").join(format!("{name}.probe"));
    if std::fs::write(&probe, b"").is_err() {
        eprintln!("SKIPPED: `/` is not writable here, so `{root}` was not run");
        return;
    }
    let _ = std::fs::remove_file(&probe);
    retort(dir.path(), &["--database-url", &root, "upgrade"]).code(0);
    assert!(root_file.0.exists());
    // Once it exists, the plain spelling opens it.
    retort(dir.path(), &["--database-url", &sqlalchemy, "current"])
        .code(0)
        .mentions(&["5eed00000001"]);
}

/// The library refuses the same URL (the CLI and a service share the
/// check), and an explicit `mode` is sqlx's, as written: `mode=rw` does
/// not create a missing file.
#[test]
fn the_library_refuses_it_too_and_an_explicit_mode_is_kept() {
    let dir = project();
    let migrations = retort::Migrations::from_dir(dir.path().join("migrations")).expect("load");
    let name = format!("retort-root-lib-{}.db", std::process::id());
    let _guard = RootFile(Path::new("/").join(&name));
    let err = migrations
        .blocking()
        .upgrade(&format!("sqlite:///{name}"), "head")
        .unwrap_err();
    assert!(
        matches!(err, retort::Error::InvalidUrl { .. }),
        "{err:?}: {err}"
    );
    assert!(!Path::new("/").join(&name).exists());

    let missing = dir.path().join("missing.db");
    let err = migrations
        .blocking()
        .upgrade(&format!("sqlite://{}?mode=rw", missing.display()), "head")
        .unwrap_err();
    assert!(matches!(err, retort::Error::Connect { .. }), "{err:?}");
    assert!(!missing.exists());
}

// ---------------------------------------------------------------------------
// Gated migrations (items 12 and 13)
// ---------------------------------------------------------------------------

const CHILD_TEST: &str = "sqlite_files_child";

/// Not a test on its own: the child process of the tests below.
#[test]
fn sqlite_files_child() {
    reliability::child_main();
}

fn load(dir: &tempfile::TempDir) -> Arc<Migrations> {
    Arc::new(Migrations::from_dir(dir.path()).expect("the test revisions load"))
}

async fn connect(url: &str, busy_timeout: Duration) -> sqlx::SqliteConnection {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .expect("SQLite URL")
        .busy_timeout(busy_timeout);
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("connect")
}

/// The test's read transaction: a migrator's COMMIT waits until it ends.
struct ReaderGate(sqlx::SqliteConnection);

impl ReaderGate {
    async fn close(db: &TestDb) -> Self {
        let mut conn = connect(&db.url, Duration::from_secs(5)).await;
        sqlx::raw_sql("BEGIN; SELECT n FROM gate;")
            .execute(&mut conn)
            .await
            .expect("open the read transaction");
        Self(conn)
    }

    async fn open(self) {
        let Self(mut conn) = self;
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut conn)
            .await
            .expect("end the read transaction");
        conn.close().await.expect("close");
    }
}

/// True while a writer holds SQLite's PENDING (or EXCLUSIVE) lock: a new
/// reader is turned away at once.
async fn readers_turned_away(db: &TestDb) -> bool {
    let mut conn = connect(&db.url, Duration::ZERO).await;
    let result = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master")
        .fetch_one(&mut conn)
        .await;
    let _ = conn.close().await;
    match result {
        Ok(_) => false,
        Err(sqlx::Error::Database(e)) if e.message().contains("database is locked") => true,
        Err(e) => panic!("probing the database: {e}"),
    }
}

/// Upgrades `db` to the revision before the gate, closes the gate, and
/// starts `upgrade head` in a task; returns once that migrator holds the
/// migration lock and is committing the gated revision.
async fn first_migrator_at_gate(
    db: &TestDb,
    migrations: &Arc<Migrations>,
) -> (ReaderGate, tokio::task::JoinHandle<Result<Report, Error>>) {
    bounded(
        "the upgrade to the revision before the gate",
        migrations.upgrade(db.url.as_str(), BEFORE_GATE),
    )
    .await
    .expect("upgrade to the revision before the gate");
    let gate = ReaderGate::close(db).await;
    let (m, url) = (Arc::clone(migrations), db.url.clone());
    let first = tokio::spawn(async move {
        m.with_config(Config::default().lock_timeout(SAFETY))
            .upgrade(url.as_str(), "head")
            .await
    });
    wait_until("the first migrator commits the gated revision", || {
        readers_turned_away(db)
    })
    .await;
    assert!(sqlite_lock_held(&sqlite_file(db)));
    assert!(!first.is_finished());
    (gate, first)
}

/// Opens the gate and checks that the first migrator applied the rest,
/// each revision once. Whether the lock is free afterwards is the caller's
/// to check: another migrator waiting for it takes it at once.
async fn finish(
    db: &TestDb,
    migrations: &Migrations,
    gate: ReaderGate,
    first: tokio::task::JoinHandle<Result<Report, Error>>,
) {
    gate.open().await;
    let report = bounded("the first migrator", first)
        .await
        .expect("the first migrator's task")
        .expect("the first migrator succeeds once the gate opens");
    let applied: Vec<&str> = report.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(applied, GATED[2..]);
    assert_applied_once(db, migrations, &GATED).await;
}

/// Each of `ids` applied once: one history row, one `applied_log` row.
async fn assert_applied_once(db: &TestDb, migrations: &Migrations, ids: &[&str]) {
    let history = migrations.history(db.url.as_str()).await.expect("history");
    let mut upgrades: Vec<&str> = history
        .iter()
        .filter(|h| h.operation == "upgrade" && h.status == "applied")
        .map(|h| h.revision.as_str())
        .collect();
    upgrades.sort_unstable();
    assert_eq!(upgrades, ids, "history: {history:#?}");
    assert_eq!(history.len(), ids.len(), "history: {history:#?}");
    assert_eq!(
        db.query_strings("SELECT rev FROM applied_log ORDER BY rev")
            .await,
        ids,
        "each revision's SQL must have run exactly once"
    );
}

/// A `retort` process whose stderr is read as it comes.
struct Process {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Process {
    fn spawn(dir: &Path, args: &[&str]) -> Self {
        let exe = assert_cmd::cargo::cargo_bin("retort");
        let mut cmd = Command::new(exe);
        cmd.current_dir(dir)
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in LEAKY_VARS {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().expect("spawn retort");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().expect("stderr buffer");
                text.push_str(&line);
                text.push('\n');
            }
        });
        Self {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    fn exited(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_some()
    }

    /// Waits for the exit (bounded by the safety timeout).
    async fn finish(mut self) -> (Option<i32>, String, String) {
        let mut status = None;
        wait_until("the retort process exits", || {
            status = self.child.try_wait().expect("try_wait");
            std::future::ready(status.is_some())
        })
        .await;
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the stderr reader");
        }
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            std::io::Read::read_to_string(&mut out, &mut stdout).expect("read stdout");
        }
        (status.and_then(|s| s.code()), stdout, self.stderr())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 10, item 12: while one migrator commits a revision longer than
/// SQLite's busy timeout (5 s), a second one failed with `reading the
/// version table failed: database is locked`, whatever its lock timeout.
/// Now it waits for the migration lock (up to its lock timeout), then finds
/// nothing left to do. The second migrator is the `retort` binary, another
/// process; its `-v` log says when it waits for the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_migrator_waits_for_a_long_revision() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let dir = gated_revisions(Backend::Sqlite);
    let migrations = load(&dir);
    let (gate, first) = first_migrator_at_gate(&db, &migrations).await;

    let cwd = tempfile::tempdir().expect("temp dir");
    std::fs::write(cwd.path().join("retort.toml"), "lock_timeout = \"2m\"\n")
        .expect("write retort.toml");
    let revisions = dir.path().display().to_string();
    let mut second = Process::spawn(
        cwd.path(),
        &[
            "-v",
            "--database-url",
            &db.url,
            "--migrations",
            &revisions,
            "upgrade",
        ],
    );
    wait_until("the second migrator waits for the migration lock", || {
        let waiting = second
            .stderr()
            .contains("waiting for the migration lock held by another process");
        std::future::ready(waiting || second.exited())
    })
    .await;
    assert!(
        !second.exited(),
        "the second migrator gave up instead of waiting for the lock:\n{}",
        second.stderr()
    );
    assert!(
        second
            .stderr()
            .contains(&sqlite_lock_name(&sqlite_file(&db))),
        "{}",
        second.stderr()
    );

    finish(&db, &migrations, gate, first).await;
    let (code, stdout, stderr) = second.finish().await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Nothing to do"), "{stdout}\n{stderr}");
    // Both migrators are done: neither left the lock behind.
    assert!(!sqlite_lock_held(&sqlite_file(&db)));
    db.drop_db().await;
}

#[cfg(unix)]
/// A symbolic link and a hard link to the database file: how, the URL,
/// and the path SQLite opens through it (SQLite resolves symbolic links;
/// a hard link is a name of its own).
fn links(db: &TestDb) -> [(&'static str, String, PathBuf); 2] {
    let file = sqlite_file(db);
    let symlink = file.with_file_name("symlink.db");
    std::os::unix::fs::symlink(&file, &symlink).expect("symlink");
    let hard = file.with_file_name("hard-link.db");
    std::fs::hard_link(&file, &hard).expect("hard link");
    [
        (
            "symbolic link",
            format!("sqlite://{}", symlink.display()),
            file,
        ),
        ("hard link", format!("sqlite://{}", hard.display()), hard),
    ]
}

#[cfg(unix)]
/// Issue 10, item 13: the lock file sat beside the path as given, so a
/// migrator reaching the database through a link took another lock. While
/// one migrator holds the lock, one through a symbolic link and one through
/// a hard link, in other processes and in this one, time out waiting for
/// it (naming the same lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_to_the_database_take_the_same_lock() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let dir = gated_revisions(Backend::Sqlite);
    let migrations = load(&dir);
    let (gate, first) = first_migrator_at_gate(&db, &migrations).await;
    let name = sqlite_lock_name(&sqlite_file(&db));

    for (how, url, opened) in links(&db) {
        let child = spawn_child(CHILD_TEST, &url, dir.path(), Duration::from_secs(1), None);
        let output = bounded("the migrator through a link", child.wait_with_output())
            .await
            .expect("wait for the child");
        match child_outcome(&output) {
            Err((kind, message)) => {
                assert_eq!(kind, "LockTimeout", "through a {how}: {message}");
                // Named by the path that process opened: the same file.
                let name = sqlite_lock_name(&opened);
                assert!(message.contains(&name), "through a {how}: {message}");
            }
            Ok(revs) => panic!("through a {how}, a second migrator ran {revs:?}"),
        }
        let err = bounded(
            "the in-process migrator through a link",
            migrations
                .with_config(Config::default().lock_timeout(Duration::from_millis(500)))
                .upgrade(url.as_str(), "head"),
        )
        .await
        .expect_err("the lock is held");
        assert!(
            matches!(&err, Error::LockTimeout { what, .. } if *what == name),
            "through a {how}: {err:?}"
        );
    }

    finish(&db, &migrations, gate, first).await;
    assert!(!sqlite_lock_held(&sqlite_file(&db)));
    db.drop_db().await;
}

#[cfg(unix)]
/// Issue 10, item 13, as reported: racers through a symbolic link failed
/// with `table ... already exists` in 9 races of 10. Here 15 processes
/// race, a third each through the path, a symbolic link and a hard link:
/// all succeed and each revision is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racers_through_links_apply_each_revision_once() {
    const PROCESSES: usize = 15;
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let ids = [
        "1ace00000001",
        "1ace00000002",
        "1ace00000003",
        "1ace00000004",
    ];
    let specs: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let up = if i == 0 {
                format!(
                    "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n{}",
                    log(id)
                )
            } else {
                format!("CREATE TABLE t{i} (id INT PRIMARY KEY);\n{}", log(id))
            };
            let parent = if i == 0 {
                String::new()
            } else {
                ids[i - 1].to_owned()
            };
            (parent, up)
        })
        .collect();
    let dir = write_revisions(
        &ids.iter()
            .zip(&specs)
            .map(|(id, (parent, up))| (*id, parent.as_str(), "", up.as_str(), "SELECT 1;"))
            .collect::<Vec<_>>(),
    );
    let migrations = load(&dir);
    // The database file must exist to be linked to.
    connect(&format!("{}?mode=rwc", db.url), Duration::from_secs(5))
        .await
        .close()
        .await
        .expect("close");
    let [(_, symlink, _), (_, hard, _)] = links(&db);
    let urls = [db.url.clone(), symlink, hard];
    let signals = tempfile::tempdir().expect("temp dir");
    let go = signals.path().join("go");
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| spawn_child(CHILD_TEST, &urls[i % 3], dir.path(), SAFETY, Some(&go)))
        .collect();
    std::fs::write(&go, b"go").expect("write the go file");
    let mut steps = Vec::new();
    for child in children {
        let output = bounded("a racing process", child.wait_with_output())
            .await
            .expect("wait for the child");
        match child_outcome(&output) {
            Ok(revs) => steps.extend(revs),
            Err(e) => panic!("a racing process failed: {e:?}"),
        }
    }
    steps.sort();
    assert_eq!(steps, ids, "steps of all processes");
    assert_applied_once(&db, &migrations, &ids).await;
    db.drop_db().await;
}

// ---------------------------------------------------------------------------
// What is left beside the database (item 14)
// ---------------------------------------------------------------------------

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Issue 10, item 14: migrating left `app.db.retort-lock` beside the
/// database. On Linux the lock is taken on the database file itself and
/// nothing is left, whatever path was used.
#[cfg(target_os = "linux")]
#[test]
fn migrating_leaves_nothing_beside_the_database() {
    let dir = project();
    let data = tempfile::tempdir().expect("temp dir");
    let db = data.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    retort(dir.path(), &["--database-url", &url, "upgrade"]).code(0);
    retort(dir.path(), &["--database-url", &url, "downgrade", "base"]).code(0);
    std::os::unix::fs::symlink(&db, data.path().join("link.db")).expect("symlink");
    let link = format!("sqlite://{}", data.path().join("link.db").display());
    retort(dir.path(), &["--database-url", &link, "upgrade"]).code(0);
    assert_eq!(names(data.path()), ["app.db", "link.db"]);
}

/// Issue 10, item 14: a read-only directory gave `cannot use lock file
/// ro.db.retort-lock: Permission denied` and no hint. The lock needs no
/// file any more; what fails is SQLite's journal, and the message says what
/// to do. Doing it (making the directory writable) makes the migration
/// work. Run as an unprivileged user (as root, permissions do not apply:
/// the binary runs as `nobody` through `setpriv`).
#[cfg(target_os = "linux")]
#[test]
fn a_read_only_directory_says_what_to_do() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if root && setpriv.is_none() {
        eprintln!(
            "SKIPPED: running as root without setpriv, so a read-only directory cannot be tested"
        );
        return;
    }
    let project = project();
    let data = tempfile::tempdir().expect("temp dir");
    let ro = data.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::write(ro.join("app.db"), b"").expect("create the database file");
    let chmod = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    for path in [data.path(), project.path()] {
        chmod(path, 0o755);
    }
    chmod(&ro.join("app.db"), 0o666);
    chmod(&ro, 0o555);
    let url = "sqlite://ro/app.db";
    let run = || {
        let exe = assert_cmd::cargo::cargo_bin("retort");
        let migrations = project.path().join("migrations").display().to_string();
        let args = [
            "--database-url",
            url,
            "--migrations",
            migrations.as_str(),
            "upgrade",
        ];
        let mut cmd = match (root, setpriv) {
            (true, Some(setpriv)) => {
                let mut cmd = assert_cmd::Command::new(setpriv);
                cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
                    .arg(&exe)
                    .args(args);
                cmd
            }
            _ => {
                let mut cmd = assert_cmd::Command::new(&exe);
                cmd.args(args);
                cmd
            }
        };
        cmd.current_dir(data.path())
            .env("NO_COLOR", "1")
            .timeout(SAFETY);
        for var in LEAKY_VARS {
            cmd.env_remove(var);
        }
        let output = cmd.output().expect("run retort");
        Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    };
    run().code(1).mentions(&[
        "attempt to write a readonly database; SQLite writes its journal in the database's directory, which the user running retort cannot write: make that directory writable for this user, or move the database to a writable directory",
    ]);
    assert_eq!(names(&ro), ["app.db"]);
    // What the message says: make the directory writable for that user.
    chmod(&ro, 0o777);
    run().code(0).mentions(&["Now at 5eed00000001"]);
    assert_eq!(names(&ro), ["app.db"]);
}
