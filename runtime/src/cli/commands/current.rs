//! `retort current` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{CurrentArgs, Context};

pub(crate) async fn run(_ctx: &Context<'_>, _args: &CurrentArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort current` is not built yet")
}
