use super::*;

#[test]
fn type_errors_name_the_key() {
    let message = |text: &str| match parse(text, "retort.toml") {
        Err(SettingsError::Parse {
            message, position, ..
        }) => format!("{}: {message}", position.line),
        other => panic!("{text:?}: {other:?}"),
    };
    assert_eq!(
        message("version_table = 5\n"),
        "1: `version_table`: invalid type: integer `5`, expected a string"
    );
    assert_eq!(
        message("schema = \"s\"\n\n[database]\nhost = \"h\"\nport = \"x\"\n"),
        "5: `database.port`: invalid type: string \"x\", expected u16"
    );
    assert_eq!(
        message("[env.staging]\n\"migrations\" = [1]\n"),
        "2: `env.staging.migrations`: invalid type: sequence, expected a string"
    );
    assert_eq!(
        message("[database] # prod\nport = \"x\"\n"),
        "2: `database.port`: invalid type: string \"x\", expected u16"
    );
    // Syntax errors name no key.
    assert_eq!(message("[database\n"), "1: unclosed table, expected `]`");
    assert_eq!(
        message("version_table = \n"),
        "1: string values must be quoted, expected literal string"
    );
    // Text inside a string is never taken for a key or a table: these
    // would print part of a password.
    let leaky = message("[database]\npassword = \"\"\"\nhunter2=abc\\q\n\"\"\"\n");
    assert!(!leaky.contains("hunter2"), "{leaky}");
    let leaky = message("[database]\npassword = \"\"\"\n[hunter3]\n\"\"\"\nport = \"x\"\n");
    assert_eq!(
        leaky,
        "5: `database.port`: invalid type: string \"x\", expected u16"
    );
}

#[test]
fn positions() {
    assert_eq!(
        Position::of_offset("ab\ncd", 4),
        Position { line: 2, column: 2 }
    );
    assert_eq!(Position::of_offset("", 10), Position { line: 1, column: 1 });
}

#[test]
fn environment_merge_takes_the_database_target_as_a_unit() {
    let file = parse(
        r#"
        [database]
        url = "postgres://top/db"
        [env.a.database]
        host = "a-host"
        driver = "mysql"
        password_env = "A_PW"
        [env.b]
        schema = "b"
        "#,
        "t.toml",
    )
    .unwrap();
    let a = file.top.overlaid(&file.envs["a"]);
    assert!(a.database.url.is_none());
    assert_eq!(a.database.components.host.unwrap().value, "a-host");
    assert!(matches!(
        a.database.password.unwrap().value,
        PasswordSource::Env(_)
    ));
    let b = file.top.overlaid(&file.envs["b"]);
    assert_eq!(b.database.url.unwrap().value.expose(), "postgres://top/db");
    assert_eq!(b.schema.unwrap().key, "env.b.schema");
}
