//! The built `retort` binary, end to end, on SQLite, PostgreSQL and
//! MariaDB: init → revision ×3 → a spliced branch with a label → merge →
//! upgrade → current → history → downgrade → stamp → check → repair,
//! asserting both what it prints and what it leaves in the database.
//!
//! Also: the database URL's precedence through the command line
//! (`--database-url` > the database of the `--env NAME` environment >
//! `RETORT_DATABASE_URL` > `DATABASE_URL` > `.env` > `retort.toml` url >
//! connection settings), checked by
//! pointing each source at its own SQLite file and seeing which file got
//! the tables.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::cli::{Run, command, run};
use common::{Backend, TestDb};

/// The revision ids a JSON answer lists: under `key` when given (an
/// object's field), else the value itself; a list of ids, or of objects
/// with a `revision` field.
#[track_caller]
fn json_ids(value: &serde_json::Value, key: Option<&str>) -> BTreeSet<String> {
    let list = match key {
        Some(key) => value
            .get(key)
            .unwrap_or_else(|| panic!("no `{key}` in {value}")),
        None => value,
    };
    let items = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list of revisions: {list}"));
    items
        .iter()
        .map(|item| match item {
            serde_json::Value::String(id) => id.clone(),
            other => other
                .get("revision")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_else(|| panic!("no revision id in {other}"))
                .to_owned(),
        })
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// A scratch project directory and the database it migrates.
struct Project {
    dir: tempfile::TempDir,
    url: String,
}

impl Project {
    fn new(url: &str) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            url: url.to_owned(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn migrations(&self) -> PathBuf {
        self.path().join("migrations")
    }

    /// `retort --database-url URL args...`
    fn retort(&self, args: &[&str]) -> Run {
        let mut full = vec!["--database-url", self.url.as_str()];
        full.extend_from_slice(args);
        run(command(self.path()), &full)
    }

    /// `retort args...` without a database URL.
    fn offline(&self, args: &[&str]) -> Run {
        run(command(self.path()), args)
    }

    fn sql_files(&self) -> BTreeSet<PathBuf> {
        std::fs::read_dir(self.migrations())
            .expect("read migrations")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect()
    }

    /// Runs a command that must write exactly one new revision file;
    /// returns its id and path.
    #[track_caller]
    fn new_revision(&self, args: &[&str]) -> (String, PathBuf) {
        let before = self.sql_files();
        self.offline(args).ok();
        let after = self.sql_files();
        let new: Vec<&PathBuf> = after.difference(&before).collect();
        assert_eq!(new.len(), 1, "`retort {args:?}` wrote {new:?}");
        let path = new[0].clone();
        let id = header(&path, "Revision ID").expect("the new file has a Revision ID");
        (id, path)
    }

    /// Runs a command that must fail with exit 1 without writing a file.
    #[track_caller]
    fn refused(&self, args: &[&str]) -> Run {
        let before = self.sql_files();
        let run = self.offline(args).code(1);
        assert_eq!(
            before,
            self.sql_files(),
            "a refused `retort {args:?}` wrote a file"
        );
        run
    }
}

/// The value of a `-- Key: value` header line.
fn header(path: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).expect("read revision");
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("--")?.trim_start();
        let value = rest.strip_prefix(key)?.trim_start().strip_prefix(':')?;
        Some(value.trim().to_owned())
    })
}

/// Replaces a generated file's upgrade and downgrade sections.
fn set_bodies(path: &Path, up: &str, down: &str) {
    let text = std::fs::read_to_string(path).expect("read revision");
    let at = text
        .find("-- migrate:upgrade")
        .unwrap_or_else(|| panic!("{} has no upgrade marker:\n{text}", path.display()));
    let text = format!(
        "{}-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n",
        &text[..at]
    );
    std::fs::write(path, text).expect("write revision");
}

async fn version_rows(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::MySql => "SELECT CAST(version_num AS CHAR) FROM retort_version",
        Backend::Postgres | Backend::Sqlite => "SELECT version_num FROM retort_version",
    };
    let mut rows = db.query_strings(sql).await;
    rows.sort();
    rows
}

async fn history_rows(db: &TestDb) -> usize {
    let sql = match db.backend {
        Backend::MySql => "SELECT CAST(COUNT(*) AS CHAR) FROM retort_history",
        Backend::Postgres => "SELECT COUNT(*)::text FROM retort_history",
        Backend::Sqlite => "SELECT CAST(COUNT(*) AS TEXT) FROM retort_history",
    };
    db.query_strings(sql).await[0]
        .trim()
        .parse()
        .expect("a count")
}

