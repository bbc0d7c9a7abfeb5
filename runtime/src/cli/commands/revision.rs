//! `retort revision` (SCAFFOLD: to be replaced).

use std::process::ExitCode;

use crate::cli::{RevisionArgs, Context};

pub(crate) fn run(_ctx: &Context<'_>, _args: &RevisionArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`retort revision` is not built yet")
}
