//! Settings: the `retort.toml` format, named environments, and the database
//! URL's precedence. Every test injects its environment (`with_vars`), so
//! none reads or writes the real one and all run in parallel.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use retort::TransactionMode;
use retort_settings::{Secret, Settings, SettingsError, UrlSource};

const PASSWORD: &str = "hunter2-p@ss:w/rd?#%";

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn parse(toml: &str) -> Result<Settings, SettingsError> {
    Ok(toml.parse::<Settings>()?.with_vars(|_: &str| None))
}

fn error(toml: &str) -> String {
    let err = parse(toml).expect_err("settings should be rejected");
    assert_no_password(&err);
    err.to_string()
}

/// Neither the message, the `Debug` output nor any source in the chain
/// shows the password.
fn assert_no_password(err: &SettingsError) {
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        texts.push(s.to_string());
        source = s.source();
    }
    for text in texts {
        for secret in [PASSWORD, "hunter2", "s3cret"] {
            assert!(!text.contains(secret), "password in {text:?}");
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

// ------------------------------------------------------------- precedence

/// What the settings file provides in the precedence table.
#[derive(Clone, Copy, Debug)]
enum FileCase {
    Nothing,
    Components,
    TopUrl,
    TopAndEnvUrl,
    ComponentsAndEnvUrl,
    /// `[env.e]` selected, but it says nothing about the database.
    TopUrlAndEnvWithoutDatabase,
}

#[test]
fn precedence_table() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        FileCase::Nothing,
        FileCase::Components,
        FileCase::TopUrl,
        FileCase::TopAndEnvUrl,
        FileCase::ComponentsAndEnvUrl,
        FileCase::TopUrlAndEnvWithoutDatabase,
    ];
    let mut cases = 0;
    for file in files {
        for mask in 0u8..32 {
            let on = |bit: u8| mask & (1 << bit) != 0;
            let toml = match file {
                FileCase::Nothing => "",
                FileCase::Components => {
                    "[database]\ndriver = \"sqlite\"\ndatabase = \"components.db\"\n"
                }
                FileCase::TopUrl => "[database]\nurl = \"sqlite://top.db\"\n",
                FileCase::TopAndEnvUrl => {
                    "[database]\nurl = \"sqlite://top.db\"\n[env.e.database]\nurl = \"sqlite://env.db\"\n"
                }
                FileCase::ComponentsAndEnvUrl => {
                    "[database]\ndriver = \"sqlite\"\ndatabase = \"components.db\"\n[env.e.database]\nurl = \"sqlite://env.db\"\n"
                }
                FileCase::TopUrlAndEnvWithoutDatabase => {
                    "[database]\nurl = \"sqlite://top.db\"\n[env.e]\nlock_timeout = 5\n"
                }
            };
            write(dir.path(), "retort.toml", toml);
            let mut dotenv = String::new();
            if on(3) {
                dotenv.push_str("RETORT_DATABASE_URL=sqlite://dotenv_retort.db\n");
            }
            if on(4) {
                dotenv.push_str("DATABASE_URL=sqlite://dotenv_database.db\n");
            }
            write(dir.path(), ".env", &dotenv);
            let mut env = HashMap::new();
            if on(1) {
                env.insert(
                    "RETORT_DATABASE_URL".to_owned(),
                    "sqlite://retort_env.db".to_owned(),
                );
            }
            if on(2) {
                env.insert(
                    "DATABASE_URL".to_owned(),
                    "sqlite://database_env.db".to_owned(),
                );
            }
            let mut settings = Settings::from_path(dir.path().join("retort.toml"))
                .unwrap()
                .with_vars(env);
            let env_names_database =
                matches!(file, FileCase::TopAndEnvUrl | FileCase::ComponentsAndEnvUrl);
            if env_names_database || matches!(file, FileCase::TopUrlAndEnvWithoutDatabase) {
                settings = settings.with_env("e").unwrap();
            }
            if on(0) {
                settings = settings.with_database_url("sqlite://override.db");
            }
            let origin = dir.path().join("retort.toml").display().to_string();
            let expected: Option<(&str, UrlSource)> = if on(0) {
                Some(("sqlite://override.db", UrlSource::Override))
            } else if env_names_database {
                // The explicitly selected environment names its database:
                // it wins over every URL variable.
                Some((
                    "sqlite://env.db",
                    UrlSource::File {
                        origin,
                        key: "env.e.database.url".to_owned(),
                    },
                ))
            } else if on(1) {
                Some((
                    "sqlite://retort_env.db",
                    UrlSource::EnvVar("RETORT_DATABASE_URL"),
                ))
            } else if on(2) {
                Some((
                    "sqlite://database_env.db",
                    UrlSource::EnvVar("DATABASE_URL"),
                ))
            } else if on(3) {
                Some((
                    "sqlite://dotenv_retort.db",
                    UrlSource::Dotenv {
                        path: dir.path().join(".env"),
                        var: "RETORT_DATABASE_URL",
                    },
                ))
            } else if on(4) {
                Some((
                    "sqlite://dotenv_database.db",
                    UrlSource::Dotenv {
                        path: dir.path().join(".env"),
                        var: "DATABASE_URL",
                    },
                ))
            } else {
                match file {
                    FileCase::Nothing => None,
                    FileCase::Components => {
                        Some(("sqlite://components.db", UrlSource::Components { origin }))
                    }
                    FileCase::TopUrl | FileCase::TopUrlAndEnvWithoutDatabase => Some((
                        "sqlite://top.db",
                        UrlSource::File {
                            origin,
                            key: "database.url".to_owned(),
                        },
                    )),
                    FileCase::TopAndEnvUrl | FileCase::ComponentsAndEnvUrl => Some((
                        "sqlite://env.db",
                        UrlSource::File {
                            origin,
                            key: "env.e.database.url".to_owned(),
                        },
                    )),
                }
            };
            let got = settings.database_url();
            match expected {
                Some((url, source)) => {
                    let got = got.unwrap_or_else(|e| panic!("{file:?} {mask:05b}: {e}"));
                    assert_eq!(got.expose(), url, "{file:?} {mask:05b}");
                    assert_eq!(got.source(), &source, "{file:?} {mask:05b}");
                }
                None => {
                    let err = got.unwrap_err().to_string();
                    assert!(err.starts_with("no database URL is set; looked at: --database-url, the environment variable RETORT_DATABASE_URL, the environment variable DATABASE_URL, RETORT_DATABASE_URL and DATABASE_URL in "), "{err}");
                    assert!(
                        err.contains("`database.url` and the connection settings in "),
                        "{err}"
                    );
                }
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 192);
}

#[test]
fn empty_values_count_as_unset() {
    let settings = parse("[database]\nurl = \"sqlite://file.db\"")
        .unwrap()
        .with_vars(vars(&[("RETORT_DATABASE_URL", ""), ("DATABASE_URL", "  ")]))
        .with_database_url("");
    assert_eq!(
        settings.database_url().unwrap().expose(),
        "sqlite://file.db"
    );
}

#[test]
fn nothing_set_names_every_source() {
    let err = parse("").unwrap().database_url().unwrap_err();
    assert_eq!(
        err.to_string(),
        "no database URL is set; looked at: --database-url, the environment variable RETORT_DATABASE_URL, \
         the environment variable DATABASE_URL, `database.url` and the connection settings in <string>. \
         Set one of them, or the connection settings (`driver`, `host`, `user`, `database`, ...) in the [database] table"
    );
}

// ------------------------------------------------------------ environments

const WITH_ENVS: &str = r#"
migrations = "db/migrations"
version_table = "app_version"
lock_timeout = "5m"

[database]
url = "postgres://app@prod-db/app"

[env.staging]
version_table = "staging_version"
schema = "staging"
transaction_mode = "single"
lock_timeout = 45

[env.staging.database]
driver = "postgres"
host = "staging-db"
user = "app"
database = "app"
password_env = "STAGING_PW"

[env.ci]
migrations = "ci/migrations"
"#;

#[test]
fn environments_override_keys() {
    let top = parse(WITH_ENVS).unwrap();
    assert_eq!(top.environments().collect::<Vec<_>>(), ["ci", "staging"]);
    assert_eq!(top.env_name(), None);
    let config = top.config();
    assert_eq!(config.version_table_name(), "app_version");
    assert_eq!(config.history_table_name(), "retort_history");
    assert_eq!(config.schema_name(), None);
    assert_eq!(config.lock_timeout_duration(), Duration::from_secs(300));
    assert_eq!(top.migrations_dir(), Path::new("db/migrations"));
    assert_eq!(
        top.database_url().unwrap().expose(),
        "postgres://app@prod-db/app"
    );

    let staging = top
        .clone()
        .with_vars(vars(&[("STAGING_PW", "s3cret")]))
        .with_env("staging")
        .unwrap();
    assert_eq!(staging.env_name(), Some("staging"));
    let config = staging.config();
    assert_eq!(config.version_table_name(), "staging_version");
    assert_eq!(config.schema_name(), Some("staging"));
    assert_eq!(config.lock_timeout_duration(), Duration::from_secs(45));
    assert_eq!(
        config,
        retort::Config::default()
            .version_table("staging_version")
            .schema("staging")
            .transaction_mode(TransactionMode::Single)
            .lock_timeout(Duration::from_secs(45))
    );
    assert_eq!(staging.migrations_dir(), Path::new("db/migrations"));
    // The environment's connection settings replace the top level's URL.
    let url = staging.database_url().unwrap();
    assert_eq!(url.expose(), "postgres://app:s3cret@staging-db/app");
    assert_eq!(url.to_string(), "postgres://app:***@staging-db/app");

    let ci = top.with_env("ci").unwrap();
    assert_eq!(ci.migrations_dir(), Path::new("ci/migrations"));
    assert_eq!(ci.config().version_table_name(), "app_version");
    assert_eq!(
        ci.database_url().unwrap().expose(),
        "postgres://app@prod-db/app"
    );
}

#[test]
fn environment_components_overlay_the_top_level_ones() {
    let settings = parse(
        r#"
        [database]
        driver = "mysql"
        host = "db"
        port = 3306
        user = "app"
        database = "app"
        password = "top-pw"
        params = { ssl-mode = "required", charset = "utf8mb4" }
        [env.local.database]
        host = "127.0.0.1"
        params = { ssl-mode = "disabled" }
        "#,
    )
    .unwrap();
    assert_eq!(
        settings.database_url().unwrap().expose(),
        "mysql://app:top-pw@db:3306/app?charset=utf8mb4&ssl-mode=required"
    );
    let local = settings.with_env("local").unwrap();
    assert_eq!(
        local.database_url().unwrap().expose(),
        "mysql://app:top-pw@127.0.0.1:3306/app?charset=utf8mb4&ssl-mode=disabled"
    );
}

/// Issue 10, item 1: `--env staging` lost to `DATABASE_URL` in `.env`
/// (which sqlx projects nearly always carry), and migrated the development
/// database.
#[test]
fn selected_environment_beats_the_url_variables() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "retort.toml",
        "[env.staging.database]\ndriver = \"sqlite\"\ndatabase = \"staging.db\"\n\n\
         [env.password_only.database]\npassword_env = \"PW\"\n",
    );
    write(dir.path(), ".env", "DATABASE_URL=sqlite://dev.db\n");
    let settings = Settings::from_path(dir.path().join("retort.toml"))
        .unwrap()
        .with_vars(vars(&[]));
    // Without an environment, `.env` gives the URL.
    assert_eq!(settings.database_url().unwrap().expose(), "sqlite://dev.db");
    let staging = settings.clone().with_env("staging").unwrap();
    let url = staging.database_url().unwrap();
    assert_eq!(url.expose(), "sqlite://staging.db");
    assert!(
        matches!(url.source(), UrlSource::Components { .. }),
        "{:?}",
        url.source()
    );
    // ... and over the process environment's variables, RETORT_DATABASE_URL
    // included.
    let staging = staging.with_vars(vars(&[
        ("RETORT_DATABASE_URL", "sqlite://retort_env.db"),
        ("DATABASE_URL", "sqlite://env.db"),
    ]));
    assert_eq!(
        staging.database_url().unwrap().expose(),
        "sqlite://staging.db"
    );
    // Only an explicit URL beats it.
    assert_eq!(
        staging
            .with_database_url("sqlite://flag.db")
            .database_url()
            .unwrap()
            .expose(),
        "sqlite://flag.db"
    );
    // A password source is a statement about the database too: the
    // environment uses the file's target (here none: an error naming the
    // missing setting, not a silent fall back to `.env`).
    let err = settings
        .with_env("password_only")
        .unwrap()
        .database_url()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no database URL is set"), "{err}");
    assert!(!err.contains("dev.db"), "{err}");
}

