//! The checks behind the fuzz targets, shared with the regression tests
//! (`core/tests/fuzz_corpus.rs`, `settings/tests/fuzz_corpus.rs`), which
//! `include!` the same files so the committed corpus guards regressions
//! without cargo-fuzz.

/// Revision files, the target grammar and templates (retort-core only).
pub mod core_checks {
    include!("../checks/core.rs");
}

/// Settings files and database URLs (retort-runtime).
pub mod settings_checks {
    include!("../checks/settings.rs");
}
