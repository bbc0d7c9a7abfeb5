//! Compile-fail and compile-pass tests of `embed_migrations!`, with trybuild.
//!
//! trybuild compiles each `tests/ui/**/*.rs` as a binary of a package it
//! generates in `<target dir>/tests/trybuild/retort/`, and that directory is
//! the `CARGO_MANIFEST_DIR` `embed_migrations!` resolves its path against.
//! Where the target directory lies is the user's choice (`CARGO_TARGET_DIR`,
//! `build.target-dir`), so no relative path from there reaches this
//! repository. Instead, this test links the fixtures into that directory
//! before trybuild runs: `fixtures` (this repository's `tests/fixtures/ui`)
//! and `migrations` (the sample revisions), and the test files name them as
//! `"fixtures/<case>"` and `"migrations"`, with the same messages whatever
//! the target directory.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = trybuild_project_dir();
    std::fs::create_dir_all(&project)
        .unwrap_or_else(|e| panic!("create {}: {e}", project.display()));
    link(&root.join("tests/fixtures/ui"), &project.join("fixtures"));
    link(&root.join("migrations"), &project.join("migrations"));

    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

/// The directory trybuild generates its package in:
/// `<target dir>/tests/trybuild/<package name>/`, with the target directory
/// that `cargo metadata` reports, as trybuild itself asks it.
fn trybuild_project_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version=1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("run {} metadata: {e}", cargo.to_string_lossy()));
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let target = metadata["target_directory"]
        .as_str()
        .expect("cargo metadata names the target directory");
    Path::new(target)
        .join("tests/trybuild")
        .join(env!("CARGO_PKG_NAME"))
}

/// Points the symbolic link `link` at `dir`, replacing a link left by
/// another checkout that shares the target directory. The new link is made
/// beside it and renamed over it, so a concurrent run never sees it missing.
fn link(dir: &Path, link: &Path) {
    if std::fs::read_link(link).is_ok_and(|current| current == dir) {
        return;
    }
    let staged = link.with_extension(format!("link-{}", std::process::id()));
    let _ = std::fs::remove_file(&staged);
    symlink_dir(dir, &staged)
        .unwrap_or_else(|e| panic!("link {} to {}: {e}", staged.display(), dir.display()));
    std::fs::rename(&staged, link).unwrap_or_else(|e| {
        panic!(
            "replace {} with a link to {}: {e}",
            link.display(),
            dir.display()
        )
    });
}

#[cfg(unix)]
fn symlink_dir(dir: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(dir, link)
}

#[cfg(windows)]
fn symlink_dir(dir: &Path, link: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_dir(dir, link)
}
