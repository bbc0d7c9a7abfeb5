//! Fleets through the `retort` binary (issue 14): 200 PostgreSQL
//! databases, 200 PostgreSQL schemas in one database, 100 MariaDB
//! databases and 500 SQLite files, each upgraded by three runners started
//! together; a runner SIGKILLed mid-fleet and the re-run; an unreachable
//! and a failing target with `--keep-going` and without.
//!
//! "Applied exactly once" is read from the targets themselves: every
//! revision inserts its id into `applied_log` in the same transaction as
//! its bookkeeping, so a revision run twice leaves two rows. The runners'
//! `--json` records must agree: across the three, each target's revisions
//! appear once. Nothing asserts on time; waits are on conditions.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::cli::{Run, command, project, run, std_command};
use common::servers::{Server, unique, with_database};
use common::{Backend, TestDb, servers};
use sqlx::Connection as _;

const REVS: [&str; 3] = ["f1ee70000001", "f1ee70000002", "f1ee70000003"];

fn log(id: &str) -> String {
    format!("INSERT INTO applied_log (rev) VALUES ('{id}');")
}

/// A project of three revisions logging themselves (the second also runs
/// `slow`), with `settings` as its retort.toml.
fn fleet_project(settings: &str, slow: &str) -> tempfile::TempDir {
    let [r1, r2, r3] = REVS;
    let up1 = format!(
        "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);\n{}",
        log(r1)
    );
    let up2 = format!("{slow}\n{}", log(r2));
    let down = |id: &str| format!("DELETE FROM applied_log WHERE rev = '{id}';");
    let dir = project(&[
        (r1, "", &up1, "DROP TABLE applied_log;"),
        (r2, r1, &up2, &down(r2)),
        (r3, r2, &log(r3), &down(r3)),
    ]);
    std::fs::write(dir.path().join("retort.toml"), settings).expect("write retort.toml");
    dir
}

/// Runs `sql` on the database at `url` (by its scheme) and returns the
/// first column of each row, as text.
async fn query(url: &str, sql: &str) -> Result<Vec<String>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await?;
        let rows = sqlx::query_scalar(sql).fetch_all(&mut c).await;
        let _ = c.close().await;
        rows
    } else if url.starts_with("mysql") {
        let mut c = sqlx::MySqlConnection::connect(url).await?;
        let rows = sqlx::query_scalar(sql).fetch_all(&mut c).await;
        let _ = c.close().await;
        rows
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        let rows = sqlx::query_scalar(sql).fetch_all(&mut c).await;
        let _ = c.close().await;
        rows
    }
}

/// The rows of a target's `applied_log`.
async fn logged(url: &str) -> Vec<String> {
    query(url, "SELECT rev FROM applied_log")
        .await
        .unwrap_or_else(|e| panic!("read applied_log of {url}: {e}"))
}

/// Databases made for one test on one server, dropped (all of them, with
/// one connection) when it ends, even by a panic.
struct Databases {
    backend: Backend,
    server_url: String,
    names: Vec<String>,
}

impl Databases {
    async fn create(server: &Server, n: usize) -> Self {
        let prefix = unique("retort_fl");
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}_{i}")).collect();
        let dbs = Self {
            backend: server.backend,
            server_url: server.url.clone(),
            names,
        };
        assert_ne!(server.backend, Backend::Sqlite, "SQLite fleets are files");
        for name in &dbs.names {
            query(&server.url, &format!("CREATE DATABASE {name}"))
                .await
                .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        }
        dbs
    }

    fn url(&self, name: &str) -> String {
        with_database(&self.server_url, name)
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        let (backend, url, names) = (self.backend, self.server_url.clone(), self.names.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                for name in &names {
                    let force = if backend == Backend::Postgres {
                        " WITH (FORCE)"
                    } else {
                        ""
                    };
                    let sql = format!("DROP DATABASE IF EXISTS {name}{force}");
                    if let Err(e) = query(&url, &sql).await {
                        eprintln!("fleet test database {name} was not dropped: {e}");
                    }
                }
            });
            Some(())
        })
        .join();
        if dropped.is_err() {
            eprintln!("fleet test databases were not dropped: the thread panicked");
        }
    }
}

/// Starts `runners` copies of `retort ARGS` in `dir` at once and waits
/// for all of them.
fn run_together(dir: &Path, runners: usize, args: &[&str]) -> Vec<Run> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..runners)
            .map(|_| s.spawn(|| run(command(dir), args)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("runner thread"))
            .collect()
    })
}

