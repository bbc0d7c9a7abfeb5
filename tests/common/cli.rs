//! The `retort` binary under test: one way to start it with a clean
//! environment, what a run printed ([`Run`]) and the assertions on it, and
//! a scratch project of revision files for it to read.

use std::path::Path;
use std::time::Duration;

/// Variables that could leak the developer's environment into a run: the
/// database URL and settings, logging, `CI` (which turns skips into
/// failures), colours, and Vault/OpenBao credentials.
pub const LEAKY_VARS: [&str; 15] = [
    "RETORT_DATABASE_URL",
    "DATABASE_URL",
    "RETORT_CONFIG",
    "RETORT_ENV",
    "RUST_LOG",
    "CI",
    "CLICOLOR_FORCE",
    "CLICOLOR",
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "BAO_ADDR",
    "BAO_TOKEN",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "VAULT_NAMESPACE",
];

/// How long a run may take before it is killed: a safety net that turns a
/// hang into a failure, not a timing assertion.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// The `retort` binary in `dir`, without [`LEAKY_VARS`], with `NO_COLOR=1`.
pub fn std_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("retort"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    for var in LEAKY_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// [`std_command`] as an `assert_cmd` command, with the [`TIMEOUT`].
pub fn command(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(std_command(dir));
    cmd.timeout(TIMEOUT);
    cmd
}

/// Runs `cmd args...` and collects what it printed.
pub fn run<S: AsRef<std::ffi::OsStr>>(mut cmd: assert_cmd::Command, args: &[S]) -> Run {
    let output = cmd.args(args).output().expect("run retort");
    Run {
        args: args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `retort args...` in `dir` ([`command`]).
pub fn retort(dir: &Path, args: &[&str]) -> Run {
    run(command(dir), args)
}

/// What one run of the binary printed.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout, then stderr.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The command line, exit code and output, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "retort {:?} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code and that nothing panicked.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert!(
            !self.stderr.contains("panicked"),
            "panic: {}",
            self.describe()
        );
        assert_eq!(self.code, Some(code), "{}", self.describe());
        self
    }

    /// Asserts success (exit code 0) and that nothing panicked.
    #[track_caller]
    pub fn ok(self) -> Self {
        self.code(0)
    }

    /// Asserts that the output (stdout or stderr) contains every needle.
    #[track_caller]
    pub fn mentions(self, needles: &[&str]) -> Self {
        let all = self.all();
        for needle in needles {
            assert!(
                all.contains(needle),
                "output lacks `{needle}`: {}",
                self.describe()
            );
        }
        self
    }

    /// [`Run::mentions`], ignoring case.
    #[track_caller]
    pub fn mentions_any_case(self, needles: &[&str]) -> Self {
        let all = self.all().to_lowercase();
        for needle in needles {
            assert!(
                all.contains(&needle.to_lowercase()),
                "output lacks `{needle}` (in any case): {}",
                self.describe()
            );
        }
        self
    }

    /// The stderr lines starting with `Database:`.
    pub fn database_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("Database:"))
            .collect()
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.describe()))
    }
}

/// A revision file's text: `-- revision ID` headers with a fixed create
/// date, then the upgrade and downgrade sections.
pub fn revision_text(id: &str, parents: &str, up: &str, down: &str) -> String {
    format!(
        "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {parents}\n-- Create Date: 2026-11-20 09:00:00+00:00\n\n-- migrate:upgrade\n{up}\n\n-- migrate:downgrade\n{down}\n"
    )
}

/// A temporary project: `migrations/` with the given `(id, parents, up,
/// down)` revisions, each in `ID_rev.sql`.
pub fn project(revisions: &[(&str, &str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).expect("create migrations");
    for (id, parents, up, down) in revisions {
        std::fs::write(
            migrations.join(format!("{id}_rev.sql")),
            revision_text(id, parents, up, down),
        )
        .expect("write revision");
    }
    dir
}
