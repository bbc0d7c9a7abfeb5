//! `retort init` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{InitArgs, Context};

pub(crate) fn run(_ctx: &Context<'_>, _args: &InitArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort init` is not built yet")
}
