// Replays the committed corpus and crash reproducers of a fuzz target
// through its check. Included (not compiled as a module of its own) by
// `core/tests/fuzz_corpus.rs` and `settings/tests/fuzz_corpus.rs` (not by
// `fuzz/src/lib.rs`): keep it free of anything but `std`. Paths are relative
// to the including crate's manifest directory, a sibling of `fuzz/`.

use std::path::{Path, PathBuf};

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
