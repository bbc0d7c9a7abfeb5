//! `retort branches` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{BranchesArgs, Context};

pub(crate) fn run(_ctx: &Context<'_>, _args: &BranchesArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort branches` is not built yet")
}
