//! Drift on every backend: an applied revision edited after it was applied
//! is refused by `upgrade`, reported by `check` and by
//! `testing::assert_no_drift`, accepted by `repair`; a CRLF checkout is not
//! drift; `verify_checksums(false)` opts out; an unknown revision in the
//! version table is reported by id. Version-table interop with Alembic.

mod common;

use common::{Backend, TestDb};
use retort::{Config, Error, Migrations};

const A: &str = "a1a1a1a1a1a1";
const B: &str = "b2b2b2b2b2b2";
const C: &str = "c3c3c3c3c3c3";

type Spec<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

const SPEC_A: Spec<'static> = (
    A,
    "",
    "",
    "CREATE TABLE t_a (id INT PRIMARY KEY);",
    "DROP TABLE t_a;",
);
const SPEC_B: Spec<'static> = (
    B,
    A,
    "",
    "CREATE TABLE t_b (id INT PRIMARY KEY);",
    "DROP TABLE t_b;",
);
/// B as edited after it was applied: another statement.
const SPEC_B_EDITED: Spec<'static> = (
    B,
    A,
    "",
    "CREATE TABLE t_b (id INT PRIMARY KEY, name VARCHAR(20));",
    "DROP TABLE t_b;",
);
const SPEC_C: Spec<'static> = (
    C,
    B,
    "",
    "CREATE TABLE t_c (id INT PRIMARY KEY);",
    "DROP TABLE t_c;",
);

/// Writes `specs` into `dir` (replacing files of the same revision).
fn write_into(dir: &tempfile::TempDir, specs: &[Spec<'_>]) {
    let fresh = common::write_revisions(specs);
    for (id, ..) in specs {
        let name = format!("{id}.sql");
        std::fs::copy(fresh.path().join(&name), dir.path().join(&name)).unwrap();
    }
}

fn load(dir: &tempfile::TempDir) -> Migrations {
    Migrations::from_dir(dir.path()).expect("valid revisions")
}

async fn user_tables(db: &TestDb) -> Vec<String> {
    let mut tables: Vec<String> = db
        .tables()
        .await
        .into_iter()
        .filter(|t| !t.starts_with("retort_") && t != "alembic_version")
        .collect();
    tables.sort(); // MariaDB's collation orders `_` differently
    tables
}

/// Runs `testing::assert_no_drift` in a task: `Err(panic message)` if it
/// panicked.
async fn no_drift(m: &Migrations, url: &str) -> Result<(), String> {
    let m = m.clone();
    let url = url.to_owned();
    match tokio::spawn(async move { retort::testing::assert_no_drift(&m, url.as_str()).await })
        .await
    {
        Ok(()) => Ok(()),
        Err(e) => {
            assert!(e.is_panic(), "{e}");
            let payload = e.into_panic();
            Err(payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default())
        }
    }
}

async fn edited_revision_is_drift(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B]);
    load(&dir).upgrade(url, "head").await.unwrap();
    let file = format!("{}/{B}.sql", dir.path().display());

    // Edit B, add C, reload.
    write_into(&dir, &[SPEC_B_EDITED, SPEC_C]);
    let m = load(&dir);
    let e = m.upgrade(url, "head").await.unwrap_err();
    match &e {
        Error::Drift(drift) => {
            assert_eq!(drift.edited.len(), 1, "{drift:?}");
            assert_eq!(drift.edited[0].revision, B);
            assert_eq!(drift.edited[0].file, file);
            assert_ne!(drift.edited[0].recorded, drift.edited[0].actual);
            assert!(drift.unknown.is_empty());
        }
        other => panic!("expected Error::Drift, got {other:?}"),
    }
    let text = e.to_string();
    assert!(text.contains(&file), "{text}");
    assert!(text.contains("retort repair"), "{text}");
    // Refused before anything ran: C is not applied.
    assert_eq!(m.current(url).await.unwrap(), [B]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b"]);
    // Even a target that needs nothing is refused.
    let e = m.upgrade(url, B).await.unwrap_err();
    assert!(matches!(&e, Error::Drift(_)), "{e:?}");

    let check = m.check(url).await.unwrap();
    assert_eq!(check.drift.edited.len(), 1);
    assert_eq!(check.drift.edited[0].file, file);
    assert_eq!(check.pending, [C]);
    assert!(!check.is_ok());
    assert!(check.problems().iter().any(|p| p.contains(&file)));

    let panic = no_drift(&m, url).await.unwrap_err();
    assert!(panic.contains(&file), "{panic}");
    // The unedited files have no drift.
    let unedited = common::write_revisions(&[SPEC_A, SPEC_B]);
    no_drift(&load(&unedited), url).await.unwrap();

    // repair accepts the edit; then upgrade goes on.
    let r = m.repair(url).await.unwrap();
    assert_eq!(r.heads_after, [B]);
    let history = m.history(url).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.revision.as_str(), last.operation.as_str()),
        (B, "repair")
    );
    assert!(m.check(url).await.unwrap().drift.is_empty());
    no_drift(&m, url).await.unwrap();
    let r = m.upgrade(url, "head").await.unwrap();
    assert_eq!(r.steps.len(), 1);
    assert_eq!(m.current(url).await.unwrap(), [C]);
    assert!(m.check(url).await.unwrap().is_ok());
    // Now the old file is the drift.
    let old = common::write_revisions(&[SPEC_A, SPEC_B, SPEC_C]);
    let panic = no_drift(&load(&old), url).await.unwrap_err();
    assert!(
        panic.contains(&format!("revision `{B}` was edited")),
        "{panic}"
    );
}