async fn user_tables(db: &TestDb) -> Vec<String> {
    db.tables()
        .await
        .into_iter()
        .map(|t| t.to_lowercase())
        .filter(|t| !t.starts_with("retort_"))
        .collect()
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// The line of `text` that mentions `id`.
fn line_with<'t>(text: &'t str, id: &str) -> &'t str {
    text.lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("no line mentions {id}:\n{text}"))
}

async fn full_cycle(db: &TestDb) {
    let p = Project::new(&db.url);

    // init: settings file, migrations directory, template, build.rs snippet.
    p.offline(&["init"]).ok().mentions(&["rerun-if-changed"]);
    assert!(p.migrations().is_dir(), "init made no migrations/");
    assert!(
        p.path().join("retort.toml").is_file(),
        "init wrote no retort.toml"
    );
    assert!(p.sql_files().is_empty(), "init wrote revisions");
    // With no revisions: no heads, nothing current, check is clean.
    p.offline(&["heads"]).ok();

    // revision ×3 (the last with an explicit id).
    let (a, a_file) = p.new_revision(&["revision", "-m", "create users"]);
    assert_eq!(
        header(&a_file, "Revises").as_deref().unwrap_or(""),
        "",
        "first revision is a base"
    );
    set_bodies(
        &a_file,
        "CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(255) NOT NULL);",
        "DROP TABLE users;",
    );
    let (b, b_file) = p.new_revision(&["revision", "-m", "create posts"]);
    assert_eq!(header(&b_file, "Revises").as_deref(), Some(a.as_str()));
    set_bodies(
        &b_file,
        "CREATE TABLE posts (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL);",
        "DROP TABLE posts;",
    );
    let (c, c_file) = p.new_revision(&[
        "revision",
        "-m",
        "create comments",
        "--rev-id",
        "c0ffee000003",
    ]);
    assert_eq!(c, "c0ffee000003");
    assert!(
        c_file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("c0ffee000003"),
        "file name {c_file:?} does not follow {{rev}}_{{slug}}"
    );
    assert_eq!(header(&c_file, "Revises").as_deref(), Some(b.as_str()));
    set_bodies(
        &c_file,
        "CREATE TABLE comments (id BIGINT NOT NULL PRIMARY KEY, post_id BIGINT NOT NULL);",
        "DROP TABLE comments;",
    );
    p.offline(&["heads"]).ok().mentions(&[&c]);

    // A second head is never created silently.
    p.refused(&["revision", "-m", "sideways", "--head", &a])
        .mentions(&["--splice"]);

    // The branch: spliced off A, labelled x.
    let (d, d_file) = p.new_revision(&[
        "revision",
        "-m",
        "create tags",
        "--head",
        &a,
        "--splice",
        "--branch-label",
        "x",
    ]);
    assert_eq!(header(&d_file, "Revises").as_deref(), Some(a.as_str()));
    assert_eq!(header(&d_file, "Branch Labels").as_deref(), Some("x"));
    set_bodies(
        &d_file,
        "CREATE TABLE tags (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL);",
        "DROP TABLE tags;",
    );

    // Two heads now: a plain `revision` must refuse.
    p.refused(&["revision", "-m", "ambiguous parent"]);
    let heads = p.offline(&["heads"]).ok().mentions(&[&c, &d]);
    assert!(!heads.stdout.contains(&b), "{}", heads.describe());
    let heads_json = json_ids(&p.offline(&["heads", "--json"]).ok().json(), None);
    assert_eq!(heads_json, set(&[&c, &d]), "heads --json");
    p.offline(&["branches"]).ok().mentions(&[&a]);
    p.offline(&["show", &d])
        .ok()
        .mentions(&[&d, "x", "create tags"]);
    let show_json = p.offline(&["show", &d, "--json"]).ok().json();
    assert_eq!(
        show_json
            .get("revision")
            .and_then(serde_json::Value::as_str),
        Some(d.as_str()),
        "show --json: {show_json}"
    );
    p.offline(&["show", "x@head"]).ok().mentions(&[&d]);

    // check on an empty database with two heads: exit 3, reasons given.
    p.retort(&["check"]).code(3).mentions(&["heads", &c, &d]);

    // Upgrade one branch by its label.
    p.retort(&["upgrade", "x@head"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&d]));
    assert_eq!(user_tables(db).await, ["tags", "users"]);
    p.retort(&["current"]).ok().mentions(&[&d]);

    // downgrade -1 on a straight line, then back up.
    p.retort(&["downgrade", "-1"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&a]));
    assert_eq!(user_tables(db).await, ["users"]);
    p.retort(&["upgrade", "x@head"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&d]));

    // merge (default: all heads).
    let (m, m_file) = p.new_revision(&["merge", "-m", "merge comments and tags"]);
    let parents = header(&m_file, "Revises").expect("merge has parents");
    assert!(
        parents.contains(&c) && parents.contains(&d),
        "merge revises {parents}"
    );
    set_bodies(
        &m_file,
        "CREATE TABLE audit (id BIGINT NOT NULL PRIMARY KEY);",
        "DROP TABLE IF EXISTS audit;",
    );
    let heads = p.offline(&["heads"]).ok().mentions(&[&m]);
    assert!(!heads.stdout.contains(&c), "{}", heads.describe());
    let heads_json = json_ids(&p.offline(&["heads", "--json"]).ok().json(), None);
    assert_eq!(heads_json, set(&[&m]), "heads --json after the merge");

    // upgrade head applies B, C and the merge.
    p.retort(&["upgrade", "head"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&m]));
    assert_eq!(
        user_tables(db).await,
        ["audit", "comments", "posts", "tags", "users"]
    );
    // Again: nothing to do.
    p.retort(&["upgrade"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&m]));

    // current
    p.retort(&["current"]).ok().mentions(&[&m]);
    let current_json = p.retort(&["current", "--json"]).ok().json();
    assert_eq!(
        json_ids(&current_json, Some("current")),
        set(&[&m]),
        "{current_json}"
    );

    // history, and -i marks the current revision.
    p.retort(&["history"]).ok().mentions(&[&a, &b, &c, &d, &m]);
    let indicated = p.retort(&["history", "-i"]).ok();
    let m_line = line_with(&indicated.stdout, &m);
    assert!(
        m_line.contains("current"),
        "history -i does not mark {m}: {}",
        indicated.describe()
    );
    let b_line = line_with(&indicated.stdout, "create posts");
    assert!(
        !b_line.contains("current"),
        "history -i marks {b}: {}",
        indicated.describe()
    );
    let history_json = json_ids(&p.retort(&["history", "--json"]).ok().json(), None);
    assert_eq!(history_json, set(&[&a, &b, &c, &d, &m]), "history --json");

    // check at head: clean.
    p.retort(&["check"]).ok();
    let check_json = p.retort(&["check", "--json"]).ok().json();
    assert_eq!(
        json_ids(&check_json, Some("pending")),
        set(&[]),
        "{check_json}"
    );
    assert_eq!(
        json_ids(&check_json, Some("current")),
        set(&[&m]),
        "{check_json}"
    );

    // downgrade -1 from the merge is ambiguous (as in Alembic, whose walk
    // says "Ambiguous walk"): exit 1 naming both parents, nothing done.
    p.retort(&["downgrade", "-1"])
        .code(1)
        .mentions(&[&c, &d, "name the revision to go to"]);
    assert_eq!(version_rows(db).await, sorted(&[&m]));
    // Downgrading to one parent removes only the merge: both branches
    // are current again.
    p.retort(&["downgrade", &d]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&c, &d]));
    assert_eq!(
        user_tables(db).await,
        ["comments", "posts", "tags", "users"]
    );
    p.retort(&["current"]).ok().mentions(&[&c, &d]);
    let current_json = p.retort(&["current", "--json"]).ok().json();
    assert_eq!(
        json_ids(&current_json, Some("current")),
        set(&[&c, &d]),
        "{current_json}"
    );

    // check with the merge pending: exit 3 and the reason names it.
    p.retort(&["check"]).code(3).mentions(&[&m]);
    let pending_json = p.retort(&["check", "--json"]).code(3).json();
    assert_eq!(
        json_ids(&pending_json, Some("pending")),
        set(&[&m]),
        "{pending_json}"
    );

    // stamp (by prefix) records the merge without running its SQL.
    p.retort(&["stamp", &m[..8]]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&m]));
    assert_eq!(
        user_tables(db).await,
        ["comments", "posts", "tags", "users"]
    );
    p.retort(&["check"]).ok();

    // Drift: an applied file edited; check names it; repair accepts it.
    let text = std::fs::read_to_string(&b_file).unwrap();
    std::fs::write(
        &b_file,
        text.replace("user_id BIGINT NOT NULL", "user_id BIGINT"),
    )
    .unwrap();
    let b_name = b_file.file_name().unwrap().to_string_lossy().into_owned();
    p.retort(&["check"]).code(3).mentions(&[&b_name]);
    p.retort(&["upgrade"]).code(1).mentions(&[&b_name]);
    p.retort(&["repair"]).ok();
    p.retort(&["check"]).ok();

    // All the way down.
    p.retort(&["downgrade", "base"]).ok();
    assert_eq!(version_rows(db).await, Vec::<String>::new());
    assert_eq!(user_tables(db).await, Vec::<String>::new());
    p.retort(&["check"]).code(3);

    // The history table saw every step.
    let steps = history_rows(db).await;
    assert!(steps >= 5 + 1 + 5, "only {steps} history rows");
}

