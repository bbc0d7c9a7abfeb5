//! `retort downgrade` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{DowngradeArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &DowngradeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort downgrade` is not built yet")
}
