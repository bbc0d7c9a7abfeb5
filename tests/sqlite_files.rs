//! SQLite database files through the `retort` binary and the library:
//! which file a URL names (issue 10, item 3).
//!
//! Nothing here asserts on elapsed time; the timeouts are safety nets.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Variables that could leak the developer's environment into a test.
const LEAKY_VARS: [&str; 6] = [
    "RETORT_DATABASE_URL",
    "DATABASE_URL",
    "RETORT_CONFIG",
    "RETORT_ENV",
    "RUST_LOG",
    "CI",
];

/// What one run of the binary printed.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn code(self, code: i32) -> Self {
        assert!(!self.stderr.contains("panicked"), "panic: {self:#?}");
        assert_eq!(self.code, Some(code), "{self:#?}");
        self
    }

    #[track_caller]
    fn mentions(self, needles: &[&str]) -> Self {
        let all = format!("{}\n{}", self.stdout, self.stderr);
        for needle in needles {
            assert!(all.contains(needle), "output lacks `{needle}`: {self:#?}");
        }
        self
    }
}

/// `retort args...` in `dir`, with a clean environment.
fn retort(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::cargo_bin("retort").expect("the retort binary is built");
    cmd.current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120));
    for var in LEAKY_VARS {
        cmd.env_remove(var);
    }
    let output = cmd.output().expect("run retort");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A project directory with one revision.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).expect("migrations dir");
    std::fs::write(
        migrations.join("5eed00000001_seed.sql"),
        "-- seed\n--\n-- Revision ID: 5eed00000001\n-- Revises:\n\n-- migrate:upgrade\nCREATE TABLE seeded (id INTEGER PRIMARY KEY);\n\n-- migrate:downgrade\nDROP TABLE seeded;\n",
    )
    .expect("write revision");
    dir
}

/// Removes a database file at the filesystem root (and SQLite's side
/// files) when the test ends, even if it failed.
struct RootFile(PathBuf);

impl Drop for RootFile {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm", ".retort-lock"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Issue 10, item 3: `sqlite:///app.db`, SQLAlchemy's spelling of a
/// relative path, created `/app.db`. It is refused with both spellings,
/// and each spelling does what the message says.
#[test]
fn a_new_file_at_the_root_is_refused_with_both_spellings() {
    let dir = project();
    let name = format!(
        "retort-root-test-{}-{}.db",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let root_file = RootFile(Path::new("/").join(&name));
    assert!(!root_file.0.exists());
    let sqlalchemy = format!("sqlite:///{name}");
    let relative = format!("sqlite://{name}");
    let root = format!("sqlite:///{name}?mode=rwc");

    retort(dir.path(), &["--database-url", &sqlalchemy, "upgrade"])
        .code(1)
        .mentions(&[
            &format!("invalid database URL `{sqlalchemy}`: it names `/{name}`, a new file at the root of the filesystem"),
            &format!("For `{name}` in the current directory, use `{relative}`"),
            &format!("to create `/{name}` itself, use `{root}`"),
        ]);
    assert!(
        !root_file.0.exists(),
        "{} was created",
        root_file.0.display()
    );

    // The first spelling: the file in the current directory.
    retort(dir.path(), &["--database-url", &relative, "upgrade"]).code(0);
    assert!(dir.path().join(&name).exists());

    // The second: the file at the root, where this user may write there.
    let probe = Path::new("/").join(format!("{name}.probe"));
    if std::fs::write(&probe, b"").is_err() {
        eprintln!("SKIPPED: `/` is not writable here, so `{root}` was not run");
        return;
    }
    let _ = std::fs::remove_file(&probe);
    retort(dir.path(), &["--database-url", &root, "upgrade"]).code(0);
    assert!(root_file.0.exists());
    // Once it exists, the plain spelling opens it.
    retort(dir.path(), &["--database-url", &sqlalchemy, "current"])
        .code(0)
        .mentions(&["5eed00000001"]);
}

/// The library refuses the same URL (the CLI and a service share the
/// check), and an explicit `mode` is sqlx's, as written: `mode=rw` does
/// not create a missing file.
#[test]
fn the_library_refuses_it_too_and_an_explicit_mode_is_kept() {
    let dir = project();
    let migrations = retort::Migrations::from_dir(dir.path().join("migrations")).expect("load");
    let name = format!("retort-root-lib-{}.db", std::process::id());
    let _guard = RootFile(Path::new("/").join(&name));
    let err = migrations
        .blocking()
        .upgrade(&format!("sqlite:///{name}"), "head")
        .unwrap_err();
    assert!(
        matches!(err, retort::Error::InvalidUrl { .. }),
        "{err:?}: {err}"
    );
    assert!(!Path::new("/").join(&name).exists());

    let missing = dir.path().join("missing.db");
    let err = migrations
        .blocking()
        .upgrade(&format!("sqlite://{}?mode=rw", missing.display()), "head")
        .unwrap_err();
    assert!(matches!(err, retort::Error::Connect { .. }), "{err:?}");
    assert!(!missing.exists());
}
