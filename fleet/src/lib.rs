//! retort's fleet runner: one upgrade (or downgrade, stamp, check,
//! current) over many databases or tenant schemas.
//!
//! - **Targets** ([`Target`]) are database URLs, databases on one server
//!   (MySQL's database per tenant) or PostgreSQL schemas in one database
//!   (schema per tenant: retort's tables in each schema, `search_path`
//!   set for the run) — see [`Shape`]. Their names come from a list, a
//!   file ([`parse_list`]) or a query on a control database
//!   ([`query_targets`]).
//! - **Bounded parallelism**: [`Fleet::jobs`] targets at a time, each
//!   under its own migration lock, on the caller's task.
//! - **No coordinator**: a target whose lock another runner holds is
//!   skipped at once as [`Outcome::Busy`] ("in progress elsewhere"), so
//!   any number of runners (Kubernetes Jobs, replicas) split a fleet; a
//!   re-run after a crash or a failure picks up where each target stands.
//! - **Failures** stop the run (targets not started are reported so) or,
//!   with [`Fleet::keep_going`], are reported per target while the rest
//!   go on.
//!
//! Depend on the `retort` crate with the `fleet` feature, which
//! re-exports this crate as `retort::fleet`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod report;
mod run;
mod source;
mod target;

pub use error::{QueryError, TargetError};
pub use report::{Counts, FleetReport, Outcome, Progress, Status, TargetReport};
pub use run::{FLEET_TARGET, Fleet};
pub use source::{parse_list, query_targets};
pub use target::{Shape, Target};
