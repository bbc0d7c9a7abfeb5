//! Database URLs that are not there or not usable, from each source: the
//! error names the source (`--database-url`, `DATABASE_URL`, ...) and never the
//! password.

use crate::check::*;

#[test]
fn unsupported_scheme() {
    expect(
        url("oracle://u:hunter2@h/db", &[], |e| {
            matches!(e, SettingsError::InvalidUrl { .. })
        }),
        &["--database-url", "oracle"],
    );
}

#[test]
fn no_scheme_at_all() {
    expect(
        url("localhost/db", &[], |e| {
            matches!(e, SettingsError::InvalidUrl { .. })
        }),
        &["--database-url"],
    );
}

#[test]
fn no_url_anywhere() {
    expect(
        url("", &[], |e| {
            matches!(e, SettingsError::NoDatabaseUrl { .. })
        }),
        &["--database-url", "DATABASE_URL"],
    );
}

#[test]
fn bad_database_url() {
    expect(
        url("", &[("DATABASE_URL", "ftp://u:hunter2@h/x")], |e| {
            matches!(e, SettingsError::InvalidUrl { .. })
        }),
        &["DATABASE_URL"],
    );
}

#[test]
fn bad_retort_database_url() {
    expect(
        url("", &[("RETORT_DATABASE_URL", "http://h")], |e| {
            matches!(e, SettingsError::InvalidUrl { .. })
        }),
        &["RETORT_DATABASE_URL"],
    );
}
