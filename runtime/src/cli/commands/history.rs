//! `retort history [-r START:END] [-i] [-V] [--json]`: the revisions of
//! the graph, newest first, as Alembic lists them (not the database's
//! history table).

use std::process::ExitCode;

use anyhow::Context as _;
use retort_core::graph::Graph;
use retort_core::target::{Target, parse};
use retort_core::{MigrationSet, Revision};
use serde_json::json;

use crate::cli::output::{BOLD, ID, paint};
use crate::cli::{Context, HistoryArgs};

use super::upgrade::split_range;

pub(crate) async fn run(ctx: &Context<'_>, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let set: &MigrationSet = &migrations;
    let graph = graph_of(set)?;
    let (start, end) = args.rev_range.as_deref().map_or((None, ""), split_range);
    let needs_db = args.indicate_current
        || [start.unwrap_or_default(), end]
            .iter()
            .any(|side| *side == "current" || is_relative_to_current(side));
    let current = if needs_db {
        let url = ctx.connect_url().await?;
        migrations
            .with_config(ctx.config())
            .current(url.expose())
            .await?
    } else {
        Vec::new()
    };
    let upper = match end {
        "" | "heads" => graph.heads().to_vec(),
        side => side_indices(set, side, &current)?,
    };
    let lower = match start {
        None | Some("base") => None,
        Some(side) => Some(side_indices(set, side, &current)?),
    };
    let below_upper = graph.ancestors(&upper);
    let above_lower = lower.map(|l| graph.descendants(&l));
    let shown: Vec<usize> = graph
        .topological()
        .iter()
        .rev()
        .copied()
        .filter(|&i| below_upper[i] && above_lower.as_ref().is_none_or(|a| a[i]))
        .collect();
    let marks = |i: usize| Marks {
        current: args.indicate_current && current.iter().any(|c| c == graph.id(i)),
        ..Marks::of(graph, i)
    };
    if args.json {
        let items: Vec<_> = shown
            .iter()
            .map(|&i| revision_json(&set.revisions()[i], marks(i), args.indicate_current))
            .collect();
        ctx.out.json(&json!(items));
        return Ok(ExitCode::SUCCESS);
    }
    for &i in &shown {
        let rev = &set.revisions()[i];
        if args.details {
            ctx.out.line(revision_details(rev, marks(i)));
        } else {
            ctx.out.line(revision_line(rev, marks(i)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn graph_of(set: &MigrationSet) -> anyhow::Result<&Graph> {
    set.graph().map_err(|errors| {
        anyhow::anyhow!(
            "invalid revision graph: {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// `-3`, `+2`: relative to the database's current revision(s).
fn is_relative_to_current(side: &str) -> bool {
    matches!(parse(side), Ok(Target::Relative { symbol: None, .. }))
}

/// The revisions one side of a range names.
fn side_indices(set: &MigrationSet, side: &str, current: &[String]) -> anyhow::Result<Vec<usize>> {
    let ids: Vec<String> = if side == "current" {
        current.to_vec()
    } else if is_relative_to_current(side) {
        let rows: Vec<&str> = current.iter().map(String::as_str).collect();
        let plan = if side.starts_with('+') || side.contains("@+") {
            set.plan_upgrade(&rows, side)
        } else {
            set.plan_downgrade(&rows, side)
        };
        plan.with_context(|| format!("cannot resolve `{side}` from the current revision(s)"))?
            .heads_after
    } else {
        set.resolve(side)
            .with_context(|| format!("invalid history range side `{side}`"))?
            .iter()
            .map(|r| r.id().to_owned())
            .collect()
    };
    Ok(ids.iter().filter_map(|id| set.index_of(id)).collect())
}

/// What Alembic marks after a revision id.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Marks {
    pub(crate) head: bool,
    pub(crate) branchpoint: bool,
    pub(crate) mergepoint: bool,
    pub(crate) current: bool,
}

impl Marks {
    pub(crate) fn of(graph: &Graph, i: usize) -> Self {
        Self {
            head: graph.children(i).is_empty(),
            branchpoint: graph.children(i).len() > 1,
            mergepoint: graph.parents(i).len() > 1,
            current: false,
        }
    }

    fn suffix(self) -> String {
        let mut text = String::new();
        for (on, mark) in [
            (self.head, " (head)"),
            (self.current, " (current)"),
            (self.branchpoint, " (branchpoint)"),
            (self.mergepoint, " (mergepoint)"),
        ] {
            if on {
                text.push_str(mark);
            }
        }
        text
    }
}

fn down(rev: &Revision) -> String {
    if rev.is_base() {
        "<base>".to_owned()
    } else {
        rev.parents().collect::<Vec<_>>().join(", ")
    }
}

fn labels(rev: &Revision) -> String {
    if rev.branch_labels().len() == 0 {
        String::new()
    } else {
        format!(" ({})", rev.branch_labels().collect::<Vec<_>>().join(", "))
    }
}

/// Alembic's one-line form: `<parents> -> <id> (labels) (head), message`.
pub(crate) fn revision_line(rev: &Revision, marks: Marks) -> String {
    let deps = if rev.depends_on().len() == 0 {
        String::new()
    } else {
        format!(" ({})", rev.depends_on().collect::<Vec<_>>().join(", "))
    };
    format!(
        "{}{deps} -> {}{}{}, {}",
        down(rev),
        paint(ID, rev.id()),
        labels(rev),
        marks.suffix(),
        rev.message()
    )
}

/// Alembic's verbose form.
pub(crate) fn revision_details(rev: &Revision, marks: Marks) -> String {
    let mut lines = vec![format!(
        "{} {}{}{}",
        paint(BOLD, "Rev:"),
        paint(ID, rev.id()),
        labels(rev),
        marks.suffix()
    )];
    if rev.is_merge() {
        lines.push(format!("Merges: {}", down(rev)));
    } else {
        lines.push(format!("Parent: {}", down(rev)));
    }
    if rev.depends_on().len() > 0 {
        lines.push(format!(
            "Also depends on: {}",
            rev.depends_on().collect::<Vec<_>>().join(", ")
        ));
    }
    if rev.branch_labels().len() > 0 {
        lines.push(format!(
            "Branch names: {}",
            rev.branch_labels().collect::<Vec<_>>().join(", ")
        ));
    }
    lines.push(format!("Path: {}", rev.path()));
    lines.push(String::new());
    lines.push(format!("    {}", rev.message()));
    lines.push(String::new());
    lines.push(format!("    Revision ID: {}", rev.id()));
    lines.push(format!(
        "    Revises: {}",
        rev.parents().collect::<Vec<_>>().join(", ")
    ));
    if let Some(date) = rev.create_date() {
        lines.push(format!("    Create Date: {date}"));
    }
    if !rev.is_transactional() {
        lines.push("    Transactional: false".to_owned());
    }
    lines.push(String::new());
    lines.join("\n")
}

/// A revision for `--json`.
pub(crate) fn revision_json(rev: &Revision, marks: Marks, with_current: bool) -> serde_json::Value {
    let mut value = json!({
        "revision": rev.id(),
        "parents": rev.parents().collect::<Vec<_>>(),
        "depends_on": rev.depends_on().collect::<Vec<_>>(),
        "branch_labels": rev.branch_labels().collect::<Vec<_>>(),
        "message": rev.message(),
        "create_date": rev.create_date(),
        "path": rev.path(),
        "transactional": rev.is_transactional(),
        "is_head": marks.head,
        "is_branch_point": marks.branchpoint,
        "is_merge_point": marks.mergepoint,
    });
    if with_current && let Some(map) = value.as_object_mut() {
        map.insert("is_current".to_owned(), json!(marks.current));
    }
    value
}
