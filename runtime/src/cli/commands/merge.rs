//! `retort merge` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{MergeArgs, Context};

pub(crate) fn run(_ctx: &Context<'_>, _args: &MergeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort merge` is not built yet")
}
