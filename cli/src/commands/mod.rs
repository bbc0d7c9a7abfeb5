//! One file per verb.

pub(crate) mod autogenerate;
pub(crate) mod branches;
pub(crate) mod check;
pub(crate) mod current;
pub(crate) mod downgrade;
pub(crate) mod fleet;
mod fleet_view;
pub(crate) mod heads;
pub(crate) mod history;
pub(crate) mod init;
pub(crate) mod merge;
pub(crate) mod repair;
pub(crate) mod revision;
pub(crate) mod show;
pub(crate) mod stamp;
pub(crate) mod upgrade;