/// `connect_timeout` goes to `Config`, key by key through environments,
/// and is not a statement about which database: an environment setting
/// only it leaves the URL variables in charge.
#[test]
fn connect_timeout_is_config_not_a_database_choice() {
    let settings = parse(
        "[database]\nurl = \"sqlite://top.db\"\nconnect_timeout = \"1m30s\"\n\n\
         [env.ci.database]\nconnect_timeout = 5\n\n[env.other]\nlock_timeout = 1\n",
    )
    .unwrap()
    .with_vars(vars(&[("DATABASE_URL", "sqlite://env.db")]));
    assert_eq!(
        settings.config().connect_timeout_duration(),
        Duration::from_secs(90)
    );
    assert_eq!(
        retort::Config::default().connect_timeout_duration(),
        Duration::from_secs(30)
    );
    let ci = settings.clone().with_env("ci").unwrap();
    assert_eq!(
        ci.config().connect_timeout_duration(),
        Duration::from_secs(5)
    );
    assert_eq!(ci.database_url().unwrap().expose(), "sqlite://env.db");
    let other = settings.with_env("other").unwrap();
    assert_eq!(
        other.config().connect_timeout_duration(),
        Duration::from_secs(90)
    );
}

#[test]
fn unknown_environment_lists_the_available_ones() {
    let err = parse(WITH_ENVS).unwrap().with_env("prod").unwrap_err();
    assert_eq!(
        err.to_string(),
        "<string>: unknown environment `prod` (available: ci, staging)"
    );
    let err = parse("").unwrap().with_env("prod").unwrap_err();
    assert_eq!(
        err.to_string(),
        "<string>: unknown environment `prod` (none is defined)"
    );
}

