//! `retort revision --autogenerate` and `retort check` against a desired
//! schema, end to end through the built binary, on SQLite, PostgreSQL and
//! MariaDB: autogenerate writes a revision, `upgrade` applies it, a second
//! autogenerate has nothing to do, `check` exits 3 with the difference and
//! 0 after, `downgrade -1` undoes it; `--from-database`; and the errors,
//! each with its hint run as printed.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Backend, TestDb};

const LEAKY_VARS: [&str; 6] = [
    "RETORT_DATABASE_URL",
    "DATABASE_URL",
    "RETORT_CONFIG",
    "RETORT_ENV",
    "RUST_LOG",
    "CI",
];

const USERS: &str = "CREATE TABLE users (\n    id INTEGER NOT NULL PRIMARY KEY,\n    email VARCHAR(200) NOT NULL\n);\n";
const POSTS: &str = "CREATE TABLE posts (\n    id INTEGER NOT NULL PRIMARY KEY,\n    user_id INTEGER NOT NULL,\n    FOREIGN KEY (user_id) REFERENCES users (id)\n);\n";

#[derive(Debug)]
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    fn describe(&self) -> String {
        format!(
            "retort {:?} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    fn code(self, code: i32) -> Self {
        assert!(!self.all().contains("panicked"), "{}", self.describe());
        assert_eq!(self.code, Some(code), "{}", self.describe());
        self
    }

    #[track_caller]
    fn ok(self) -> Self {
        self.code(0)
    }

    #[track_caller]
    fn mentions(self, needles: &[&str]) -> Self {
        for needle in needles {
            assert!(
                self.all().contains(needle),
                "output lacks `{needle}`: {}",
                self.describe()
            );
        }
        self
    }

    /// The first `retort ...` command quoted in backticks in the output.
    #[track_caller]
    fn hint(&self) -> Vec<String> {
        let all = self.all();
        let hint = all
            .split('`')
            .skip(1)
            .step_by(2)
            .find(|s| s.starts_with("retort "))
            .unwrap_or_else(|| panic!("no `retort ...` hint: {}", self.describe()));
        shell_words(hint)
    }
}

/// Splits a command line as a POSIX shell does for plain words and single
/// quotes (what the hints use).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// A project directory: `retort.toml` (database URL and dev server),
/// migrations, `schema.sql`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// `retort init`, then the settings: `url` and `dev_url` under
    /// `[database]` when given.
    fn new(url: Option<&str>, dev_url: Option<&str>) -> Self {
        let p = Self {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        p.retort(&["init"]).ok();
        let mut toml = String::from("migrations = \"migrations\"\n\n[database]\n");
        if let Some(url) = url {
            toml.push_str(&format!("url = \"{url}\"\n"));
        }
        if let Some(dev) = dev_url {
            toml.push_str(&format!("dev_url = \"{dev}\"\n"));
        }
        std::fs::write(p.path().join("retort.toml"), toml).expect("write retort.toml");
        p
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn retort(&self, args: &[&str]) -> Run {
        let mut cmd = assert_cmd::Command::cargo_bin("retort").expect("the retort binary");
        cmd.current_dir(self.path())
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(120));
        for var in LEAKY_VARS {
            cmd.env_remove(var);
        }
        let output = cmd.args(args).output().expect("run retort");
        Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn run_hint(&self, hint: &[String]) -> Run {
        assert_eq!(hint[0], "retort", "{hint:?}");
        let args: Vec<&str> = hint[1..].iter().map(String::as_str).collect();
        self.retort(&args)
    }

    fn schema(&self, sql: &str) {
        std::fs::write(self.path().join("schema.sql"), sql).expect("write schema.sql");
    }

    fn files(&self) -> BTreeSet<PathBuf> {
        std::fs::read_dir(self.path().join("migrations"))
            .expect("read migrations")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect()
    }

    /// Runs `args`, which must write exactly one revision; returns its text.
    #[track_caller]
    fn writes_one(&self, args: &[&str]) -> String {
        let before = self.files();
        self.retort(args).ok();
        let after = self.files();
        let new: Vec<&PathBuf> = after.difference(&before).collect();
        assert_eq!(new.len(), 1, "`retort {args:?}` wrote {new:?}");
        std::fs::read_to_string(new[0]).expect("read the new revision")
    }

    /// Runs `args`, which must say there is nothing to do and write nothing.
    #[track_caller]
    fn nothing_to_do(&self, args: &[&str]) {
        let before = self.files();
        self.retort(args).ok().mentions(&["nothing to do"]);
        assert_eq!(before, self.files(), "`retort {args:?}` wrote a file");
    }
}

/// The dev server for `db`'s backend (none for SQLite).
fn dev_url(db: &TestDb) -> Option<&str> {
    (db.backend != Backend::Sqlite).then_some(db.server.url.as_str())
}

/// The upgrade and downgrade sections of a revision's text, lowercase and
/// with identifiers unquoted (MySQL quotes them with backticks).
fn sections(text: &str) -> (String, String) {
    let up = text.find("-- migrate:upgrade").expect("upgrade marker");
    let down = text.find("-- migrate:downgrade").expect("downgrade marker");
    let plain = |s: &str| s.replace(['`', '"'], "").to_lowercase();
    (plain(&text[up..down]), plain(&text[down..]))
}

async fn user_tables(db: &TestDb) -> Vec<String> {
    db.tables()
        .await
        .into_iter()
        .map(|t| t.to_lowercase())
        .filter(|t| !t.starts_with("retort_"))
        .collect()
}

async fn autogenerate_upgrade_check_downgrade(db: &TestDb) {
    let p = Project::new(Some(&db.url), dev_url(db));
    p.schema(USERS);

    let text = p.writes_one(&["revision", "--autogenerate", "-m", "create users"]);
    let (up, down) = sections(&text);
    assert!(up.contains("create table users"), "{text}");
    assert!(down.contains("drop table users"), "{text}");
    assert!(!text.contains("Transactional: false"), "{text}");

    // Before the upgrade the revisions already match schema.sql; the
    // database is behind, which check reports as pending, not as a
    // schema difference.
    p.retort(&["check"]).code(3).mentions(&["not applied"]);
    p.retort(&["upgrade", "head"]).ok();
    assert_eq!(user_tables(db).await, ["users"]);
    p.nothing_to_do(&["revision", "--autogenerate", "-m", "again"]);
    p.retort(&["check"])
        .ok()
        .mentions(&["the revisions match schema.sql"]);

    // schema.sql moves on: check fails with the difference, one per line,
    // and its hint writes the revision.
    p.schema(&format!("{USERS}\n{POSTS}"));
    let check = p.retort(&["check"]).code(3).mentions(&["+ table posts"]);
    let json = p.retort(&["check", "--json"]).code(3);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["schema"]["ok"], false, "{value}");
    assert_eq!(
        value["schema"]["differences"],
        serde_json::json!(["+ table posts"]),
        "{value}"
    );
    let before = p.files();
    p.run_hint(&check.hint()).ok();
    assert_eq!(
        p.files().len(),
        before.len() + 1,
        "the check hint wrote no revision"
    );
    p.nothing_to_do(&["revision", "--autogenerate", "-m", "again"]);
    p.retort(&["upgrade", "head"]).ok();
    assert_eq!(user_tables(db).await, ["posts", "users"]);
    p.retort(&["check"]).ok();
    let value: serde_json::Value =
        serde_json::from_str(&p.retort(&["check", "--json"]).ok().stdout).expect("JSON");
    assert_eq!(value["schema"]["ok"], true, "{value}");

    p.retort(&["downgrade", "-1"]).ok();
    assert_eq!(user_tables(db).await, ["users"]);
    p.retort(&["downgrade", "base"]).ok();
    assert!(user_tables(db).await.is_empty());
}

