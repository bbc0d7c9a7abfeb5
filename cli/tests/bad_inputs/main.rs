//! The bad-input catalogue: malformed revision files, graphs, targets,
//! settings files, database URLs, templates and command lines, one module
//! per category and one test per input. Each test checks the exact kind of
//! error (the library's error variant; for the binary, a failed command's
//! `error:` report carrying the library's error for the same input) and
//! that the message names the file and line, or the setting, at fault.
//! More CLI error cases live in `cli_errors.rs`.

#[path = "../../../tests/common/mod.rs"]
mod common;

mod check;
mod command_lines;
mod database_urls;
mod graphs;
mod revision_files;
mod settings_files;
mod targets;
mod templates;