/// The `--json` records of runs, per target: its statuses and the
/// revisions applied to it, across all runs.
fn records(runs: &[Run]) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut per_target: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for run in runs {
        for line in run.stdout.lines().filter(|l| l.starts_with('{')) {
            let record: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{}", run.describe()));
            let target = record["target"].as_str().expect("target").to_owned();
            let entry = per_target.entry(target).or_default();
            entry
                .0
                .push(record["status"].as_str().expect("status").to_owned());
            if let Some(steps) = record["steps"].as_array() {
                entry
                    .1
                    .extend(steps.iter().map(|s| s.as_str().expect("id").to_owned()));
            }
        }
    }
    per_target
}

/// Three runners upgrade the fleet together: every runner succeeds, every
/// target ends at head with each revision applied once (the runners'
/// reports and the target's `applied_log` agree).
fn three_runners(
    dir: &Path,
    expected_targets: usize,
) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let runs = run_together(
        dir,
        3,
        &["upgrade", "--fleet", "--jobs", "6", "--json", "-q"],
    );
    for run in &runs {
        assert_eq!(run.code, Some(0), "a runner failed: {}", run.describe());
    }
    let per_target = records(&runs);
    assert_eq!(per_target.len(), expected_targets, "targets reported");
    let busy: usize = per_target
        .values()
        .map(|(statuses, _)| statuses.iter().filter(|s| *s == "busy").count())
        .sum();
    eprintln!("{expected_targets} targets x 3 runners: {busy} skipped as busy");
    for (target, (statuses, steps)) in &per_target {
        assert_eq!(
            statuses.len(),
            3,
            "{target}: one record per runner: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| s == "done" || s == "busy"),
            "{target}: {statuses:?}"
        );
        assert_eq!(
            steps, &REVS,
            "{target}: revisions applied across the runners"
        );
    }
    per_target
}

/// Every row of `applied_log` in one target, sorted.
fn assert_once(target: &str, mut logged: Vec<String>) {
    logged.sort();
    assert_eq!(
        logged, REVS,
        "{target}: applied_log (each revision exactly once)"
    );
}

#[tokio::test]
async fn two_hundred_postgres_databases_three_runners() {
    let Some(server) = servers(Backend::Postgres).into_iter().next() else {
        return;
    };
    let dbs = Databases::create(&server, 200).await;
    let list: String = dbs.names.iter().map(|n| format!("{n}\n")).collect();
    let dir = fleet_project(
        &format!(
            "[database]\nurl = \"{}\"\n[fleet.tenants]\nshape = \"database\"\ntargets_file = \"tenants.txt\"\n",
            server.url
        ),
        "",
    );
    std::fs::write(dir.path().join("tenants.txt"), format!("# tenants\n{list}")).unwrap();
    three_runners(dir.path(), 200);
    for name in &dbs.names {
        assert_once(name, logged(&dbs.url(name)).await);
    }
    // A no-op run over the whole fleet: every target already at head.
    let check = run(command(dir.path()), &["check", "--fleet", "--jobs", "16"]).ok();
    assert!(
        check.stdout.contains("200 targets: 200 done"),
        "{}",
        check.describe()
    );
}

#[tokio::test]
async fn two_hundred_postgres_schemas_three_runners() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let schemas: Vec<String> = (0..200).map(|i| format!("tenant_{i}")).collect();
    let create: String = schemas
        .iter()
        .map(|s| format!("CREATE SCHEMA {s};"))
        .collect();
    db.execute(&create).await;
    db.execute("CREATE TABLE public.tenants (schema_name TEXT NOT NULL)")
        .await;
    let rows: Vec<String> = schemas.iter().map(|s| format!("('{s}')")).collect();
    db.execute(&format!(
        "INSERT INTO public.tenants VALUES {}",
        rows.join(", ")
    ))
    .await;
    let dir = fleet_project(
        &format!(
            "[database]\nurl = \"{}\"\n[fleet.tenants]\nshape = \"schema\"\n\
             targets_query = \"SELECT schema_name FROM public.tenants ORDER BY schema_name\"\n",
            db.url
        ),
        "",
    );
    three_runners(dir.path(), 200);
    for schema in &schemas {
        assert_once(
            schema,
            db.query_strings(&format!("SELECT rev FROM {schema}.applied_log"))
                .await,
        );
        let version = db
            .query_strings(&format!("SELECT version_num FROM {schema}.retort_version"))
            .await;
        assert_eq!(version, [REVS[2]], "{schema}: its own version table");
    }
    // Nothing landed outside the tenants' schemas.
    let public = db
        .query_strings(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .await;
    assert_eq!(public, ["tenants"]);
    db.drop_db().await;
}

