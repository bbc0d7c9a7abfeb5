//! `retort history` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{HistoryArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort history` is not built yet")
}
