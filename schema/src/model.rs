//! One schema model for PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! Every text in the model (types, defaults, expressions, definitions) is
//! what the *server* reports, normalised per dialect (see
//! [`normalise`](crate::normalise)), so two databases built from different
//! spellings of the same definition hold equal models. Collections are
//! ordered by name, so printing and diffing are deterministic.

use std::collections::BTreeMap;

use retort_core::split::Dialect;

/// A database schema: what [`introspect`](crate::introspect) read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schema {
    /// The backend it was read from.
    pub dialect: Dialect,
    /// Tables by [`key`].
    pub tables: BTreeMap<String, Table>,
    /// Views (and PostgreSQL materialized views) by [`key`].
    pub views: BTreeMap<String, View>,
    /// PostgreSQL enum types by name.
    pub enums: BTreeMap<String, EnumType>,
    /// PostgreSQL sequences that no column owns (serial and identity
    /// sequences belong to their column) by name.
    pub sequences: BTreeMap<String, Sequence>,
    /// PostgreSQL functions and procedures by signature (`name(args)`).
    pub functions: BTreeMap<String, Function>,
    /// Triggers by (table key, trigger key).
    pub triggers: BTreeMap<(String, String), Trigger>,
    /// What exists but retort does not compare, sorted.
    pub not_compared: Vec<NotCompared>,
}

impl Schema {
    /// An empty schema of `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            enums: BTreeMap::new(),
            sequences: BTreeMap::new(),
            functions: BTreeMap::new(),
            triggers: BTreeMap::new(),
            not_compared: Vec::new(),
        }
    }

    /// The table named `name`, if any.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(&key(self.dialect, name))
    }

    /// The view named `name`, if any.
    pub fn view(&self, name: &str) -> Option<&View> {
        self.views.get(&key(self.dialect, name))
    }

    /// Adds a table under its key.
    pub fn insert_table(&mut self, table: Table) {
        self.tables.insert(key(self.dialect, &table.name), table);
    }

    /// Adds a view under its key.
    pub fn insert_view(&mut self, view: View) {
        self.views.insert(key(self.dialect, &view.name), view);
    }

    /// Adds a trigger under its table's and its own key.
    pub fn insert_trigger(&mut self, trigger: Trigger) {
        let k = (
            key(self.dialect, &trigger.table),
            key(self.dialect, &trigger.name),
        );
        self.triggers.insert(k, trigger);
    }

    /// Records something that exists but is not compared.
    pub fn not_compared(&mut self, kind: &str, name: impl Into<String>) {
        self.not_compared.push(NotCompared {
            kind: kind.to_owned(),
            name: name.into(),
        });
    }

    /// Sorts and deduplicates the not-compared list (introspection calls
    /// this last).
    pub(crate) fn finish(&mut self) {
        self.not_compared.sort();
        self.not_compared.dedup();
        for table in self.tables.values_mut() {
            table.sort();
        }
    }
}

/// The map key of an object's name: names are compared as the backend
/// compares them (PostgreSQL: exactly; SQLite: ASCII case-insensitively;
/// MySQL: table names exactly, as on Linux servers, other names
/// case-insensitively, see [`member_key`]).
pub fn key(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Sqlite => name.to_ascii_lowercase(),
        Dialect::Postgres | Dialect::MySql => name.to_owned(),
    }
}

/// The key of a column, index or constraint name within a table.
pub fn member_key(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Postgres => name.to_owned(),
        Dialect::Sqlite | Dialect::MySql => name.to_ascii_lowercase(),
    }
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Columns in the table's order (the order is shown, never compared).
    pub columns: Vec<Column>,
    /// The primary key.
    pub primary_key: Option<Key>,
    /// Unique constraints, by definition.
    pub uniques: Vec<Key>,
    /// Check constraints, by definition.
    pub checks: Vec<Check>,
    /// Foreign keys, by definition.
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes that are not the primary key or a unique constraint, by name.
    pub indexes: Vec<Index>,
    /// The table comment (PostgreSQL, MySQL).
    pub comment: Option<String>,
    /// Table options that differ from the backend's defaults, canonical
    /// (`WITHOUT ROWID`, `STRICT`; `ENGINE=MyISAM`, `COLLATE=utf8mb4_bin`).
    pub options: Vec<String>,
}

