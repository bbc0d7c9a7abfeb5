//! What the `retort` binary prints, for a person and for a log pipeline, on
//! SQLite, PostgreSQL and MariaDB:
//!
//! - the database a command uses, stated once (`Database: ...` on stderr,
//!   a `database` field in `--json`), and offline `--sql` saying it
//!   connects to nothing;
//! - each `Running upgrade A -> B` line printed when the revision starts:
//!   a revision held at a gate the test controls shows its line while it
//!   cannot have finished;
//! - on failure, the revisions committed before it, then the error, in
//!   plain words (no driver internals);
//! - `-q`: only the answer and errors; `-v`: Alembic's verbose form on the
//!   verbs that list revisions; no escape codes when output is not a
//!   terminal.
//!
//! Nothing here asserts on elapsed time: the gate is a row (PostgreSQL,
//! MariaDB) or the write lock (SQLite) that the test holds, and waits are
//! bounded by a generous safety net.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/reliability/mod.rs"]
mod reliability;

use std::path::Path;
use std::process::Stdio;

use common::cli::Run;
use common::{Backend, TestDb, write_revisions};
use reliability::{Gate, bounded};
use tokio::io::AsyncBufReadExt as _;

/// The `retort` binary in `dir` with a clean environment, colours left to
/// the binary's own detection (no `NO_COLOR`: these runs are not on a
/// terminal, which alone must turn colours off).
fn command(dir: &Path) -> std::process::Command {
    let mut cmd = common::cli::std_command(dir);
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Runs `retort --database-url URL --migrations DIR args...`.
fn retort(dir: &Path, url: &str, args: &[&str]) -> Run {
    let mut full = vec!["--database-url", url, "--migrations", "."];
    full.extend_from_slice(args);
    retort_plain(dir, &full)
}

/// Runs `retort args...` in `dir`.
fn retort_plain(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::from_std(command(dir));
    cmd.timeout(common::cli::TIMEOUT);
    common::cli::run(cmd, args)
}

const G1: &str = "0a7e00000001";
const G2: &str = "0a7e00000002";
const G3: &str = "0a7e00000003";
const G4: &str = "0a7e00000004";

/// Four revisions in a line; the third updates the `gate` row, so it
/// waits while the test holds the gate.
fn gated_revisions(backend: Backend) -> tempfile::TempDir {
    // SQLite waits for the write lock only `busy_timeout` (5 s in sqlx),
    // MariaDB for a row lock `innodb_lock_wait_timeout` (50 s): let the
    // gate revision wait as long as PostgreSQL does.
    let busy = match backend {
        Backend::Sqlite => "PRAGMA busy_timeout = 120000;\n",
        Backend::MySql => "SET SESSION innodb_lock_wait_timeout = 120;\n",
        Backend::Postgres => "",
    };
    let up3 = format!("{busy}UPDATE gate SET n = n + 1 WHERE id = 1;");
    write_revisions(&[
        (
            G1,
            "",
            "",
            "CREATE TABLE gate (id INT PRIMARY KEY, n INT NOT NULL);\nINSERT INTO gate (id, n) VALUES (1, 0);",
            "DROP TABLE gate;",
        ),
        (
            G2,
            G1,
            "",
            "CREATE TABLE before_gate (id INT PRIMARY KEY);",
            "DROP TABLE before_gate;",
        ),
        (G3, G2, "", &up3, "UPDATE gate SET n = n - 1 WHERE id = 1;"),
        (
            G4,
            G3,
            "",
            "CREATE TABLE after_gate (id INT PRIMARY KEY);",
            "DROP TABLE after_gate;",
        ),
    ])
}

async fn version_rows(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::MySql => "SELECT CAST(version_num AS CHAR) FROM retort_version",
        Backend::Postgres | Backend::Sqlite => "SELECT version_num FROM retort_version",
    };
    db.query_strings(sql).await
}

