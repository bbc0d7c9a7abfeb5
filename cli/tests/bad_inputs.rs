//! The bad-input catalogue: one table of malformed revision files, graphs,
//! targets, settings files, database URLs, templates and command lines.
//! Each row checks the exact kind of error and that the message names the
//! file and line, or the setting, at fault. CLI rows run the `retort`
//! binary offline (SQLite or `--sql`); more CLI error cases live in
//! `tests/cli_errors.rs`.

use std::path::Path;

use retort_core::MigrationSet;
use retort_core::format::{ParseErrorKind, decode, parse};
use retort_core::graph::GraphError;
use retort_core::load::{LoadError, load_dir};
use retort_core::plan::PlanError;
use retort_core::target::TargetError;
use retort_core::template::{Template, TemplateErrorKind};
use retort_settings::Settings;
use retort_settings::SettingsError;

/// One row's outcome: did the error have the expected kind, and its message.
type Outcome = (bool, String);

fn rev(text: &str, kind: fn(&ParseErrorKind) -> bool) -> Outcome {
    match decode("migrations/bad.sql", text.as_bytes()).and_then(|t| parse("migrations/bad.sql", t))
    {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (kind(&e.kind), e.to_string()),
    }
}

fn rev_bytes(bytes: &[u8], kind: fn(&ParseErrorKind) -> bool) -> Outcome {
    match decode("migrations/bad.sql", bytes).and_then(|t| parse("migrations/bad.sql", t)) {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (kind(&e.kind), e.to_string()),
    }
}

fn header(id: &str, revises: &str, extra: &str) -> String {
    format!(
        "-- {id}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n{extra}\n-- migrate:upgrade\nSELECT 1;\n"
    )
}

fn graph(files: &[(&str, String)], kind: impl Fn(&LoadError) -> bool) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    match load_dir(dir.path(), "migrations") {
        Ok(_) => (false, "loaded".to_owned()),
        Err(errors) => (
            errors.0.iter().any(&kind),
            errors
                .0
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

fn graph_kind(kind: fn(&GraphError) -> bool) -> impl Fn(&LoadError) -> bool {
    move |e| matches!(e, LoadError::Graph(g) if kind(g))
}

/// aaaa0001 -> bbbb0002 -> cccc0003 (left)
///                      -> cccc0004 (right)
fn branched() -> MigrationSet {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("a.sql", header("aaaa0001", "", "")),
        ("b.sql", header("bbbb0002", "aaaa0001", "")),
        (
            "c.sql",
            header("cccc0003", "bbbb0002", "-- Branch Labels: left"),
        ),
        (
            "d.sql",
            header("cccc0004", "bbbb0002", "-- Branch Labels: right"),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    load_dir(dir.path(), "migrations").unwrap()
}

fn target(result: Result<usize, PlanError>, kind: fn(&TargetError) -> bool) -> Outcome {
    match result {
        Ok(n) => (false, format!("planned {n} steps")),
        Err(e) => (matches!(&e, PlanError::Target(t) if kind(t)), e.to_string()),
    }
}

fn plan(err: Result<usize, PlanError>, kind: fn(&PlanError) -> bool) -> Outcome {
    match err {
        Ok(n) => (false, format!("planned {n} steps")),
        Err(e) => (kind(&e), e.to_string()),
    }
}

fn syntax(text: &str) -> Outcome {
    match retort_core::target::parse(text) {
        Ok(t) => (false, format!("parsed as {t:?}")),
        Err(e) => (matches!(e, TargetError::Syntax { .. }), e.to_string()),
    }
}

/// `text` as `retort.toml` in a temporary directory, loaded and resolved
/// (environment `env` if given, database URL with an empty environment).
fn config(text: &str, env: Option<&str>, kind: fn(&SettingsError) -> bool) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retort.toml");
    std::fs::write(&path, text).unwrap();
    let result = Settings::from_path(&path)
        .and_then(|s| match env {
            Some(env) => s.with_env(env),
            None => Ok(s),
        })
        .and_then(|s| {
            s.with_vars(|_: &str| None)
                .without_dotenv()
                .database_url()
                .map(|_| ())
        });
    match result {
        Ok(()) => (false, "accepted".to_owned()),
        Err(e) => (kind(&e), e.to_string()),
    }
}

fn url(
    url: &str,
    vars: &[(&'static str, &'static str)],
    kind: fn(&SettingsError) -> bool,
) -> Outcome {
    let vars: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut settings = ""
        .parse::<Settings>()
        .unwrap()
        .with_vars(vars)
        .without_dotenv();
    if !url.is_empty() {
        settings = settings.with_database_url(url);
    }
    match settings.database_url() {
        Ok(_) => (false, "accepted".to_owned()),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains("hunter2"), "password in {message}");
            (kind(&e), message)
        }
    }
}