/// An edit of an ancestor (not the current row) is found as well.
async fn edited_ancestor_is_drift(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B, SPEC_C]);
    load(&dir).upgrade(url, "head").await.unwrap();
    write_into(
        &dir,
        &[(
            A,
            "",
            "",
            "CREATE TABLE t_a (id BIGINT PRIMARY KEY);",
            "DROP TABLE t_a;",
        )],
    );
    let m = load(&dir);
    let e = m.upgrade(url, "head").await.unwrap_err();
    match &e {
        Error::Drift(drift) => {
            let edited: Vec<&str> = drift.edited.iter().map(|e| e.revision.as_str()).collect();
            assert_eq!(edited, [A]);
        }
        other => panic!("expected Error::Drift, got {other:?}"),
    }
    assert!(e.to_string().contains(&format!("{A}.sql")), "{e}");
    // A downgrade is refused alike, even one that would not run A's SQL.
    let e = m.downgrade(url, "-1").await.unwrap_err();
    assert!(
        matches!(&e, Error::Drift(d) if d.edited.len() == 1),
        "{e:?}"
    );
    assert_eq!(m.current(url).await.unwrap(), [C]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b", "t_c"]);
}

/// The head's downgrade section edited after it was applied to drop
/// another revision's table too: `downgrade -1` refuses, as `upgrade`
/// does, and runs nothing; once `repair` accepts the edit (the hint), the
/// edited downgrade runs.
async fn edited_downgrade_is_refused(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B]);
    load(&dir).upgrade(url, "head").await.unwrap();
    write_into(
        &dir,
        &[(
            B,
            A,
            "",
            "CREATE TABLE t_b (id INT PRIMARY KEY);",
            "DROP TABLE t_b;\nDROP TABLE t_a;",
        )],
    );
    let m = load(&dir);
    let file = format!("{}/{B}.sql", dir.path().display());
    for target in ["-1", "base", A] {
        let e = m.downgrade(url, target).await.unwrap_err();
        match &e {
            Error::Drift(drift) => {
                assert_eq!(drift.edited.len(), 1, "{drift:?}");
                assert_eq!(drift.edited[0].file, file);
            }
            other => panic!("downgrade {target}: expected Error::Drift, got {other:?}"),
        }
        assert!(e.to_string().contains("`retort repair`"), "{e}");
    }
    assert_eq!(m.current(url).await.unwrap(), [B]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b"]);
    assert!(!m.check(url).await.unwrap().drift.is_empty());

    // The hint: `repair` accepts the edit, then the edited downgrade runs.
    m.repair(url).await.unwrap();
    let r = m.downgrade(url, "-1").await.unwrap();
    assert_eq!(r.heads_after, [A]);
    assert!(user_tables(db).await.is_empty());
}

async fn crlf_is_not_drift(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B]);
    load(&dir).upgrade(url, "head").await.unwrap();
    for id in [A, B] {
        let path = dir.path().join(format!("{id}.sql"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains('\r'));
        std::fs::write(&path, text.replace('\n', "\r\n")).unwrap();
    }
    write_into(&dir, &[SPEC_C]);
    let m = load(&dir);
    assert!(m.check(url).await.unwrap().drift.is_empty());
    no_drift(&m, url).await.unwrap();
    let r = m.upgrade(url, "head").await.unwrap();
    assert_eq!(r.steps.len(), 1);
    assert_eq!(m.current(url).await.unwrap(), [C]);
    assert!(m.check(url).await.unwrap().is_ok());
}

