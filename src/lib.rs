//! # retort
//!
//! Alembic-style schema migrations for Rust services: SQL (and Rust) revision
//! files in a revision graph (branches, merges, labels, dependencies), parsed, validated
//! and checksummed **at compile time** by [`embed_migrations!`], applied by a
//! thin runtime.
//!
//! ```
//! static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");
//!
//! let heads: Vec<&str> = MIGRATIONS.heads().collect();
//! assert_eq!(heads, ["e9a14c7f3b45"]);
//! ```
//!
//! The revision-file format is described in `docs/revision-format.md`.

pub use retort_core::format::SectionSpan;
pub use retort_core::load::SourceFile;
pub use retort_core::{
    Digest256, MigrationSet, Revision, checksum, format, graph, load, plan, target,
};
pub use retort_runtime::{
    Backend, Blocking, Break, BrokenRow, CheckReport, Config, Database, Direction, Drift, Edited,
    Error, FailedStep, HistoryCheck, HistoryEntry, LoadError, LoadErrors, Migrations, Migrator,
    Operation, PlannedStep, RUN_TARGET, Report, Status, StepReport, TransactionMode, UnknownValue,
    code, offline, upgrade_all, upgrade_all_with,
};

/// Assertions for a service's own tests: one head, no drift and (feature
/// `autogenerate`) the up/down/up stairway.
pub mod testing {
    pub use retort_runtime::testing::*;
    #[cfg(feature = "autogenerate")]
    pub use retort_schema::stairway::{StairwayError, assert_stairway, stairway};
}

/// The autogenerate engine (feature `autogenerate`): introspection, diff
/// and SQL both ways.
#[cfg(feature = "autogenerate")]
pub use retort_schema as schema;

/// Settings: `retort.toml`, environment variables and `.env` resolved to a
/// database URL (feature `settings`; with `vault`, credentials from
/// Vault/OpenBao).
/// The fleet runner (feature `fleet`): one upgrade over many databases or
/// tenant schemas, each under its own lock (`docs/fleet.md`).
#[cfg(feature = "fleet")]
pub use retort_fleet as fleet;

#[cfg(feature = "settings")]
pub use retort_settings as settings;
#[cfg(feature = "settings")]
pub use retort_settings::Settings;

/// The `retort` command line, to mount in a service's own binary
/// (feature `cli`): `retort::cli::run(&MIGRATIONS)`.
#[cfg(feature = "cli")]
pub use retort_cli as cli;

/// Embeds a directory of revision files into the binary, checked at compile time.
///
/// ```
/// static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");
/// # assert!(!MIGRATIONS.is_empty());
/// ```
///
/// The path is relative to the crate root (the directory holding the calling
/// crate's `Cargo.toml`). Every `*.sql` and `*.rs` file below it (hidden
/// entries skipped; a `.rs` file is a Rust revision, compiled with the crate
/// as a module, docs/rust-revisions.md) is parsed, the revision graph validated and every checksum and
/// lineage hash computed while compiling; each file is embedded with
/// `include_str!`, so editing one recompiles the crate.
///
/// Any problem is a compile error naming `file:line`, every problem at once:
///
/// ```text
/// error: migrations/8a3e5d0c6b12_create_posts.sql:4: revision `8a3e5d0c6b12` revises `4f1c2a9b7e0`, which is not a revision in this set
/// ```
///
/// # Options
///
/// * `allow_multiple_heads = true`: accept a graph with several heads (by
///   default that is an error, since `upgrade head` would be ambiguous).
///
/// ```
/// static BRANCHED: retort::Migrations =
///     retort::embed_migrations!("migrations", allow_multiple_heads = true);
/// ```
///
/// # Adding files
///
/// Cargo recompiles when an embedded file *changes*, but cannot know that a
/// file was *added*. Add a build script so it does:
///
/// ```text
/// // build.rs
/// fn main() {
///     println!("cargo:rerun-if-changed=migrations");
/// }
/// ```
pub use retort_macros::embed_migrations;

#[doc(hidden)]
pub mod __private {
    pub use retort_core::format::SectionSpan;
    pub use retort_core::{Digest256, MigrationSet, Revision};
}

/// The README's Rust examples, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Rust examples of `docs/output.md`, compiled as doctests.
#[doc = include_str!("../docs/output.md")]
#[cfg(doctest)]
pub struct OutputDoctests;

/// The Rust example of `docs/fleet.md`, compiled as a doctest.
#[doc = include_str!("../docs/fleet.md")]
#[cfg(all(doctest, feature = "fleet"))]
pub struct FleetDoctests;