/// `current`, `heads` and `check` with `--json` in a fresh project with a
/// single linear history, and `stamp --purge`.
async fn json_and_stamp(db: &TestDb) {
    let p = Project::new(&db.url);
    p.offline(&["init"]).ok();
    let (a, a_file) = p.new_revision(&["revision", "-m", "one", "--rev-id", "aaaa00000001"]);
    set_bodies(
        &a_file,
        "CREATE TABLE one (id BIGINT NOT NULL PRIMARY KEY);",
        "DROP TABLE one;",
    );
    let (b, b_file) = p.new_revision(&["revision", "-m", "two", "--rev-id", "bbbb00000002"]);
    set_bodies(
        &b_file,
        "CREATE TABLE two (id BIGINT NOT NULL PRIMARY KEY);",
        "DROP TABLE two;",
    );

    // Empty database: current is empty JSON, check says pending.
    let current = p.retort(&["current", "--json"]).ok().json();
    assert_eq!(json_ids(&current, Some("current")), set(&[]), "{current}");
    let check = p.retort(&["check", "--json"]).code(3).json();
    assert_eq!(json_ids(&check, Some("pending")), set(&[&a, &b]), "{check}");
    assert_eq!(json_ids(&check, Some("heads")), set(&[&b]), "{check}");

    // +1, then relative targets.
    p.retort(&["upgrade", "+1"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&a]));
    p.retort(&["upgrade", "head"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&b]));
    p.retort(&["downgrade", "aaaa"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&a]));
    assert_eq!(user_tables(db).await, ["one"]);

    // stamp --purge head: version table only.
    p.retort(&["stamp", "--purge", "head"]).ok();
    assert_eq!(version_rows(db).await, sorted(&[&b]));
    assert_eq!(user_tables(db).await, ["one"]);
    // stamp base empties it.
    p.retort(&["stamp", "base"]).ok();
    assert_eq!(version_rows(db).await, Vec::<String>::new());
    let current = p.retort(&["current", "--json"]).ok().json();
    assert_eq!(json_ids(&current, Some("current")), set(&[]), "{current}");
}

