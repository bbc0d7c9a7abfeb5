//! Replays the committed fuzz corpus and crash reproducers
//! (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`) through the same
//! checks as the cargo-fuzz targets, so they guard against regressions in
//! a plain `cargo test`. This file replays the `settings` target; the others are
//! replayed by `core/tests/fuzz_corpus.rs`.

use std::path::{Path, PathBuf};

#[allow(dead_code, unreachable_pub)]
mod checks {
    include!("../../fuzz/checks/settings.rs");
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
fn settings_corpus() {
    replay("settings", checks::settings);
}

#[test]
fn redact_hides_passwords() {
    checks::check_redact("postgres://u:hunter2@h/db");
    assert_eq!(
        retort_runtime::url::redact("postgres://u:hunter2@h/db"),
        "postgres://u:***@h/db"
    );
}
