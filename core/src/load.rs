//! The one place where retort reads revision files from disk: shared by the
//! `embed_migrations!` macro (at compile time) and the runtime (for migration
//! directories given at run time), so both see exactly the same revisions.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::format::{ParseError, decode_owned, parse};
use crate::graph::GraphError;
use crate::set::MigrationSet;

/// One revision file as read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path shown to users: the display directory joined with the path
    /// relative to it, always with `/` separators.
    pub display: String,
    /// The path the file was read from.
    pub path: PathBuf,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

/// A problem loading a migration directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The directory does not exist.
    #[error("migrations directory `{display}` does not exist ({})", path.display())]
    MissingDir {
        /// The directory as given.
        display: String,
        /// The path looked at.
        path: PathBuf,
    },
    /// The path exists but is not a directory.
    #[error("`{display}` is not a directory ({})", path.display())]
    NotADir {
        /// The directory as given.
        display: String,
        /// The path looked at.
        path: PathBuf,
    },
    /// Reading the directory or a file failed.
    #[error("cannot read `{display}`: {error}")]
    Io {
        /// The file or directory as shown to users.
        display: String,
        /// The underlying error, told in the message (so not the
        /// `source()`).
        error: io::Error,
    },
    /// A revision file is malformed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The revisions do not form a valid graph.
    #[error(transparent)]
    Graph(Box<GraphError>),
}

impl From<GraphError> for LoadError {
    fn from(e: GraphError) -> Self {
        Self::Graph(Box::new(e))
    }
}

/// Every problem found while loading a migration directory (at least one).
#[derive(Debug, thiserror::Error)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in the migration files:", many.len())?;
                for e in many {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<LoadError> for LoadErrors {
    fn from(e: LoadError) -> Self {
        Self(vec![e])
    }
}

/// True for the files retort reads as revisions: `*.sql` and `*.rs`
/// (Rust revisions), not hidden.
fn is_revision_file(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".sql") || name.ends_with(".rs"))
}

/// Reads every revision file under `dir` (recursively, sorted by relative
/// path, hidden entries skipped), naming them `display_dir/relative/path`.
pub fn read_dir(dir: &Path, display_dir: &str) -> Result<Vec<SourceFile>, LoadError> {
    let display_dir = display_dir.trim_end_matches(['/', '\\']);
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(LoadError::NotADir {
                display: display_dir.to_owned(),
                path: dir.to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(LoadError::MissingDir {
                display: display_dir.to_owned(),
                path: dir.to_owned(),
            });
        }
        Err(error) => {
            return Err(LoadError::Io {
                display: display_dir.to_owned(),
                error,
            });
        }
    }
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_owned(), display_dir.to_owned())];
    while let Some((path, display)) = pending.pop() {
        let io_err = |error| LoadError::Io {
            display: display.clone(),
            error,
        };
        for entry in fs::read_dir(&path).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue; // not UTF-8: cannot be a `*.sql` name we could show
            };
            if name.starts_with('.') {
                continue;
            }
            let entry_path = entry.path();
            let entry_display = format!("{display}/{name}");
            let meta = fs::metadata(&entry_path).map_err(|error| LoadError::Io {
                display: entry_display.clone(),
                error,
            })?;
            if meta.is_dir() {
                pending.push((entry_path, entry_display));
            } else if is_revision_file(&name) {
                let bytes = fs::read(&entry_path).map_err(|error| LoadError::Io {
                    display: entry_display.clone(),
                    error,
                })?;
                files.push(SourceFile {
                    display: entry_display,
                    path: entry_path,
                    bytes,
                });
            }
        }
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(files)
}

/// Parses and validates revision files as one set, reporting every problem.
pub fn parse_files(files: Vec<SourceFile>) -> Result<MigrationSet, LoadErrors> {
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(files.len());
    for file in files {
        let text = match decode_owned(&file.display, file.bytes) {
            Ok(text) => text,
            Err(e) => {
                errors.push(e.into());
                continue;
            }
        };
        let parsed_file = if file.display.ends_with(".rs") {
            crate::rust_format::parse(&file.display, &text)
        } else {
            parse(&file.display, &text)
        };
        match parsed_file {
            Ok(rev) => parsed.push((file.display, text, rev)),
            Err(e) => errors.push(e.into()),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    MigrationSet::from_parsed(parsed)
        .map_err(|graph| LoadErrors(graph.into_iter().map(Into::into).collect()))
}

/// Reads, parses and validates the migration directory `dir`; messages name
/// files as `display_dir/...`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("a1_init.sql"),
///     "-- init\n-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n",
/// )?;
/// let set = retort_core::load::load_dir(dir.path(), "migrations")?;
/// assert_eq!(set.revisions()[0].path(), "migrations/a1_init.sql");
/// assert_eq!(set.heads().collect::<Vec<_>>(), ["a1"]);
/// # Ok(()) }
/// ```
pub fn load_dir(dir: &Path, display_dir: &str) -> Result<MigrationSet, LoadErrors> {
    parse_files(read_dir(dir, display_dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_recursively_sorted_and_skips_other_files() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "b.sql",
            "-- Revision ID: b\n-- Revises: a\n-- migrate:upgrade\n",
        );
        write(
            dir.path(),
            "sub/a.sql",
            "-- Revision ID: a\n-- Revises:\n-- migrate:upgrade\n",
        );
        write(dir.path(), "README.md", "not a revision");
        write(dir.path(), ".hidden.sql", "garbage");
        write(dir.path(), ".git/x.sql", "garbage");
        let files = read_dir(dir.path(), "migrations/").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(names, ["migrations/b.sql", "migrations/sub/a.sql"]);
        let set = parse_files(files).unwrap();
        assert_eq!(set.heads().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn missing_dir_and_file_instead_of_dir() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_dir(&dir.path().join("nope"), "nope").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("migrations directory `nope` does not exist"),
            "{e}"
        );
        write(dir.path(), "f.sql", "");
        let e = read_dir(&dir.path().join("f.sql"), "f.sql").unwrap_err();
        assert!(
            e.to_string().starts_with("`f.sql` is not a directory"),
            "{e}"
        );
    }

    #[test]
    fn all_errors_are_collected() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.sql", "SELECT 1;\n");
        fs::write(
            dir.path().join("b.sql"),
            b"-- Revision ID: b\n-- Revises:\n-- migrate:upgrade\n\xff\n",
        )
        .unwrap();
        write(
            dir.path(),
            "c.sql",
            "-- Revision ID: c\n-- Revises: zz\n-- migrate:upgrade\n",
        );
        let e = load_dir(dir.path(), "m").unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
        let shown = e.to_string();
        assert!(shown.contains("m/a.sql:1: expected"), "{shown}");
        assert!(
            shown.contains("m/b.sql:4: file is not valid UTF-8"),
            "{shown}"
        );
        // Graph validation only runs once every file parses.
        write(
            dir.path(),
            "a.sql",
            "-- Revision ID: a\n-- Revises:\n-- migrate:upgrade\n",
        );
        fs::remove_file(dir.path().join("b.sql")).unwrap();
        let e = load_dir(dir.path(), "m").unwrap_err();
        assert_eq!(
            e.to_string(),
            "m/c.sql:2: revision `c` revises `zz`, which is not a revision in this set"
        );
    }
}
