//! `retort repair` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{RepairArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &RepairArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort repair` is not built yet")
}
