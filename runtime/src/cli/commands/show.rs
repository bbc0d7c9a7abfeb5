//! `retort show` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{ShowArgs, Context};

pub(crate) fn run(_ctx: &Context<'_>, _args: &ShowArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort show` is not built yet")
}
