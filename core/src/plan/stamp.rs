//! Stamp planning: Alembic's `_stamp_revs`.

use crate::graph::Ix;
use crate::set::MigrationSet;
use crate::target::{Resolver, Symbol, Target, TargetError, parse};

use super::{PlanError, StampPlan, State, VersionChange, branch_of, graph_of};

impl MigrationSet {
    /// Plans a stamp: sets the version table to `targets` without running
    /// any SQL (Alembic's `stamp`). With `purge`, every row is deleted first
    /// (and rows unknown to this set are allowed).
    pub fn plan_stamp(
        &self,
        current: &[&str],
        targets: &[&str],
        purge: bool,
    ) -> Result<StampPlan, PlanError> {
        let graph = graph_of(self)?;
        let none: [&str; 0] = [];
        let state = State::new(graph, self, if purge { &none } else { current })?;
        let mut rows = state.rows.clone();
        let mut filtered: Vec<Ix> = Vec::new();
        let mut dests: Vec<Option<Ix>> = Vec::new();
        for &target in targets {
            let resolver = Resolver { graph, target };
            let (label, symbol) = match parse(target)? {
                Target::Absolute { label, symbol } => (label, symbol),
                Target::Relative { .. } => {
                    return Err(TargetError::Syntax {
                        target: target.to_owned(),
                        reason: "stamp takes revisions, `head`, `heads` or `base`, not relative targets",
                    }
                    .into());
                }
            };
            let branch = branch_of(&resolver, label.as_deref())?;
            let resolved: Vec<Ix> = match (&symbol, branch) {
                (Symbol::Base, _) => Vec::new(),
                (Symbol::Heads, None) => graph.real_heads().to_vec(),
                (Symbol::Heads, Some(b)) => resolver.heads_of(Some(b)),
                _ => resolver
                    .one(label.as_deref(), &symbol)?
                    .into_iter()
                    .collect(),
            };
            let mut against = resolved.clone();
            against.extend(branch);
            let unrestricted = matches!(symbol, Symbol::Base) && branch.is_none();
            for &h in &rows {
                let related = unrestricted || {
                    let up = graph.ancestors(&[h]);
                    let down = graph.descendants(&[h]);
                    against.iter().any(|&a| up[a] || down[a])
                };
                if related && !filtered.contains(&h) {
                    filtered.push(h);
                }
            }
            if resolved.is_empty() {
                dests.push(None);
            }
            dests.extend(resolved.into_iter().map(Some));
        }
        let id = |i: Ix| graph.id(i).to_owned();
        let mut changes = Vec::new();
        for dest in dests {
            let present: Vec<Ix> = filtered
                .iter()
                .copied()
                .filter(|f| rows.contains(f))
                .collect();
            let change = match dest {
                None => {
                    VersionChange::between(present.iter().map(|&i| id(i)).collect(), Vec::new())
                }
                Some(d) if filtered.contains(&d) => continue,
                Some(d) => {
                    let up = graph.ancestors(&[d]);
                    let down = graph.descendants(&[d]);
                    let related: Vec<Ix> = present
                        .iter()
                        .copied()
                        .filter(|&f| up[f] || down[f])
                        .collect();
                    if rows.contains(&d) {
                        continue;
                    }
                    let removed = if related.is_empty() {
                        Vec::new()
                    } else {
                        present.clone()
                    };
                    VersionChange::between(removed.iter().map(|&i| id(i)).collect(), vec![id(d)])
                }
            };
            rows.retain(|r| {
                !change.delete.contains(&id(*r))
                    && change.update.as_ref().is_none_or(|u| u.0 != id(*r))
            });
            for new in change
                .insert
                .iter()
                .chain(change.update.as_ref().map(|u| &u.1))
            {
                if let Some(i) = self.index_of(new) {
                    rows.push(i);
                }
            }
            changes.push(change);
        }
        let mut heads_after: Vec<String> = rows.iter().map(|&i| id(i)).collect();
        heads_after.sort();
        heads_after.dedup();
        Ok(StampPlan {
            purge,
            changes,
            heads_after,
        })
    }
}