async fn from_database(db: &TestDb) {
    let p = Project::new(Some(&db.url), dev_url(db));
    p.schema(USERS);
    p.writes_one(&["revision", "--autogenerate", "-m", "create users"]);

    // The database is behind the revisions: refused, with the fix.
    let refused = p
        .retort(&["revision", "--autogenerate", "--from-database", "-m", "x"])
        .code(1)
        .mentions(&["not at the new revision's parent", "Database: "]);
    p.run_hint(&refused.hint()).ok();
    p.nothing_to_do(&["revision", "--autogenerate", "--from-database", "-m", "x"]);

    // A table made by hand in the live database, not in schema.sql: the
    // revision from the database drops it, and brings it back downgrading.
    db.execute("CREATE TABLE by_hand (id INTEGER NOT NULL PRIMARY KEY)")
        .await;
    let text = p.writes_one(&[
        "revision",
        "--autogenerate",
        "--from-database",
        "-m",
        "tidy",
    ]);
    let (up, down) = sections(&text);
    assert!(up.contains("drop table by_hand"), "{text}");
    assert!(down.contains("create table by_hand"), "{text}");
    p.retort(&["upgrade", "head"]).ok();
    assert_eq!(user_tables(db).await, ["users"]);
    p.nothing_to_do(&["revision", "--autogenerate", "--from-database", "-m", "x"]);
    p.retort(&["downgrade", "-1"]).ok();
    assert_eq!(user_tables(db).await, ["by_hand", "users"]);
}

async fn missing_schema_file(db: &TestDb) {
    let p = Project::new(Some(&db.url), dev_url(db));
    let before = p.files();
    p.retort(&["revision", "--autogenerate", "-m", "x"])
        .code(1)
        .mentions(&["schema.sql does not exist", "--schema-file"]);
    assert_eq!(before, p.files());
    // Without schema.sql, check does what it did before.
    p.retort(&["check"]).ok().mentions(&["no drift"]);
    // A named one must exist.
    p.retort(&["--schema-file", "db/schema", "check"])
        .code(1)
        .mentions(&["db/schema does not exist"]);
    // A directory of files, named by the flag.
    std::fs::create_dir(p.path().join("db")).expect("mkdir");
    std::fs::write(p.path().join("db/1_users.sql"), USERS).expect("write");
    std::fs::write(p.path().join("db/2_posts.sql"), POSTS).expect("write");
    let text = p.writes_one(&[
        "--schema-file",
        "db",
        "revision",
        "--autogenerate",
        "-m",
        "both",
    ]);
    let (up, _) = sections(&text);
    let (users, posts) = (
        up.find("create table users").expect("users"),
        up.find("create table posts").expect("posts"),
    );
    assert!(users < posts, "the referenced table comes first: {text}");
}

