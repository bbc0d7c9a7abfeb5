//! `retort check` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{CheckArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort check` is not built yet")
}