#[test]
fn defaults() {
    let settings = parse("").unwrap();
    assert_eq!(settings.config(), retort::Config::default());
    assert_eq!(settings.migrations_dir(), Path::new("migrations"));
    assert_eq!(settings.template(), None);
    assert_eq!(settings.file_template().as_str(), "{rev}_{slug}");
    assert_eq!(settings.path(), None);
    assert_eq!(settings.dotenv_path(), None);
}

#[test]
fn paths_are_relative_to_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "retort.toml",
        "migrations = \"db\"\ntemplate = \"tmpl/revision.sql\"\nfile_template = \"{year}_{rev}_{slug}\"\n",
    );
    let settings = Settings::from_path(dir.path().join("retort.toml")).unwrap();
    assert_eq!(settings.migrations_dir(), dir.path().join("db"));
    assert_eq!(
        settings.template(),
        Some(dir.path().join("tmpl/revision.sql"))
    );
    assert_eq!(
        settings.dotenv_path(),
        Some(dir.path().join(".env").as_path())
    );
    assert_eq!(settings.file_template().as_str(), "{year}_{rev}_{slug}");
}

// -------------------------------------------------------------- components

#[test]
fn components_percent_encode_user_password_and_database() {
    let settings = parse(&format!(
        r#"
        [database]
        driver = "postgresql"
        host = "db.internal"
        port = 5433
        user = "me@corp"
        name = "my db"
        password = "{PASSWORD}"
        params = {{ sslmode = "require", application_name = "retort cli", connect_timeout = 5 }}
        "#
    ))
    .unwrap();
    let url = settings.database_url().unwrap();
    assert_eq!(
        url.expose(),
        "postgres://me%40corp:hunter2-p%40ss%3Aw%2Frd%3F%23%25@db.internal:5433/my%20db\
         ?application_name=retort%20cli&connect_timeout=5&sslmode=require"
    );
    assert_eq!(url.backend(), retort::Backend::Postgres);
    assert!(!url.to_string().contains("hunter2"), "{url}");
    assert!(!format!("{url:?}").contains("hunter2"), "{url:?}");
    assert!(!format!("{settings:?}").contains("hunter2"), "{settings:?}");
}

