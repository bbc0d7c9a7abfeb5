//! The schema changes the autogenerate suite runs: each takes a database
//! from `before` to `after` (the desired schema, rename hints included).

#![allow(dead_code, unreachable_pub)]

mod columns;
mod constraints;
mod dialects;
mod objects;
mod tables;

use crate::common::Backend;

/// SQL per backend.
#[derive(Debug, Clone, Copy)]
pub struct Sql {
    pub all: &'static str,
    pub postgres: Option<&'static str>,
    pub mysql: Option<&'static str>,
    pub sqlite: Option<&'static str>,
}

impl Sql {
    pub const fn all(sql: &'static str) -> Self {
        Self {
            all: sql,
            postgres: None,
            mysql: None,
            sqlite: None,
        }
    }

    pub fn get(&self, b: Backend) -> &'static str {
        match b {
            Backend::Postgres => self.postgres,
            Backend::MySql => self.mysql,
            Backend::Sqlite => self.sqlite,
        }
        .unwrap_or(self.all)
    }

    fn set(&mut self, b: Backend, sql: &'static str) {
        match b {
            Backend::Postgres => self.postgres = Some(sql),
            Backend::MySql => self.mysql = Some(sql),
            Backend::Sqlite => self.sqlite = Some(sql),
        }
    }
}

/// Rows that must survive: `SELECT <columns> FROM <table>` before the
/// upgrade (old names) and after it (new names) return the same rows.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    pub before: (&'static str, &'static str),
    pub after: (&'static str, &'static str),
}

/// What autogenerate must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A revision.
    Changes,
    /// Nothing: the two spellings are the same schema.
    Nothing,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub only: Vec<Backend>,
    pub before: Sql,
    pub after: Sql,
    pub seed: Sql,
    pub keep: Vec<Keep>,
    pub expect: Expect,
    /// Text the upgrade SQL must contain (per backend, `None`: no check).
    pub upgrade_contains: Vec<(Option<Backend>, &'static str)>,
    /// Text the warnings must contain.
    pub warns: Option<&'static str>,
    /// The revision must be `Transactional: false` on these backends.
    pub non_transactional: Vec<Backend>,
    /// The oldest PostgreSQL major version with what the case uses.
    pub postgres_since: u32,
}

/// A case for every backend.
pub fn case(name: &'static str, before: &'static str, after: &'static str) -> Case {
    Case {
        name,
        only: Vec::new(),
        before: Sql::all(before),
        after: Sql::all(after),
        seed: Sql::all(""),
        keep: Vec::new(),
        expect: Expect::Changes,
        upgrade_contains: Vec::new(),
        warns: None,
        non_transactional: Vec::new(),
        postgres_since: 0,
    }
}

impl Case {
    /// Runs on these backends only.
    pub fn only(mut self, backends: &[Backend]) -> Self {
        self.only = backends.to_vec();
        self
    }

    /// Other SQL for one backend.
    pub fn on(mut self, b: Backend, before: &'static str, after: &'static str) -> Self {
        self.before.set(b, before);
        self.after.set(b, after);
        self
    }

    /// Rows inserted before the upgrade (into the `before` schema).
    pub fn seed(mut self, sql: &'static str) -> Self {
        self.seed.all = sql;
        self
    }

    /// Other rows for one backend.
    pub fn seed_on(mut self, b: Backend, sql: &'static str) -> Self {
        self.seed.set(b, sql);
        self
    }

    /// Columns whose rows must survive, same names before and after.
    pub fn keep(mut self, table: &'static str, columns: &'static str) -> Self {
        self.keep.push(Keep {
            before: (table, columns),
            after: (table, columns),
        });
        self
    }

    /// Columns whose rows must survive under new names.
    pub fn keep_renamed(
        mut self,
        before: (&'static str, &'static str),
        after: (&'static str, &'static str),
    ) -> Self {
        self.keep.push(Keep { before, after });
        self
    }

    /// The two schemas are the same: autogenerate writes nothing.
    pub fn nothing(mut self) -> Self {
        self.expect = Expect::Nothing;
        self
    }

    /// The upgrade must contain `text` (on `b`, or everywhere).
    pub fn contains(mut self, b: Option<Backend>, text: &'static str) -> Self {
        self.upgrade_contains.push((b, text));
        self
    }

    /// A warning must contain `text`.
    pub fn warns(mut self, text: &'static str) -> Self {
        self.warns = Some(text);
        self
    }

    /// The revision runs outside a transaction on `b`.
    pub fn non_transactional(mut self, b: Backend) -> Self {
        self.non_transactional.push(b);
        self
    }

    /// On PostgreSQL, runs on servers of major version `major` or later
    /// only (`UNIQUE NULLS NOT DISTINCT` is 15+, virtual generated columns
    /// 18+).
    pub fn postgres_since(mut self, major: u32) -> Self {
        self.postgres_since = major;
        self
    }

    pub fn runs_on(&self, b: Backend) -> bool {
        self.only.is_empty() || self.only.contains(&b)
    }

    /// Whether the case runs on this server (`postgres_major`: its
    /// PostgreSQL version, `None` on the other backends).
    pub fn runs_on_server(&self, b: Backend, postgres_major: Option<u32>) -> bool {
        self.runs_on(b) && postgres_major.is_none_or(|m| m >= self.postgres_since)
    }
}

/// Every case.
pub fn all() -> Vec<Case> {
    let mut out = Vec::new();
    out.extend(tables::cases());
    out.extend(columns::cases());
    out.extend(constraints::cases());
    out.extend(objects::cases());
    out.extend(dialects::cases());
    out
}
