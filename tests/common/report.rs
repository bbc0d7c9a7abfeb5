//! What the database tests did, for the person reading the run.
//!
//! libtest knows only "ok" and "FAILED": a database test whose server is
//! missing returns early and shows as passed. So every skip is said twice:
//! on the test process's real stderr at once (`SKIPPED <suite> <test>:
//! <reason>`; libtest captures only the `print!` macros, not direct writes,
//! so the line shows in a plain `cargo test` run), and as a line of the
//! report file named by `RETORT_TEST_REPORT`. Every test body that
//! completed on a server adds a `pass` line there too.
//! `scripts/with-services.sh` sets the variable and, after the command,
//! prints a table of passes per suite and server and the count of skips.
//!
//! Lines are tab-separated: `pass|skip`, the suite (the test binary's
//! name), the test, and the server (`PostgreSQL 13`) or the skip's reason.
//! Each is appended with one `write` to a file opened in append mode, so
//! the lines of parallel tests and test binaries never interleave.

use std::io::Write as _;

/// The variable naming the report file.
pub const REPORT_VAR: &str = "RETORT_TEST_REPORT";

/// The suite: the name of the test binary (`concurrency` for
/// `tests/concurrency.rs`).
pub fn suite() -> &'static str {
    env!("CARGO_CRATE_NAME")
}

/// The running test's name: libtest names each test's thread after it.
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .unwrap_or("(unnamed test)")
        .to_owned()
}

/// Whether a missing server must fail the test rather than skip it.
pub fn strict() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Skips the running test for `reason` (e.g. `RETORT_TEST_MYSQL_URL is not
/// set`), or fails it under `CI=true`, where every server must be there.
/// `hint` says how to get the server.
pub fn skip(reason: &str, hint: &str) {
    assert!(!strict(), "{reason} under CI=true: {hint}");
    let line = format!("SKIPPED {} {}: {reason} ({hint})\n", suite(), test_name());
    // Straight to the process's stderr: libtest would capture `eprintln!`
    // and show it only for a failed test.
    let _ = std::io::stderr().write_all(line.as_bytes());
    append("skip", reason);
}

/// Records that the running test's body completed on the server labelled
/// `server` (see [`crate::common::TestDb::label`]).
pub fn passed(server: &str) {
    append("pass", server);
}

fn append(kind: &str, detail: &str) {
    let Some(path) = std::env::var_os(REPORT_VAR).filter(|p| !p.is_empty()) else {
        return;
    };
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let line = format!(
        "{kind}\t{}\t{}\t{}\n",
        suite(),
        clean(&test_name()),
        clean(detail)
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()))
        .unwrap_or_else(|e| panic!("{REPORT_VAR}={}: {e}", path.to_string_lossy()));
}
