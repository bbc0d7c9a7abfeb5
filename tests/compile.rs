//! Compile-fail and compile-pass tests of `embed_migrations!`, with trybuild.
//!
//! trybuild compiles each `tests/ui/**/*.rs` as a binary of a generated
//! package in `<target dir>/tests/trybuild/retort/`, and that directory is the
//! `CARGO_MANIFEST_DIR` `embed_migrations!` resolves its path against. The
//! test files therefore reach this repository's `tests/fixtures/ui/<case>/`
//! and `migrations/` with `../../../../`, which only holds when the target
//! directory is the default `<repository>/target` (checked below).

use std::path::Path;

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .and_then(|dir| dir.canonicalize().ok());
    assert_eq!(
        target,
        root.join("target").canonicalize().ok(),
        "the ui tests name their fixtures as `../../../../tests/fixtures/ui/...`, relative to \
         trybuild's `<target dir>/tests/trybuild/retort/`: run them with the default target \
         directory (unset CARGO_TARGET_DIR / build.target-dir)",
    );

    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
