//! The file verbs of the `retort` binary, no database needed: `init`,
//! `revision`, `merge`, `heads`, `branches`, `show`, and their errors.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;

use common::cli::command;
use serde_json::Value;

/// Runs a command that must succeed; returns its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = command(dir).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "retort {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// Runs a command that must fail with exit code 1; returns its stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = command(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "retort {args:?} should fail:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// `Generating migrations/<id>_<slug>.sql ... done` → the id.
fn generated_id(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Generating ") && l.ends_with(" ... done"))
        .unwrap_or_else(|| panic!("no `Generating` line in {stdout:?}"));
    let path = line
        .trim_start_matches("Generating ")
        .trim_end_matches(" ... done");
    let name = Path::new(path).file_name().unwrap().to_str().unwrap();
    name[..12].to_owned()
}

fn heads(dir: &Path) -> Vec<String> {
    let json: Value = serde_json::from_str(&ok(dir, &["heads", "--json"])).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|h| h["revision"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn init_revision_branch_merge_and_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let out = ok(dir, &["init"]);
    assert!(out.contains("retort.toml ... done"), "{out}");
    assert!(out.contains("cargo:rerun-if-changed=migrations"), "{out}");
    assert!(dir.join("retort.toml").is_file());
    assert!(dir.join("migrations/script.sql.tmpl").is_file());
    assert!(!dir.join("build.rs").exists());

    // Three revisions in a line.
    let a = generated_id(&ok(dir, &["revision", "-m", "create users"]));
    let b = generated_id(&ok(dir, &["revision", "-m", "Add e-mail column!"]));
    let c_out = ok(dir, &["revision", "-m", "third", "--no-transaction"]);
    let c = generated_id(&c_out);
    for id in [&a, &b, &c] {
        assert_eq!(id.len(), 12);
        assert!(
            id.bytes()
                .all(|x| x.is_ascii_hexdigit() && !x.is_ascii_uppercase())
        );
    }
    let b_file = dir.join(format!("migrations/{b}_add_e_mail_column.sql"));
    let text = std::fs::read_to_string(&b_file).unwrap();
    assert!(text.starts_with(&format!(
        "-- Add e-mail column!\n--\n-- Revision ID: {b}\n-- Revises: {a}\n-- Create Date: "
    )));
    assert!(!text.contains("Transactional"));
    assert!(text.ends_with("\n-- migrate:upgrade\n\n-- migrate:downgrade\n"));
    let c_path = c_out
        .trim()
        .trim_start_matches("Generating ")
        .trim_end_matches(" ... done");
    assert!(
        std::fs::read_to_string(dir.join(c_path))
            .unwrap()
            .contains("-- Transactional: false\n")
    );
    assert_eq!(heads(dir), vec![c.clone()]);
    assert_eq!(ok(dir, &["heads"]), format!("{c} (head)\n"));

    // A branch from a non-head needs --splice.
    let err = fails(dir, &["revision", "-m", "side", "--head", &a[..6]]);
    assert!(
        err.contains(&format!(
            "revision `{a}` is not a head revision; please specify --splice to create a new branch from this revision"
        )),
        "{err}"
    );
    let d = generated_id(&ok(
        dir,
        &["revision", "-m", "side", "--head", &a[..6], "--splice"],
    ));
    let mut expected = vec![c.clone(), d.clone()];
    expected.sort();
    assert_eq!(heads(dir), expected);

    // Several heads: a plain `revision` refuses and says what to do.
    let err = fails(dir, &["revision", "-m", "more"]);
    assert!(
        err.contains("several heads") && err.contains("--head") && err.contains("retort merge"),
        "{err}"
    );

    // branches: `a` is the branch point, with `b` and `d` as children.
    let out = ok(dir, &["branches"]);
    assert!(out.starts_with(&format!("{a} (branchpoint)\n")), "{out}");
    assert!(
        out.contains(&format!("{} -> {b}\n", " ".repeat(12))),
        "{out}"
    );
    assert!(
        out.contains(&format!("{} -> {d} (head)\n", " ".repeat(12))),
        "{out}"
    );
    let json: Value = serde_json::from_str(&ok(dir, &["branches", "--json"])).unwrap();
    assert_eq!(json[0]["branch_point"]["revision"], a.as_str());
    assert_eq!(json[0]["children"].as_array().unwrap().len(), 2);

    // merge joins both heads.
    let m_out = ok(dir, &["merge", "-m", "merge side"]);
    let m = generated_id(&m_out);
    assert_eq!(heads(dir), vec![m.clone()]);
    let err = fails(dir, &["merge", "-m", "again"]);
    assert!(err.contains("nothing to merge"), "{err}");

    // show, text and JSON.
    let out = ok(dir, &["show", "head"]);
    assert!(
        out.starts_with(&format!("Rev: {m} (head) (mergepoint)\nMerges: ")),
        "{out}"
    );
    assert!(
        out.contains("Checksum: ") && out.contains("Lineage: "),
        "{out}"
    );
    assert!(out.contains("\n    merge side\n"), "{out}");
    let out = ok(dir, &["show", &a]);
    assert!(out.contains("Parent: <base>\n"), "{out}");
    assert!(out.contains("Branches into: "), "{out}");
    let json: Value = serde_json::from_str(&ok(dir, &["show", &m, "--json"])).unwrap();
    assert_eq!(json["revision"], m.as_str());
    assert_eq!(json["parents"].as_array().unwrap().len(), 2);
    assert_eq!(json["checksum"].as_str().unwrap().len(), 64);
    assert_eq!(json["upgrade"], "\n");
    assert_eq!(json["is_merge_point"], true);
    let err = fails(dir, &["show", "zzzz"]);
    assert!(err.contains("zzzz"), "{err}");

    // A new base needs a branch label; --rev-id is validated.
    let err = fails(dir, &["revision", "-m", "root", "--head", "base"]);
    assert!(err.contains("--branch-label"), "{err}");
    ok(
        dir,
        &[
            "revision",
            "-m",
            "accounts",
            "--head",
            "base",
            "--branch-label",
            "accounts",
            "--rev-id",
            "acc00001",
        ],
    );
    let out = ok(dir, &["heads"]);
    assert!(out.contains("acc00001 (accounts) (head)\n"), "{out}");
    let err = fails(
        dir,
        &[
            "revision",
            "-m",
            "dup",
            "--rev-id",
            "acc00001",
            "--head",
            "accounts@head",
        ],
    );
    assert!(err.contains("already exists"), "{err}");
    let err = fails(
        dir,
        &[
            "revision",
            "-m",
            "bad",
            "--rev-id",
            "not-an-id",
            "--head",
            "accounts@head",
        ],
    );
    assert!(err.contains("invalid `--rev-id not-an-id`"), "{err}");
    ok(
        dir,
        &[
            "revision",
            "-m",
            "on accounts",
            "--head",
            "accounts@head",
            "--depends-on",
            &m[..8],
        ],
    );
    let out = ok(dir, &["show", "accounts@head"]);
    assert!(out.contains(&format!("Also depends on: {m}\n")), "{out}");

    // init refuses to overwrite.
    let err = fails(dir, &["init"]);
    assert!(
        err.contains("refusing to overwrite") && err.contains("retort.toml"),
        "{err}"
    );
}

#[test]
fn revision_without_init_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fails(tmp.path(), &["revision", "-m", "first"]);
    assert!(
        err.contains("migrations directory `migrations` does not exist")
            && err.contains("retort init"),
        "{err}"
    );
    let err = fails(tmp.path(), &["merge", "-m", "m"]);
    assert!(err.contains("retort init"), "{err}");
}