async fn verify_checksums_off(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B]);
    load(&dir).upgrade(url, "head").await.unwrap();
    write_into(&dir, &[SPEC_B_EDITED, SPEC_C]);
    let m = load(&dir);
    assert!(matches!(
        m.upgrade(url, "head").await.unwrap_err(),
        Error::Drift(_)
    ));
    let unchecked = m.with_config(Config::default().verify_checksums(false));
    let r = unchecked.upgrade(url, "head").await.unwrap();
    let ran: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(ran, [C]);
    assert_eq!(m.current(url).await.unwrap(), [C]);
    assert_eq!(user_tables(db).await, ["t_a", "t_b", "t_c"]);
    // The drift is still there for whoever checks.
    let check = m.check(url).await.unwrap();
    let edited: Vec<&str> = check
        .drift
        .edited
        .iter()
        .map(|e| e.revision.as_str())
        .collect();
    assert_eq!(edited, [B]);
    assert!(no_drift(&m, url).await.is_err());
    // ... and the default settings still refuse to go on until `repair`.
    let e = m.upgrade(url, "head").await.unwrap_err();
    assert!(
        matches!(&e, Error::Drift(d) if d.edited.len() == 1),
        "{e:?}"
    );
    m.repair(url).await.unwrap();
    assert!(m.check(url).await.unwrap().is_ok());
    no_drift(&m, url).await.unwrap();
    assert!(m.upgrade(url, "head").await.unwrap().is_noop());
}

async fn unknown_revision_in_version_table(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B]);
    let m = load(&dir);
    m.upgrade(url, A).await.unwrap();
    db.execute("INSERT INTO retort_version (version_num) VALUES ('0badc0ffee00')")
        .await;
    assert_eq!(m.current(url).await.unwrap(), ["0badc0ffee00", A]);

    let e = m.upgrade(url, "head").await.unwrap_err();
    match &e {
        Error::Drift(drift) => assert_eq!(drift.unknown, ["0badc0ffee00"]),
        other => panic!("expected Error::Drift, got {other:?}"),
    }
    assert!(e.to_string().contains("0badc0ffee00"), "{e}");
    let check = m.check(url).await.unwrap();
    assert_eq!(check.drift.unknown, ["0badc0ffee00"]);
    assert!(!check.is_ok());
    let panic = no_drift(&m, url).await.unwrap_err();
    assert!(panic.contains("0badc0ffee00"), "{panic}");
    // Without checksum verification the planner still names it.
    let e = m
        .with_config(Config::default().verify_checksums(false))
        .upgrade(url, "head")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("0badc0ffee00"), "{e}");
    // repair cannot accept an unknown revision.
    let e = m.repair(url).await.unwrap_err();
    assert!(e.to_string().contains("0badc0ffee00"), "{e}");
    // Nothing ran.
    assert_eq!(user_tables(db).await, ["t_a"]);

    // stamp --purge resolves it.
    m.with_config(Config::default())
        .stamp(url, &[A], true)
        .await
        .unwrap();
    assert_eq!(m.current(url).await.unwrap(), [A]);
    m.upgrade(url, "head").await.unwrap();
    assert_eq!(m.current(url).await.unwrap(), [B]);
    assert!(m.check(url).await.unwrap().is_ok());
}