#[test]
fn components_defaults_and_ipv6() {
    let url = |toml: &str| {
        parse(toml)
            .unwrap()
            .database_url()
            .unwrap()
            .expose()
            .to_owned()
    };
    assert_eq!(
        url("[database]\ndriver = \"postgres\""),
        "postgres://localhost"
    );
    assert_eq!(
        url("[database]\ndriver = \"mariadb\"\nhost = \"::1\"\nport = 3307"),
        "mysql://[::1]:3307"
    );
    assert_eq!(
        url(
            "[database]\ndriver = \"sqlite\"\ndatabase = \"data/app.db\"\nparams = { mode = \"rwc\" }"
        ),
        "sqlite://data/app.db?mode=rwc"
    );
}

#[test]
fn component_errors() {
    let resolve = |toml: &str| {
        let err = parse(toml).unwrap().database_url().unwrap_err();
        assert_no_password(&err);
        err.to_string()
    };
    assert_eq!(
        resolve("[database]\nhost = \"db\""),
        "<string>: `database.driver`: is not set; the connection settings need a driver: \"postgres\", \"mysql\" or \"sqlite\""
    );
    assert_eq!(
        resolve("[database]\ndriver = \"sqlite\"\nhost = \"db\"\ndatabase = \"x.db\""),
        "<string>:3:8: `database.host`: does not apply to sqlite; set `database` to the database file's path"
    );
    assert_eq!(
        resolve("[database]\ndriver = \"sqlite\"\npassword = \"hunter2\"\ndatabase = \"x.db\""),
        "<string>:3:12: `database.password`: does not apply to sqlite; set `database` to the database file's path"
    );
    assert_eq!(
        resolve("[database]\ndriver = \"sqlite\""),
        "<string>: `database.database`: is not set; sqlite needs the database file's path"
    );
}

