//! Replays the committed fuzz corpus and crash reproducers
//! (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`) through the same
//! checks as the cargo-fuzz targets, so they guard against regressions in
//! a plain `cargo test`. The settings target is replayed by
//! `runtime/tests/fuzz_corpus.rs`.

use std::path::{Path, PathBuf};

#[allow(dead_code, unreachable_pub)]
mod checks {
    include!("../../fuzz/checks/core.rs");
}

/// Every file of `fuzz/corpus/<target>` and `fuzz/artifacts/<target>`.
fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable corpus directory").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no corpus for `{target}` under fuzz/corpus"
    );
    for path in &files {
        let data = std::fs::read(path).expect("readable corpus file");
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            panic!("{target}: {} fails: {message}", path.display());
        }
    }
    println!("{target}: {} inputs replayed", files.len());
}

#[test]
fn revision_file_corpus() {
    replay("revision_file", checks::revision_file);
}

#[test]
fn target_grammar_corpus() {
    replay("target_grammar", checks::target_grammar);
}

#[test]
fn template_corpus() {
    replay("template", checks::template);
}

#[test]
fn fixture_set_resolves_the_sample_targets() {
    let set = checks::fixture_set();
    assert_eq!(set.heads().collect::<Vec<_>>(), ["abab0007", "eeee0005"]);
    // `left` runs on to the merge, which needs `right` too.
    assert_eq!(set.plan_upgrade(&[], "left@head").unwrap().steps.len(), 5);
}

/// Found by the `revision_file` target: an upgrade marker on the last line
/// with no final newline gives an empty section whose line is one past the
/// last line (the line after the marker), which the check first rejected.
#[test]
fn empty_upgrade_at_eof_without_newline() {
    let text = "-- Revision ID: e4a14c7f3b45\n-- Revises:\n\n-- migrate:upgrade";
    let rev = retort_core::format::parse("bad.sql", text).unwrap();
    assert_eq!(
        (rev.upgrade.start, rev.upgrade.end),
        (text.len(), text.len())
    );
    assert_eq!(rev.upgrade.line, 5);
    checks::revision_file(text.as_bytes());
}
