//! What each category's tests share: building the bad input, running it
//! through the library or the binary, and [`expect`], the one check every
//! test ends with.

pub(crate) use std::path::Path;

pub(crate) use retort_core::MigrationSet;
pub(crate) use retort_core::format::{ParseErrorKind, decode, parse};
pub(crate) use retort_core::graph::GraphError;
pub(crate) use retort_core::load::{LoadError, load_dir};
pub(crate) use retort_core::plan::PlanError;
pub(crate) use retort_core::target::TargetError;
pub(crate) use retort_core::template::{Template, TemplateErrorKind};
pub(crate) use retort_settings::Settings;
pub(crate) use retort_settings::SettingsError;

/// The headers of a good revision `aaaa0001` with no parent.
pub(crate) const OK: &str = "-- Revision ID: aaaa0001\n-- Revises:\n";

/// One row's outcome: did the error have the expected kind, and its message.
pub(crate) type Outcome = (bool, String);

pub(crate) fn rev(text: &str, kind: fn(&ParseErrorKind) -> bool) -> Outcome {
    match decode("migrations/bad.sql", text.as_bytes()).and_then(|t| parse("migrations/bad.sql", t))
    {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (kind(&e.kind), e.to_string()),
    }
}

pub(crate) fn rev_bytes(bytes: &[u8], kind: fn(&ParseErrorKind) -> bool) -> Outcome {
    match decode("migrations/bad.sql", bytes).and_then(|t| parse("migrations/bad.sql", t)) {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (kind(&e.kind), e.to_string()),
    }
}

pub(crate) fn header(id: &str, revises: &str, extra: &str) -> String {
    format!(
        "-- {id}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n{extra}\n-- migrate:upgrade\nSELECT 1;\n"
    )
}

pub(crate) fn graph(files: &[(&str, String)], kind: impl Fn(&LoadError) -> bool) -> Outcome {
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

pub(crate) fn graph_kind(kind: fn(&GraphError) -> bool) -> impl Fn(&LoadError) -> bool {
    move |e| matches!(e, LoadError::Graph(g) if kind(g))
}

/// aaaa0001 -> bbbb0002 -> cccc0003 (left)
///                      -> cccc0004 (right)
pub(crate) fn branched() -> MigrationSet {
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

pub(crate) fn target(result: Result<usize, PlanError>, kind: fn(&TargetError) -> bool) -> Outcome {
    match result {
        Ok(n) => (false, format!("planned {n} steps")),
        Err(e) => (matches!(&e, PlanError::Target(t) if kind(t)), e.to_string()),
    }
}

pub(crate) fn plan(err: Result<usize, PlanError>, kind: fn(&PlanError) -> bool) -> Outcome {
    match err {
        Ok(n) => (false, format!("planned {n} steps")),
        Err(e) => (kind(&e), e.to_string()),
    }
}

pub(crate) fn syntax(text: &str) -> Outcome {
    match retort_core::target::parse(text) {
        Ok(t) => (false, format!("parsed as {t:?}")),
        Err(e) => (matches!(e, TargetError::Syntax { .. }), e.to_string()),
    }
}

/// `text` as `retort.toml` in a temporary directory, loaded and resolved
/// (environment `env` if given, database URL with an empty environment).
pub(crate) fn config(text: &str, env: Option<&str>, kind: fn(&SettingsError) -> bool) -> Outcome {
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

pub(crate) fn url(
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

pub(crate) fn template(text: &str, kind: fn(&TemplateErrorKind) -> bool) -> Outcome {
    match Template::parse("templates/revision.sql.tmpl", text) {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (kind(&e.kind), e.to_string()),
    }
}

/// Runs `retort` in a project with `files` (path, contents), `$DB` in
/// `args` standing for a SQLite database in it. The outcome is whether the
/// command failed as a command does (exit `code`, an `error:` line on
/// stderr, no panic), and its output.
pub(crate) fn cli(files: &[(String, String)], args: &[&str], code: i32) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let db = format!("sqlite:{}?mode=rwc", dir.path().join("db.sqlite").display());
    let args: Vec<String> = args.iter().map(|a| a.replace("$DB", &db)).collect();
    let run = crate::common::cli::run(crate::common::cli::command(dir.path()), &args);
    let failed = run.code == Some(code)
        && run.stderr.lines().any(|l| l.starts_with("error: "))
        && !run.all().contains("panicked");
    (failed, run.describe())
}

/// The files of a project whose `migrations/` holds the graph of
/// [`branched`] (without labels), plus `extra` (path, contents).
pub(crate) fn branched_project(extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut files = vec![
        ("migrations/a.sql".to_owned(), header("aaaa0001", "", "")),
        (
            "migrations/b.sql".to_owned(),
            header("bbbb0002", "aaaa0001", ""),
        ),
        (
            "migrations/c.sql".to_owned(),
            header("cccc0003", "bbbb0002", ""),
        ),
        (
            "migrations/d.sql".to_owned(),
            header("cccc0004", "bbbb0002", ""),
        ),
    ];
    for (name, text) in extra {
        files.push(((*name).to_owned(), text.clone()));
    }
    files
}

/// Plans an upgrade of [`branched`] from `current` to `target`: the
/// number of steps.
pub(crate) fn up(current: &[&str], target: &str) -> Result<usize, PlanError> {
    branched()
        .plan_upgrade(current, target)
        .map(|p| p.steps.len())
}

/// Plans a downgrade of [`branched`] from `current` to `target`.
pub(crate) fn down(current: &[&str], target: &str) -> Result<usize, PlanError> {
    branched()
        .plan_downgrade(current, target)
        .map(|p| p.steps.len())
}

/// Resolves `target` in [`branched`]: the number of revisions it names.
pub(crate) fn resolve(target: &str) -> Result<usize, PlanError> {
    branched().resolve(target).map(|r| r.len())
}

/// The check every test ends with: the error was of the expected kind,
/// and its message contains every one of `needles`.
#[track_caller]
pub(crate) fn expect((kind_ok, message): Outcome, needles: &[&str]) {
    assert!(kind_ok, "the error is not of the expected kind:\n{message}");
    for needle in needles {
        assert!(
            message.contains(needle),
            "the message lacks `{needle}`:\n{message}"
        );
    }
}

/// For a command line: the library, given the same input, fails with an
/// error of the expected kind (`library`'s check), and the binary's
/// output carries that error's message, so the binary reports that kind.
#[track_caller]
pub(crate) fn reported_as(binary: &Outcome, (kind_ok, message): Outcome) {
    assert!(
        kind_ok,
        "the library's error is not of the expected kind:\n{message}"
    );
    assert!(
        binary.1.contains(&message),
        "the binary does not report the library's error `{message}`:\n{}",
        binary.1
    );
}