impl Table {
    /// An empty table named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            comment: None,
            options: Vec::new(),
        }
    }

    /// The column named `name` (compared as the dialect compares names).
    pub fn column(&self, dialect: Dialect, name: &str) -> Option<&Column> {
        let k = member_key(dialect, name);
        self.columns
            .iter()
            .find(|c| member_key(dialect, &c.name) == k)
    }

    pub(crate) fn sort(&mut self) {
        self.uniques.sort_by(|a, b| a.definition.cmp(&b.definition));
        self.checks.sort_by(|a, b| a.definition.cmp(&b.definition));
        self.foreign_keys
            .sort_by(|a, b| (&a.columns, &a.ref_table).cmp(&(&b.columns, &b.ref_table)));
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Column {
    /// Its name.
    pub name: String,
    /// The type as the server prints it (`character varying(20)`,
    /// `int(11)`, SQLite's declared type in upper case).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default expression as the server prints it.
    pub default: Option<String>,
    /// Identity, serial or auto-increment.
    pub identity: Option<Identity>,
    /// A generated (computed) column's expression.
    pub generated: Option<Generated>,
    /// A collation other than the type's or table's default.
    pub collation: Option<String>,
    /// The column comment (PostgreSQL, MySQL).
    pub comment: Option<String>,
}

impl Column {
    /// A nullable column with no default.
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }
}

/// How a column numbers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// PostgreSQL `GENERATED ALWAYS AS IDENTITY` (sequence options that
    /// differ from the defaults, canonical, e.g. `START WITH 10`).
    Always(String),
    /// PostgreSQL `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault(String),
    /// PostgreSQL `serial`: a sequence the column owns as its default.
    /// The sequence's name is kept for the SQL, never compared.
    Serial {
        /// The owned sequence.
        sequence: String,
    },
    /// MySQL `AUTO_INCREMENT`, SQLite `AUTOINCREMENT`.
    AutoIncrement,
}

impl Identity {
    /// Equal for the purpose of comparing schemas (a serial column's
    /// sequence name follows the table's name, which renames change).
    pub fn same(&self, other: &Identity) -> bool {
        match (self, other) {
            (Identity::Serial { .. }, Identity::Serial { .. }) => true,
            _ => self == other,
        }
    }
}

/// A generated column's expression.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Generated {
    /// The expression.
    pub expression: String,
    /// Stored (`STORED`) rather than computed on read (`VIRTUAL`).
    pub stored: bool,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Key {
    /// The constraint's name, `None` when the backend has none (SQLite's
    /// unnamed constraints).
    pub name: Option<String>,
    /// The columns, in key order.
    pub columns: Vec<String>,
    /// The canonical definition (`PRIMARY KEY (id)`, `UNIQUE (a, b)`).
    pub definition: String,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// The constraint's name (`None`: unnamed, SQLite).
    pub name: Option<String>,
    /// The canonical definition, `CHECK (...)` included.
    pub definition: String,
}

