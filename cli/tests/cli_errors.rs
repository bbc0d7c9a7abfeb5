//! The `retort` binary on bad input: every path exits with the documented
//! code (2 for invalid usage, 1 for a failed command), says what is wrong in
//! plain words (naming the file, line, target or key), never panics and
//! never prints a password.
//!
//! Only SQLite files in temporary directories are touched; the unreachable
//! database tests point at a closed port on 127.0.0.1.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::{command, project, retort};

fn simple_project() -> tempfile::TempDir {
    project(&[
        (
            "1a2b3c4d5e6f",
            "",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            "DROP TABLE users;",
        ),
        (
            "7f8e9d0c1b2a",
            "1a2b3c4d5e6f",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);",
            "DROP TABLE posts;",
        ),
    ])
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("app.db").display())
}

#[test]
fn unknown_verb_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    retort(dir.path(), &["frobnicate"])
        .code(2)
        .mentions_any_case(&["frobnicate"]);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    retort(dir.path(), &["upgrade", "--frobnicate"])
        .code(2)
        .mentions_any_case(&["--frobnicate"]);
    retort(dir.path(), &["--frobnicate", "current"]).code(2);
}

#[test]
fn missing_argument_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    retort(dir.path(), &["downgrade"]).code(2);
    retort(dir.path(), &["revision"]).code(2);
    retort(dir.path(), &["stamp"]).code(2);
    retort(dir.path(), &["-v", "-q", "current"]).code(2);
}

#[test]
fn help_and_version_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let help = retort(dir.path(), &["--help"]).code(0);
    for verb in [
        "init",
        "revision",
        "merge",
        "upgrade",
        "downgrade",
        "current",
        "history",
        "heads",
        "branches",
        "show",
        "stamp",
        "check",
        "repair",
    ] {
        assert!(
            help.stdout.contains(verb),
            "--help does not list `{verb}`:\n{}",
            help.stdout
        );
    }
    retort(dir.path(), &["--version"])
        .code(0)
        .mentions_any_case(&["retort"]);
    retort(dir.path(), &["upgrade", "--help"]).code(0);
}

/// Every verb's `--help`, and `-V` where a verb has it, parse without
/// panicking: clap checks a subcommand's definition only when it is used,
/// so a clash (e.g. a verb's `-V` against a propagated `--version`) panics
/// at run time in debug builds.
#[test]
fn every_verb_parses_its_help_and_short_flags() {
    let dir = tempfile::tempdir().unwrap();
    for verb in [
        "init",
        "revision",
        "merge",
        "upgrade",
        "downgrade",
        "current",
        "history",
        "heads",
        "branches",
        "show",
        "stamp",
        "check",
        "repair",
    ] {
        retort(dir.path(), &[verb, "--help"])
            .code(0)
            .mentions_any_case(&["Usage"]);
    }
    for verb in ["current", "history", "heads", "branches"] {
        let run = retort(dir.path(), &[verb, "-v"]);
        assert!(
            !run.stderr.contains("panicked"),
            "{verb} -v panicked:\n{}",
            run.stderr
        );
        assert_ne!(
            run.code,
            Some(2),
            "{verb} -v is not accepted:\n{}",
            run.all()
        );
    }
}

#[test]
fn bad_target_names_the_target() {
    let dir = simple_project();
    let url = sqlite_url(dir.path());
    retort(dir.path(), &["--database-url", &url, "upgrade", "zzzz"])
        .code(1)
        .mentions_any_case(&["zzzz"]);
    retort(dir.path(), &["--database-url", &url, "downgrade", "zzzz"])
        .code(1)
        .mentions_any_case(&["zzzz"]);
    retort(dir.path(), &["show", "zzzz"])
        .code(1)
        .mentions_any_case(&["zzzz"]);
}

#[test]
fn walking_past_base_is_an_error() {
    let dir = simple_project();
    let url = sqlite_url(dir.path());
    // Nothing is applied: `downgrade -1` has nowhere to go.
    retort(dir.path(), &["--database-url", &url, "downgrade", "-1"]).code(1);
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let dir = project(&[
        (
            "abcd11112222",
            "",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);",
            "DROP TABLE a;",
        ),
        (
            "abcd33334444",
            "abcd11112222",
            "CREATE TABLE b (id INTEGER PRIMARY KEY);",
            "DROP TABLE b;",
        ),
    ]);
    let url = sqlite_url(dir.path());
    retort(dir.path(), &["--database-url", &url, "upgrade", "abcd"])
        .code(1)
        .mentions_any_case(&["abcd", "abcd11112222", "abcd33334444"]);
    retort(dir.path(), &["show", "abcd"])
        .code(1)
        .mentions_any_case(&["abcd11112222", "abcd33334444"]);
    // Nothing was applied.
    let current = retort(dir.path(), &["--database-url", &url, "current"]);
    assert!(
        !current.stdout.contains("abcd11112222"),
        "an ambiguous target applied something:\n{}",
        current.all()
    );
}