// --------------------------------------------------------------- passwords

#[test]
fn password_file_relative_to_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    write(dir.path(), "secrets/db", &format!("{PASSWORD}\r\n"));
    write(
        dir.path(),
        "retort.toml",
        "[database]\ndriver = \"postgres\"\nhost = \"db\"\nuser = \"app\"\npassword_file = \"secrets/db\"\n",
    );
    let settings = Settings::from_path(dir.path().join("retort.toml"))
        .unwrap()
        .with_vars(|_: &str| None);
    assert_eq!(settings.password().unwrap(), Some(Secret::new(PASSWORD)));
    assert_eq!(
        settings.database_url().unwrap().expose(),
        "postgres://app:hunter2-p%40ss%3Aw%2Frd%3F%23%25@db"
    );
}

#[test]
fn password_file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("retort.toml");
    write(
        dir.path(),
        "retort.toml",
        "[database]\ndriver = \"postgres\"\npassword_file = \"missing\"\n",
    );
    let err = Settings::from_path(&toml)
        .unwrap()
        .database_url()
        .unwrap_err();
    assert_no_password(&err);
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3:17: `database.password_file`: cannot read password file {}",
            toml.display(),
            dir.path().join("missing").display()
        )
    );
    assert!(
        matches!(&err, SettingsError::PasswordFile { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );

    write(dir.path(), "empty", "\n");
    write(
        dir.path(),
        "retort.toml",
        "[database]\ndriver = \"postgres\"\npassword_file = \"empty\"\n",
    );
    let err = Settings::from_path(&toml)
        .unwrap()
        .database_url()
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot read password file"),
        "{err}"
    );
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "the file is empty"
    );
}

