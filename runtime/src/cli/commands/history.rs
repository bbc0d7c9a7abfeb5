//! `retort history [-r START:END] [-i] [-V] [--json]`: the revisions of
//! the graph, newest first, as Alembic lists them (not the database's
//! history table).

use std::process::ExitCode;

use anyhow::Context as _;
use retort_core::graph::Graph;
use retort_core::plan::needs_current;
use retort_core::{MigrationSet, Revision};
use serde_json::json;

use crate::cli::output::{BOLD, ID, paint};
use crate::cli::{Context, HistoryArgs};

use super::upgrade::split_range;

pub(crate) async fn run(ctx: &Context<'_>, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let set: &MigrationSet = &migrations;
    let graph = graph_of(set)?;
    let range = args.rev_range.as_deref();
    let (start, end) = range.map_or((None, ""), split_range);
    let start = start.unwrap_or_default();
    let needs_db = args.indicate_current || needs_current(start) || needs_current(end);
    let current = if needs_db {
        let url = ctx.connect_url().await?;
        migrations
            .with_config(ctx.config())
            .current(url.expose())
            .await?
    } else {
        Vec::new()
    };
    let rows: Vec<&str> = current.iter().map(String::as_str).collect();
    let shown: Vec<usize> = set
        .range(start, end, &rows)
        .with_context(|| match range {
            Some(range) => format!("cannot list the history range `{range}`"),
            None => "cannot list the history".to_owned(),
        })?
        .iter()
        .filter_map(|rev| set.index_of(rev.id()))
        .collect();
    if shown.is_empty() && !args.json {
        ctx.out.note(match range {
            _ if set.is_empty() => format!("no revisions yet in {}", source(ctx)),
            Some(range) => format!("the range `{range}` holds no revision"),
            None => "no revisions".to_owned(),
        });
    }
    let marks = |i: usize| Marks {
        current: args.indicate_current && current.iter().any(|c| c == graph.id(i)),
        ..Marks::of(graph, i)
    };
    if args.json {
        let items: Vec<_> = shown
            .iter()
            .map(|&i| revision_json(set, i, marks(i), args.indicate_current))
            .collect();
        ctx.out.json(&json!(items));
        return Ok(ExitCode::SUCCESS);
    }
    for &i in &shown {
        if args.details {
            ctx.out.line(revision_details(set, i, marks(i)));
        } else {
            ctx.out.line(revision_line(set, i, marks(i)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the revisions come from, for notes: the embedded set or the
/// migrations directory.
pub(crate) fn source(ctx: &Context<'_>) -> String {
    if ctx.is_embedded() {
        "the embedded migrations".to_owned()
    } else {
        ctx.migrations_dir().display().to_string()
    }
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

/// ` (label, ...)`: the branch labels revision `i` carries, its own and
/// inherited ones, as Alembic shows them; empty without any.
pub(crate) fn labels(set: &MigrationSet, i: usize) -> String {
    let names = set
        .graph()
        .map(|graph| graph.branch_names(i))
        .unwrap_or_default();
    if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    }
}

/// Alembic's one-line form: `<parents> -> <id> (labels) (head), message`.
pub(crate) fn revision_line(set: &MigrationSet, i: usize, marks: Marks) -> String {
    let rev = &set.revisions()[i];
    let deps = if rev.depends_on().len() == 0 {
        String::new()
    } else {
        format!(" ({})", rev.depends_on().collect::<Vec<_>>().join(", "))
    };
    format!(
        "{}{deps} -> {}{}{}, {}",
        down(rev),
        paint(ID, rev.id()),
        labels(set, i),
        marks.suffix(),
        rev.message()
    )
}

/// Alembic's verbose form.
pub(crate) fn revision_details(set: &MigrationSet, i: usize, marks: Marks) -> String {
    let rev = &set.revisions()[i];
    let mut lines = vec![format!(
        "{} {}{}{}",
        paint(BOLD, "Rev:"),
        paint(ID, rev.id()),
        labels(set, i),
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
    let names = set
        .graph()
        .map(|graph| graph.branch_names(i))
        .unwrap_or_default();
    if !names.is_empty() {
        lines.push(format!("Branch names: {}", names.join(", ")));
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

/// A revision for `--json`: `branch_labels` as its file declares them,
/// `branch_names` with the inherited ones, as the text output shows them.
pub(crate) fn revision_json(
    set: &MigrationSet,
    i: usize,
    marks: Marks,
    with_current: bool,
) -> serde_json::Value {
    let rev = &set.revisions()[i];
    let mut value = json!({
        "revision": rev.id(),
        "parents": rev.parents().collect::<Vec<_>>(),
        "depends_on": rev.depends_on().collect::<Vec<_>>(),
        "branch_labels": rev.branch_labels().collect::<Vec<_>>(),
        "branch_names": set.graph().map(|graph| graph.branch_names(i)).unwrap_or_default(),
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
