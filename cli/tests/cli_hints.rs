//! Every command an error or a `check` problem suggests works in the state
//! that produced it: each test provokes the message through the `retort`
//! binary, takes the backticked `retort ...` command out of it, runs it,
//! and checks that it resolved the state. Also what those states must not
//! do: a refused command changes nothing, an empty revision set is a
//! no-op for every verb, reversed ranges are errors, `check --json`
//! carries each problem as data.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::cli::{Run, command, run};
use common::{Backend, TestDb};

/// The `retort ...` commands the output suggests, as argument lists
/// (without `retort`); `<revision>` replaced by `revision`.
#[track_caller]
fn hints(run: &Run, revision: &str) -> Vec<Vec<String>> {
    let all = run.all();
    let hints: Vec<Vec<String>> = all
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|quoted| quoted.strip_prefix("retort "))
        .map(|command| words(&command.replace("<revision>", revision)))
        .collect();
    assert!(
        !hints.is_empty(),
        "no `retort ...` hint in {}",
        run.describe()
    );
    hints
}

/// Splits a command line at spaces, keeping `"..."` together.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A project directory (`migrations/`) and the database it migrates.
struct Project {
    dir: tempfile::TempDir,
    url: String,
}

impl Project {
    fn new(url: &str, specs: &[(&str, &str, &str, &str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("migrations")).expect("migrations");
        let p = Self {
            dir,
            url: url.to_owned(),
        };
        p.write(specs);
        p
    }

    fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Writes (or replaces) revision files.
    fn write(&self, specs: &[(&str, &str, &str, &str, &str)]) {
        let fresh = common::write_revisions(specs);
        for (id, ..) in specs {
            let name = format!("{id}.sql");
            std::fs::copy(fresh.path().join(&name), self.migrations().join(&name)).unwrap();
        }
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        let mut cmd = command(self.dir.path());
        cmd.args(["--database-url", &self.url, "--migrations"])
            .arg(self.migrations());
        run(cmd, args)
    }
}

/// The version-table rows, sorted.
async fn rows(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::MySql => "SELECT CAST(version_num AS CHAR) FROM retort_version",
        _ => "SELECT version_num FROM retort_version",
    };
    let mut rows = db.query_strings(sql).await;
    rows.sort();
    rows
}

/// The user tables (`t_*`), sorted.
async fn user_tables(db: &TestDb) -> Vec<String> {
    let mut tables: Vec<String> = db
        .tables()
        .await
        .into_iter()
        .filter(|t| t.starts_with("t_"))
        .collect();
    tables.sort();
    tables
}

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";
const D: &str = "d4d4d4d4d4d4";

type Spec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const SPEC_A: Spec = (
    A,
    "",
    "",
    "CREATE TABLE t_a (id INT PRIMARY KEY);",
    "DROP TABLE t_a;",
);
const SPEC_B: Spec = (
    B,
    A,
    "",
    "CREATE TABLE t_b (id INT PRIMARY KEY);",
    "DROP TABLE t_b;",
);
const SPEC_C: Spec = (
    C,
    B,
    "",
    "CREATE TABLE t_c (id INT PRIMARY KEY);",
    "DROP TABLE t_c;",
);
/// A second branch off `A`.
const SPEC_D: Spec = (
    D,
    A,
    "",
    "CREATE TABLE t_d (id INT PRIMARY KEY);",
    "DROP TABLE t_d;",
);