fn template(text: &str, kind: fn(&TemplateErrorKind) -> bool) -> Outcome {
    match Template::parse("templates/revision.sql.tmpl", text) {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (kind(&e.kind), e.to_string()),
    }
}

/// Runs `retort` in a project with `files` (path, contents); the outcome
/// is whether it exited with `code`, and its stderr and stdout.
fn cli(files: &[(&str, String)], args: &[&str], code: i32) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let db = format!("sqlite:{}?mode=rwc", dir.path().join("db.sqlite").display());
    let args: Vec<String> = args.iter().map(|a| a.replace("$DB", &db)).collect();
    let output = assert_cmd::Command::cargo_bin("retort")
        .unwrap()
        .current_dir(dir.path())
        .args(&args)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("RETORT_DATABASE_URL")
        .output()
        .unwrap();
    let all = format!(
        "exit {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    (
        output.status.code() == Some(code) && !all.contains("panicked"),
        all,
    )
}

fn project(extra: &[(&str, String)]) -> Vec<(&'static str, String)> {
    let mut files = vec![
        ("migrations/a.sql", header("aaaa0001", "", "")),
        ("migrations/b.sql", header("bbbb0002", "aaaa0001", "")),
        ("migrations/c.sql", header("cccc0003", "bbbb0002", "")),
        ("migrations/d.sql", header("cccc0004", "bbbb0002", "")),
    ];
    for (name, text) in extra {
        let name: &'static str = Box::leak((*name).to_owned().into_boxed_str());
        files.push((name, text.clone()));
    }
    files
}

