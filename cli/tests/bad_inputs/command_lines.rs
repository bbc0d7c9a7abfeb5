//! The `retort` binary, offline (SQLite or `--sql`), on bad input: it exits
//! 1 with an `error:` line (a failed command, not a usage error) that names
//! the revision, target, file or setting at fault, and never panics. The
//! binary prints no error kind of its own (`--json` has no error object),
//! so where the library fails on the same input, the test checks the
//! library's error kind and that the binary prints that error's message.

use crate::check::*;

/// `$DB` is a SQLite database in the project.
const DB: [&str; 2] = ["--database-url", "$DB"];

fn online(args: &[&str]) -> Vec<String> {
    DB.iter().chain(args).map(|a| (*a).to_owned()).collect()
}

fn run(extra: &[(&str, String)], args: &[String]) -> Outcome {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&branched_project(extra), &args, 1)
}

#[test]
fn bad_target_syntax() {
    let binary = run(&[], &online(&["upgrade", "a@b@c"]));
    reported_as(&binary, syntax("a@b@c"));
    expect(binary, &["a@b@c"]);
}

#[test]
fn upgrade_head_with_two_heads() {
    let binary = run(&[], &online(&["upgrade", "head"]));
    reported_as(
        &binary,
        target(up(&[], "head"), |t| {
            matches!(t, TargetError::MultipleHeads { .. })
        }),
    );
    expect(binary, &["cccc0003", "cccc0004"]);
}

#[test]
fn offline_upgrade_to_an_unknown_branch() {
    let args = ["upgrade", "--sql", "--dialect", "sqlite", "nolabel@head"].map(str::to_owned);
    let binary = run(&[], &args);
    reported_as(
        &binary,
        target(up(&[], "nolabel@head"), |t| {
            matches!(t, TargetError::NoSuchBranch { .. })
        }),
    );
    expect(binary, &["nolabel"]);
}

#[test]
fn unknown_dialect() {
    let args = ["upgrade", "--sql", "--dialect", "oracle", "heads"].map(str::to_owned);
    expect(run(&[], &args), &["unknown dialect `oracle`"]);
}

#[test]
fn revision_file_without_upgrade() {
    let text = "-- Revision ID: eeee0005\n-- Revises: cccc0003\n";
    let binary = run(
        &[("migrations/e.sql", text.to_owned())],
        &["heads".to_owned()],
    );
    let library = match decode("migrations/e.sql", text.as_bytes())
        .and_then(|t| parse("migrations/e.sql", t))
    {
        Ok(_) => (false, "parsed".to_owned()),
        Err(e) => (
            matches!(e.kind, ParseErrorKind::MissingUpgrade),
            e.to_string(),
        ),
    };
    reported_as(&binary, library);
    expect(binary, &["migrations/e.sql:"]);
}

#[test]
fn bad_transaction_mode() {
    let toml = "transaction_mode = \"sometimes\"\n";
    let binary = run(&[("retort.toml", toml.to_owned())], &["heads".to_owned()]);
    // The library's message names its own temporary `retort.toml`: the
    // kind is checked on it, the file and key on the binary's.
    expect(
        config(toml, None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["transaction_mode", "sometimes"],
    );
    expect(binary, &["retort.toml:1", "transaction_mode"]);
}

/// `args` name the revision `unknown`: the binary reports the library's
/// [`TargetError::Unknown`] for it.
fn reports_an_unknown_revision(args: &[String], unknown: &str) {
    let binary = run(&[], args);
    reported_as(
        &binary,
        target(resolve(unknown), |t| {
            matches!(t, TargetError::Unknown { .. })
        }),
    );
    expect(binary, &[unknown]);
}

#[test]
fn stamp_an_unknown_revision() {
    reports_an_unknown_revision(&online(&["stamp", "zzzz9999"]), "zzzz9999");
}

#[test]
fn downgrade_upwards() {
    let binary = run(&[], &online(&["downgrade", "+1"]));
    reported_as(
        &binary,
        target(down(&[], "+1"), |t| {
            matches!(t, TargetError::WrongDirection { .. })
        }),
    );
    expect(binary, &["+1"]);
}

#[test]
fn history_with_a_bad_range() {
    let args = ["history", "-r", "zzzz9999:cccc0003"].map(str::to_owned);
    reports_an_unknown_revision(&args, "zzzz9999");
}

#[test]
fn revision_head_unknown() {
    let args = ["revision", "-m", "x", "--head", "nosuch99"].map(str::to_owned);
    reports_an_unknown_revision(&args, "nosuch99");
}

#[test]
fn bad_template_placeholder() {
    let template_text = "-- ${message}\n-- ${who}\n";
    let binary = run(
        &[
            ("retort.toml", "template = \"t.tmpl\"\n".to_owned()),
            ("t.tmpl", template_text.to_owned()),
        ],
        &["revision", "-m", "x", "--head", "cccc0003"].map(str::to_owned),
    );
    expect(
        template(
            template_text,
            |k| matches!(k, TemplateErrorKind::UnknownPlaceholder { name } if name == "who"),
        ),
        &[":2:", "who"],
    );
    expect(binary, &["t.tmpl:2:", "who"]);
}

#[test]
fn revision_id_with_a_dash() {
    let args = [
        "revision", "-m", "x", "--head", "cccc0003", "--rev-id", "bad-id",
    ]
    .map(str::to_owned);
    expect(
        run(&[], &args),
        &[
            "invalid `--rev-id bad-id`",
            "only ASCII letters, digits and `_`",
        ],
    );
}