backend_tests!(
    autogenerate_upgrade_check_downgrade,
    from_database,
    missing_schema_file
);

#[test]
fn no_backend_known_hints_sqlite() {
    let p = Project::new(None, None);
    p.schema(USERS);
    let refused = p
        .retort(&["revision", "--autogenerate", "-m", "create users"])
        .code(1)
        .mentions(&["cannot tell the backend", "--dev-url"]);
    assert!(p.files().is_empty());
    let hint = refused.hint();
    assert!(hint.contains(&"--dialect".to_owned()), "{hint:?}");
    let before = p.files();
    p.run_hint(&hint).ok();
    assert_eq!(p.files().len(), before.len() + 1);
}

#[test]
fn dev_url_secrets_never_printed() {
    // A dev server that is not there: the error names it, redacted.
    let p = Project::new(
        None,
        Some("postgres://dev:hunter2secret@127.0.0.1:1/postgres"),
    );
    p.schema(USERS);
    let run = p
        .retort(&["revision", "--autogenerate", "-m", "x"])
        .code(1)
        .mentions(&["127.0.0.1:1"]);
    assert!(!run.all().contains("hunter2secret"), "{}", run.describe());
    // The flag beats the file, and is redacted too.
    let run = p
        .retort(&[
            "--dev-url",
            "postgres://dev:flagsecret@127.0.0.1:2/postgres",
            "revision",
            "--autogenerate",
            "-m",
            "x",
        ])
        .code(1)
        .mentions(&["127.0.0.1:2"]);
    assert!(!run.all().contains("flagsecret"), "{}", run.describe());
    assert!(!run.all().contains("127.0.0.1:1"), "{}", run.describe());
}

/// A PostgreSQL (or MariaDB) project without a dev server: the error says
/// so, and its hint (the project's own server, as `--dev-url`) works.
async fn no_dev_url_hint(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let p = Project::new(Some(&db.url), None);
    p.schema(USERS);
    let refused = p
        .retort(&["revision", "--autogenerate", "-m", "create users"])
        .code(1)
        .mentions(&["no dev database server", "dev_url"]);
    assert!(p.files().is_empty());
    let hint = refused.hint();
    assert!(hint.contains(&"--dev-url".to_owned()), "{hint:?}");
    let before = p.files();
    p.run_hint(&hint).ok();
    assert_eq!(p.files().len(), before.len() + 1);
    // check, with schema.sql present, needs the dev server too; its hint works.
    let refused = p
        .retort(&["check"])
        .code(1)
        .mentions(&["no dev database server"]);
    p.run_hint(&refused.hint())
        .code(3)
        .mentions(&["not applied"]);
    common::report::passed(db.label());
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_dev_url() {
    no_dev_url_hint(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_without_dev_url() {
    no_dev_url_hint(Backend::MySql).await;
}

/// Warnings reach the terminal and the file; what is not compared is
/// named on every run; a rename hint gives a rename, not a drop and add.
#[test]
fn warnings_not_compared_and_renames_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/app.db", dir.path().display());
    let p = Project::new(Some(&url), None);
    p.schema("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);\nCREATE VIRTUAL TABLE docs USING fts5(body);\n");
    p.writes_one(&["revision", "--autogenerate", "-m", "t"]);
    let run = p
        .retort(&["revision", "--autogenerate", "-m", "again"])
        .ok()
        .mentions(&["nothing to do", "not compared: virtual table docs"]);
    assert!(run.stderr.contains("not compared"), "{}", run.describe());

    p.schema("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, x INTEGER NOT NULL);\n");
    let before = p.files();
    let run = p
        .retort(&["revision", "--autogenerate", "-m", "x"])
        .ok()
        .mentions(&["warning:", "NOT NULL without a default"]);
    assert!(run.stderr.contains("warning:"), "{}", run.describe());
    let new: Vec<PathBuf> = p.files().difference(&before).cloned().collect();
    let text = std::fs::read_to_string(&new[0]).expect("read");
    assert!(text.contains("NOT NULL without a default"), "{text}");
    std::fs::remove_file(&new[0]).expect("remove");

    p.schema(
        "-- retort:renamed-from t\nCREATE TABLE accounts (id INTEGER NOT NULL PRIMARY KEY);\n",
    );
    let text = p.writes_one(&["revision", "--autogenerate", "-m", "rename"]);
    let (up, down) = sections(&text);
    assert!(up.contains("rename to accounts"), "{text}");
    assert!(!up.contains("drop table"), "{text}");
    assert!(down.contains("rename to t"), "{text}");
}