/// The database URL given by `retort.toml` (no `--database-url`), and
/// a `-c` config in another directory whose relative `migrations` is
/// resolved against it.
async fn url_from_settings_file(db: &TestDb) {
    let p = Project::new(&db.url);
    std::fs::create_dir(p.path().join("conf")).unwrap();
    std::fs::create_dir(p.path().join("conf/revs")).unwrap();
    std::fs::write(
        p.path().join("conf/retort.toml"),
        format!(
            "migrations = \"revs\"\n\n[database]\nurl = \"{}\"\n",
            db.url
        ),
    )
    .unwrap();
    std::fs::write(
        p.path().join("conf/revs/1234abcd5678_one.sql"),
        "-- one\n--\n-- Revision ID: 1234abcd5678\n-- Revises:\n-- Create Date: 2026-11-20 09:00:00+00:00\n\n-- migrate:upgrade\nCREATE TABLE from_settings (id BIGINT NOT NULL PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE from_settings;\n",
    )
    .unwrap();
    p.offline(&["-c", "conf/retort.toml", "upgrade"]).ok();
    assert_eq!(version_rows(db).await, ["1234abcd5678"]);
    assert_eq!(user_tables(db).await, ["from_settings"]);
    p.offline(&["--config", "conf/retort.toml", "current"])
        .ok()
        .mentions(&["1234abcd5678"]);
    // RETORT_CONFIG does the same.
    let mut cmd = command(p.path());
    cmd.env("RETORT_CONFIG", "conf/retort.toml");
    run(cmd, &["check"]).ok();
}

backend_tests!(full_cycle, json_and_stamp, url_from_settings_file);

// ---------------------------------------------------------------------------
// Settings precedence through the command line (SQLite files).
// ---------------------------------------------------------------------------