#[test]
fn password_env_from_vars_then_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "retort.toml",
        "[database]\ndriver = \"postgres\"\nuser = \"u\"\npassword_env = \"SETTINGS_TEST_PW_3c1f\"\n",
    );
    write(
        dir.path(),
        ".env",
        "# comment\nexport SETTINGS_TEST_PW_3c1f=\"from dotenv\"\n",
    );
    let settings = Settings::from_path(dir.path().join("retort.toml")).unwrap();
    let from_dotenv = settings.clone().with_vars(|_: &str| None);
    assert_eq!(
        from_dotenv.database_url().unwrap().expose(),
        "postgres://u:from%20dotenv@localhost"
    );
    // .env is parsed into a map: the process environment is left alone.
    assert!(std::env::var("SETTINGS_TEST_PW_3c1f").is_err());
    let from_vars = settings
        .clone()
        .with_vars(vars(&[("SETTINGS_TEST_PW_3c1f", "from-env")]));
    assert_eq!(
        from_vars.database_url().unwrap().expose(),
        "postgres://u:from-env@localhost"
    );

    let err = settings
        .without_dotenv()
        .with_vars(|_: &str| None)
        .database_url()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:4:16: `database.password_env`: the environment variable `SETTINGS_TEST_PW_3c1f` is not set (nor in the .env file)",
            dir.path().join("retort.toml").display()
        )
    );
}

#[test]
fn secret_source_replaces_the_configured_password() {
    let settings = parse("[database]\ndriver = \"postgres\"\nuser = \"u\"\npassword = \"file-pw\"")
        .unwrap()
        .with_secret_source(|s: &Settings| -> Result<Option<Secret>, SettingsError> {
            let fallback = s.configured_password()?;
            Ok(fallback.map(|p| Secret::new(format!("{}-rotated", p.expose()))))
        });
    assert_eq!(
        settings.database_url().unwrap().expose(),
        "postgres://u:file-pw-rotated@localhost"
    );
    let failing = parse("[database]\ndriver = \"postgres\"")
        .unwrap()
        .with_secret_source(|_: &Settings| -> Result<Option<Secret>, SettingsError> {
            Err(SettingsError::Secret {
                name: "vault".to_owned(),
                source: "permission denied".into(),
            })
        });
    assert_eq!(
        failing.database_url().unwrap_err().to_string(),
        "cannot get the database password from vault"
    );
}

// -------------------------------------------------------------------- .env

#[test]
fn dotenv_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let dotenv = dir.path().join(".env");
    std::fs::write(
        &dotenv,
        "# local\nSETTINGS_TEST_OTHER_5e2d=1\nDATABASE_URL='postgres://u:s3cret@h/db' # trailing\n",
    )
    .unwrap();
    let settings = parse("").unwrap().with_dotenv(&dotenv);
    let url = settings.database_url().unwrap();
    assert_eq!(url.expose(), "postgres://u:s3cret@h/db");
    assert_eq!(url.to_string(), "postgres://u:***@h/db");
    assert_eq!(
        url.source().to_string(),
        format!("DATABASE_URL in {}", dotenv.display())
    );
    assert!(std::env::var("SETTINGS_TEST_OTHER_5e2d").is_err());

    std::fs::write(&dotenv, "A=1\nB=2\nDATABASE_URL 'postgres://u:s3cret@h'\n").unwrap();
    let err = settings.database_url().unwrap_err();
    assert_no_password(&err);
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: malformed .env line (expected `KEY=value`)",
            dotenv.display()
        )
    );

    // A missing .env file is not an error.
    let settings = parse("").unwrap().with_dotenv(dir.path().join("nope"));
    assert!(matches!(
        settings.database_url(),
        Err(SettingsError::NoDatabaseUrl { .. })
    ));
}

// ----------------------------------------------------------- bad settings

#[test]
fn malformed_toml_has_line_and_column() {
    assert_eq!(
        error("migrations = \"m\"\nlock_timeout = \n"),
        "<string>:2:16: string values must be quoted, expected literal string"
    );
}

#[test]
fn unknown_keys_are_rejected() {
    let e = error("migration = \"m\"");
    assert!(
        e.starts_with("<string>:1:1: unknown field `migration`, expected one of `migrations`"),
        "{e}"
    );
    let e = error("[database]\npasword = \"hunter2\"");
    assert!(
        e.starts_with("<string>:2:1: unknown field `pasword`"),
        "{e}"
    );
    let e = error("[env.staging]\nlock_timout = 3");
    assert!(
        e.starts_with("<string>:2:1: unknown field `lock_timout`"),
        "{e}"
    );
}

