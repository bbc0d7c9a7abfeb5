//! `retort heads` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{HeadsArgs, Context};

pub(crate) fn run(_ctx: &Context<'_>, _args: &HeadsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort heads` is not built yet")
}