#[tokio::test]
async fn one_hundred_mariadb_databases_three_runners() {
    let Some(server) = servers(Backend::MySql).into_iter().next() else {
        return;
    };
    let dbs = Databases::create(&server, 100).await;
    let targets: Vec<String> = dbs.names.iter().map(|n| format!("\"{n}\"")).collect();
    let dir = fleet_project(
        &format!(
            "[database]\nurl = \"{}\"\n[fleet.tenants]\nshape = \"database\"\ntargets = [{}]\n",
            server.url,
            targets.join(", ")
        ),
        "",
    );
    three_runners(dir.path(), 100);
    for name in &dbs.names {
        assert_once(name, logged(&dbs.url(name)).await);
    }
}

#[tokio::test]
async fn five_hundred_sqlite_files_three_runners() {
    let files = tempfile::tempdir().unwrap();
    let urls: Vec<String> = (0..500)
        .map(|i| format!("sqlite://{}/tenant_{i}.db?mode=rwc", files.path().display()))
        .collect();
    let dir = fleet_project("[fleet.files]\ntargets_file = \"files.txt\"\n", "");
    std::fs::write(dir.path().join("files.txt"), urls.join("\n")).unwrap();
    three_runners(dir.path(), 500);
    for url in &urls {
        assert_once(url, logged(url).await);
    }
}

/// A runner SIGKILLed part way through a fleet: the re-run completes it,
/// and no revision ran twice anywhere.
#[tokio::test]
async fn a_runner_killed_mid_fleet_and_the_rerun() {
    let Some(server) = servers(Backend::Postgres).into_iter().next() else {
        return;
    };
    let dbs = Databases::create(&server, 40).await;
    let dir = fleet_project(
        &format!(
            "[database]\nurl = \"{}\"\n[fleet.tenants]\nshape = \"database\"\ntargets = [{}]\n",
            server.url,
            dbs.names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // Each target takes a while, so the runner is mid-fleet for long:
        // 37 targets after the third, 2 at a time, at least 9 s.
        "SELECT pg_sleep(0.5);",
    );
    let mut child = std_command(dir.path())
        .args(["upgrade", "--fleet", "--jobs", "2", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the runner");
    // Wait until some targets are at head (a condition, not a time).
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        // The runner takes targets in order: count from the first, and stop
        // at 3, so a poll stays short however loaded the machine is.
        let mut at_head = 0;
        for name in &dbs.names {
            let version = query(&dbs.url(name), "SELECT version_num FROM retort_version").await;
            if version.is_ok_and(|v| v == [REVS[2]]) {
                at_head += 1;
            }
            if at_head >= 3 {
                break;
            }
        }
        if at_head >= 3 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the runner ended before 3 targets were done"
        );
        assert!(
            Instant::now() < deadline,
            "safety timeout waiting for 3 targets at head"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the runner finished 40 slow targets before the kill"
    );
    child.kill().expect("SIGKILL the runner");
    let _ = child.wait();
    let rerun = run(
        command(dir.path()),
        &["upgrade", "--fleet", "--jobs", "4", "--json", "-q"],
    )
    .ok();
    let per_target = records(std::slice::from_ref(&rerun));
    let resumed = per_target
        .values()
        .filter(|(_, steps)| steps.is_empty())
        .count();
    assert!(
        resumed >= 3,
        "the re-run left the finished targets alone: {per_target:?}"
    );
    for name in &dbs.names {
        assert_once(name, logged(&dbs.url(name)).await);
    }
}

/// Three SQLite files, then an unreachable server, a target whose first
/// revision fails (its `applied_log` exists already), and more files.
fn failing_fleet() -> (tempfile::TempDir, tempfile::TempDir, Vec<String>) {
    let files = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("sqlite://{}/{name}.db?mode=rwc", files.path().display());
    let mut targets: Vec<String> = (0..3).map(|i| url(&format!("first_{i}"))).collect();
    // Port 1 on loopback: nothing listens there.
    targets.push("postgres://nobody:pw@127.0.0.1:1/unreachable".to_owned());
    targets.push(url("broken"));
    targets.extend((0..3).map(|i| url(&format!("after_{i}"))));
    create_applied_log(&files.path().join("broken.db"));
    let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    let dir = fleet_project(
        &format!("[fleet.mixed]\ntargets = [{}]\n", list.join(", ")),
        "",
    );
    (dir, files, targets)
}

/// Creates `applied_log` in a fresh SQLite file (so the first revision's
/// `CREATE TABLE` fails there).
fn create_applied_log(path: &Path) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("CREATE TABLE applied_log (rev TEXT)")
                .execute(&mut c)
                .await
                .unwrap();
            let _ = c.close().await;
        });
}

