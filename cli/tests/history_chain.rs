//! The history table's hash chain (docs/history-table.md) on every
//! backend: every row the engine writes is chained; a row edited or
//! deleted by hand is reported by `check` (library, text and `--json`),
//! naming the first broken row, until `retort repair` accepts the history
//! as it stands; a database whose tables and rows release 0.1.0 wrote,
//! before the chain, keeps working, its rows reported as unchained.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;

use common::{Backend, TestDb};
use retort::{Break, Migrations};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

type Spec<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

const SPECS: [Spec<'static>; 3] = [
    (
        A,
        "",
        "",
        "CREATE TABLE t_a (id INT PRIMARY KEY);",
        "DROP TABLE t_a;",
    ),
    // Run statement by statement everywhere: its row is inserted
    // `running`, then progresses and finishes.
    (
        B,
        A,
        "-- Transactional: false",
        "CREATE TABLE t_b (id INT PRIMARY KEY);\nINSERT INTO t_b (id) VALUES (1);",
        "DROP TABLE t_b;",
    ),
    (
        C,
        B,
        "",
        "CREATE TABLE t_c (id INT PRIMARY KEY);",
        "DROP TABLE t_c;",
    ),
];

fn load(dir: &Path) -> Migrations {
    Migrations::from_dir(dir).expect("valid revisions")
}

/// `(id, prev_hash, row_hash)` of every history row, oldest first.
async fn links(db: &TestDb) -> Vec<(String, String, String)> {
    let text = |column: &str| match db.backend {
        Backend::Postgres => format!("COALESCE({column}::text, '-')"),
        Backend::MySql => format!("CAST(COALESCE({column}, '-') AS CHAR)"),
        Backend::Sqlite => format!("CAST(COALESCE({column}, '-') AS TEXT)"),
    };
    let column = |c: &str| format!("SELECT {} FROM retort_history ORDER BY id", text(c));
    let ids = db.query_strings(&column("id")).await;
    let prev = db.query_strings(&column("prev_hash")).await;
    let hash = db.query_strings(&column("row_hash")).await;
    ids.into_iter()
        .zip(prev)
        .zip(hash)
        .map(|((id, prev), hash)| (id, prev, hash))
        .collect()
}

/// The `retort` binary with a clean environment.
fn retort(dir: &Path, url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = common::cli::command(dir);
    cmd.args(["--database-url", url, "--migrations"])
        .arg(dir.join("migrations"));
    let run = common::cli::run(cmd, args);
    (run.code, run.stdout, run.stderr)
}

/// A project directory with `specs` under `migrations/`.
fn project(specs: &[Spec<'_>]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let revisions = common::write_revisions(specs);
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    for (id, ..) in specs {
        let name = format!("{id}.sql");
        std::fs::copy(
            revisions.path().join(&name),
            dir.path().join("migrations").join(&name),
        )
        .unwrap();
    }
    dir
}

async fn every_write_is_chained(db: &TestDb) {
    let url = db.url.as_str();
    let dir = project(&SPECS);
    let m = load(&dir.path().join("migrations"));
    m.upgrade(url, "head").await.unwrap();
    m.downgrade(url, A).await.unwrap();
    m.upgrade(url, "head").await.unwrap();
    m.with_config(retort::Config::default())
        .stamp(url, &[A], true)
        .await
        .unwrap();
    m.stamp(url, C).await.unwrap();
    // Identical content twice (a stamp of C again after going back): the
    // nonces keep the rows apart.
    m.stamp(url, A).await.unwrap();
    m.stamp(url, C).await.unwrap();

    let rows = links(db).await;
    assert_eq!(rows.len(), 11, "{rows:?}");
    let mut prev = String::new();
    for (id, link, hash) in &rows {
        assert_eq!(hash.len(), 64, "row {id} has no hash: {rows:?}");
        assert_eq!(link, &prev, "row {id} does not link the row before it");
        prev = hash.clone();
    }
    let hashes: std::collections::BTreeSet<&String> = rows.iter().map(|r| &r.2).collect();
    assert_eq!(hashes.len(), rows.len(), "two rows hash alike");
    let check = m.check(url).await.unwrap();
    assert_eq!(check.history.rows, 11);
    assert_eq!(check.history.unchained, 0);
    assert_eq!(check.history.broken, None);
    assert!(check.is_ok(), "{:?}", check.problems());
}

/// A step run statement by statement fails; `repair`, then `stamp`,
/// resolve it: its row becomes `resolved` and the chain still holds.
async fn resolutions_keep_the_chain(db: &TestDb) {
    let url = db.url.as_str();
    let failing: Spec<'static> = (
        C,
        B,
        "-- Transactional: false",
        "CREATE TABLE t_c (id INT PRIMARY KEY);\nINSERT INTO t_missing (id) VALUES (1);",
        "DROP TABLE t_c;",
    );
    let dir = project(&[SPECS[0], SPECS[1], failing]);
    let m = load(&dir.path().join("migrations"));
    for resolve in ["repair", "stamp"] {
        m.upgrade(url, "head").await.unwrap_err();
        let check = m.check(url).await.unwrap();
        assert!(check.failed.is_some());
        assert_eq!(check.history.broken, None, "{resolve}");
        db.execute("DROP TABLE t_c").await;
        match resolve {
            "repair" => m.repair(url).await.map(drop).unwrap(),
            _ => m.stamp(url, B).await.map(drop).unwrap(),
        }
        let check = m.check(url).await.unwrap();
        assert_eq!(
            (check.failed.as_ref(), check.history.broken.as_ref()),
            (None, None),
            "{resolve}"
        );
        let history = m.history(url).await.unwrap();
        assert!(
            history
                .iter()
                .any(|h| h.revision == C && h.status == "resolved"),
            "{history:#?}"
        );
        assert!(history.iter().all(|h| h.status != "failed"), "{history:#?}");
    }
    assert_eq!(m.check(url).await.unwrap().history.rows, 4);
}

