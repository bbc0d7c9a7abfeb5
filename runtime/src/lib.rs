//! retort's runtime: applies revisions to PostgreSQL, MySQL/MariaDB and
//! SQLite through sqlx, async or blocking.
//!
//! Depend on the `retort` crate, which re-exports everything here.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// Built without any backend, only URLs are accepted and every call reports
// the missing feature: most of the engine is then unused.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(
        dead_code,
        unused_imports,
        unused_variables,
        unused_macros,
        unreachable_code
    )
)]

mod blocking;
mod chain;
pub mod code;
mod config;
mod database;
mod drift;
mod driver;
mod engine;
mod error;
pub mod history;
mod migrations;
pub mod offline;
mod recorded;
mod report;
mod sets;
pub use retort_core::split;
pub mod testing;
pub mod url;

pub use blocking::Blocking;
pub use chain::{Break, BrokenRow, HistoryCheck};
pub use config::{Config, TransactionMode};
pub use database::Database;
pub use drift::{Drift, Edited};
pub use engine::RUN_TARGET;
pub use error::Error;
pub use history::{HistoryEntry, Operation, Status, UnknownValue};
pub use migrations::{Migrations, Migrator};
pub use report::{CheckReport, FailedStep, PlannedStep, Report, StepReport};
pub use retort_core::load::{LoadError, LoadErrors};
pub use retort_core::plan::Direction;
pub use sets::{upgrade_all, upgrade_all_with};
pub use url::Backend;
