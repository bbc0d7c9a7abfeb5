//! [`Scope`]: which part of a database introspection reads.

use retort_core::split::Dialect;

/// What to read: one PostgreSQL schema (MySQL: the connection's database;
/// SQLite: `main`), without retort's own tables.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scope {
    /// The PostgreSQL schema to read (default `public`).
    pub schema: String,
    /// Tables left out (default: retort's `retort_version` and
    /// `retort_history`; pass the configured names if they differ).
    pub exclude: Vec<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Self {
            schema: "public".to_owned(),
            exclude: vec!["retort_version".to_owned(), "retort_history".to_owned()],
        }
    }
}

impl Scope {
    /// Reads PostgreSQL schema `schema` instead of `public`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Leaves these tables out instead of retort's default table names.
    pub fn exclude<I, S>(mut self, tables: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude = tables.into_iter().map(Into::into).collect();
        self
    }

    pub(crate) fn excludes(&self, dialect: Dialect, table: &str) -> bool {
        let k = crate::model::key(dialect, table);
        self.exclude
            .iter()
            .any(|e| crate::model::key(dialect, e) == k)
    }
}