#[test]
fn bad_template_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(dir, &["init"]);
    std::fs::write(
        dir.join("migrations/script.sql.tmpl"),
        "-- ${message}\n--\n-- Revision ID: ${revison}\n-- Revises: ${revises}\n-- migrate:upgrade\n",
    )
    .unwrap();
    let err = fails(dir, &["revision", "-m", "x"]);
    assert!(
        err.contains("script.sql.tmpl:3: unknown placeholder `${revison}`"),
        "{err}"
    );
    std::fs::write(dir.join("migrations/script.sql.tmpl"), "-- ${message\n").unwrap();
    let err = fails(dir, &["revision", "-m", "x"]);
    assert!(
        err.contains("script.sql.tmpl:1: unterminated placeholder"),
        "{err}"
    );
    // A template that parses but does not write the header: nothing written.
    std::fs::write(
        dir.join("migrations/script.sql.tmpl"),
        "-- ${message}\n-- Revision ID: ${revision}\n-- migrate:upgrade\n",
    )
    .unwrap();
    let err = fails(dir, &["revision", "-m", "x"]);
    assert!(
        err.contains("does not produce a valid revision file") && err.contains("Revises"),
        "{err}"
    );
    let files: Vec<_> = std::fs::read_dir(dir.join("migrations")).unwrap().collect();
    assert_eq!(files.len(), 1, "only the template is left");
}

#[test]
fn init_in_a_directory_with_build_rs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("svc")).unwrap();
    std::fs::create_dir(dir.join("svc/migrations")).unwrap(); // empty is fine
    let out = ok(dir, &["init", "svc", "--build-rs"]);
    assert!(out.contains("build.rs ... done"), "{out}");
    let build = std::fs::read_to_string(dir.join("svc/build.rs")).unwrap();
    assert!(build.contains(r#"println!("cargo:rerun-if-changed=migrations");"#));
    // The scaffolded settings load, and the template is the default one.
    let out = ok(
        &dir.join("svc"),
        &["revision", "-m", "first", "--rev-id", "first0001"],
    );
    assert!(out.contains("first0001_first.sql ... done"), "{out}");
    let json: Value =
        serde_json::from_str(&ok(&dir.join("svc"), &["show", "first0001", "--json"])).unwrap();
    assert_eq!(json["message"], "first");
    assert_eq!(json["parents"].as_array().unwrap().len(), 0);
}