#[test]
fn keep_going_reports_each_failure_and_does_the_rest() {
    let (dir, _files, targets) = failing_fleet();
    let out = run(
        command(dir.path()),
        &[
            "upgrade",
            "--fleet",
            "--keep-going",
            "--jobs",
            "2",
            "--json",
        ],
    )
    .code(1);
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON record"))
        .collect();
    assert_eq!(records.len(), targets.len(), "{}", out.describe());
    for (record, target) in records.iter().zip(&targets) {
        let status = record["status"].as_str().unwrap();
        if target.contains("unreachable") {
            assert_eq!(status, "failed", "{record}");
            assert!(
                !record["url"].as_str().unwrap().contains("pw"),
                "password redacted: {record}"
            );
            assert!(
                !record["error"].as_str().unwrap().contains(":pw@"),
                "{record}"
            );
        } else if target.contains("broken") {
            assert_eq!(status, "failed", "{record}");
            let error = record["error"].as_str().unwrap();
            assert!(
                error.contains(REVS[0]) && error.contains("applied_log"),
                "{record}"
            );
        } else {
            assert_eq!(status, "done", "{record}");
            assert_eq!(record["steps"].as_array().unwrap().len(), 3, "{record}");
        }
    }
    // The table names each failure; the password never shows.
    let table = run(command(dir.path()), &["upgrade", "--fleet", "--keep-going"]).code(1);
    assert!(
        table.stdout.contains("8 targets: 6 done, 2 failed"),
        "{}",
        table.describe()
    );
    assert!(
        table
            .stderr
            .contains("error on postgres://nobody:***@127.0.0.1:1"),
        "{}",
        table.describe()
    );
    assert!(!table.all().contains(":pw@"), "{}", table.describe());
}

#[test]
fn fail_fast_stops_starting_targets_after_the_first_failure() {
    let (dir, files, targets) = failing_fleet();
    // One job: the three first targets, then the unreachable one fails and
    // nothing after it starts.
    let out = run(
        command(dir.path()),
        &["upgrade", "--fleet", "--jobs", "1", "--json"],
    )
    .code(1);
    let statuses: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "done",
            "done",
            "done",
            "failed",
            "not-started",
            "not-started",
            "not-started",
            "not-started"
        ],
        "{}",
        out.describe()
    );
    assert_eq!(targets.len(), statuses.len());
    // The targets after the failure were not touched at all.
    assert!(
        !files.path().join("after_0.db").exists(),
        "after_0 was not started"
    );
    // A re-run with --keep-going picks up where things stand.
    let again = run(
        command(dir.path()),
        &["upgrade", "--fleet", "--keep-going", "--json"],
    )
    .code(1);
    let per_target = records(std::slice::from_ref(&again));
    for (target, (_, steps)) in &per_target {
        if target.contains("/first_") {
            assert!(steps.is_empty(), "{target} was already at head: {steps:?}");
        } else if target.contains("/after_") {
            assert_eq!(steps, &REVS, "{target}");
        }
    }
}

#[test]
fn fleet_usage_errors_name_the_fix() {
    let dir = fleet_project(
        "[fleet.a]\ntargets = [\"sqlite://a.db\"]\n[fleet.b]\ntargets = [\"sqlite://b.db\"]\n",
        "",
    );
    let out = run(command(dir.path()), &["upgrade", "--fleet"]).code(1);
    assert!(
        out.stderr
            .contains("several fleets are configured; name one: `--fleet=a`, `--fleet=b`"),
        "{}",
        out.describe()
    );
    // The hint works as printed.
    let hinted = run(command(dir.path()), &["upgrade", "--fleet=a"]).ok();
    assert!(
        hinted.stdout.contains("1 target: 1 done"),
        "{}",
        hinted.describe()
    );
    let out = run(command(dir.path()), &["upgrade", "--fleet=c"]).code(1);
    assert!(
        out.stderr
            .contains("no fleet `c`; the configured fleets are `a`, `b`"),
        "{}",
        out.describe()
    );
    // `--jobs` without `--fleet` is a usage error.
    let out = run(command(dir.path()), &["upgrade", "--jobs", "2"]).code(2);
    assert!(out.stderr.contains("--fleet"), "{}", out.describe());
    // `--fleet head`: `head` is the target, not a fleet name.
    let out = run(command(dir.path()), &["upgrade", "--fleet", "head"]).code(1);
    assert!(out.stderr.contains("several fleets"), "{}", out.describe());
    // A target listed twice would race itself.
    std::fs::write(
        dir.path().join("retort.toml"),
        "[fleet.a]\ntargets = [\"sqlite://a.db\", \"sqlite://a.db\"]\n",
    )
    .unwrap();
    let out = run(command(dir.path()), &["upgrade", "--fleet"]).code(1);
    assert!(
        out.stderr
            .contains("lists the target `sqlite://a.db` twice"),
        "{}",
        out.describe()
    );
}

