//! The drivers: one small trait ([`Driver`]) that each backend implements
//! in a file of its own, the code they share over sqlx's traits, and
//! [`AnyDriver`], the one type the engine runs on. Everything else
//! (planning, drift, the step protocol) is the shared engine's.
//!
//! Database-specific SQL lives only in the driver files.

mod any;
mod core;
mod inline;
mod lock;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
mod protocol;
mod rows;
mod sql;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

pub(crate) use any::AnyDriver;
pub(crate) use core::Conn;
pub(crate) use protocol::{Driver, Op, RecordedFailure, RecordedStep, TxFailure};
pub(crate) use rows::{Attempt, DbState, NewHistory, Row};
pub(crate) use sql::OfflineSql;