/// The id of the `n`th history row (0-based).
async fn nth_id(db: &TestDb, n: usize) -> String {
    links(db).await[n].0.clone()
}

async fn an_edited_row_is_found(db: &TestDb) {
    let url = db.url.as_str();
    let dir = project(&SPECS);
    let m = load(&dir.path().join("migrations"));
    m.upgrade(url, "head").await.unwrap();
    // The row recording B's upgrade, edited to drop another table on the
    // way down: the change `check` used to miss.
    let id = nth_id(db, 1).await;
    db.execute(&format!(
        "UPDATE retort_history SET downgrade_sql = 'DROP TABLE t_a;' WHERE id = {id}"
    ))
    .await;
    let check = m.check(url).await.unwrap();
    let broken = check.history.broken.clone().expect("the edit is found");
    assert_eq!(broken.id.to_string(), id);
    assert_eq!(
        (broken.revision.as_str(), broken.operation.as_str()),
        (B, "upgrade")
    );
    assert_eq!(broken.reason, Break::Edited);
    assert!(!check.is_ok());
    let problem = check.problems().join("\n");
    assert!(
        problem.contains(&format!("history row {id} (upgrade of `{B}`")),
        "{problem}"
    );
    assert!(problem.contains("`retort repair`"), "{problem}");

    // The command line says so too, and as data.
    let (code, stdout, _) = retort(dir.path(), url, &["check"]);
    assert_eq!(code, Some(3), "{stdout}");
    assert!(stdout.contains(&format!("history row {id}")), "{stdout}");
    let (code, stdout, _) = retort(dir.path(), url, &["check", "--json"]);
    assert_eq!(code, Some(3));
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let broken = &json["history"]["broken"];
    assert_eq!(broken["id"].to_string(), id, "{json}");
    assert_eq!(broken["reason"], "edited", "{json}");
    assert_eq!(broken["revision"], B, "{json}");

    // The hint: `retort repair` accepts the history as it stands.
    let (code, stdout, stderr) = retort(dir.path(), url, &["repair"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let check = m.check(url).await.unwrap();
    assert!(check.is_ok(), "{:?}", check.problems());
    let history = m.history(url).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.operation.as_str(), last.revision.as_str()),
        ("reseal", B)
    );
    assert!(
        last.error
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("row {id}")),
        "{last:?}"
    );
    // Later rows chain on.
    m.downgrade(url, "-1").await.unwrap();
    assert!(m.check(url).await.unwrap().history.broken.is_none());
}

