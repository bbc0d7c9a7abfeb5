//! Scratch databases: created on the dev server and dropped afterwards
//! (also when the value is dropped on an error path), and clear errors,
//! whose suggested command works, when there is no dev server or its user
//! may not create databases.

mod common;

use common::{Backend, TestDb, unique_name, with_database};
use retort_schema::{Dialect, Error, ScratchDatabase};

async fn database_exists(server: &str, backend: Backend, name: &str) -> bool {
    let db = TestDb::new(backend, server).await.expect("test database");
    let sql = match backend {
        Backend::Postgres => {
            format!("SELECT datname::text FROM pg_database WHERE datname = '{name}'")
        }
        _ => format!(
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
        ),
    };
    let found = db.strings(&sql).await.expect("query");
    db.drop_db().await;
    !found.is_empty()
}

fn scratch_name(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn without_a_dev_url_the_error_says_where_to_set_one() {
    for d in [Dialect::Postgres, Dialect::MySql] {
        let e = ScratchDatabase::create(d, None)
            .await
            .expect_err("no dev url");
        assert!(matches!(e, Error::NoDevUrl { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("`dev_url` under [database] in retort.toml")
                && text.contains("--dev-url"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn sqlite_scratch_databases_live_in_memory_until_dropped() {
    let scratch = ScratchDatabase::create(Dialect::Sqlite, None)
        .await
        .expect("scratch");
    assert!(scratch.url().contains("mode=memory"), "{}", scratch.url());
    let desired = retort_schema::DesiredSchema::from_sql(
        Dialect::Sqlite,
        "s.sql",
        "CREATE TABLE t (a INTEGER);",
    )
    .expect("parse");
    scratch.load(&desired).await.expect("load");
    // A second connection (the runtime's, in real use) sees the same database.
    let schema = scratch
        .introspect(&retort_schema::Scope::default())
        .await
        .expect("introspect");
    assert!(schema.table("t").is_some(), "{schema}");
    scratch.drop().await.expect("drop");
}

async fn created_and_dropped(backend: Backend) {
    common::each_server(backend, async |server: &str, _: &common::ServerInfo| {
        created_and_dropped_on(backend, server).await;
    })
    .await;
}

async fn created_and_dropped_on(backend: Backend, server: &str) {
    let d = backend.dialect();
    let scratch = ScratchDatabase::create(d, Some(server))
        .await
        .expect("scratch");
    let name = scratch_name(scratch.url());
    assert!(name.starts_with("retort_scratch_"), "{name}");
    assert!(database_exists(server, backend, &name).await);
    scratch.drop().await.expect("drop");
    assert!(
        !database_exists(server, backend, &name).await,
        "{name} was not dropped"
    );
    // Dropped without `drop()`, as on an error or panic path.
    let scratch = ScratchDatabase::create(d, Some(server))
        .await
        .expect("scratch");
    let name = scratch_name(scratch.url());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _held = scratch;
        panic!("a failure while the scratch database exists");
    }));
    assert!(panicked.is_err());
    assert!(
        !database_exists(server, backend, &name).await,
        "{name} survived a panic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_scratch_databases_are_created_and_dropped() {
    created_and_dropped(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_scratch_databases_are_created_and_dropped() {
    created_and_dropped(Backend::MySql).await;
}

/// The error names the missing privilege and the command that grants it;
/// the test runs that command (as the administrator) and tries again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_user_without_createdb_gets_the_command_that_fixes_it() {
    let Some(server) = common::default_server(Backend::Postgres) else {
        return;
    };
    let admin = TestDb::new(Backend::Postgres, &server)
        .await
        .expect("admin database");
    let role = unique_name();
    admin
        .execute(&format!("CREATE ROLE {role} LOGIN PASSWORD 'pw{role}'"))
        .await
        .expect("role");
    let host = server
        .split('@')
        .nth(1)
        .and_then(|h| h.split('/').next())
        .expect("host");
    let dev_url = format!("postgres://{role}:pw{role}@{host}/postgres");
    let e = ScratchDatabase::create(Dialect::Postgres, Some(&dev_url))
        .await
        .expect_err("no CREATEDB");
    let text = e.to_string();
    assert!(
        !text.contains(&format!("pw{role}")),
        "password leaked: {text}"
    );
    let command = text
        .split('`')
        .find(|part| part.starts_with("ALTER ROLE"))
        .unwrap_or_else(|| panic!("no command in: {text}"))
        .to_owned();
    assert_eq!(command, format!("ALTER ROLE {role} CREATEDB"));
    admin
        .execute(&command)
        .await
        .expect("the suggested command");
    let scratch = ScratchDatabase::create(Dialect::Postgres, Some(&dev_url))
        .await
        .expect("now allowed");
    scratch.drop().await.expect("drop");
    admin
        .execute(&format!("DROP ROLE {role}"))
        .await
        .expect("drop role");
    admin.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_user_without_create_gets_the_command_that_fixes_it() {
    let Some(server) = common::default_server(Backend::MySql) else {
        return;
    };
    let admin = TestDb::new(Backend::MySql, &server)
        .await
        .expect("admin database");
    let user = unique_name();
    admin
        .execute(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw{user}'"
        ))
        .await
        .expect("user");
    let host = server
        .split('@')
        .nth(1)
        .and_then(|h| h.split('/').next())
        .expect("host");
    let dev_url = format!("mysql://{user}:pw{user}@{host}/mysql");
    let e = ScratchDatabase::create(Dialect::MySql, Some(&dev_url))
        .await
        .expect_err("no CREATE");
    let text = e.to_string();
    assert!(
        !text.contains(&format!("pw{user}")),
        "password leaked: {text}"
    );
    let start = text
        .find("GRANT ")
        .unwrap_or_else(|| panic!("no command in: {text}"));
    let command = text[start..].split(';').next().expect("command").to_owned();
    assert_eq!(
        command,
        format!("GRANT ALL ON `retort\\_scratch\\_%`.* TO '{user}'@'%'")
    );
    admin
        .execute(&command)
        .await
        .expect("the suggested command");
    let scratch = ScratchDatabase::create(Dialect::MySql, Some(&with_database(&dev_url, "mysql")))
        .await
        .expect("now allowed");
    scratch.drop().await.expect("drop");
    admin
        .execute(&format!("DROP USER '{user}'@'%'"))
        .await
        .expect("drop user");
    admin.drop_db().await;
}

#[tokio::test]
async fn a_dev_url_of_another_backend_is_refused() {
    let e = ScratchDatabase::create(Dialect::Postgres, Some("mysql://root:secret@localhost/x"))
        .await
        .expect_err("mismatch");
    let text = e.to_string();
    assert!(
        text.contains("dev_url for a PostgreSQL project") && !text.contains("secret"),
        "{text}"
    );
}
