//! The shared engine: locking, drift checks, planning and the step
//! protocol, over any [`Driver`](crate::driver::Driver).
//!
//! Every verb that writes reads the state under the lock, plans and
//! validates, and only then creates (or upgrades) the bookkeeping tables
//! and writes: a refused command leaves a fresh database as it was.

mod bookkeeping;
mod code;
mod common;
mod read;
mod run;
mod sets;
mod step;

pub(crate) use bookkeeping::stamp_ops;
pub use common::RUN_TARGET;
pub(crate) use common::{Lineages, history};
pub(crate) use read::{check, current, history_of, plan};
pub(crate) use run::{Locked, locked};
pub(crate) use sets::{SetRun, upgrade_all};