async fn a_deleted_row_is_found(db: &TestDb) {
    let url = db.url.as_str();
    let dir = project(&SPECS);
    let m = load(&dir.path().join("migrations"));
    m.upgrade(url, "head").await.unwrap();
    m.downgrade(url, "base").await.unwrap();
    m.upgrade(url, "head").await.unwrap();
    // Rows 3 and 4 (C up, C down): deleting the pair leaves the version
    // table consistent, only the chain shows it.
    let (third, fourth, fifth) = (
        nth_id(db, 2).await,
        nth_id(db, 3).await,
        nth_id(db, 4).await,
    );
    db.execute(&format!(
        "DELETE FROM retort_history WHERE id IN ({third}, {fourth})"
    ))
    .await;
    let broken = m.check(url).await.unwrap().history.broken.expect("found");
    assert_eq!(broken.id.to_string(), fifth);
    assert_eq!(broken.reason, Break::Unlinked);
    assert!(
        broken.to_string().contains("a row before it was deleted"),
        "{broken}"
    );
}

/// Runs a script release 0.1.0 wrote (`retort ... --sql`), statement by
/// statement.
async fn apply_fixture(db: &TestDb) {
    let (file, dialect) = match db.backend {
        Backend::Sqlite => ("sqlite.sql", retort_core::split::Dialect::Sqlite),
        Backend::Postgres => ("postgres.sql", retort_core::split::Dialect::Postgres),
        Backend::MySql => ("mysql.sql", retort_core::split::Dialect::MySql),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/release-0.1.0")
        .join(file);
    let script = std::fs::read_to_string(&path).unwrap();
    let statements: Vec<String> = if dialect == retort_core::split::Dialect::MySql {
        mysql_client_statements(&script)
    } else {
        retort_core::split::split(&script, dialect)
            .iter()
            .map(|s| s.sql.to_owned())
            .collect()
    };
    for statement in statements {
        let code: Vec<&str> = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect();
        let code = code.join("\n");
        let code = code.trim();
        if !code.is_empty() && !["BEGIN", "COMMIT", "START TRANSACTION"].contains(&code) {
            db.execute(code).await;
        }
    }
}

/// The statements of a script for the `mariadb` client, which the offline
/// writer ends with `;` at the end of a line, or with another delimiter
/// between `DELIMITER` lines when the statement holds a `;`.
fn mysql_client_statements(script: &str) -> Vec<String> {
    let mut delimiter = ";".to_owned();
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        if let Some(new) = line.strip_prefix("DELIMITER ") {
            delimiter = new.trim().to_owned();
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if let Some(done) = current.trim_end().strip_suffix(delimiter.as_str()) {
            statements.push(done.to_owned());
            current.clear();
        }
    }
    statements
}

async fn a_database_from_release_0_1_0_keeps_working(db: &TestDb) {
    let url = db.url.as_str();
    if let Some(path) = url.strip_prefix("sqlite://") {
        std::fs::File::create(path).unwrap();
    }
    apply_fixture(db).await;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/release-0.1.0");
    let dir = project(&SPECS[2..]);
    for entry in std::fs::read_dir(fixture.join("migrations")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("migrations").join(entry.file_name()),
        )
        .unwrap();
    }
    let m = load(&dir.path().join("migrations"));

    // Read as it is, before anything writes.
    assert_eq!(m.current(url).await.unwrap(), [B]);
    let check = m.check(url).await.unwrap();
    assert_eq!((check.history.rows, check.history.unchained), (4, 4));
    assert_eq!(check.history.broken, None);
    assert_eq!(check.pending, [C]);
    assert!(check.drift.is_empty(), "{:?}", check.drift);

    // The first write upgrades the table and chains on from there.
    let report = m.upgrade(url, "head").await.unwrap();
    assert_eq!(report.heads_after, [C]);
    let check = m.check(url).await.unwrap();
    assert_eq!((check.history.rows, check.history.unchained), (5, 4));
    assert_eq!(check.history.broken, None);
    assert!(check.is_ok(), "{:?}", check.problems());
    let rows = links(db).await;
    assert_eq!(
        rows[4].1, "",
        "the first chained row follows an unchained one"
    );
    assert_eq!(rows[4].2.len(), 64);
    let (code, stdout, stderr) = retort(dir.path(), url, &["check"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("4 of the 5 history rows predate the hash chain"),
        "{stderr}"
    );
    // And back down through what release 0.1.0 applied.
    m.downgrade(url, "base").await.unwrap();
    assert!(m.check(url).await.unwrap().history.broken.is_none());
    assert!(db.tables().await.iter().all(|t| !t.starts_with("t_")));
}

backend_tests!(
    every_write_is_chained,
    resolutions_keep_the_chain,
    an_edited_row_is_found,
    a_deleted_row_is_found,
    a_database_from_release_0_1_0_keeps_working
);