#[test]
fn bad_values_name_the_key() {
    let cases = [
        (
            "lock_timeout = \"5 minutes\"",
            "<string>:1:16: `lock_timeout`: invalid duration `5 minutes`; use seconds (30) or a string such as \"30s\", \"5m\", \"1h\", \"1m30s\", \"500ms\"",
        ),
        (
            "lock_timeout = -1",
            "<string>:1:16: `lock_timeout`: must not be negative; use seconds (30) or a string such as \"30s\", \"5m\", \"1h\", \"1m30s\", \"500ms\"",
        ),
        (
            "[env.x]\nlock_timeout = 1.5",
            "<string>:2:16: `env.x.lock_timeout`: must be an integer or a string; use seconds (30) or a string such as \"30s\", \"5m\", \"1h\", \"1m30s\", \"500ms\"",
        ),
        (
            "transaction_mode = \"batch\"",
            "<string>:1:20: `transaction_mode`: unknown mode `batch`; use \"per-revision\" or \"single\"",
        ),
        (
            "file_template = \"{slug}\"",
            "<string>:1:17: `file_template`: must contain `{rev}` so that file names are unique",
        ),
        (
            "file_template = \"{rev}_{msg}\"",
            "<string>:1:17: `file_template`: unknown placeholder `{msg}`; use {rev}, {slug}, {year}, {month}, {day}, {hour}, {minute}, {second}",
        ),
        (
            "version_table = \"bad-name\"",
            "<string>:1:17: `version_table`: invalid name `bad-name`: use 1 to 63 ASCII letters, digits and `_`, not starting with a digit",
        ),
        (
            "[env.x]\nschema = \"1x\"",
            "<string>:2:10: `env.x.schema`: invalid name `1x`: use 1 to 63 ASCII letters, digits and `_`, not starting with a digit",
        ),
        (
            "version_table = \"t\"\nhistory_table = \"t\"",
            "<string>:2:17: `history_table`: the version table and the history table must be different tables",
        ),
        (
            "migrations = \"\"",
            "<string>:1:14: `migrations`: must not be empty",
        ),
        (
            "[database]\ndriver = \"oracle\"",
            "<string>:2:10: `database.driver`: unknown driver `oracle`; use \"postgres\", \"mysql\" or \"sqlite\"",
        ),
        (
            "[database]\nport = 70000",
            "<string>:2:8: `database.port`: invalid value: integer `70000`, expected u16",
        ),
        (
            "[database]\nurl = \"postgres://h\"\nhost = \"h\"",
            "<string>:2:7: `database.url`: set either `url` or the connection settings, not both (`database.host` is also set)",
        ),
        (
            "[database]\npassword = \"hunter2\"\npassword_env = \"X\"",
            "<string>:3:16: `database.password_env`: set only one of `password`, `password_file` and `password_env` (found database.password, database.password_env)",
        ),
        (
            "[database]\nurl = \"postgres://h\"\npassword = \"hunter2\"",
            "<string>:3:12: `database.password`: only applies to the connection settings, not to `database.url`; put the password in the URL or use the connection settings",
        ),
        (
            "[database]\nurl = \"postgres://h\"\n[env.e.database]\npassword_file = \"f\"",
            "<string>:4:17: `env.e.database.password_file`: only applies to the connection settings, but `database.url` is used; put the password in the URL or use the connection settings",
        ),
        (
            "[database]\npassword = 1234567",
            "<string>:2:12: `database.password`: must be a string",
        ),
        (
            "[database]\nurl = 42",
            "<string>:2:7: `database.url`: must be a string",
        ),
        (
            "[database]\nparams = { sslmode = [1] }",
            "<string>:2:10: `database.params.sslmode`: must be a string, an integer or a boolean",
        ),
        (
            "[env.a.env.b]\nschema = \"x\"",
            "<string>:1:8: `env.a.env`: environments cannot be nested",
        ),
    ];
    for (toml, expected) in cases {
        let got = match parse(toml) {
            Ok(_) => panic!("{toml:?} accepted"),
            Err(err) => {
                assert_no_password(&err);
                err.to_string()
            }
        };
        assert_eq!(got, expected, "for {toml:?}");
    }
}

