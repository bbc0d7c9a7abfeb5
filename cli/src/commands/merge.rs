//! `retort merge`: writes a merge revision whose parents are several heads.

use std::process::ExitCode;

use anyhow::{Context as _, bail};

use crate::commands::revision::{NewRevision, generate, load_dir};
use crate::{Context, MergeArgs};

pub(crate) fn run(ctx: &Context<'_>, args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let dir = ctx.migrations_dir();
    let migrations = load_dir(&dir)?;
    let set = migrations.set();
    let heads: Vec<&str> = set.heads().collect();
    let mut parents: Vec<String> = Vec::new();
    if args.revisions.is_empty() {
        parents.extend(heads.iter().map(|h| (*h).to_owned()));
    } else {
        for target in &args.revisions {
            let resolved = set
                .resolve(target)
                .with_context(|| format!("invalid revision `{target}` to merge"))?;
            for rev in resolved {
                let id = rev.id();
                if !heads.contains(&id) {
                    bail!(
                        "revision `{id}` is not a head revision; only heads can be merged (heads: {})",
                        quoted(&heads)
                    );
                }
                if !parents.iter().any(|p| p == id) {
                    parents.push(id.to_owned());
                }
            }
        }
    }
    if parents.len() < 2 {
        let named = quoted(&parents.iter().map(String::as_str).collect::<Vec<_>>());
        match (args.revisions.is_empty(), parents.is_empty()) {
            (true, true) => bail!("nothing to merge: there are no revisions"),
            (true, false) => bail!("nothing to merge: there is only one head ({named})"),
            _ => bail!("a merge needs at least two heads; only {named} was named"),
        }
    }
    generate(
        ctx,
        &dir,
        set,
        NewRevision {
            message: &args.message,
            rev_id: args.rev_id.as_deref(),
            parents,
            branch_labels: &args.branch_label,
            depends_on: Vec::new(),
            transactional: true,
            upgrade: "",
            downgrade: "",
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn quoted(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
