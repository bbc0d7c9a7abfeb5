//! Replays the committed fuzz corpus and crash reproducers
//! (`fuzz/corpus/<target>/`, `fuzz/artifacts/<target>/`) through the same
//! checks as the cargo-fuzz targets, so they guard against regressions in
//! a plain `cargo test`. This file replays the `settings` target; the others are
//! replayed by `core/tests/fuzz_corpus.rs`.

#[allow(dead_code, unreachable_pub)]
mod checks {
    include!("../../fuzz/checks/settings.rs");
}

include!("../../fuzz/checks/replay.rs");

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