/// Log lines written while a [`Logs::capture`] guard lives (on this
/// thread: the test body, which is where the runtime's code runs).
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> impl Drop {
        use tracing_subscriber::util::SubscriberInitExt as _;
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        subscriber.set_default()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// `version_num VARCHAR(32)` primary key, as Alembic creates it.
async fn version_table_columns(db: &TestDb, table: &str) -> Vec<String> {
    let sql = match db.backend {
        Backend::Sqlite => format!(
            "SELECT name || ':' || lower(type) || ':' || pk FROM pragma_table_info('{table}') ORDER BY cid"
        ),
        Backend::Postgres => format!(
            "SELECT c.column_name || ':' || c.data_type || '(' || c.character_maximum_length || '):' || \
             (SELECT count(*) FROM information_schema.key_column_usage k \
              JOIN information_schema.table_constraints t ON t.constraint_name = k.constraint_name \
              AND t.table_name = k.table_name WHERE t.constraint_type = 'PRIMARY KEY' \
              AND k.table_name = c.table_name AND k.column_name = c.column_name) \
             FROM information_schema.columns c WHERE c.table_name = '{table}' \
             AND c.table_schema = 'public' ORDER BY c.ordinal_position"
        ),
        Backend::MySql => format!(
            "SELECT CAST(CONCAT(column_name, ':', column_type, ':', IF(column_key = 'PRI', 1, 0)) AS CHAR) \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = '{table}' ORDER BY ordinal_position"
        ),
    };
    db.query_strings(&sql).await
}

async fn alembic_version_table(db: &TestDb) {
    let url = db.url.as_str();
    let dir = common::write_revisions(&[SPEC_A, SPEC_B]);
    let m = load(&dir);
    let alembic = m.with_config(Config::default().version_table("alembic_version"));
    alembic.upgrade(url, "head").await.unwrap();
    let expected = match db.backend {
        Backend::Postgres => "version_num:character varying(32):1",
        _ => "version_num:varchar(32):1",
    };
    assert_eq!(
        version_table_columns(db, "alembic_version").await,
        [expected]
    );
    assert_eq!(
        db.query_strings("SELECT version_num FROM alembic_version")
            .await,
        [B]
    );
    assert!(!db.tables().await.contains(&"retort_version".to_owned()));
    assert_eq!(alembic.current(url).await.unwrap(), [B]);
    // The default configuration looks at another table.
    assert!(m.current(url).await.unwrap().is_empty());
    alembic.downgrade(url, "base").await.unwrap();
    assert!(
        db.query_strings("SELECT version_num FROM alembic_version")
            .await
            .is_empty()
    );
}

/// A database Alembic left at B (its version table, no history): retort
/// takes over from there.
async fn takes_over_from_alembic(db: &TestDb) {
    let url = db.url.as_str();
    if let Some(path) = url.strip_prefix("sqlite://") {
        std::fs::File::create(path).unwrap(); // Alembic's database file
    }
    db.execute(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, \
         CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    )
    .await;
    db.execute("CREATE TABLE t_a (id INT PRIMARY KEY)").await;
    db.execute("CREATE TABLE t_b (id INT PRIMARY KEY)").await;
    db.execute(&format!(
        "INSERT INTO alembic_version (version_num) VALUES ('{B}')"
    ))
    .await;

    let dir = common::write_revisions(&[SPEC_A, SPEC_B, SPEC_C]);
    let m = load(&dir);
    let alembic = m.with_config(Config::default().version_table("alembic_version"));
    assert_eq!(alembic.current(url).await.unwrap(), [B]);
    assert!(alembic.history(url).await.unwrap().is_empty());
    // Accepted, with a warning that B cannot be checked for drift.
    let logs = Logs::default();
    let check = {
        let _guard = logs.capture();
        alembic.check(url).await.unwrap()
    };
    assert!(check.drift.is_empty(), "{check:?}");
    assert_eq!(check.pending, [C]);
    let logs = logs.text();
    let warning = logs
        .lines()
        .find(|l| l.contains("WARN") && l.contains("no checksum recorded"))
        .unwrap_or_else(|| panic!("no warning in: {logs}"));
    assert!(warning.contains(B), "{warning}");
    assert_eq!(
        alembic
            .plan(url, retort::Direction::Upgrade, "head")
            .await
            .unwrap()
            .len(),
        1
    );

    let r = alembic.upgrade(url, "head").await.unwrap();
    let ran: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(ran, [C]);
    assert_eq!(
        db.query_strings("SELECT version_num FROM alembic_version")
            .await,
        [C]
    );
    assert_eq!(user_tables(db).await, ["t_a", "t_b", "t_c"]);
    assert!(alembic.check(url).await.unwrap().is_ok());
    assert!(alembic.upgrade(url, "head").await.unwrap().is_noop());
    // And back down through what Alembic applied.
    alembic.downgrade(url, "base").await.unwrap();
    assert!(user_tables(db).await.is_empty());
    assert!(alembic.current(url).await.unwrap().is_empty());
}

backend_tests!(
    edited_revision_is_drift,
    edited_ancestor_is_drift,
    edited_downgrade_is_refused,
    crlf_is_not_drift,
    verify_checksums_off,
    unknown_revision_in_version_table,
    alembic_version_table,
    takes_over_from_alembic
);