fn assert_unreachable(url: &str, extra: &[&str]) {
    let dir = simple_project();
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    args.push("upgrade");
    let run = retort(dir.path(), &args)
        .code(1)
        .mentions_any_case(&["connect"]);
    assert!(
        !run.all().contains("hunter2"),
        "the password leaked:\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn unreachable_postgres_fails_fast_without_leaking_the_password() {
    assert_unreachable("postgres://u:hunter2@127.0.0.1:1/db", &[]);
}

#[test]
fn unreachable_mysql_fails_fast_without_leaking_the_password() {
    assert_unreachable("mysql://u:hunter2@127.0.0.1:1/db", &[]);
}

#[test]
fn unreachable_database_leaks_no_password_even_in_trace_logs() {
    assert_unreachable("postgres://u:hunter2@127.0.0.1:1/db", &["-vvv"]);
}

#[test]
fn password_from_the_environment_never_printed() {
    let dir = simple_project();
    let mut cmd = command(dir.path());
    cmd.env("DATABASE_URL", "postgres://u:hunter2@127.0.0.1:1/db")
        .args(["check"])
        .timeout(Duration::from_secs(60));
    let output = cmd.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains("hunter2"), "the password leaked:\n{all}");
}

#[test]
fn unsupported_url_scheme_is_named() {
    let dir = simple_project();
    retort(
        dir.path(),
        &["--database-url", "oracle://u:hunter2@db/x", "current"],
    )
    .code(1)
    .mentions_any_case(&["oracle"]);
}

#[test]
fn no_database_url_lists_the_sources() {
    let dir = simple_project();
    retort(dir.path(), &["current"])
        .code(1)
        .mentions_any_case(&["--database-url", "DATABASE_URL", "retort.toml"]);
}

#[test]
fn malformed_settings_file_names_file_and_line() {
    let dir = simple_project();
    std::fs::write(
        dir.path().join("retort.toml"),
        "version_table = \"v\"\n\n[database]\nurl = \"sqlite://x.db\n",
    )
    .unwrap();
    retort(dir.path(), &["heads"])
        .code(1)
        .mentions_any_case(&["retort.toml:4"]);
}

#[test]
fn malformed_explicit_config_names_that_file() {
    let dir = simple_project();
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    std::fs::write(
        dir.path().join("conf/other.toml"),
        "lock_timeout = \"5 minutes\"\n",
    )
    .unwrap();
    retort(dir.path(), &["-c", "conf/other.toml", "heads"])
        .code(1)
        .mentions_any_case(&["other.toml:1", "lock_timeout"]);
    // A --config file that does not exist is named.
    retort(dir.path(), &["--config", "conf/missing.toml", "heads"])
        .code(1)
        .mentions_any_case(&["missing.toml"]);
}

#[test]
fn unknown_settings_key_is_named() {
    let dir = simple_project();
    std::fs::write(
        dir.path().join("retort.toml"),
        "[database]\ndriver = \"sqlite\"\ndatabase = \"app.db\"\npasword = \"x\"\n",
    )
    .unwrap();
    retort(dir.path(), &["heads"])
        .code(1)
        .mentions_any_case(&["retort.toml:4", "pasword"]);
    std::fs::write(
        dir.path().join("retort.toml"),
        "migratons = \"migrations\"\n",
    )
    .unwrap();
    retort(dir.path(), &["heads"])
        .code(1)
        .mentions_any_case(&["retort.toml:1", "migratons"]);
}

#[test]
fn url_and_connection_settings_together_are_an_error() {
    let dir = simple_project();
    std::fs::write(
        dir.path().join("retort.toml"),
        "[database]\nurl = \"sqlite://a.db\"\ndriver = \"sqlite\"\ndatabase = \"b.db\"\n",
    )
    .unwrap();
    retort(dir.path(), &["current"])
        .code(1)
        .mentions_any_case(&["retort.toml:2", "url", "driver"]);
}

#[test]
fn malformed_dotenv_names_file_and_line_without_the_password() {
    let dir = simple_project();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgres://u:hunter2@127.0.0.1:1/x\nBROKEN LINE\n",
    )
    .unwrap();
    let run = retort(dir.path(), &["current"])
        .code(1)
        .mentions_any_case(&[".env:2"]);
    assert!(!run.all().contains("hunter2"), "{}", run.all());
}

