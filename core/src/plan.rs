//! Planning: the ordered steps from the applied state to a target, and what
//! each step does to the version table. Pure functions: no database.
//!
//! The applied state is the set of rows of the version table (Alembic's
//! `alembic_version`): the "tips" of the applied revisions, every applied
//! revision being a tip or an ancestor (through parents or dependencies) of
//! one. Planning follows Alembic 1.19's `_collect_upgrade_revisions`,
//! `_collect_downgrade_revisions` and `_topological_sort`, so steps come in
//! the same order Alembic would run them.

use crate::graph::{Graph, GraphError, Ix, quoted_list};
use crate::revision::Revision;
use crate::set::MigrationSet;
use crate::target::{Resolver, Symbol, Target, TargetError, parse};

mod direction;

pub use direction::Direction;

/// How one step changes the rows of the version table.
///
/// Applied in this order: `update`, then `delete`, then `insert`. A linear
/// step is a single update, like Alembic's; a merge deletes all but one
/// parent row and updates the last; an unmerge updates and inserts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionChange {
    /// `UPDATE version_num FROM .0 TO .1`
    pub update: Option<(String, String)>,
    /// Rows to delete.
    pub delete: Vec<String>,
    /// Rows to insert.
    pub insert: Vec<String>,
}

impl VersionChange {
    fn between(removed: Vec<String>, added: Vec<String>) -> Self {
        let mut removed = removed;
        let mut added = added;
        let update = match (removed.pop(), added.is_empty()) {
            (Some(from), false) => Some((from, added.remove(0))),
            (Some(from), true) => {
                removed.push(from);
                None
            }
            (None, _) => None,
        };
        Self {
            update,
            delete: removed,
            insert: added,
        }
    }

    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.update.is_none() && self.delete.is_empty() && self.insert.is_empty()
    }
}

/// One revision to run.
#[derive(Debug, Clone)]
pub struct Step<'s> {
    /// The revision.
    pub revision: &'s Revision,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// What the step does to the version table.
    pub version: VersionChange,
}

impl Step<'_> {
    /// The SQL this step runs: the upgrade or downgrade section.
    pub fn sql(&self) -> &str {
        match self.direction {
            Direction::Upgrade => self.revision.upgrade_sql(),
            Direction::Downgrade => self.revision.downgrade_sql().unwrap_or_default(),
        }
    }

    /// The 1-based line of the file where this step's section starts (for
    /// a Rust revision, where its function is declared).
    pub fn line(&self) -> u32 {
        match self.direction {
            Direction::Upgrade => self.revision.upgrade_span().line,
            Direction::Downgrade => self.revision.downgrade_span().map_or(1, |s| s.line),
        }
    }
}

/// An ordered list of steps.
#[derive(Debug, Clone)]
pub struct Plan<'s> {
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// The steps, in execution order.
    pub steps: Vec<Step<'s>>,
    /// Version-table rows before, sorted.
    pub heads_before: Vec<String>,
    /// Version-table rows after the last step, sorted.
    pub heads_after: Vec<String>,
}

/// What a stamp does to the version table (no SQL of any revision runs).
#[derive(Debug, Clone)]
pub struct StampPlan {
    /// Delete every row first (`--purge`).
    pub purge: bool,
    /// The changes, in order.
    pub changes: Vec<VersionChange>,
    /// Rows after, sorted.
    pub heads_after: Vec<String>,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The target is malformed, unknown or ambiguous.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The database records revisions this set does not have.
    #[error(
        "the database records revision(s) {} that are not in this migration set (applied by a newer release, or from another branch of the code?); deploy the code that has them, or, if the schema is really at one of this set's revisions, record that with `retort stamp --purge <revision>`",
        quoted_list(ids)
    )]
    UnknownApplied {
        /// The unknown ids.
        ids: Vec<String>,
    },
    /// The version table's rows overlap: one is an ancestor of another.
    #[error(
        "the version table is inconsistent: row `{revision}` is an ancestor of row(s) {}; the rows that descend from nothing else say the same without the overlap: `retort stamp --purge {}`",
        quoted_list(others),
        tips.join(" ")
    )]
    OverlappingRows {
        /// The ancestor row.
        revision: String,
        /// Rows descending from it.
        others: Vec<String>,
        /// The rows that are no ancestor of another row: stamping exactly
        /// these records the same applied revisions, consistently.
        tips: Vec<String>,
    },
    /// The downgrade passes through revisions without a downgrade section.
    #[error(
        "cannot downgrade through irreversible revision(s) {}: their files have no downgrade (a `-- migrate:downgrade` section, or a `downgrade` function in a Rust revision; a Rust revision known only from the history table cannot be downgraded)",
        quoted_list(revisions)
    )]
    Irreversible {
        /// `id (file)` of each.
        revisions: Vec<String>,
    },
    /// The set's graph is invalid (only for sets assembled by hand).
    #[error("invalid revision graph: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Graph(Vec<GraphError>),
}

