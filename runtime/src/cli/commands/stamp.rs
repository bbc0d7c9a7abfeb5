//! `retort stamp` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{StampArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &StampArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort stamp` is not built yet")
}
