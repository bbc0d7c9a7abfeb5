//! The pure core of [retort](https://docs.rs/retort): everything that happens
//! before a database is touched.
//!
//! * [`format`](mod@format) parses one revision file (`-- Key: value` header, upgrade and
//!   downgrade sections);
//! * [`checksum`] defines the file checksum and the lineage hash;
//! * [`graph`] validates revisions as a DAG (branches, merges, labels,
//!   dependencies, several bases);
//! * [`target`] resolves Alembic's target grammar and [`plan`] orders the
//!   upgrade and downgrade steps from an applied state to a target;
//! * [`load`] is the single directory loader shared by the
//!   `embed_migrations!` macro and the runtime;
//! * [`template`] renders the editable template `retort revision` fills in;
//! * [`split`] splits a section of SQL into statements, per dialect.
//!
//! No database, no network, no async: the only I/O is [`load`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("a.sql"),
//!     "-- Revision ID: aaaa0001\n-- Revises:\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n")?;
//! std::fs::write(dir.path().join("b.sql"),
//!     "-- Revision ID: bbbb0002\n-- Revises: aaaa0001\n-- migrate:upgrade\nALTER TABLE t ADD x INT;\n")?;
//! let set = retort_core::load::load_dir(dir.path(), "migrations")?;
//! let plan = set.plan_upgrade(&[], "head")?;
//! let ids: Vec<&str> = plan.steps.iter().map(|s| s.revision.id()).collect();
//! assert_eq!(ids, ["aaaa0001", "bbbb0002"]);
//! # Ok(()) }
//! ```

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod checksum;
pub mod format;
pub mod graph;
pub mod load;
pub mod plan;
pub mod split;

mod revision;
pub mod rust_format;
mod set;
pub mod target;
pub mod template;

pub use checksum::Digest256;
pub use revision::{Names, NamesIter, Revision, Text};
pub use set::MigrationSet;
