//! A job queue's tables, shipped with the crate as the named migration set
//! `jobs`: a service that depends on this crate upgrades them together
//! with its own set ([`retort::upgrade_all`]), and its own revisions may
//! depend on this set's (`Depends On: jobs@j2`).
//!
//! See `docs/migration-sets.md`.

/// This release's migrations: the set `jobs`.
pub static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations", name = "jobs");

/// The set as the crate's previous release shipped it (one revision
/// fewer), for the tests of an upgrade across releases.
#[doc(hidden)]
pub static MIGRATIONS_V1: retort::Migrations =
    retort::embed_migrations!("migrations_v1", name = "jobs");