/// The gate revision's `Running ...` line arrives while the test holds
/// the gate, so before the revision can finish; the rest follows once the
/// gate opens.
async fn running_line_comes_when_the_revision_starts(db: &TestDb) {
    let dir = gated_revisions(db.backend);
    retort(dir.path(), &db.url, &["upgrade", G2]).ok();
    let gate = Gate::close(db).await;

    let mut child = tokio::process::Command::from(command(dir.path()));
    child
        .args(["--database-url", &db.url, "--migrations", ".", "upgrade"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = child.spawn().expect("spawn retort");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = bounded(
        "the gate revision's `Running ...` line while the gate is closed",
        lines.next_line(),
    )
    .await
    .expect("read stdout");
    assert_eq!(
        first.as_deref(),
        Some(format!("Running upgrade {G2} -> {G3}, revision {G3}").as_str())
    );
    // Still running: the gate revision has not finished, nor the process.
    assert_eq!(version_rows(db).await, [G2]);
    assert!(
        child.try_wait().expect("poll retort").is_none(),
        "retort finished with the gate closed"
    );

    gate.open().await;
    let output = bounded("retort to finish", child.wait_with_output())
        .await
        .expect("retort output");
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read stdout") {
        rest.push(line);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        rest,
        [
            format!("Running upgrade {G3} -> {G4}, revision {G4}"),
            format!("Now at {G4}"),
        ],
        "{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("Database:"))
            .collect::<Vec<_>>(),
        [format!("Database: {} (from --database-url)", db.url)]
    );
    assert_eq!(version_rows(db).await, [G4]);
}

const F1: &str = "fa11ed000001";
const F2: &str = "fa11ed000002";
const F3: &str = "fa11ed000003";

/// Three revisions in a line; the third creates the first one's table again.
fn failing_revisions() -> tempfile::TempDir {
    write_revisions(&[
        (
            F1,
            "",
            "",
            "CREATE TABLE first (id INT PRIMARY KEY);",
            "DROP TABLE first;",
        ),
        (
            F2,
            F1,
            "",
            "CREATE TABLE second (id INT PRIMARY KEY);",
            "DROP TABLE second;",
        ),
        (
            F3,
            F2,
            "",
            "CREATE TABLE first (id INT PRIMARY KEY);",
            "DROP TABLE first;",
        ),
    ])
}

/// The index of the first line of `text` starting with `prefix`.
#[track_caller]
fn line_index(run: &Run, prefix: &str) -> usize {
    run.stderr
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no stderr line starts with `{prefix}`: {}", run.describe()))
}

/// On failure: the `Running` lines of every step that started, what was
/// committed, then the error, in plain words; with `-q` only the last two.
async fn failure_reports_what_was_committed_first(db: &TestDb) {
    let dir = failing_revisions();
    let run = retort(dir.path(), &db.url, &["upgrade"]).code(1);
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        [
            format!("Running upgrade  -> {F1}, revision {F1}"),
            format!("Running upgrade {F1} -> {F2}, revision {F2}"),
            format!("Running upgrade {F2} -> {F3}, revision {F3}"),
        ],
        "{}",
        run.describe()
    );
    let committed = format!("Committed before the failure: {F1}, {F2} (2 of 3 planned revisions)");
    assert!(
        run.stderr.lines().any(|l| l == committed),
        "{}",
        run.describe()
    );
    assert!(
        line_index(&run, "Committed before the failure") < line_index(&run, "error:"),
        "{}",
        run.describe()
    );
    for noise in ["error returned from database", " at line ", "caused by"] {
        assert!(!run.stderr.contains(noise), "`{noise}`: {}", run.describe());
    }

    // -q, on a fresh database: nothing but what was committed and the error.
    let fresh = TestDb::new(db.backend).await.expect("a second database");
    let run = retort(dir.path(), &fresh.url, &["-q", "upgrade"]).code(1);
    fresh.drop_db().await;
    assert_eq!(run.stdout, "", "{}", run.describe());
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.describe());
    assert_eq!(lines[0], committed, "{}", run.describe());
    assert!(lines[1].starts_with("error: "), "{}", run.describe());
}