/// The applied state, as graph indices.
pub(super) struct State<'g> {
    graph: &'g Graph,
    rows: Vec<Ix>,
    applied: Vec<bool>,
}

impl<'g> State<'g> {
    fn new(graph: &'g Graph, set: &MigrationSet, current: &[&str]) -> Result<Self, PlanError> {
        let mut rows = Vec::with_capacity(current.len());
        let mut unknown = Vec::new();
        for id in current {
            match set.index_of(id) {
                Some(i) => rows.push(i),
                None => unknown.push((*id).to_owned()),
            }
        }
        if !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            return Err(PlanError::UnknownApplied { ids: unknown });
        }
        rows.sort_unstable();
        rows.dedup();
        check_overlap(graph, &rows).map_err(|(revision, others)| {
            let members = graph.ancestors(&rows);
            let mut consistent: Vec<String> = tips(graph, &members)
                .into_iter()
                .map(|i| graph.id(i).to_owned())
                .collect();
            consistent.sort();
            PlanError::OverlappingRows {
                revision,
                others,
                tips: consistent,
            }
        })?;
        let applied = graph.ancestors(&rows);
        Ok(Self {
            graph,
            rows,
            applied,
        })
    }

    fn ids(&self, ix: &[Ix]) -> Vec<String> {
        let mut ids: Vec<String> = ix.iter().map(|&i| self.graph.id(i).to_owned()).collect();
        ids.sort();
        ids
    }

    fn ancestry(&self, i: Ix) -> impl Iterator<Item = Ix> + '_ {
        let g = self.graph;
        g.parents(i).iter().chain(g.dependencies(i)).copied()
    }

    /// Applies one step to the rows, returning the change.
    fn step(&mut self, i: Ix, direction: Direction) -> VersionChange {
        let g = self.graph;
        let id = |i: Ix| g.id(i).to_owned();
        match direction {
            Direction::Upgrade => {
                let removed: Vec<Ix> = self
                    .rows
                    .iter()
                    .copied()
                    .filter(|r| self.ancestry(i).any(|a| a == *r))
                    .collect();
                self.rows.retain(|r| !removed.contains(r));
                self.rows.push(i);
                self.applied[i] = true;
                VersionChange::between(removed.into_iter().map(id).collect(), vec![id(i)])
            }
            Direction::Downgrade => {
                self.applied[i] = false;
                let was_row = self.rows.contains(&i);
                self.rows.retain(|&r| r != i);
                let mut added: Vec<Ix> = Vec::new();
                for a in self.ancestry(i) {
                    let still_covered = g
                        .children(a)
                        .iter()
                        .chain(g.dependents(a))
                        .any(|&c| self.applied[c]);
                    if self.applied[a]
                        && !still_covered
                        && !added.contains(&a)
                        && !self.rows.contains(&a)
                    {
                        added.push(a);
                    }
                }
                self.rows.extend(&added);
                let removed = if was_row { vec![id(i)] } else { Vec::new() };
                VersionChange::between(removed, added.into_iter().map(id).collect())
            }
        }
    }
}

pub(super) fn graph_of(set: &MigrationSet) -> Result<&Graph, PlanError> {
    set.graph()
        .map_err(|errors| PlanError::Graph(errors.to_vec()))
}

pub(super) fn branch_of(r: &Resolver<'_>, label: Option<&str>) -> Result<Option<Ix>, TargetError> {
    label.map(|l| r.branch(l)).transpose()
}

/// The tips among `ix`: members that are no ancestor of another member.
fn tips(graph: &Graph, members: &[bool]) -> Vec<Ix> {
    (0..graph.len())
        .filter(|&i| members[i])
        .filter(|&i| {
            !graph
                .children(i)
                .iter()
                .chain(graph.dependents(i))
                .any(|&c| members[c])
        })
        .collect()
}

/// The current rows on branch `b`.
fn rows_on_branch(state: &State<'_>, b: Ix) -> Vec<Ix> {
    let g = state.graph;
    state
        .rows
        .iter()
        .copied()
        .filter(|&h| g.shares_lineage(h, b))
        .collect()
}

/// Where `label@+N` counts from: the current rows on branch `b`, or, when
/// the branch is not among them, the tips of the applied revisions on it
/// (the point where the branch forks off what is applied).
fn current_on_branch(state: &State<'_>, b: Ix) -> Vec<Ix> {
    let on = rows_on_branch(state, b);
    if !on.is_empty() {
        return on;
    }
    let g = state.graph;
    let members: Vec<bool> = (0..g.len())
        .map(|i| state.applied[i] && g.shares_lineage(i, b))
        .collect();
    tips(g, &members)
}