/// Every verb with `--fleet` on three SQLite files: check (exit 3 while
/// behind), upgrade, current, downgrade, stamp.
#[test]
fn every_verb_runs_per_target() {
    let files = tempfile::tempdir().unwrap();
    let urls: Vec<String> = (0..3)
        .map(|i| format!("sqlite://{}/t{i}.db?mode=rwc", files.path().display()))
        .collect();
    let list: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
    let dir = fleet_project(&format!("[fleet.t]\ntargets = [{}]\n", list.join(", ")), "");
    let json = |args: &[&str], code: i32| -> Vec<serde_json::Value> {
        let out = run(command(dir.path()), args).code(code);
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON record"))
            .collect()
    };
    let checked = json(&["check", "--fleet", "--json"], 3);
    assert!(checked.iter().all(|r| r["ok"] == false), "{checked:?}");
    assert!(
        checked[0]["problems"][0]
            .as_str()
            .unwrap()
            .contains("3 revision(s) not applied")
    );
    json(&["upgrade", "--fleet", "--json"], 0);
    let current = json(&["current", "--fleet", "--json"], 0);
    assert!(
        current.iter().all(|r| r["current"][0] == REVS[2]),
        "{current:?}"
    );
    let down = json(&["downgrade", "--fleet", "-1", "--json"], 0);
    assert!(down.iter().all(|r| r["steps"][0] == REVS[2]), "{down:?}");
    let stamped = json(&["stamp", "--fleet", "head", "--json"], 0);
    assert!(
        stamped
            .iter()
            .all(|r| r["heads_after"][0] == REVS[2] && r["steps"] == serde_json::json!([])),
        "{stamped:?}"
    );
    let checked = json(&["check", "--fleet", "--json"], 0);
    assert!(checked.iter().all(|r| r["ok"] == true), "{checked:?}");
}

/// `--sql --fleet`: a script per target, connecting to nothing, each
/// pointing its session at the target.
#[test]
fn offline_scripts_per_target() {
    let dir = fleet_project(
        "[database]\nurl = \"postgres://app:secret@127.0.0.1:1/app\"\n\
         [fleet.tenants]\nshape = \"schema\"\ntargets = [\"acme\", \"globex\"]\n\
         [fleet.dbs]\nshape = \"database\"\ntargets = [\"acme\"]\n",
        "",
    );
    let out = run(
        command(dir.path()),
        &["upgrade", "--fleet=tenants", "--sql"],
    )
    .ok();
    for tenant in ["acme", "globex"] {
        assert!(
            out.stdout.contains(&format!(
                "-- retort fleet target: postgres://app:***@127.0.0.1:1/app?options%5Bsearch_path%5D=%22{tenant}%22\nSET search_path TO \"{tenant}\";"
            )),
            "{}",
            out.describe()
        );
        assert!(
            out.stdout
                .contains(&format!("INSERT INTO \"{tenant}\".\"retort_version\"")),
            "{}",
            out.describe()
        );
    }
    assert!(!out.all().contains("secret"), "{}", out.describe());
    let out = run(
        command(dir.path()),
        &["upgrade", "--fleet=dbs", "--sql", "--dialect", "mysql"],
    )
    .ok();
    assert!(out.stdout.contains("USE `acme`;"), "{}", out.describe());
    let out = run(command(dir.path()), &["upgrade", "--fleet=dbs", "--sql"]).ok();
    assert!(
        out.stdout.contains("\\connect \"acme\""),
        "{}",
        out.describe()
    );
    let out = run(
        command(dir.path()),
        &["upgrade", "--fleet=dbs", "--sql", "--jobs", "2"],
    )
    .code(1);
    assert!(
        out.stderr.contains("`--sql` connects to nothing"),
        "{}",
        out.describe()
    );
}
