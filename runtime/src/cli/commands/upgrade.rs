//! `retort upgrade` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{UpgradeArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &UpgradeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort upgrade` is not built yet")
}