/// Where `label@-N` counts from: the current rows on branch `b`, or, when
/// none is, the applied revisions on it that no applied revision revises (a
/// branch head applied only as a dependency of another branch; Alembic's
/// `_get_all_current`). Unlike [`current_on_branch`], a fork point whose
/// applied children all lie on other branches does not count: the branch
/// itself is not applied, and counting down from there would remove the
/// other branches.
fn heads_on_branch(state: &State<'_>, b: Ix) -> Vec<Ix> {
    let on = rows_on_branch(state, b);
    if !on.is_empty() {
        return on;
    }
    let g = state.graph;
    (0..g.len())
        .filter(|&i| state.applied[i] && g.shares_lineage(i, b))
        .filter(|&i| !g.children(i).iter().any(|&c| state.applied[c]))
        .collect()
}

fn upgrade_targets(
    r: &Resolver<'_>,
    state: &State<'_>,
    target: &Target,
) -> Result<Vec<Ix>, TargetError> {
    let g = r.graph;
    let wrong = || TargetError::WrongDirection {
        target: r.target.to_owned(),
        direction: "upgrade",
        heads: state.ids(&state.rows),
    };
    match target {
        Target::Absolute { label, symbol } => match symbol {
            Symbol::Heads => match label {
                None => Ok(g.real_heads().to_vec()),
                Some(label) => Ok(r.heads_of(Some(r.branch(label)?))),
            },
            Symbol::Base => Err(wrong()),
            _ => Ok(r.one(label.as_deref(), symbol)?.into_iter().collect()),
        },
        Target::Relative {
            label,
            symbol,
            delta,
        } => {
            let branch = branch_of(r, label.as_deref())?;
            let found = match (symbol, *delta > 0) {
                (None, true) => {
                    let start = match branch {
                        Some(b) => current_on_branch(state, b),
                        None => state.rows.clone(),
                    };
                    if start.len() > 1 {
                        return Err(TargetError::AmbiguousCurrent {
                            target: r.target.to_owned(),
                            heads: state.ids(&start),
                        });
                    }
                    r.walk(start.first().copied(), *delta, branch)?
                }
                (Some(symbol), true) => {
                    let start = r.one(None, symbol)?;
                    r.walk(start, *delta, branch)?
                }
                (None, false) => return Err(wrong()),
                (Some(symbol), false) => {
                    let start = r.one(label.as_deref(), symbol)?;
                    r.walk(start, *delta, None)?
                }
            };
            found.map(|i| vec![i]).ok_or_else(wrong)
        }
    }
}

/// Returns the branch restricting the downgrade's roots and the target
/// (`None` = base).
fn downgrade_target(
    r: &Resolver<'_>,
    state: &State<'_>,
    target: &Target,
) -> Result<(Option<Ix>, Option<Ix>), TargetError> {
    match target {
        Target::Absolute { label, symbol } => {
            let branch = branch_of(r, label.as_deref())?;
            Ok((branch, r.one(None, symbol)?))
        }
        Target::Relative {
            label,
            symbol,
            delta,
        } => {
            let branch = branch_of(r, label.as_deref())?;
            match (symbol, *delta > 0) {
                (None, true) => Err(TargetError::WrongDirection {
                    target: r.target.to_owned(),
                    direction: "downgrade",
                    heads: state.ids(&state.rows),
                }),
                (Some(symbol), true) => {
                    let start = r.one(None, symbol)?;
                    Ok((branch, r.walk(start, *delta, branch)?))
                }
                (None, false) => {
                    let start = match branch {
                        Some(b) => heads_on_branch(state, b),
                        None => state.rows.clone(),
                    };
                    match start.as_slice() {
                        [] => Err(TargetError::NothingCurrent {
                            target: r.target.to_owned(),
                        }),
                        [one] => Ok((branch.or(Some(*one)), r.walk(Some(*one), *delta, None)?)),
                        many => Err(TargetError::AmbiguousCurrent {
                            target: r.target.to_owned(),
                            heads: state.ids(many),
                        }),
                    }
                }
                (Some(symbol), false) => {
                    let start = r.one(label.as_deref(), symbol)?;
                    Ok((branch, r.walk(start, *delta, None)?))
                }
            }
        }
    }
}