#[test]
fn syntax_errors_do_not_echo_a_password() {
    for toml in [
        "[database]\npassword = \"hunter2",
        "[database]\npassword = hunter2",
        "[database]\nurl = \"postgres://u:hunter2@h\" junk",
        "[database]\npassword = \"hunter2\"\npassword = \"hunter2\"",
    ] {
        let e = error(toml);
        assert!(e.starts_with("<string>:"), "{e}");
    }
}

#[test]
fn unreadable_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retort.toml");
    let err = Settings::from_path(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot read settings file {}", path.display())
    );
    write(dir.path(), "retort.toml", "lock_timeout = \"soon\"");
    let err = Settings::from_path(&path).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:1:16: `lock_timeout`", path.display())),
        "{err}"
    );
}

#[test]
fn bad_urls_are_not_quoted() {
    let settings = parse("")
        .unwrap()
        .with_vars(vars(&[("DATABASE_URL", "oracle://u:hunter2@h/x")]));
    let err = settings.database_url().unwrap_err();
    assert_no_password(&err);
    assert_eq!(
        err.to_string(),
        "the database URL from the environment variable DATABASE_URL has the unsupported scheme `oracle`; use postgres://, mysql:// or sqlite:"
    );
    let err = parse("[database]\nurl = \"u:hunter2@h/x\"")
        .unwrap()
        .database_url()
        .unwrap_err();
    assert_no_password(&err);
    assert!(
        err.to_string().starts_with(
            "the database URL from `database.url` in <string> has the unsupported scheme `u`"
        ),
        "{err}"
    );
}

#[test]
fn database_url_never_shows_the_password() {
    for raw in [
        "postgres://app:hunter2@db/app",
        "postgres://app:hunter2/x@db/app",
        "mysql://app:hunter2@db/app?ssl-mode=required",
        "postgres://app@db/app?password=hunter2",
    ] {
        let settings = parse("").unwrap().with_database_url(raw);
        let url = settings.database_url().unwrap();
        assert_eq!(url.expose(), raw);
        for shown in [
            url.to_string(),
            format!("{url:?}"),
            url.redacted(),
            format!("{settings:?}"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}

#[test]
fn autogenerate_schema_file_and_dev_url() {
    // Defaults: schema.sql, not set; no dev server.
    let s = parse("").expect("empty");
    assert_eq!(s.schema_file(), (Path::new("schema.sql").to_owned(), false));
    assert!(s.dev_url().is_none());

    let text = format!(
        "schema_file = \"db/schema\"\n[database]\nurl = \"sqlite://app.db\"\ndev_url = \"postgres://dev:{PASSWORD}@localhost/postgres\"\n\n[env.ci]\nschema_file = \"ci.sql\"\n[env.ci.database]\ndev_url = \"postgres://ci@ci-db/postgres\"\n\n[env.other]\nlock_timeout = 5\n"
    );
    let s = parse(&text).expect("settings");
    assert_eq!(s.schema_file(), (Path::new("db/schema").to_owned(), true));
    let dev = s.dev_url().expect("dev_url");
    assert!(dev.expose().contains(PASSWORD));
    assert!(!format!("{s:?}").contains(PASSWORD), "{s:?}");
    // An environment sets its own, without choosing a database ...
    let ci = s.clone().with_env("ci").expect("ci");
    assert_eq!(ci.schema_file(), (Path::new("ci.sql").to_owned(), true));
    assert_eq!(
        ci.dev_url().expect("dev_url").expose(),
        "postgres://ci@ci-db/postgres"
    );
    assert_eq!(ci.database_url().expect("url").expose(), "sqlite://app.db");
    // ... and one that sets neither keeps the top level's.
    let other = s.with_env("other").expect("other");
    assert_eq!(other.schema_file().0, Path::new("db/schema"));
    assert!(
        other
            .dev_url()
            .expect("dev_url")
            .expose()
            .contains(PASSWORD)
    );

    // Checked like the other keys, the value never echoed.
    assert!(error("schema_file = \"\"").contains("schema_file"));
    let message = error("[database]\ndev_url = 5");
    assert!(
        message.contains("dev_url") && message.contains("string"),
        "{message}"
    );
}