/// The sources of the database URL, in precedence order.
const SOURCES: [&str; 6] = [
    "flag",
    "retort_env",
    "env",
    "dotenv",
    "toml_url",
    "components",
];

/// A project where each source in `set` (indices into [`SOURCES`]) points
/// at its own SQLite file `<source>.db`; returns the command to run.
fn precedence_project(dir: &Path, set: &[usize]) -> assert_cmd::Command {
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("5eed00000001_seed.sql"),
        "-- seed\n--\n-- Revision ID: 5eed00000001\n-- Revises:\n-- Create Date: 2026-11-20 09:00:00+00:00\n\n-- migrate:upgrade\nCREATE TABLE seeded (id INTEGER PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE seeded;\n",
    )
    .unwrap();
    let url = |source: &str| format!("sqlite://{}", dir.join(format!("{source}.db")).display());
    let mut cmd = command(dir);
    let has = |i: usize| set.contains(&i);
    assert!(
        !(has(4) && has(5)),
        "a url and connection settings together are an error"
    );
    let mut toml = String::from("[database]\n");
    if has(4) {
        toml.push_str(&format!("url = \"{}\"\n", url("toml_url")));
    }
    if has(5) {
        toml.push_str(&format!(
            "driver = \"sqlite\"\ndatabase = \"{}\"\n",
            dir.join("components.db").display()
        ));
    }
    std::fs::write(dir.join("retort.toml"), toml).unwrap();
    if has(3) {
        std::fs::write(
            dir.join(".env"),
            format!("DATABASE_URL={}\n", url("dotenv")),
        )
        .unwrap();
    }
    if has(2) {
        cmd.env("DATABASE_URL", url("env"));
    }
    if has(1) {
        cmd.env("RETORT_DATABASE_URL", url("retort_env"));
    }
    if has(0) {
        cmd.args(["--database-url", &url("flag")]);
    }
    cmd
}

/// Which `<source>.db` files exist (the runtime creates the file it
/// migrates).
fn touched(dir: &Path) -> Vec<&'static str> {
    SOURCES
        .into_iter()
        .filter(|s| dir.join(format!("{s}.db")).exists())
        .collect()
}

/// Runs `upgrade` with the sources `set` and asserts that `winner`'s file
/// (and only it) got the revision.
#[track_caller]
fn assert_winner(set: &[usize], winner: usize) {
    let dir = tempfile::tempdir().unwrap();
    let cmd = precedence_project(dir.path(), set);
    run(cmd, &["upgrade"]).ok();
    let names: Vec<&str> = set.iter().map(|&i| SOURCES[i]).collect();
    assert_eq!(
        touched(dir.path()),
        [SOURCES[winner]],
        "with sources {names:?} set, {} should have won",
        SOURCES[winner]
    );
    // `current` with the same sources sees the revision in that file.
    let cmd = precedence_project(dir.path(), set);
    run(cmd, &["current"]).ok().mentions(&["5eed00000001"]);
}

#[test]
fn database_url_precedence() {
    // Every source from `winner` on is set (the file's url, not its
    // connection settings: both at once are an error).
    for winner in 0..=4 {
        let set: Vec<usize> = (winner..=4).collect();
        assert_winner(&set, winner);
    }
    // Each source beats the connection settings.
    for winner in 0..4 {
        assert_winner(&[winner, 5], winner);
    }
    assert_winner(&[5], 5);
    // Skipping a level: the next one down wins.
    assert_winner(&[0, 3], 0);
    assert_winner(&[1, 4], 1);
    assert_winner(&[2, 5], 2);
}

#[test]
fn empty_variables_count_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = precedence_project(dir.path(), &[3, 4]);
    cmd.env("RETORT_DATABASE_URL", "").env("DATABASE_URL", "");
    run(cmd, &["upgrade"]).ok();
    assert_eq!(touched(dir.path()), ["dotenv"]);
}

#[test]
fn retort_database_url_in_dotenv_beats_database_url_in_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = precedence_project(dir.path(), &[4]);
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "DATABASE_URL=sqlite://{}\nRETORT_DATABASE_URL=sqlite://{}\n",
            dir.path().join("dotenv.db").display(),
            dir.path().join("retort_env.db").display()
        ),
    )
    .unwrap();
    run(cmd, &["upgrade"]).ok();
    assert_eq!(touched(dir.path()), ["retort_env"]);
}