impl MigrationSet {
    /// Plans an upgrade from the version-table rows `current` to `target`.
    ///
    /// Upgrading to a revision that is already applied is an empty plan, as
    /// in Alembic.
    pub fn plan_upgrade(&self, current: &[&str], target: &str) -> Result<Plan<'_>, PlanError> {
        let graph = graph_of(self)?;
        let parsed = parse(target)?;
        let mut state = State::new(graph, self, current)?;
        let heads_before = state.ids(&state.rows);
        let resolver = Resolver { graph, target };
        let targets = upgrade_targets(&resolver, &state, &parsed)?;
        check_overlap(graph, &targets)
            .map_err(|(revision, others)| TargetError::Overlap { revision, others })?;
        let required = graph.ancestors(&targets);
        let needs: Vec<bool> = required
            .iter()
            .zip(&state.applied)
            .map(|(&r, &a)| r && !a)
            .collect();
        let mut order = alembic_order(graph, &needs, &targets);
        order.reverse();
        let steps = order
            .into_iter()
            .map(|i| Step {
                revision: &self.revisions()[i],
                direction: Direction::Upgrade,
                version: state.step(i, Direction::Upgrade),
            })
            .collect();
        Ok(Plan {
            direction: Direction::Upgrade,
            steps,
            heads_before,
            heads_after: state.ids(&state.rows),
        })
    }

    /// Plans a downgrade from the version-table rows `current` to `target`.
    ///
    /// Fails before anything runs if a step would cross a revision without
    /// a downgrade section.
    pub fn plan_downgrade(&self, current: &[&str], target: &str) -> Result<Plan<'_>, PlanError> {
        let graph = graph_of(self)?;
        let parsed = parse(target)?;
        let mut state = State::new(graph, self, current)?;
        let heads_before = state.ids(&state.rows);
        let resolver = Resolver { graph, target };
        let (branch, dest) = downgrade_target(&resolver, &state, &parsed)?;
        let mut roots: Vec<Ix> = match dest {
            None => graph.bases().to_vec(),
            Some(t) => graph.children(t).to_vec(),
        };
        if let Some(b) = branch.filter(|_| roots.len() > 1) {
            let keep = graph.versioned_ancestors(&[b]);
            roots.retain(|&r| keep[r]);
            if roots.is_empty() {
                return Err(TargetError::WrongDirection {
                    target: target.to_owned(),
                    direction: "downgrade",
                    heads: heads_before,
                }
                .into());
            }
        }
        let below = graph.descendants(&roots);
        let drop: Vec<bool> = below
            .iter()
            .zip(&state.applied)
            .map(|(&d, &a)| d && a)
            .collect();
        if let Some(t) = dest
            && !drop.iter().any(|&d| d)
            && !state.rows.contains(&t)
        {
            return Err(TargetError::WrongDirection {
                target: target.to_owned(),
                direction: "downgrade",
                heads: heads_before,
            }
            .into());
        }
        let order = alembic_order(graph, &drop, &state.rows.clone());
        let irreversible: Vec<String> = order
            .iter()
            .map(|&i| &self.revisions()[i])
            .filter(|rev| rev.downgrade_sql().is_none())
            .map(|rev| format!("{} ({})", rev.id(), rev.path()))
            .collect();
        if !irreversible.is_empty() {
            return Err(PlanError::Irreversible {
                revisions: irreversible,
            });
        }
        let steps = order
            .into_iter()
            .map(|i| Step {
                revision: &self.revisions()[i],
                direction: Direction::Downgrade,
                version: state.step(i, Direction::Downgrade),
            })
            .collect();
        Ok(Plan {
            direction: Direction::Downgrade,
            steps,
            heads_before,
            heads_after: state.ids(&state.rows),
        })
    }

    /// Resolves `target` to revision ids without an applied state (for
    /// `show`, `history -r` and the like): relative targets count from
    /// `head`/`base` only.
    pub fn resolve(&self, target: &str) -> Result<Vec<&Revision>, PlanError> {
        let graph = graph_of(self)?;
        let resolver = Resolver { graph, target };
        let ix: Vec<Ix> = match parse(target)? {
            Target::Absolute {
                label,
                symbol: Symbol::Heads,
            } => match label {
                None => graph.real_heads().to_vec(),
                Some(l) => resolver.heads_of(Some(resolver.branch(&l)?)),
            },
            Target::Absolute { label, symbol } => resolver
                .one(label.as_deref(), &symbol)?
                .into_iter()
                .collect(),
            Target::Relative {
                label,
                symbol,
                delta,
            } => {
                let Some(symbol) = symbol else {
                    return Err(TargetError::NothingCurrent {
                        target: target.to_owned(),
                    }
                    .into());
                };
                let branch = branch_of(&resolver, label.as_deref())?;
                let start =
                    resolver.one(if delta > 0 { None } else { label.as_deref() }, &symbol)?;
                resolver
                    .walk(start, delta, if delta > 0 { branch } else { None })?
                    .into_iter()
                    .collect()
            }
        };
        Ok(ix.into_iter().map(|i| &self.revisions()[i]).collect())
    }
}

mod order;
pub mod range;
mod stamp;

use order::{alembic_order, check_overlap};

#[cfg(test)]
mod tests;
