//! `retort branches`: the branch points (revisions with several children),
//! newest first, each with its children, as Alembic prints them.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::commands::heads::{Describe, Short};
use crate::{BranchesArgs, Context};

pub(crate) fn run(ctx: &Context<'_>, args: &BranchesArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let describe = Describe::new(migrations.set())?;
    let graph = describe.graph();
    let points: Vec<usize> = graph
        .topological()
        .iter()
        .rev()
        .copied()
        .filter(|&i| describe.is_branch_point(i))
        .collect();
    if args.json {
        let list: Vec<Value> = points
            .iter()
            .map(|&i| {
                let children: Vec<Value> = graph
                    .children(i)
                    .iter()
                    .map(|&c| describe.json(c))
                    .collect();
                json!({ "branch_point": describe.json(i), "children": children })
            })
            .collect();
        ctx.out.json(&Value::Array(list));
        return Ok(ExitCode::SUCCESS);
    }
    let tree = Short {
        tree: true,
        doc: false,
    };
    for &i in &points {
        let head = if args.details {
            describe.log_entry(i, false)
        } else {
            describe.short(i, tree)
        };
        let indent = " ".repeat(describe.rev(i).id().len());
        let children: Vec<String> = graph
            .children(i)
            .iter()
            .map(|&c| {
                let child = describe.short(
                    c,
                    Short {
                        tree: true,
                        doc: args.details,
                    },
                );
                format!("{indent} -> {child}")
            })
            .collect();
        ctx.out.line(format!("{head}\n{}\n", children.join("\n")));
    }
    Ok(ExitCode::SUCCESS)
}