fn env_project(dir: &Path) {
    let db = |name: &str| format!("sqlite://{}", dir.join(format!("{name}.db")).display());
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(
        dir.join("migrations/5eed00000001_seed.sql"),
        "-- Revision ID: 5eed00000001\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE seeded (id INTEGER PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE seeded;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("retort.toml"),
        format!(
            "[database]\nurl = \"{}\"\n\n[env.staging.database]\nurl = \"{}\"\n\n[env.ci.database]\ndriver = \"sqlite\"\ndatabase = \"{}\"\n",
            db("top"),
            db("staging"),
            dir.join("ci.db").display()
        ),
    )
    .unwrap();
}

fn dbs(dir: &Path) -> Vec<&'static str> {
    ["top", "staging", "ci"]
        .into_iter()
        .filter(|s| dir.join(format!("{s}.db")).exists())
        .collect()
}

#[test]
fn env_selects_the_environment_section() {
    // No --env: the top level.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    run(command(dir.path()), &["upgrade"]).ok();
    assert_eq!(dbs(dir.path()), ["top"]);

    // --env staging: its url.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    run(command(dir.path()), &["--env", "staging", "upgrade"]).ok();
    assert_eq!(dbs(dir.path()), ["staging"]);

    // -e ci: its connection settings, ignoring the top-level url.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    run(command(dir.path()), &["upgrade", "-e", "ci"]).ok();
    assert_eq!(dbs(dir.path()), ["ci"]);

    // RETORT_ENV selects it too.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    let mut cmd = command(dir.path());
    cmd.env("RETORT_ENV", "staging");
    run(cmd, &["upgrade"]).ok();
    assert_eq!(dbs(dir.path()), ["staging"]);

    // The selected environment's database beats the URL variables (what
    // the user names wins over what the environment holds), and `-v` says
    // which one was ignored.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    let mut cmd = command(dir.path());
    cmd.env(
        "DATABASE_URL",
        format!("sqlite://{}", dir.path().join("top.db").display()),
    );
    run(cmd, &["--env", "staging", "-v", "upgrade"])
        .ok()
        .mentions(&[
            "the database URL comes from the selected environment's [env.staging] section; ignoring the environment variable DATABASE_URL",
        ]);
    assert_eq!(dbs(dir.path()), ["staging"]);

    // RETORT_DATABASE_URL too, and with the environment from RETORT_ENV.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    let mut cmd = command(dir.path());
    cmd.env(
        "RETORT_DATABASE_URL",
        format!("sqlite://{}", dir.path().join("top.db").display()),
    )
    .env("RETORT_ENV", "ci");
    run(cmd, &["upgrade"]).ok();
    assert_eq!(dbs(dir.path()), ["ci"]);

    // --database-url beats the environment's database.
    let dir = tempfile::tempdir().unwrap();
    env_project(dir.path());
    let top = format!("sqlite://{}", dir.path().join("top.db").display());
    run(
        command(dir.path()),
        &["--env", "staging", "--database-url", &top, "-v", "upgrade"],
    )
    .ok()
    .mentions(&[
        "the database URL comes from --database-url; ignoring the database of [env.staging]",
    ]);
    assert_eq!(dbs(dir.path()), ["top"]);
}

/// Issue 10, item 1, as the user met it: `retort init`, one revision,
/// `DATABASE_URL` in `.env` for development, a staging environment in
/// `retort.toml`; `retort --env staging upgrade` migrated dev.db.
#[test]
fn env_beats_database_url_in_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    run(command(dir.path()), &["init"]).ok();
    let toml = std::fs::read_to_string(dir.path().join("retort.toml")).unwrap();
    std::fs::write(
        dir.path().join("retort.toml"),
        format!(
            "{toml}\n[env.staging.database]\ndriver = \"sqlite\"\ndatabase = \"staging.db\"\n\n[env.ci]\nlock_timeout = 60\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=sqlite://dev.db\n").unwrap();
    run(command(dir.path()), &["revision", "-m", "first"]).ok();
    let files = || {
        ["dev.db", "staging.db"]
            .into_iter()
            .filter(|f| dir.path().join(f).exists())
            .collect::<Vec<_>>()
    };

    run(command(dir.path()), &["--env", "staging", "-v", "upgrade"])
        .ok()
        .mentions(&["ignoring DATABASE_URL in .env"]);
    assert_eq!(files(), ["staging.db"]);

    // An environment that says nothing about the database leaves the
    // order alone: `.env` gives the URL.
    run(command(dir.path()), &["--env", "ci", "upgrade"]).ok();
    assert_eq!(files(), ["dev.db", "staging.db"]);
}