#[test]
fn bad_inputs() {
    let set = branched();
    let up = |current: &[&str], t: &str| set.plan_upgrade(current, t).map(|p| p.steps.len());
    let down = |current: &[&str], t: &str| set.plan_downgrade(current, t).map(|p| p.steps.len());
    let resolve = |t: &str| set.resolve(t).map(|r| r.len());
    let ok = "-- Revision ID: aaaa0001\n-- Revises:\n";

    let rows: Vec<(&str, Outcome, Vec<&str>)> = vec![
        // --- revision files -------------------------------------------------
        (
            "invalid UTF-8",
            rev_bytes(
                b"-- Revision ID: aaaa0001\n-- Revises:\n\xff\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::NotUtf8),
            ),
            vec!["bad.sql:3:", "UTF-8"],
        ),
        (
            "no upgrade marker",
            rev(ok, |k| matches!(k, ParseErrorKind::MissingUpgrade)),
            vec!["bad.sql:", "migrate:upgrade"],
        ),
        (
            "second upgrade marker",
            rev(
                &format!("{ok}-- migrate:upgrade\nSELECT 1;\n-- migrate:upgrade\n"),
                |k| matches!(k, ParseErrorKind::DuplicateMarker { first_line: 3, .. }),
            ),
            vec!["bad.sql:5:", "line 3"],
        ),
        (
            "second downgrade marker",
            rev(
                &format!("{ok}-- migrate:upgrade\n-- migrate:downgrade\n-- migrate:downgrade\n"),
                |k| matches!(k, ParseErrorKind::DuplicateMarker { first_line: 4, .. }),
            ),
            vec!["bad.sql:5:"],
        ),
        (
            "downgrade before upgrade",
            rev(
                &format!("{ok}-- migrate:downgrade\n-- migrate:upgrade\n"),
                |k| matches!(k, ParseErrorKind::DowngradeBeforeUpgrade),
            ),
            vec!["bad.sql:3:"],
        ),
        (
            "unknown marker",
            rev(
                &format!("{ok}-- migrate:upgrade\nSELECT 1;\n-- migrate:sideways\n"),
                |k| matches!(k, ParseErrorKind::UnknownMarker { .. }),
            ),
            vec!["bad.sql:5:", "migrate:sideways"],
        ),
        (
            "SQL before the upgrade marker",
            rev(
                &format!("{ok}CREATE TABLE t (id INT);\n-- migrate:upgrade\n"),
                |k| matches!(k, ParseErrorKind::UnexpectedBeforeUpgrade { .. }),
            ),
            vec!["bad.sql:3:", "CREATE TABLE t"],
        ),
        (
            "misspelt header key",
            rev(
                "-- Revision ID: aaaa0001\n-- Revisess: x\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::UnknownKey { key } if key == "Revisess"),
            ),
            vec!["bad.sql:2:", "Revisess"],
        ),
        (
            "free text inside the key block",
            rev(
                "-- Revision ID: aaaa0001\n-- some words here\n-- Revises:\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::ExpectedKey { .. }),
            ),
            vec!["bad.sql:2:", "some words here"],
        ),
        (
            "duplicate key",
            rev(&format!("{ok}-- Revises:\n-- migrate:upgrade\n"), |k| {
                matches!(
                    k,
                    ParseErrorKind::DuplicateKey {
                        key: "Revises",
                        first_line: 2
                    }
                )
            }),
            vec!["bad.sql:3:", "Revises"],
        ),
        (
            "missing Revision ID",
            rev("-- Revises:\n-- migrate:upgrade\n", |k| {
                matches!(
                    k,
                    ParseErrorKind::MissingKey {
                        key: "Revision ID",
                        ..
                    }
                )
            }),
            vec!["bad.sql:", "Revision ID"],
        ),
        (
            "missing Revises",
            rev("-- Revision ID: aaaa0001\n-- migrate:upgrade\n", |k| {
                matches!(k, ParseErrorKind::MissingKey { key: "Revises", .. })
            }),
            vec!["bad.sql:", "Revises"],
        ),
        (
            "revision id with a dash",
            rev(
                "-- Revision ID: ab-cd\n-- Revises:\n-- migrate:upgrade\n",
                |k| {
                    matches!(
                        k,
                        ParseErrorKind::InvalidName {
                            what: "revision id",
                            ..
                        }
                    )
                },
            ),
            vec!["bad.sql:1:", "ab-cd"],
        ),
        (
            "revision id of 33 characters",
            rev(
                &format!(
                    "-- Revision ID: {}\n-- Revises:\n-- migrate:upgrade\n",
                    "a".repeat(33)
                ),
                |k| matches!(k, ParseErrorKind::InvalidName { .. }),
            ),
            vec!["bad.sql:1:", "32"],
        ),
        (
            "reserved revision id",
            rev(
                "-- Revision ID: head\n-- Revises:\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::InvalidName { .. }),
            ),
            vec!["bad.sql:1:", "reserved"],
        ),
        (
            "non-ASCII revision id",
            rev(
                "-- Revision ID: caf\u{e9}0001\n-- Revises:\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::InvalidName { .. }),
            ),
            vec!["bad.sql:1:", "caf\u{e9}0001"],
        ),
        (
            "bad parent id",
            rev(
                "-- Revision ID: aaaa0001\n-- Revises: bb/bb\n-- migrate:upgrade\n",
                |k| {
                    matches!(
                        k,
                        ParseErrorKind::InvalidName {
                            what: "parent revision id",
                            ..
                        }
                    )
                },
            ),
            vec!["bad.sql:2:", "bb/bb"],
        ),
        (
            "bad branch label",
            rev(
                &format!("{ok}-- Branch Labels: my-branch\n-- migrate:upgrade\n"),
                |k| {
                    matches!(
                        k,
                        ParseErrorKind::InvalidName {
                            what: "branch label",
                            ..
                        }
                    )
                },
            ),
            vec!["bad.sql:3:", "my-branch"],
        ),
        (
            "bad dependency",
            rev(
                &format!("{ok}-- Depends On: x.y\n-- migrate:upgrade\n"),
                |k| {
                    matches!(
                        k,
                        ParseErrorKind::InvalidName {
                            what: "dependency",
                            ..
                        }
                    )
                },
            ),
            vec!["bad.sql:3:", "x.y"],
        ),
        (
            "parent listed twice",
            rev(
                "-- Revision ID: aaaa0001\n-- Revises: bbbb, bbbb\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::DuplicateName { key: "Revises", .. }),
            ),
            vec!["bad.sql:2:", "bbbb"],
        ),
        (
            "revises itself",
            rev(
                "-- Revision ID: aaaa0001\n-- Revises: aaaa0001\n-- migrate:upgrade\n",
                |k| matches!(k, ParseErrorKind::SelfReference { key: "Revises", .. }),
            ),
            vec!["bad.sql:2:", "aaaa0001"],
        ),
        (
            "depends on itself",
            rev(
                &format!("{ok}-- Depends On: aaaa0001\n-- migrate:upgrade\n"),
                |k| {
                    matches!(
                        k,
                        ParseErrorKind::SelfReference {
                            key: "Depends On",
                            ..
                        }
                    )
                },
            ),
            vec!["bad.sql:3:", "Depends On"],
        ),
        (
            "empty Create Date",
            rev(&format!("{ok}-- Create Date:\n-- migrate:upgrade\n"), |k| {
                matches!(k, ParseErrorKind::EmptyValue { key: "Create Date" })
            }),
            vec!["bad.sql:3:", "Create Date"],
        ),
        (
            "Transactional: maybe",
            rev(
                &format!("{ok}-- Transactional: maybe\n-- migrate:upgrade\n"),
                |k| matches!(k, ParseErrorKind::InvalidTransactional { .. }),
            ),
            vec!["bad.sql:3:", "maybe"],
        ),
        // --- graphs -----------------------------------------------------------
        (
            "duplicate revision id",
            graph(
                &[
                    ("a.sql", header("aaaa0001", "", "")),
                    ("b.sql", header("aaaa0001", "", "")),
                ],
                graph_kind(|g| matches!(g, GraphError::DuplicateId { .. })),
            ),
            vec!["migrations/a.sql", "migrations/b.sql", "aaaa0001"],
        ),
        (
            "unknown parent",
            graph(
                &[
                    ("a.sql", header("aaaa0001", "", "")),
                    ("b.sql", header("bbbb0002", "aaaa0009", "")),
                ],
                graph_kind(|g| matches!(g, GraphError::UnknownParent { .. })),
            ),
            vec!["migrations/b.sql:4:", "aaaa0009"],
        ),
        (
            "unknown dependency",
            graph(
                &[("a.sql", header("aaaa0001", "", "-- Depends On: nowhere"))],
                graph_kind(|g| matches!(g, GraphError::UnknownDependency { .. })),
            ),
            vec!["migrations/a.sql:5:", "nowhere"],
        ),
        (
            "cycle",
            graph(
                &[
                    ("a.sql", header("aaaa0001", "bbbb0002", "")),
                    ("b.sql", header("bbbb0002", "aaaa0001", "")),
                ],
                graph_kind(|g| matches!(g, GraphError::Cycle { .. })),
            ),
            vec!["migrations/", ".sql:4:", "cycle"],
        ),
        (
            "duplicate branch label",
            graph(
                &[
                    ("a.sql", header("aaaa0001", "", "-- Branch Labels: api")),
                    ("b.sql", header("bbbb0002", "", "-- Branch Labels: api")),
                ],
                graph_kind(|g| matches!(g, GraphError::DuplicateLabel { .. })),
            ),
            vec!["migrations/b.sql:5:", "api"],
        ),
        (
            "label equal to a revision id",
            graph(
                &[
                    ("a.sql", header("aaaa0001", "", "")),
                    (
                        "b.sql",
                        header("bbbb0002", "", "-- Branch Labels: aaaa0001"),
                    ),
                ],
                graph_kind(|g| matches!(g, GraphError::LabelIsRevisionId { .. })),
            ),
            vec!["migrations/b.sql:5:", "aaaa0001"],
        ),
        (
            "one unparsable file among good ones",
            graph(
                &[
                    ("a.sql", header("aaaa0001", "", "")),
                    ("z.sql", "-- Revision ID: zzzz0001\n".to_owned()),
                ],
                |e| matches!(e, LoadError::Parse(p) if matches!(p.kind, ParseErrorKind::MissingKey { key: "Revises", .. } | ParseErrorKind::MissingUpgrade)),
            ),
            vec!["migrations/z.sql:"],
        ),
        (
            "missing migrations directory",
            match load_dir(Path::new("/nonexistent/retort/migrations"), "db/migrations") {
                Err(e) => (
                    e.0.iter()
                        .any(|e| matches!(e, LoadError::MissingDir { .. })),
                    e.to_string(),
                ),
                Ok(_) => (false, "loaded".to_owned()),
            },
            vec!["db/migrations"],
        ),
        (
            "migrations path is a file",
            {
                let f = tempfile::NamedTempFile::new().unwrap();
                match load_dir(f.path(), "migrations.sql") {
                    Err(e) => (
                        e.0.iter().any(|e| matches!(e, LoadError::NotADir { .. })),
                        e.to_string(),
                    ),
                    Ok(_) => (false, "loaded".to_owned()),
                }
            },
            vec!["migrations.sql"],
        ),
        // --- targets ----------------------------------------------------------
        ("empty target", syntax(""), vec!["empty"]),
        (
            "target with spaces",
            syntax(" head"),
            vec!["` head`", "whitespace"],
        ),
        ("two @ in a target", syntax("a@b@c"), vec!["a@b@c"]),
        (
            "nothing before @",
            syntax("@head"),
            vec!["@head", "before `@`"],
        ),
        ("nothing after @", syntax("api@"), vec!["api@"]),
        ("non-numeric step", syntax("head+x"), vec!["head+x"]),
        (
            "step overflows",
            syntax("+99999999999999999999999"),
            vec!["+99999999999999999999999"],
        ),
        (
            "unknown revision",
            target(resolve("zzzz9999"), |t| {
                matches!(t, TargetError::Unknown { .. })
            }),
            vec!["zzzz9999"],
        ),
        (
            "prefix too short",
            target(resolve("zz"), |t| matches!(t, TargetError::Unknown { .. })),
            vec!["`zz`", "at least 4"],
        ),
        (
            "ambiguous prefix",
            target(resolve("cccc"), |t| {
                matches!(t, TargetError::Ambiguous { .. })
            }),
            vec!["cccc", "cccc0003", "cccc0004"],
        ),
        (
            "unknown branch label",
            target(up(&[], "nolabel@head"), |t| {
                matches!(t, TargetError::NoSuchBranch { .. })
            }),
            vec!["nolabel", "nolabel@head"],
        ),
        (
            "revision not on the branch",
            target(up(&[], "left@cccc0004"), |t| {
                matches!(t, TargetError::NotInBranch { .. })
            }),
            vec!["cccc0004", "left"],
        ),
        (
            "head with two heads",
            target(up(&[], "head"), |t| {
                matches!(t, TargetError::MultipleHeads { .. })
            }),
            vec!["cccc0003", "cccc0004"],
        ),
        (
            "walk up through a branch point",
            target(up(&["aaaa0001"], "+2"), |t| {
                matches!(t, TargetError::AmbiguousWalk { .. })
            }),
            vec!["+2", "bbbb0002"],
        ),
        (
            "walk past the head",
            target(up(&[], "left@+9"), |t| {
                matches!(t, TargetError::OutOfRange { .. })
            }),
            vec!["left@+9"],
        ),
        (
            "walk down past base",
            target(down(&["aaaa0001"], "-5"), |t| {
                matches!(t, TargetError::OutOfRange { .. })
            }),
            vec!["-5", "base"],
        ),
        (
            "relative downgrade from nothing",
            target(down(&[], "-1"), |t| {
                matches!(t, TargetError::NothingCurrent { .. })
            }),
            vec!["`-1`"],
        ),
        (
            "relative downgrade from two heads",
            target(down(&["cccc0003", "cccc0004"], "-1"), |t| {
                matches!(t, TargetError::AmbiguousCurrent { .. })
            }),
            vec!["-1", "cccc0003", "cccc0004"],
        ),
        (
            "downgrade upwards",
            target(down(&["aaaa0001"], "+1"), |t| {
                matches!(t, TargetError::WrongDirection { .. })
            }),
            vec!["`+1`", "downgrade", "aaaa0001"],
        ),
        (
            "applied revision unknown to the set",
            plan(up(&["ffff9999"], "left@head"), |p| {
                matches!(p, PlanError::UnknownApplied { .. })
            }),
            vec!["ffff9999"],
        ),
        // --- settings files ---------------------------------------------------
        (
            "TOML syntax error",
            config("migrations = \"db\"\nschema = \n", None, |e| {
                matches!(e, SettingsError::Parse { .. })
            }),
            vec!["retort.toml:2"],
        ),
        (
            "a value of the wrong type",
            config(
                "schema = \"s\"\n[database]\nport = \"5432x\"\n",
                None,
                |e| matches!(e, SettingsError::Parse { .. }),
            ),
            vec!["retort.toml:3", "database.port"],
        ),
        (
            "unknown top-level key",
            config("migratons = \"db\"\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:1", "migratons"],
        ),
        (
            "lock_timeout not a duration",
            config("\nlock_timeout = \"soon\"\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:2", "lock_timeout"],
        ),
        (
            "transaction_mode unknown",
            config("transaction_mode = \"sometimes\"\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:1", "transaction_mode"],
        ),
        (
            "migrations not a string",
            config("migrations = 5\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:1:14", "expected a string"],
        ),
        (
            "url and driver together",
            config(
                "[database]\nurl = \"sqlite::memory:\"\ndriver = \"postgres\"\n",
                None,
                |e| matches!(e, SettingsError::Invalid { .. }),
            ),
            vec!["retort.toml:", "url", "driver"],
        ),
        (
            "unsupported driver",
            config("[database]\ndriver = \"oracle\"\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:2", "driver"],
        ),
        (
            "port out of range",
            config(
                "[database]\ndriver = \"postgres\"\nport = 70000\n",
                None,
                |e| {
                    matches!(
                        e,
                        SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                    )
                },
            ),
            vec!["retort.toml:3:8", "70000"],
        ),
        (
            "password and password_file",
            config(
                "[database]\ndriver = \"postgres\"\npassword = \"hunter2\"\npassword_file = \"pw\"\n",
                None,
                |e| {
                    matches!(
                        e,
                        SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                    )
                },
            ),
            vec!["retort.toml:", "password_file"],
        ),
        (
            "unknown key in an environment",
            config("[env.prod]\nschemaa = \"x\"\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:2", "schemaa"],
        ),
        (
            "unknown environment",
            config("[env.staging]\nschema = \"x\"\n", Some("prod"), |e| {
                matches!(e, SettingsError::UnknownEnvironment { .. })
            }),
            vec!["retort.toml", "prod", "staging"],
        ),
        (
            "bad file_template placeholder",
            config("file_template = \"%(nope)s\"\n", None, |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            }),
            vec!["retort.toml:1", "file_template"],
        ),
        (
            "password_env unset",
            config(
                "[database]\ndriver = \"postgres\"\nhost = \"h\"\npassword_env = \"NO_SUCH_VAR_RETORT\"\n",
                None,
                |e| matches!(e, SettingsError::PasswordEnv { .. }),
            ),
            vec!["retort.toml:4", "NO_SUCH_VAR_RETORT"],
        ),
        (
            "bad url in the file",
            config(
                "[database]\nurl = \"bogus://u:hunter2@h/db\"\n",
                None,
                |e| matches!(e, SettingsError::InvalidUrl { .. }),
            ),
            vec!["retort.toml", "url", "bogus"],
        ),
        // --- database URLs ----------------------------------------------------
        (
            "unsupported scheme",
            url("oracle://u:hunter2@h/db", &[], |e| {
                matches!(e, SettingsError::InvalidUrl { .. })
            }),
            vec!["--database-url", "oracle"],
        ),
        (
            "no scheme at all",
            url("localhost/db", &[], |e| {
                matches!(e, SettingsError::InvalidUrl { .. })
            }),
            vec!["--database-url"],
        ),
        (
            "no URL anywhere",
            url("", &[], |e| {
                matches!(e, SettingsError::NoDatabaseUrl { .. })
            }),
            vec!["--database-url", "DATABASE_URL"],
        ),
        (
            "bad DATABASE_URL",
            url("", &[("DATABASE_URL", "ftp://u:hunter2@h/x")], |e| {
                matches!(e, SettingsError::InvalidUrl { .. })
            }),
            vec!["DATABASE_URL"],
        ),
        (
            "bad RETORT_DATABASE_URL",
            url("", &[("RETORT_DATABASE_URL", "http://h")], |e| {
                matches!(e, SettingsError::InvalidUrl { .. })
            }),
            vec!["RETORT_DATABASE_URL"],
        ),
        // --- templates --------------------------------------------------------
        (
            "unknown placeholder",
            template(
                "-- ${message}\n-- ${author}\n",
                |k| matches!(k, TemplateErrorKind::UnknownPlaceholder { name } if name == "author"),
            ),
            vec!["revision.sql.tmpl:2:", "author"],
        ),
        (
            "unterminated placeholder",
            template("a\nb\n-- ${revision\n", |k| {
                matches!(k, TemplateErrorKind::Unterminated { .. })
            }),
            vec!["revision.sql.tmpl:3:", "${revision"],
        ),
        (
            "empty placeholder",
            template("${}\n", |k| {
                matches!(k, TemplateErrorKind::UnknownPlaceholder { .. })
            }),
            vec!["revision.sql.tmpl:1:", "${}"],
        ),
        (
            "placeholder split over lines",
            template("x\r\n${mess\r\nage}\r\n", |k| {
                matches!(k, TemplateErrorKind::Unterminated { .. })
            }),
            vec!["revision.sql.tmpl:2:"],
        ),
        // --- command lines ----------------------------------------------------
        (
            "CLI: bad target syntax",
            cli(
                &project(&[]),
                &["--database-url", "$DB", "upgrade", "a@b@c"],
                1,
            ),
            vec!["a@b@c"],
        ),
        (
            "CLI: upgrade head with two heads",
            cli(
                &project(&[]),
                &["--database-url", "$DB", "upgrade", "head"],
                1,
            ),
            vec!["cccc0003", "cccc0004"],
        ),
        (
            "CLI: offline downgrade without a range",
            cli(
                &project(&[]),
                &["upgrade", "--sql", "--dialect", "sqlite", "nolabel@head"],
                1,
            ),
            vec!["nolabel"],
        ),
        (
            "CLI: unknown dialect",
            cli(
                &project(&[]),
                &["upgrade", "--sql", "--dialect", "oracle", "heads"],
                1,
            ),
            vec!["oracle"],
        ),
        (
            "CLI: revision file without upgrade",
            cli(
                &project(&[(
                    "migrations/e.sql",
                    "-- Revision ID: eeee0005\n-- Revises: cccc0003\n".to_owned(),
                )]),
                &["heads"],
                1,
            ),
            vec!["migrations/e.sql:"],
        ),
        (
            "CLI: bad transaction_mode",
            cli(
                &project(&[(
                    "retort.toml",
                    "transaction_mode = \"sometimes\"\n".to_owned(),
                )]),
                &["heads"],
                1,
            ),
            vec!["retort.toml:1", "transaction_mode"],
        ),
        (
            "CLI: stamp an unknown revision",
            cli(
                &project(&[]),
                &["--database-url", "$DB", "stamp", "zzzz9999"],
                1,
            ),
            vec!["zzzz9999"],
        ),
        (
            "CLI: downgrade upwards",
            cli(
                &project(&[]),
                &["--database-url", "$DB", "downgrade", "+1"],
                1,
            ),
            vec!["+1"],
        ),
        (
            "CLI: history with a bad range",
            cli(&project(&[]), &["history", "-r", "zzzz9999:cccc0003"], 1),
            vec!["zzzz9999"],
        ),
        (
            "CLI: revision --head unknown",
            cli(
                &project(&[]),
                &["revision", "-m", "x", "--head", "nosuch99"],
                1,
            ),
            vec!["nosuch99"],
        ),
        (
            "CLI: bad template placeholder",
            cli(
                &project(&[
                    ("retort.toml", "template = \"t.tmpl\"\n".to_owned()),
                    ("t.tmpl", "-- ${message}\n-- ${who}\n".to_owned()),
                ]),
                &["revision", "-m", "x", "--head", "cccc0003"],
                1,
            ),
            vec!["t.tmpl:2:", "who"],
        ),
        (
            "CLI: revision id with a dash",
            cli(
                &project(&[]),
                &[
                    "revision", "-m", "x", "--head", "cccc0003", "--rev-id", "bad-id",
                ],
                1,
            ),
            vec!["bad-id"],
        ),
    ];

    let mut failures = Vec::new();
    for (name, (kind_ok, message), needles) in &rows {
        let missing: Vec<&&str> = needles.iter().filter(|n| !message.contains(**n)).collect();
        if !kind_ok || !missing.is_empty() {
            failures.push(format!(
                "{name}: kind {}, missing {missing:?}\n    {}",
                if *kind_ok { "ok" } else { "WRONG" },
                message.replace('\n', "\n    ")
            ));
        }
    }
    println!("bad inputs tried: {}", rows.len());
    assert!(rows.len() >= 60, "only {} bad inputs", rows.len());
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