/// Every verb that connects says which database, once; `--json` carries
/// it; the verbs that read only files, `-q` and `--sql` do not connect
/// (and `--sql` says so).
async fn every_connecting_verb_states_the_database(db: &TestDb) {
    let dir = failing_revisions();
    std::fs::remove_file(dir.path().join(format!("{F3}.sql"))).expect("remove the failing one");
    let stated = format!("Database: {} (from --database-url)", db.url);
    let connecting: [&[&str]; 10] = [
        &["upgrade"],
        &["current"],
        &["current", "--json"],
        &["history", "-i"],
        &["history", "-i", "--json"],
        &["check"],
        &["check", "--json"],
        &["stamp", F1],
        &["repair"],
        &["downgrade", "base"],
    ];
    for args in connecting {
        let run = retort(dir.path(), &db.url, args).ok();
        assert_eq!(
            run.database_lines(),
            [stated.as_str()],
            "{}",
            run.describe()
        );
        if args.contains(&"--json") && args[0] != "history" {
            assert_eq!(
                run.json()["database"].as_str(),
                Some(db.url.as_str()),
                "{}",
                run.describe()
            );
        }
        let quiet: Vec<&str> = ["-q"].into_iter().chain(args.iter().copied()).collect();
        let run = retort(dir.path(), &db.url, &quiet).ok();
        assert!(run.database_lines().is_empty(), "{}", run.describe());
    }
    for args in [
        &["history"][..],
        &["heads"],
        &["branches"],
        &["show", F1],
        &["current", "--help"],
    ] {
        let run = retort(dir.path(), &db.url, args).ok();
        assert!(run.database_lines().is_empty(), "{}", run.describe());
    }
    let run = retort(dir.path(), &db.url, &["upgrade", "--sql"]).ok();
    let backend = match db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
        Backend::MySql => "MySQL/MariaDB",
    };
    assert_eq!(
        run.database_lines(),
        [format!(
            "Database: none (offline --sql writes a {backend} script; dialect from the URL in --database-url)"
        )
        .as_str()],
        "{}",
        run.describe()
    );
    let run = retort_plain(
        dir.path(),
        &["--migrations", ".", "upgrade", "--sql", "--dialect", "pg"],
    )
    .ok();
    assert_eq!(
        run.database_lines(),
        ["Database: none (offline --sql writes a PostgreSQL script; dialect from --dialect)"],
        "{}",
        run.describe()
    );
}

