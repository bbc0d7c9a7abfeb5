//! The tools compared, and one call of a tool on a handle; each competitor
//! has a module of its own.

use crate::Result;
use crate::revisions::Sets;
use crate::setup::Handle;

mod raw;
mod refinery_runner;
mod retort_upgrade;
mod sqlx_migrator;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tool {
    Retort,
    Sqlx,
    Refinery,
    Raw,
    RawStmt,
}

impl Tool {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tool::Retort => "retort",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Raw => "raw",
            Tool::RawStmt => "raw-stmt",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "retort" => Tool::Retort,
            "sqlx" => Tool::Sqlx,
            "refinery" => Tool::Refinery,
            "raw" => Tool::Raw,
            "raw-stmt" => Tool::RawStmt,
            other => return Err(format!("unknown tool `{other}`").into()),
        })
    }
}

/// How many revisions the call applied (0 for the no-op).
pub(crate) async fn run_tool(
    tool: Tool,
    sets: &Sets,
    h: &mut Handle,
    setup: bool,
) -> Result<usize> {
    match tool {
        Tool::Retort => retort_upgrade::run(sets, h, setup).await,
        Tool::Sqlx => sqlx_migrator::run(sets, h).await,
        Tool::Refinery => refinery_runner::run(sets, h, setup).await,
        Tool::Raw | Tool::RawStmt => raw::run(tool, sets, h).await,
    }
}