#[test]
fn missing_migrations_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("retort.toml"),
        "migrations = \"db/revisions\"\n",
    )
    .unwrap();
    retort(dir.path(), &["heads"])
        .code(1)
        .mentions_any_case(&["db/revisions"]);
    let url = sqlite_url(dir.path());
    retort(dir.path(), &["--database-url", &url, "upgrade"])
        .code(1)
        .mentions_any_case(&["db/revisions"]);
    retort(dir.path(), &["--migrations", "elsewhere", "history"])
        .code(1)
        .mentions_any_case(&["elsewhere"]);
}

#[test]
fn bad_revision_file_is_named() {
    let dir = simple_project();
    std::fs::write(
        dir.path().join("migrations/bad.sql"),
        "-- Revision ID: 9999aaaabbbb\n-- Revises: 000000000000\n\n-- migrate:upgrade\nSELECT 1;\n",
    )
    .unwrap();
    retort(dir.path(), &["heads"])
        .code(1)
        .mentions_any_case(&["bad.sql:2", "000000000000"]);
}

#[test]
fn unknown_env_lists_the_available_ones() {
    let dir = simple_project();
    std::fs::write(
        dir.path().join("retort.toml"),
        "[env.staging]\nlock_timeout = 60\n\n[env.ci]\nlock_timeout = 5\n",
    )
    .unwrap();
    retort(dir.path(), &["--env", "prod", "heads"])
        .code(1)
        .mentions_any_case(&["prod", "staging", "ci"]);
    // The same through RETORT_ENV.
    let mut cmd = command(dir.path());
    let output = cmd
        .env("RETORT_ENV", "prod")
        .arg("heads")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("staging") && stderr.contains("prod"),
        "{stderr}"
    );
}

#[test]
fn bad_template_placeholder_names_template_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    retort(dir.path(), &["init"]).code(0);
    // `init` writes the default template here (see `retort init` and docs/settings.md).
    let template = dir.path().join("migrations/script.sql.tmpl");
    assert!(
        template.is_file(),
        "init wrote no template at {}",
        template.display()
    );
    let text = std::fs::read_to_string(&template).unwrap();
    // Copy the syntax of the placeholder for the message (whatever its
    // delimiters), with a name no template knows.
    let at = text
        .find("message")
        .expect("the template has a placeholder for the message");
    let line_of_message = text[..at].lines().count().max(1);
    let line_text = text.lines().nth(line_of_message - 1).unwrap_or_default();
    let bad_line = line_text.replacen("message", "no_such_placeholder", 1);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(0, &bad_line);
    std::fs::write(&template, lines.join("\n") + "\n").unwrap();
    let name = template.file_name().unwrap().to_string_lossy().into_owned();
    let run = retort(dir.path(), &["revision", "-m", "x"]);
    run.code(1)
        .mentions_any_case(&[&format!("{name}:1"), "no_such_placeholder"]);
    // No revision file was written.
    let written = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count();
    assert_eq!(written, 0, "a revision was written from a bad template");
}

#[test]
fn revision_in_a_missing_migrations_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    retort(dir.path(), &["revision", "-m", "first"])
        .code(1)
        .mentions_any_case(&["migrations"]);
}

#[test]
fn odd_inputs_never_panic() {
    let dir = simple_project();
    let url = sqlite_url(dir.path());
    for args in [
        vec!["--database-url", &url, "upgrade", "+999"],
        vec!["--database-url", &url, "upgrade", ""],
        vec!["--database-url", &url, "upgrade", "head-99"],
        vec!["--database-url", &url, "downgrade", "-99"],
        vec!["--database-url", &url, "downgrade", "nolabel@-1"],
        vec!["--database-url", &url, "stamp", "zzzz"],
        vec!["--database-url", &url, "history", "-r", "zzzz:"],
        vec!["--database-url", &url, "history", "-r", "::"],
        vec!["--database-url", "", "current"],
        vec!["--database-url", "postgres://", "current"],
        vec!["--database-url", "not a url", "current"],
        vec!["show", "héad✓"],
        vec!["merge", "-m", "m", "zzzz"],
        vec!["revision", "-m", "x", "--head", "zzzz"],
        vec!["revision", "-m", "x", "--rev-id", "not valid!"],
    ] {
        let run = retort(dir.path(), &args);
        assert!(
            !run.stderr.contains("panicked"),
            "{args:?} panicked:\n{}",
            run.stderr
        );
        assert_eq!(
            run.code,
            Some(1),
            "{args:?}: expected exit 1\n{}",
            run.all()
        );
    }
}
