//! `retort heads`: the revisions nothing revises.
//!
//! Also home of the revision formatting `branches` and `show` share
//! ([`Describe`]), after Alembic's `Script.cmd_format` and `log_entry`.

use std::process::ExitCode;

use retort_core::graph::{Graph, Ix};
use retort_core::{MigrationSet, Revision};
use serde_json::{Value, json};

use crate::output::{ID, paint};
use crate::{Context, HeadsArgs};

pub(crate) fn run(ctx: &Context<'_>, args: &HeadsArgs) -> anyhow::Result<ExitCode> {
    let migrations = ctx.migrations()?;
    let describe = Describe::new(migrations.set())?;
    let heads: Vec<Ix> = describe.heads();
    if heads.is_empty() && !args.json {
        ctx.out.note(format!(
            "no revisions yet in {}",
            super::history::source(ctx)
        ));
    }
    if args.json {
        let list: Vec<Value> = heads.iter().map(|&i| describe.json(i)).collect();
        ctx.out.json(&Value::Array(list));
    } else {
        for &i in &heads {
            if args.details {
                ctx.out.line(describe.log_entry(i, false));
            } else {
                ctx.out.line(describe.short(i, Short::HEADS));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Which parts of a one-line description to show.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Short {
    /// `(head)`, `(branchpoint)`, `(mergepoint)`; `heads` shows only `(head)`.
    pub(crate) tree: bool,
    /// `, <message>` at the end.
    pub(crate) doc: bool,
}

impl Short {
    /// As `retort heads` prints each head.
    pub(crate) const HEADS: Self = Self {
        tree: false,
        doc: false,
    };
}

/// Describes revisions of one set: the set and its graph.
pub(crate) struct Describe<'a> {
    set: &'a MigrationSet,
    graph: &'a Graph,
}

impl<'a> Describe<'a> {
    pub(crate) fn new(set: &'a MigrationSet) -> anyhow::Result<Self> {
        let graph = super::history::graph_of(set)?;
        Ok(Self { set, graph })
    }

    pub(crate) fn graph(&self) -> &'a Graph {
        self.graph
    }

    pub(crate) fn rev(&self, i: Ix) -> &'a Revision {
        &self.set.revisions()[i]
    }

    /// The heads (revisions nothing revises), sorted by id.
    pub(crate) fn heads(&self) -> Vec<Ix> {
        self.set
            .heads()
            .filter_map(|id| self.set.index_of(id))
            .collect()
    }

    pub(crate) fn is_head(&self, i: Ix) -> bool {
        self.graph.children(i).is_empty()
    }

    pub(crate) fn is_branch_point(&self, i: Ix) -> bool {
        self.graph.children(i).len() > 1
    }

    pub(crate) fn is_merge_point(&self, i: Ix) -> bool {
        self.rev(i).is_merge()
    }

    fn ids(&self, ix: &[Ix]) -> Vec<&'a str> {
        ix.iter().map(|&i| self.rev(i).id()).collect()
    }

    fn markers(&self, i: Ix, tree: bool) -> String {
        let mut text = String::new();
        if self.is_head(i) {
            text.push_str(" (head)");
        }
        if tree && self.is_branch_point(i) {
            text.push_str(" (branchpoint)");
        }
        if tree && self.is_merge_point(i) {
            text.push_str(" (mergepoint)");
        }
        text
    }

    /// One line: `<id> (labels) (head) (branchpoint) (mergepoint)[, message]`,
    /// with the labels the revision inherits, as Alembic prints them.
    pub(crate) fn short(&self, i: Ix, parts: Short) -> String {
        let rev = self.rev(i);
        let mut text = paint(ID, rev.id());
        text.push_str(&super::history::labels(self.set, i));
        text.push_str(&self.markers(i, parts.tree));
        if parts.doc {
            text.push_str(&format!(", {}", rev.message()));
        }
        text
    }

    /// Alembic's `log_entry`: `Rev:`, `Parent:`/`Merges:`, dependencies,
    /// branches, labels, `Path:`, then the message indented; `full` adds
    /// the date, transaction mode and hashes after `Path:`.
    pub(crate) fn log_entry(&self, i: Ix, full: bool) -> String {
        let rev = self.rev(i);
        let mut text = format!("Rev: {}{}\n", paint(ID, rev.id()), self.markers(i, true));
        let parents = if rev.is_base() {
            "<base>".to_owned()
        } else {
            join(rev.parents())
        };
        if rev.is_merge() {
            text.push_str(&format!("Merges: {parents}\n"));
        } else {
            text.push_str(&format!("Parent: {parents}\n"));
        }
        if rev.depends_on().len() > 0 {
            text.push_str(&format!("Also depends on: {}\n", join(rev.depends_on())));
        }
        if self.is_branch_point(i) {
            let children = self.ids(self.graph.children(i));
            text.push_str(&format!("Branches into: {}\n", children.join(", ")));
        }
        let names = self.graph.branch_names(i);
        if !names.is_empty() {
            text.push_str(&format!("Branch names: {}\n", names.join(", ")));
        }
        text.push_str(&format!("Path: {}\n", rev.path()));
        if full {
            if let Some(date) = rev.create_date() {
                text.push_str(&format!("Create Date: {date}\n"));
            }
            text.push_str(&format!("Transactional: {}\n", rev.is_transactional()));
            text.push_str(&format!("Checksum: {}\n", rev.checksum().to_hex()));
            text.push_str(&format!(
                "Lineage: {}\n",
                self.set
                    .lineage(rev.id())
                    .map(|l| l.to_hex())
                    .unwrap_or_default()
            ));
        }
        text.push('\n');
        for line in rev.message().lines() {
            text.push_str(&format!("    {line}\n"));
        }
        text
    }

    /// The revision as JSON (without its SQL): `branch_labels` as its file
    /// declares them, `branch_names` with the inherited ones.
    pub(crate) fn json(&self, i: Ix) -> Value {
        let rev = self.rev(i);
        json!({
            "revision": rev.id(),
            "parents": rev.parents().collect::<Vec<_>>(),
            "depends_on": rev.depends_on().collect::<Vec<_>>(),
            "branch_labels": rev.branch_labels().collect::<Vec<_>>(),
            "branch_names": self.graph.branch_names(i),
            "children": self.ids(self.graph.children(i)),
            "message": rev.message(),
            "create_date": rev.create_date(),
            "transactional": rev.is_transactional(),
            "path": rev.path(),
            "is_head": self.is_head(i),
            "is_branch_point": self.is_branch_point(i),
            "is_merge_point": self.is_merge_point(i),
        })
    }
}

fn join<'s>(names: impl Iterator<Item = &'s str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}