/// `-q` prints the answer (a query's result) and errors, nothing else:
/// no `Running`/`Now at` lines, no notes, and no sqlx `slow statement`
/// warning (which the default level shows).
async fn quiet_means_only_the_answer_and_errors(db: &TestDb) {
    let dir = failing_revisions();
    std::fs::remove_file(dir.path().join(format!("{F3}.sql"))).expect("remove the failing one");
    let run = retort(dir.path(), &db.url, &["-q", "upgrade"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let run = retort(dir.path(), &db.url, &["-q", "current"]).ok();
    assert_eq!(run.stdout, format!("{F2} (head)\n"), "{}", run.describe());
    assert_eq!(run.stderr, "", "{}", run.describe());
    let run = retort(dir.path(), &db.url, &["-q", "upgrade", "nosuchrev"]).code(1);
    assert_eq!(run.stdout, "", "{}", run.describe());
    assert!(run.stderr.starts_with("error: "), "{}", run.describe());

    // A statement slower than sqlx's 1 s threshold for its warning.
    let sleep = match db.backend {
        Backend::Sqlite => return,
        Backend::Postgres => "SELECT pg_sleep(1.5);",
        Backend::MySql => "DO SLEEP(1.5);",
    };
    let slow = write_revisions(&[(F1, "", "", sleep, "SELECT 1;")]);
    let fresh = TestDb::new(db.backend).await.expect("a second database");
    let quiet = retort(slow.path(), &fresh.url, &["-q", "upgrade"]).ok();
    retort(slow.path(), &fresh.url, &["-q", "downgrade", "base"]).ok();
    let default = retort(slow.path(), &fresh.url, &["upgrade"]).ok();
    fresh.drop_db().await;
    assert_eq!(
        (quiet.stdout.as_str(), quiet.stderr.as_str()),
        ("", ""),
        "{}",
        quiet.describe()
    );
    assert!(
        default.stderr.contains("slow statement"),
        "the default level shows sqlx's warning: {}",
        default.describe()
    );
}

backend_tests!(
    running_line_comes_when_the_revision_starts,
    failure_reports_what_was_committed_first,
    every_connecting_verb_states_the_database,
    quiet_means_only_the_answer_and_errors,
);

/// A branched project on SQLite for the read verbs.
fn branched() -> (tempfile::TempDir, String) {
    let dir = write_revisions(&[
        ("ba5e00000001", "", "", "CREATE TABLE a (id INT);", ""),
        (
            "b1a000000002",
            "ba5e00000001",
            "",
            "CREATE TABLE b (id INT);",
            "",
        ),
        (
            "b1b000000003",
            "ba5e00000001",
            "-- Branch Labels: side",
            "CREATE TABLE c (id INT);",
            "",
        ),
    ]);
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    (dir, url)
}

/// `-v` is Alembic's `--verbose` on `history`, `current`, `heads` and
/// `branches`: each revision's details; `current -v` first names the
/// database as Alembic does. `-V` is only `--version`.
#[test]
fn verbose_shows_alembic_details() {
    let (dir, url) = branched();
    retort(dir.path(), &url, &["upgrade", "heads"]).ok();
    for args in [
        &["history", "-v"][..],
        &["-v", "history"],
        &["history", "--verbose"],
        &["heads", "-v"],
        &["current", "-v"],
    ] {
        let run = retort(dir.path(), &url, args).ok();
        for needle in ["Rev: b1b000000003", "Parent: ba5e00000001", "Path: "] {
            assert!(
                run.stdout.contains(needle),
                "`{needle}`: {}",
                run.describe()
            );
        }
    }
    let run = retort(dir.path(), &url, &["branches", "-v"]).ok();
    assert!(
        run.stdout.contains("Rev: ba5e00000001 (branchpoint)"),
        "{}",
        run.describe()
    );
    let run = retort(dir.path(), &url, &["current", "-v"]).ok();
    assert!(
        run.stdout
            .starts_with(&format!("Current revision(s) for {url}:\n")),
        "{}",
        run.describe()
    );
    // Without -v: the one-line forms.
    let run = retort(dir.path(), &url, &["history"]).ok();
    assert!(!run.stdout.contains("Rev: "), "{}", run.describe());

    let run = retort_plain(dir.path(), &["-V"]).ok();
    assert!(run.stdout.starts_with("retort "), "{}", run.describe());
    retort(dir.path(), &url, &["history", "-V"]).code(2);
    let help = retort_plain(dir.path(), &["--help"]).ok();
    assert!(
        help.stdout.contains("-v is Alembic's --verbose"),
        "{}",
        help.describe()
    );
}

/// Output that is not a terminal carries no escape codes, logs included
/// (`-vv` makes the run log at info and debug).
#[test]
fn no_escape_codes_off_a_terminal() {
    let (dir, url) = branched();
    for args in [
        &["-vv", "upgrade", "heads"][..],
        &["-vv", "history", "-i"],
        &["-vv", "current"],
        &["-vv", "check"],
        &["-vv", "downgrade", "side@-1"],
        &["upgrade", "nosuchrev"],
    ] {
        let run = retort(dir.path(), &url, args);
        let runs = args.contains(&"upgrade") || args.contains(&"downgrade");
        assert!(
            run.stderr.contains(" INFO ") || !runs || args[0] != "-vv",
            "the logs were not on: {}",
            run.describe()
        );
        assert!(
            !run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'),
            "escape codes: {}",
            run.describe()
        );
    }
}