/// Issue 10, item 4: the head's downgrade edited after `upgrade` to drop
/// another revision's table too. `downgrade -1` refuses, as `upgrade`
/// does; its hint (`retort repair`) accepts the edit, and then it runs.
async fn downgrade_refuses_drift_until_repair(db: &TestDb) {
    let p = Project::new(&db.url, &[SPEC_A, SPEC_B]);
    p.run(&["upgrade"]).ok();
    p.write(&[(
        B,
        A,
        "",
        "CREATE TABLE t_b (id INT PRIMARY KEY);",
        "DROP TABLE t_b;\nDROP TABLE t_a;",
    )]);
    let refused = p
        .run(&["downgrade", "-1"])
        .code(1)
        .mentions(&[&format!("{B}.sql")])
        .mentions(&["was edited after it was applied"]);
    assert_eq!(rows(db).await, [B]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b"]);
    p.run(&["check"]).code(3).mentions(&[&format!("{B}.sql")]);
    for hint in hints(&refused, "") {
        assert_eq!(hint, ["repair"]);
        p.run(&hint).ok();
    }
    p.run(&["downgrade", "-1"]).ok();
    assert_eq!(rows(db).await, [A]);
    assert!(user_tables(db).await.is_empty(), "the accepted edit ran");
}

/// Issue 10, item 8: a version row this set does not have. The hint is
/// `stamp --purge`, which works; a plain `stamp` would fail alike.
async fn unknown_row_hint_works(db: &TestDb) {
    let p = Project::new(&db.url, &[SPEC_A, SPEC_B]);
    p.run(&["upgrade", A]).ok();
    db.execute("INSERT INTO retort_version (version_num) VALUES ('0badc0ffee00')")
        .await;
    for verb in [&["upgrade"][..], &["downgrade", "base"], &["repair"]] {
        let refused = p.run(verb).code(1).mentions(&["0badc0ffee00"]);
        let hints = hints(&refused, A);
        assert!(
            hints
                .iter()
                .all(|h| h.starts_with(&["stamp".to_owned(), "--purge".to_owned()])),
            "{hints:?}"
        );
    }
    p.run(&["stamp", A]).code(1).mentions(&["0badc0ffee00"]);
    let refused = p.run(&["upgrade"]).code(1);
    for hint in hints(&refused, A) {
        p.run(&hint).ok();
    }
    assert_eq!(rows(db).await, [A]);
    p.run(&["upgrade"]).ok();
    p.run(&["check"]).ok();
}

/// Issue 10, item 8: two rows where one is an ancestor of the other. The
/// hint stamps the rows that descend from nothing else, with `--purge`.
async fn overlapping_rows_hint_works(db: &TestDb) {
    let p = Project::new(&db.url, &[SPEC_A, SPEC_B, SPEC_C]);
    p.run(&["upgrade", B]).ok();
    db.execute(&format!(
        "INSERT INTO retort_version (version_num) VALUES ('{A}')"
    ))
    .await;
    let refused = p.run(&["upgrade"]).code(1).mentions(&["is an ancestor of"]);
    p.run(&["stamp", B])
        .code(1)
        .mentions(&["is an ancestor of"]);
    let hints = hints(&refused, "");
    assert_eq!(hints, [vec!["stamp", "--purge", B]]);
    p.run(&hints[0]).ok();
    assert_eq!(rows(db).await, [B]);
    p.run(&["upgrade"]).ok();
    assert_eq!(user_tables(db).await, ["t_a", "t_b", "t_c"]);
    p.run(&["check"]).ok();
}

/// Issue 10, item 9: `downgrade -1` with two current heads offers
/// `<head>@-1` for each; each undoes exactly that head.
async fn ambiguous_downgrade_hint_undoes_one_head(db: &TestDb) {
    let p = Project::new(&db.url, &[SPEC_A, SPEC_B, SPEC_D]);
    p.run(&["upgrade", "heads"]).ok();
    let refused = p.run(&["downgrade", "-1"]).code(1);
    // The hint names targets to count from: `b2...@-1` or `d4...@-1`.
    for head in [B, D] {
        let hint = format!("`{head}@-1`");
        assert!(refused.all().contains(&hint), "no {hint} in {refused:#?}");
    }
    p.run(&["downgrade", &format!("{B}@-1")]).ok();
    assert_eq!(rows(db).await, [D]);
    assert_eq!(user_tables(db).await, ["t_a", "t_d"]);
    p.run(&["upgrade", "heads"]).ok();
    p.run(&["downgrade", &format!("{D}@-1")]).ok();
    assert_eq!(rows(db).await, [B]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b"]);
}

/// A revision run statement by statement whose second statement fails:
/// the failed-state error's two hints each resolve it.
async fn failed_step_hints_work(db: &TestDb) {
    let failing: Spec = (
        B,
        A,
        "-- Transactional: false",
        "CREATE TABLE t_b (id INT PRIMARY KEY);\nINSERT INTO t_missing (id) VALUES (1);",
        "DROP TABLE t_b;",
    );
    for resolve in ["repair", "stamp"] {
        let p = Project::new(&db.url, &[SPEC_A, failing]);
        p.run(&["upgrade"]).code(1);
        let refused = p.run(&["upgrade"]).code(1).mentions(&["failed state"]);
        let hints = hints(&refused, "");
        let hint = hints
            .iter()
            .find(|h| h[0] == resolve)
            .unwrap_or_else(|| panic!("no `retort {resolve}` in {hints:?}"));
        match resolve {
            // Undo by hand what ran, then repair: the revision runs again.
            "repair" => {
                db.execute("DROP TABLE t_b").await;
                p.run(hint).ok();
                p.write(&[(
                    B,
                    A,
                    "",
                    "CREATE TABLE t_b (id INT PRIMARY KEY);",
                    "DROP TABLE t_b;",
                )]);
                p.run(&["upgrade"]).ok();
            }
            // Complete by hand what failed, then stamp.
            _ => {
                assert_eq!(hint, &["stamp", B]);
                p.run(hint).ok();
            }
        }
        assert_eq!(rows(db).await, [B]);
        p.run(&["check"]).ok();
        p.run(&["downgrade", "base"]).ok();
        for table in user_tables(db).await {
            db.execute(&format!("DROP TABLE {table}")).await;
        }
        db.execute("DROP TABLE retort_version").await;
        db.execute("DROP TABLE retort_history").await;
    }
}

/// Issue 10, item 10: refused commands leave a fresh database as it was:
/// no version or history table.
async fn refused_commands_change_nothing(db: &TestDb) {
    let p = Project::new(&db.url, &[SPEC_A, SPEC_B]);
    for refused in [
        &["upgrade", "nosuchrev"][..],
        &["upgrade", "+3"],
        &["downgrade", "nosuchrev"],
        &["downgrade", "-1"],
        &["stamp", "nosuchrev"],
        &["stamp", "+1"],
    ] {
        p.run(refused).code(1);
        assert!(
            db.tables().await.is_empty(),
            "`retort {refused:?}` left {:?}",
            db.tables().await
        );
    }
    // Commands with nothing to do write nothing either.
    for noop in [
        &["downgrade", "base"][..],
        &["stamp", "base"],
        &["repair"],
        &["current"],
        &["check", "--json"],
    ] {
        p.run(noop);
        assert!(
            db.tables().await.is_empty(),
            "`retort {noop:?}` left {:?}",
            db.tables().await
        );
    }
    // A plan the configured mode cannot run is refused before anything too.
    let m = retort::Migrations::from_dir(p.migrations()).unwrap();
    let single =
        m.with_config(retort::Config::default().transaction_mode(retort::TransactionMode::Single));
    if db.backend == Backend::MySql {
        let e = single.upgrade(db.url.as_str(), "head").await.unwrap_err();
        assert!(
            matches!(e, retort::Error::SingleTransactionUnsupported { .. }),
            "{e:?}"
        );
        assert!(db.tables().await.is_empty(), "{:?}", db.tables().await);
    }
}

/// Issue 10, item 5: right after `retort init`, every verb behaves as
/// Alembic does on an empty set: nothing to do.
async fn empty_set_every_verb(db: &TestDb) {
    let p = Project::new(&db.url, &[]);
    for verb in [
        &["upgrade"][..],
        &["upgrade", "head"],
        &["upgrade", "heads"],
        &["downgrade", "base"],
        &["stamp", "head"],
        &["current"],
        &["heads"],
        &["branches"],
        &["history"],
        &["upgrade", "--sql", "head"],
        &["downgrade", "--sql", "head:base"],
        &["stamp", "--sql", "head"],
    ] {
        let run = p.run(verb).ok();
        assert!(!run.all().contains("ambiguous"), "{run:#?}");
    }
    p.run(&["upgrade", "head"])
        .mentions(&["Nothing to do; at base"]);
    p.run(&["heads"]).mentions(&["no revisions yet"]);
    p.run(&["history"]).mentions(&["no revisions yet"]);
    p.run(&["upgrade", "--sql"])
        .mentions(&["nothing to upgrade"]);
    let check = p.run(&["check", "--json"]).ok().json();
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["heads"], serde_json::json!([]), "{check}");
    // Relative targets have nothing to count from; `show` has nothing to show.
    p.run(&["downgrade", "-1"])
        .code(1)
        .mentions(&["no current revision"]);
    let show = p
        .run(&["show", "head"])
        .code(1)
        .mentions(&["no revisions yet"]);
    // Its hint writes the first revision, after which `show head` works.
    let hint = &hints(&show, "")[0];
    assert_eq!(hint[..2], ["revision", "-m"]);
    p.run(&["revision", "-m", "first"]).ok();
    p.run(&["show", "head"]).ok().mentions(&["first"]);
    assert!(db.tables().await.is_empty(), "{:?}", db.tables().await);
}

/// Issue 10, item 18: one database with a pending revision, drift, a
/// failed step and a broken history row: `check --json` carries each.
async fn check_json_carries_each_problem(db: &TestDb) {
    let failing: Spec = (
        C,
        B,
        "-- Transactional: false",
        "CREATE TABLE t_c (id INT PRIMARY KEY);\nINSERT INTO t_missing (id) VALUES (1);",
        "DROP TABLE t_c;",
    );
    let p = Project::new(&db.url, &[SPEC_A, SPEC_B, failing, SPEC_D]);
    p.run(&["upgrade", B]).ok();
    p.run(&["upgrade", C]).code(1);
    db.execute(&format!(
        "UPDATE retort_history SET parents = 'edited' WHERE revision = '{A}'"
    ))
    .await;
    p.write(&[(
        A,
        "",
        "",
        "CREATE TABLE t_a (id BIGINT PRIMARY KEY);",
        "DROP TABLE t_a;",
    )]);
    let run = p.run(&["check", "--json"]).code(3);
    let json = run.json();
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["current"], serde_json::json!([B]), "{json}");
    assert_eq!(json["heads"], serde_json::json!([C, D]), "{json}");
    assert_eq!(json["multiple_heads"], true, "{json}");
    let mut pending: Vec<&str> = json["pending"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    pending.sort_unstable();
    assert_eq!(pending, [C, D], "{json}");
    let edited = &json["drift"]["edited"][0];
    assert_eq!(edited["revision"], A, "{json}");
    assert!(
        edited["file"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{A}.sql")),
        "{json}"
    );
    assert_eq!(
        edited["checksum"].as_str().map(str::len),
        Some(64),
        "{json}"
    );
    let failed = &json["failed"];
    assert_eq!(failed["revision"], C, "{json}");
    assert_eq!(failed["direction"], "upgrade", "{json}");
    assert_eq!(
        (
            failed["statement"].as_i64(),
            failed["statement_count"].as_i64()
        ),
        (Some(2), Some(2)),
        "{json}"
    );
    assert_eq!(failed["interrupted"], false, "{json}");
    assert!(
        failed["error"].as_str().unwrap().contains("t_missing"),
        "{json}"
    );
    let broken = &json["history"]["broken"];
    assert_eq!(broken["revision"], A, "{json}");
    assert_eq!(broken["reason"], "edited", "{json}");
    assert_eq!(json["history"]["unchained"], 0, "{json}");
    assert_eq!(json["problems"].as_array().map(Vec::len), Some(5), "{json}");
}

backend_tests!(
    downgrade_refuses_drift_until_repair,
    unknown_row_hint_works,
    overlapping_rows_hint_works,
    ambiguous_downgrade_hint_undoes_one_head,
    failed_step_hints_work,
    refused_commands_change_nothing,
    empty_set_every_verb,
    check_json_carries_each_problem
);

// ---------------------------------------------------------------------------
// The revision graph only: an SQLite file in a temporary directory.
// ---------------------------------------------------------------------------

fn sqlite_project(specs: &[Spec]) -> Project {
    let p = Project::new("sqlite://placeholder", specs);
    let url = format!("sqlite://{}", p.dir.path().join("app.db").display());
    Project { url, ..p }
}

/// Several heads: `check`, `upgrade head` and `revision` each suggest a
/// merge, which works as written.
#[test]
fn several_heads_hints_merge() {
    for provoke in [
        &["check"][..],
        &["upgrade", "head"],
        &["revision", "-m", "next"],
    ] {
        let p = sqlite_project(&[SPEC_A, SPEC_B, SPEC_D]);
        let run = p.run(provoke);
        assert_ne!(run.code, Some(0), "{run:#?}");
        let hints = hints(&run, "");
        let merge = hints
            .iter()
            .find(|h| h[0] == "merge")
            .unwrap_or_else(|| panic!("no merge hint in {run:#?}"));
        p.run(merge).ok();
        p.run(&["heads"]).ok();
        p.run(&["upgrade", "head"]).ok();
        p.run(&["check"]).ok();
    }
    // `upgrade head`'s other way out: `heads`.
    let p = sqlite_project(&[SPEC_A, SPEC_B, SPEC_D]);
    p.run(&["upgrade", "head"])
        .code(1)
        .mentions(&["use `heads` for all of them"]);
    p.run(&["upgrade", "heads"]).ok();
}

/// Going up from a branch point: `+1` offers `<child>@+1` for each child.
#[test]
fn ambiguous_upgrade_hint_names_a_branch() {
    let p = sqlite_project(&[SPEC_A, SPEC_B, SPEC_D]);
    p.run(&["upgrade", A]).ok();
    let refused = p.run(&["upgrade", "+1"]).code(1);
    for child in [B, D] {
        let hint = format!("`{child}@+1`");
        assert!(refused.all().contains(&hint), "no {hint} in {refused:#?}");
    }
    p.run(&["upgrade", &format!("{D}@+1")]).ok();
    p.run(&["current"]).ok().mentions(&[D]);
}

/// Issue 10, item 6: reversed and unrelated ranges are errors that say
/// why, with a working hint; a valid empty range says it is empty.
#[test]
fn reversed_ranges_are_errors() {
    let labelled: Spec = (
        B,
        A,
        "-- Branch Labels: audit",
        "CREATE TABLE t_b (id INT);",
        "DROP TABLE t_b;",
    );
    let p = sqlite_project(&[SPEC_A, labelled, SPEC_C, SPEC_D]);
    // `history -r`: reversed, with the swapped range as a hint.
    for (range, swapped) in [
        ("heads:base", "base:heads"),
        (&format!("{C}:{A}")[..], &format!("{A}:{C}")[..]),
    ] {
        let refused = p
            .run(&["history", "-r", range])
            .code(1)
            .mentions(&["is reversed"]);
        let hints = hints(&refused, "");
        assert_eq!(hints, [vec!["history", "-r", swapped]]);
        let listed = p.run(&hints[0]).ok();
        assert!(listed.stdout.lines().count() >= 3, "{listed:#?}");
    }
    p.run(&["history", "-r", &format!("{C}:{D}")])
        .code(1)
        .mentions(&["different branches"]);
    p.run(&["history", "-r", "base:base"])
        .ok()
        .mentions(&["holds no revision"]);
    // `label@base:` lists the branch from the base, as Alembic.
    let branch = p.run(&["history", "-r", "audit@base:"]).ok();
    let listed: Vec<&str> = branch.stdout.lines().collect();
    assert_eq!(listed.len(), 3, "{branch:#?}");
    assert!(!branch.stdout.contains(D), "{branch:#?}");
    p.run(&["history", "-r", "audit@base:audit@head"])
        .ok()
        .mentions(&[C]);

    // Offline scripts: a reversed range points at the other verb.
    let refused = p
        .run(&[
            "upgrade",
            "--sql",
            "--dialect",
            "sqlite",
            &format!("{C}:{A}"),
        ])
        .code(1)
        .mentions(&["would do nothing"]);
    let hint = &hints(&refused, "")[0];
    assert_eq!(hint, &["downgrade", "--sql", &format!("{C}:{A}")]);
    let mut hint = hint.clone();
    hint.extend(["--dialect".to_owned(), "sqlite".to_owned()]);
    p.run(&hint)
        .ok()
        .mentions(&[&format!("Running downgrade {C}")]);
    let refused = p
        .run(&[
            "downgrade",
            "--sql",
            "--dialect",
            "sqlite",
            &format!("{A}:{C}"),
        ])
        .code(1);
    let mut hint = hints(&refused, "")[0].clone();
    assert_eq!(hint[0], "upgrade");
    hint.extend(["--dialect".to_owned(), "sqlite".to_owned()]);
    p.run(&hint)
        .ok()
        .mentions(&[&format!("Running upgrade {B} -> {C}")]);
    // An empty but valid range says so.
    p.run(&[
        "upgrade",
        "--sql",
        "--dialect",
        "sqlite",
        &format!("{C}:{C}"),
    ])
    .ok()
    .mentions(&["nothing to upgrade"]);
}

/// Issue 10, item 7: `heads`, `show` and `history` print the branch label
/// a revision inherits, as Alembic does (`c3c3... (audit) (head)`).
#[test]
fn inherited_branch_names_are_shown() {
    let labelled: Spec = (
        B,
        A,
        "-- Branch Labels: audit",
        "CREATE TABLE t_b (id INT);",
        "DROP TABLE t_b;",
    );
    let p = sqlite_project(&[SPEC_A, labelled, SPEC_C, SPEC_D]);
    let heads = p.run(&["heads"]).ok();
    assert!(
        heads.stdout.contains(&format!("{C} (audit) (head)")),
        "{heads:#?}"
    );
    assert!(heads.stdout.contains(&format!("{D} (head)")), "{heads:#?}");
    p.run(&["show", C]).ok().mentions(&["Branch names: audit"]);
    let history = p.run(&["history"]).ok();
    assert!(
        history
            .stdout
            .contains(&format!("{B} -> {C} (audit) (head)")),
        "{history:#?}"
    );
    let json = p.run(&["heads", "--json"]).ok().json();
    let c = json
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["revision"] == C)
        .unwrap();
    assert_eq!(c["branch_names"], serde_json::json!(["audit"]), "{json}");
    assert_eq!(c["branch_labels"], serde_json::json!([]), "{json}");
}

#[test]
fn words_keep_quoted_arguments_together() {
    assert_eq!(
        words(r#"merge -m "merge heads""#),
        ["merge", "-m", "merge heads"]
    );
}

/// `retort ARGS` in `dir`, with no database URL.
fn bare(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::cargo_bin("retort").expect("the retort binary");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    for var in [
        "RETORT_DATABASE_URL",
        "DATABASE_URL",
        "RETORT_CONFIG",
        "RETORT_ENV",
        "RUST_LOG",
    ] {
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

/// The command-line hints outside the database: `init` in another
/// directory, `--sql` with `--dialect`, `--dialect` without a URL.
#[test]
fn command_line_hints_work() {
    let dir = tempfile::tempdir().unwrap();
    bare(dir.path(), &["init"]).ok();
    bare(dir.path(), &["revision", "-m", "one"]).ok();
    bare(dir.path(), &["init"])
        .code(1)
        .mentions(&["run `retort init` in another directory"]);
    std::fs::create_dir(dir.path().join("other")).unwrap();
    bare(dir.path(), &["init", "other"]).ok();

    bare(dir.path(), &["upgrade", "--dialect", "sqlite"])
        .code(1)
        .mentions(&["add `--sql`"]);
    bare(dir.path(), &["upgrade", "--dialect", "sqlite", "--sql"])
        .ok()
        .mentions(&["Running upgrade"]);
    bare(dir.path(), &["upgrade", "--sql"])
        .code(1)
        .mentions(&["pass `--dialect postgres|mysql|sqlite`"]);
    for dialect in ["postgres", "mysql", "sqlite"] {
        bare(dir.path(), &["upgrade", "--sql", "--dialect", dialect]).ok();
    }
}
