//! The desired schema: `schema.sql`, or a directory of `*.sql` files read
//! in name order, in the project's dialect. It is loaded into a scratch
//! database statement by statement (an error names `file:line`), then
//! introspected like any database, so both sides of a comparison are what
//! the same kind of server reports.

use std::path::{Path, PathBuf};

use retort_core::split::Dialect;
use retort_core::split::split;

use crate::error::Error;
use crate::hints::{self, Hints};

/// One file of the desired schema.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SqlFile {
    /// The name errors show (the path as given, or the file name).
    name: String,
    text: String,
}

/// The desired schema's SQL and its rename hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSchema {
    dialect: Dialect,
    files: Vec<SqlFile>,
    hints: Hints,
}

impl DesiredSchema {
    /// Reads `path`: one `.sql` file, or every `*.sql` file directly in a
    /// directory, in name order (hidden files skipped).
    pub fn read(path: &Path, dialect: Dialect) -> Result<Self, Error> {
        let read_error = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Read {
                path,
                error: source,
            }
        };
        let meta = std::fs::metadata(path).map_err(read_error(path))?;
        let paths: Vec<PathBuf> = if meta.is_dir() {
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(path).map_err(read_error(path))? {
                let entry = entry.map_err(read_error(path))?;
                let p = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && name.ends_with(".sql") && p.is_file() {
                    paths.push(p);
                }
            }
            paths.sort();
            if paths.is_empty() {
                return Err(Error::EmptySchemaDir {
                    path: path.to_owned(),
                });
            }
            paths
        } else {
            vec![path.to_owned()]
        };
        let mut files = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(read_error(&p))?;
            files.push((p.display().to_string(), text));
        }
        Self::from_files(dialect, files)
    }

    /// The desired schema from SQL text; `name` stands for the file in
    /// error messages.
    pub fn from_sql(dialect: Dialect, name: &str, sql: &str) -> Result<Self, Error> {
        Self::from_files(dialect, vec![(name.to_owned(), sql.to_owned())])
    }

    fn from_files(dialect: Dialect, files: Vec<(String, String)>) -> Result<Self, Error> {
        let mut hints = Hints::default();
        let mut out = Vec::new();
        for (name, text) in files {
            let text = text
                .strip_prefix('\u{feff}')
                .map(str::to_owned)
                .unwrap_or(text);
            hints.renames.extend(hints::parse(&name, &text, dialect)?);
            out.push(SqlFile { name, text });
        }
        Ok(Self {
            dialect,
            files: out,
            hints,
        })
    }

    /// The rename hints found in the files.
    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    /// The dialect the files are written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The statements, each with its file and line.
    pub(crate) fn statements(&self) -> Vec<(&str, u32, &str)> {
        let mut out = Vec::new();
        for f in &self.files {
            for s in split(&f.text, self.dialect) {
                // The line of the first code, past leading comments.
                let code_line = crate::lex::code_tokens(s.sql, self.dialect)
                    .first()
                    .map_or(1, |t| t.line);
                out.push((f.name.as_str(), s.line + code_line - 1, s.sql));
            }
        }
        out
    }
}

/// The error for statement `sql` of `file:line` failing with `source`.
pub(crate) fn statement_error(file: &str, line: u32, sql: &str, source: sqlx::Error) -> Error {
    let message = match &source {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    };
    let one_line = crate::normalise::collapse_space(sql);
    let statement = match one_line.char_indices().nth(120) {
        Some((cut, _)) => format!("{} ...", &one_line[..cut]),
        None => one_line,
    };
    Error::Statement {
        file: file.to_owned(),
        line,
        statement,
        message,
        server: None,
        note: None,
        error: source,
    }
}
