//! Malformed or contradictory `retort.toml` files: the error names
//! `retort.toml:LINE` and the key at fault.

use crate::check::*;

#[test]
fn toml_syntax_error() {
    expect(
        config("migrations = \"db\"\nschema = \n", None, |e| {
            matches!(e, SettingsError::Parse { .. })
        }),
        &["retort.toml:2"],
    );
}

#[test]
fn a_value_of_the_wrong_type() {
    expect(
        config(
            "schema = \"s\"\n[database]\nport = \"5432x\"\n",
            None,
            |e| matches!(e, SettingsError::Parse { .. }),
        ),
        &["retort.toml:3", "database.port"],
    );
}

#[test]
fn unknown_top_level_key() {
    expect(
        config("migratons = \"db\"\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:1", "migratons"],
    );
}

#[test]
fn lock_timeout_not_a_duration() {
    expect(
        config("\nlock_timeout = \"soon\"\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:2", "lock_timeout"],
    );
}

#[test]
fn transaction_mode_unknown() {
    expect(
        config("transaction_mode = \"sometimes\"\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:1", "transaction_mode"],
    );
}

#[test]
fn migrations_not_a_string() {
    expect(
        config("migrations = 5\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:1:14", "expected a string"],
    );
}

#[test]
fn url_and_driver_together() {
    expect(
        config(
            "[database]\nurl = \"sqlite::memory:\"\ndriver = \"postgres\"\n",
            None,
            |e| matches!(e, SettingsError::Invalid { .. }),
        ),
        &["retort.toml:", "url", "driver"],
    );
}

#[test]
fn unsupported_driver() {
    expect(
        config("[database]\ndriver = \"oracle\"\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:2", "driver"],
    );
}

#[test]
fn port_out_of_range() {
    expect(
        config(
            "[database]\ndriver = \"postgres\"\nport = 70000\n",
            None,
            |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            },
        ),
        &["retort.toml:3:8", "70000"],
    );
}

#[test]
fn password_and_password_file() {
    expect(
        config(
            "[database]\ndriver = \"postgres\"\npassword = \"hunter2\"\npassword_file = \"pw\"\n",
            None,
            |e| {
                matches!(
                    e,
                    SettingsError::Parse { .. } | SettingsError::Invalid { .. }
                )
            },
        ),
        &["retort.toml:", "password_file"],
    );
}

#[test]
fn unknown_key_in_an_environment() {
    expect(
        config("[env.prod]\nschemaa = \"x\"\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:2", "schemaa"],
    );
}

#[test]
fn unknown_environment() {
    expect(
        config("[env.staging]\nschema = \"x\"\n", Some("prod"), |e| {
            matches!(e, SettingsError::UnknownEnvironment { .. })
        }),
        &["retort.toml", "prod", "staging"],
    );
}

#[test]
fn bad_file_template_placeholder() {
    expect(
        config("file_template = \"%(nope)s\"\n", None, |e| {
            matches!(
                e,
                SettingsError::Parse { .. } | SettingsError::Invalid { .. }
            )
        }),
        &["retort.toml:1", "file_template"],
    );
}

#[test]
fn password_env_unset() {
    expect(
        config(
            "[database]\ndriver = \"postgres\"\nhost = \"h\"\npassword_env = \"NO_SUCH_VAR_RETORT\"\n",
            None,
            |e| matches!(e, SettingsError::PasswordEnv { .. }),
        ),
        &["retort.toml:4", "NO_SUCH_VAR_RETORT"],
    );
}

#[test]
fn bad_url_in_the_file() {
    expect(
        config(
            "[database]\nurl = \"bogus://u:hunter2@h/db\"\n",
            None,
            |e| matches!(e, SettingsError::InvalidUrl { .. }),
        ),
        &["retort.toml", "url", "bogus"],
    );
}