/// What a foreign key does when the referenced row changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FkAction {
    /// `NO ACTION` (the SQL default).
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl FkAction {
    /// The SQL words.
    pub fn as_sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }

    /// Parses the SQL words (any case, any spacing); `None` if unknown.
    pub fn parse(text: &str) -> Option<FkAction> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect();
        Some(match words.join(" ").as_str() {
            "NO ACTION" | "" => FkAction::NoAction,
            "RESTRICT" => FkAction::Restrict,
            "CASCADE" => FkAction::Cascade,
            "SET NULL" => FkAction::SetNull,
            "SET DEFAULT" => FkAction::SetDefault,
            _ => return None,
        })
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForeignKey {
    /// The constraint's name; `None` when unnamed (SQLite) or named by the
    /// server's own pattern (MySQL's `<table>_ibfk_<n>`).
    pub name: Option<String>,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns (empty: SQLite's `REFERENCES t` naming the
    /// primary key implicitly).
    pub ref_columns: Vec<String>,
    /// `ON UPDATE`.
    pub on_update: FkAction,
    /// `ON DELETE`.
    pub on_delete: FkAction,
    /// Further clauses, canonical (`MATCH FULL`, `DEFERRABLE INITIALLY
    /// DEFERRED`, `NOT VALID`); usually empty.
    pub options: String,
}

impl ForeignKey {
    /// Equal but for the name.
    pub fn same_definition(&self, other: &ForeignKey, dialect: Dialect) -> bool {
        let k =
            |v: &[String]| -> Vec<String> { v.iter().map(|c| member_key(dialect, c)).collect() };
        k(&self.columns) == k(&other.columns)
            && key(dialect, &self.ref_table) == key(dialect, &other.ref_table)
            && k(&self.ref_columns) == k(&other.ref_columns)
            && self.on_update == other.on_update
            && self.on_delete == other.on_delete
            && self.options == other.options
    }
}

/// The kind of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// A plain index.
    Plain,
    /// A unique index (`CREATE UNIQUE INDEX`).
    Unique,
    /// MySQL `FULLTEXT`.
    Fulltext,
    /// MySQL `SPATIAL`.
    Spatial,
}

/// An index that is not a constraint's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Plain, unique, fulltext or spatial.
    pub kind: IndexKind,
    /// The canonical definition after `ON <table>`: PostgreSQL
    /// `USING btree (lower(email)) WHERE (active)`, MySQL
    /// `` (`a`, `b`(10)) ``, SQLite `(a, b DESC) WHERE b > 0`.
    pub definition: String,
    /// The columns the index mentions, for ordering and renames.
    pub columns: Vec<String>,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct View {
    /// Its name.
    pub name: String,
    /// The canonical definition: PostgreSQL and MySQL the server's
    /// `SELECT`, SQLite everything after the name (`AS SELECT ...`).
    pub definition: String,
    /// PostgreSQL `MATERIALIZED VIEW`.
    pub materialized: bool,
    /// The tables and views it reads (keys), for ordering.
    pub depends_on: Vec<String>,
    /// The view comment (PostgreSQL).
    pub comment: Option<String>,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Trigger {
    /// Its name.
    pub name: String,
    /// The table (or view) it fires on.
    pub table: String,
    /// The whole `CREATE TRIGGER` statement, canonical.
    pub definition: String,
    /// The function it executes (PostgreSQL), for ordering.
    pub function: Option<String>,
}

/// A PostgreSQL function or procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Function {
    /// `name(identity arguments)`.
    pub signature: String,
    /// The name alone.
    pub name: String,
    /// `pg_get_functiondef`: a `CREATE OR REPLACE` statement.
    pub definition: String,
    /// `FUNCTION` or `PROCEDURE`.
    pub kind: &'static str,
}

/// A PostgreSQL enum type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnumType {
    /// Its name.
    pub name: String,
    /// The labels, in order.
    pub values: Vec<String>,
}

/// A PostgreSQL sequence no column owns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sequence {
    /// Its name.
    pub name: String,
    /// `bigint`, `integer` or `smallint`.
    pub data_type: String,
    /// `START WITH`.
    pub start: i64,
    /// `INCREMENT BY`.
    pub increment: i64,
    /// `MINVALUE`.
    pub min: i64,
    /// `MAXVALUE`.
    pub max: i64,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    pub cycle: bool,
}

/// Something that exists but retort does not compare (an extension, a
/// policy, a rule, a partitioned table...): reported by name, never
/// skipped in silence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct NotCompared {
    /// What it is (`extension`, `policy`, `trigger`...).
    pub kind: String,
    /// Its name (qualified by its table where it has one).
    pub name: String,
}

impl std::fmt::Display for NotCompared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}
