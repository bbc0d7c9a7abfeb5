//! The revision graph: a DAG of revisions joined by their parents
//! (`Revises`) and dependencies (`Depends On`).
//!
//! [`Graph::build`] validates a whole set at once and reports every problem
//! it finds; a built graph answers structural questions by index (ancestors,
//! descendants, heads, bases, topological order) for target resolution and
//! planning.

use std::collections::HashMap;
use std::fmt;

use crate::format::HeaderLines;
use compact::{Ids, Lists};

/// Index of a revision in a [`Graph`] (and in the slice it was built from).
pub type Ix = usize;

/// What the graph needs to know about one revision.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// The revision id.
    pub id: &'a str,
    /// Parent ids (`Revises`).
    pub parents: &'a [&'a str],
    /// Dependencies: revision ids or branch labels (`Depends On`).
    pub depends_on: &'a [&'a str],
    /// Branch labels declared on the revision.
    pub branch_labels: &'a [&'a str],
    /// The file, for error messages.
    pub file: &'a str,
    /// Header lines, for error messages (0 when unknown).
    pub lines: HeaderLines,
}

/// A problem with the revision graph as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Two files declare the same revision id.
    #[error(
        "{file}:{line}: duplicate revision id `{id}` (also declared in {other_file}:{other_line})"
    )]
    DuplicateId {
        /// The id.
        id: String,
        /// The later file.
        file: String,
        /// Its `Revision ID` line.
        line: u32,
        /// The earlier file.
        other_file: String,
        /// Its `Revision ID` line.
        other_line: u32,
    },
    /// `Revises` names a revision that does not exist.
    #[error("{file}:{line}: revision `{id}` revises `{parent}`, which is not a revision in this set{}", suggestion(.candidates))]
    UnknownParent {
        /// The revision.
        id: String,
        /// The missing parent.
        parent: String,
        /// Existing ids starting with the missing one (a shortened id was written).
        candidates: Vec<String>,
        /// The file.
        file: String,
        /// The `Revises` line.
        line: u32,
    },
    /// `Depends On` names neither a revision nor a branch label.
    #[error("{file}:{line}: revision `{id}` depends on `{dependency}`, which is neither a revision nor a branch label in this set{}", suggestion(.candidates))]
    UnknownDependency {
        /// The revision.
        id: String,
        /// The missing dependency.
        dependency: String,
        /// Existing ids starting with the missing one.
        candidates: Vec<String>,
        /// The file.
        file: String,
        /// The `Depends On` line.
        line: u32,
    },
    /// Parents and dependencies form a cycle.
    #[error("{file}:{line}: revision cycle: {}", .cycle.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(" -> "))]
    Cycle {
        /// The ids along the cycle, each revising (or depending on) the next,
        /// first repeated at the end.
        cycle: Vec<String>,
        /// The file of the first revision in the cycle.
        file: String,
        /// Its `Revises` line.
        line: u32,
    },
    /// Two revisions declare the same branch label.
    #[error(
        "{file}:{line}: branch label `{label}` is declared by revision `{id}` and by `{other_id}` ({other_file}:{other_line})"
    )]
    DuplicateLabel {
        /// The label.
        label: String,
        /// The later revision.
        id: String,
        /// Its file.
        file: String,
        /// Its `Branch Labels` line.
        line: u32,
        /// The earlier revision.
        other_id: String,
        /// Its file.
        other_file: String,
        /// Its `Branch Labels` line.
        other_line: u32,
    },
    /// A branch label is also a revision id.
    #[error(
        "{file}:{line}: branch label `{label}` of revision `{id}` is also a revision id ({other_file}); targets naming it would be ambiguous"
    )]
    LabelIsRevisionId {
        /// The label.
        label: String,
        /// The revision declaring it.
        id: String,
        /// Its file.
        file: String,
        /// Its `Branch Labels` line.
        line: u32,
        /// The file of the revision with that id.
        other_file: String,
    },
}

fn suggestion(candidates: &[String]) -> String {
    match candidates {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => format!(" (did you mean one of {}?)", quoted_list(many)),
    }
}

/// Formats ids as `` `a`, `b` `` for messages.
pub(crate) fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A validated revision DAG, addressed by index.
#[derive(Clone)]
pub struct Graph {
    ids: Ids,
    parents: Lists,
    dependencies: Lists,
    children: Lists,
    dependents: Lists,
    declared_labels: HashMap<Box<str>, Ix>,
    /// Alembic's `_normalized_down_revisions`: parents, then the
    /// dependencies no versioned ancestor also depends on.
    down: Lists,
    topo: Vec<Ix>,
    heads: Vec<Ix>,
    real_heads: Vec<Ix>,
    bases: Vec<Ix>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("revisions", &self.ids.len())
            .field(
                "heads",
                &self.heads.iter().map(|&i| self.id(i)).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn prefixed<'a>(ids: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    if prefix.len() < 4 {
        return Vec::new();
    }
    let mut found: Vec<String> = ids
        .filter(|id| id.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.truncate(5);
    found
}

impl Graph {
    /// Validates `nodes` as a graph, reporting every problem found.
    ///
    /// Node `i` becomes index `i`. Checked: duplicate ids, unknown parents
    /// and dependencies, cycles, duplicate branch labels and labels that
    /// shadow revision ids.
    pub fn build(nodes: &[Node<'_>]) -> Result<Self, Vec<GraphError>> {
        let mut errors = Vec::new();
        let mut index: HashMap<Box<str>, Ix> = HashMap::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            if let Some(&first) = index.get(node.id) {
                errors.push(GraphError::DuplicateId {
                    id: node.id.to_owned(),
                    file: node.file.to_owned(),
                    line: node.lines.id,
                    other_file: nodes[first].file.to_owned(),
                    other_line: nodes[first].lines.id,
                });
            } else {
                index.insert(node.id.into(), i);
            }
        }

        let mut declared_labels: HashMap<Box<str>, Ix> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for &label in node.branch_labels {
                if let Some(&other) = index.get(label) {
                    errors.push(GraphError::LabelIsRevisionId {
                        label: label.to_owned(),
                        id: node.id.to_owned(),
                        file: node.file.to_owned(),
                        line: node.lines.branch_labels,
                        other_file: nodes[other].file.to_owned(),
                    });
                } else if let Some(&first) = declared_labels.get(label) {
                    errors.push(GraphError::DuplicateLabel {
                        label: label.to_owned(),
                        id: node.id.to_owned(),
                        file: node.file.to_owned(),
                        line: node.lines.branch_labels,
                        other_id: nodes[first].id.to_owned(),
                        other_file: nodes[first].file.to_owned(),
                        other_line: nodes[first].lines.branch_labels,
                    });
                } else {
                    declared_labels.insert(label.into(), i);
                }
            }
        }

        let n = nodes.len();
        let mut parents = vec![Vec::new(); n];
        let mut dependencies = vec![Vec::new(); n];
        let mut children = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            if index.get(node.id) != Some(&i) {
                continue; // a duplicate: already reported, keep the first
            }
            for &parent in node.parents {
                match index.get(parent) {
                    Some(&p) => {
                        parents[i].push(p);
                        children[p].push(i);
                    }
                    None => errors.push(GraphError::UnknownParent {
                        id: node.id.to_owned(),
                        parent: parent.to_owned(),
                        candidates: prefixed(nodes.iter().map(|n| n.id), parent),
                        file: node.file.to_owned(),
                        line: node.lines.revises,
                    }),
                }
            }
            for &dependency in node.depends_on {
                if dependency.contains('@') {
                    continue; // another set's revision: checked when the sets run together
                }
                match index
                    .get(dependency)
                    .or_else(|| declared_labels.get(dependency))
                {
                    Some(&d) if d == i => {} // a label of its own: no edge
                    Some(&d) => {
                        if !dependencies[i].contains(&d) {
                            dependencies[i].push(d);
                            dependents[d].push(i);
                        }
                    }
                    None => errors.push(GraphError::UnknownDependency {
                        id: node.id.to_owned(),
                        dependency: dependency.to_owned(),
                        candidates: prefixed(nodes.iter().map(|n| n.id), dependency),
                        file: node.file.to_owned(),
                        line: node.lines.depends_on,
                    }),
                }
            }
        }

        let topo = match topological_order(&parents, &dependencies, &children, &dependents) {
            Ok(topo) => topo,
            Err(stuck) => {
                for cycle in find_cycles(&stuck, &parents, &dependencies) {
                    let first = cycle[0];
                    errors.push(GraphError::Cycle {
                        cycle: cycle.iter().map(|&i| nodes[i].id.to_owned()).collect(),
                        file: nodes[first].file.to_owned(),
                        line: nodes[first].lines.revises,
                    });
                }
                Vec::new()
            }
        };

        if !errors.is_empty() {
            return Err(errors);
        }
        let in_set = |i: &Ix| index.get(nodes[*i].id) == Some(i);
        let heads = (0..n)
            .filter(|i| in_set(i) && children[*i].is_empty())
            .collect();
        let bases = (0..n)
            .filter(|i| in_set(i) && parents[*i].is_empty())
            .collect();
        let real_heads = (0..n)
            .filter(|i| in_set(i) && children[*i].is_empty() && dependents[*i].is_empty())
            .collect();
        let down = normalized_down(&parents, &dependencies);
        Ok(Self {
            ids: Ids::new(nodes.iter().map(|node| node.id)),
            parents: Lists::new(&parents),
            dependencies: Lists::new(&dependencies),
            children: Lists::new(&children),
            dependents: Lists::new(&dependents),
            declared_labels,
            down: Lists::new(&down),
            topo,
            heads,
            real_heads,
            bases,
        })
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the graph has no revision.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// The id of revision `i`.
    pub fn id(&self, i: Ix) -> &str {
        self.ids.id(i)
    }

    /// The index of the revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<Ix> {
        self.ids.get(id)
    }

    /// The revision that declares branch label `label`.
    pub fn label(&self, label: &str) -> Option<Ix> {
        self.declared_labels.get(label).copied()
    }

    /// All declared branch labels and the revision declaring each.
    pub fn labels(&self) -> impl Iterator<Item = (&str, Ix)> + '_ {
        self.declared_labels.iter().map(|(l, &i)| (&**l, i))
    }

    /// Indices of the revisions whose id starts with `prefix`, sorted by id.
    pub fn with_prefix(&self, prefix: &str) -> Vec<Ix> {
        self.ids
            .by_id()
            .iter()
            .copied()
            .filter(|&i| self.id(i).starts_with(prefix))
            .collect()
    }

    /// Parents of `i` (`Revises`).
    pub fn parents(&self, i: Ix) -> &[Ix] {
        self.parents.get(i)
    }

    /// Dependencies of `i` (`Depends On`, labels resolved).
    pub fn dependencies(&self, i: Ix) -> &[Ix] {
        self.dependencies.get(i)
    }

    /// Children of `i`: revisions that revise it.
    pub fn children(&self, i: Ix) -> &[Ix] {
        self.children.get(i)
    }

    /// Revisions that depend on `i`.
    pub fn dependents(&self, i: Ix) -> &[Ix] {
        self.dependents.get(i)
    }

    /// Revisions nothing revises, in index order.
    pub fn heads(&self) -> &[Ix] {
        &self.heads
    }

    /// Revisions nothing revises *or depends on* (Alembic's "real heads",
    /// what the `heads` target means), in index order.
    pub fn real_heads(&self) -> &[Ix] {
        &self.real_heads
    }

    /// Parents, then the dependencies that no versioned ancestor also
    /// depends on (Alembic's `_normalized_down_revisions`): the edges that
    /// order steps and decide version-table rows.
    pub fn down(&self, i: Ix) -> &[Ix] {
        self.down.get(i)
    }

    /// True when `a` and `b` lie on one chain of parent edges (one is a
    /// versioned ancestor of the other, or they are equal): Alembic's
    /// `_shares_lineage`.
    pub fn shares_lineage(&self, a: Ix, b: Ix) -> bool {
        a == b || self.versioned_ancestors(&[a])[b] || self.versioned_ancestors(&[b])[a]
    }

    /// Revisions with no parent, in index order.
    pub fn bases(&self) -> &[Ix] {
        &self.bases
    }

    /// Every revision, parents and dependencies before the revisions that
    /// need them.
    pub fn topological(&self) -> &[Ix] {
        &self.topo
    }

    /// Marks `start` and everything reachable from it through `next`.
    fn reach<'a>(&'a self, start: &[Ix], next: impl Fn(Ix) -> [&'a [Ix]; 2]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<Ix> = start.to_vec();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            for edges in next(i) {
                stack.extend(edges.iter().copied().filter(|&j| !seen[j]));
            }
        }
        seen
    }

    /// `start` and all their ancestors through parents and dependencies, as
    /// a membership vector indexed by revision.
    pub fn ancestors(&self, start: &[Ix]) -> Vec<bool> {
        self.reach(start, |i| [self.parents(i), self.dependencies(i)])
    }

    /// `start` and all their ancestors through parents only.
    pub fn versioned_ancestors(&self, start: &[Ix]) -> Vec<bool> {
        self.reach(start, |i| [self.parents(i), &[]])
    }

    /// `start` and all their descendants through children and dependents.
    pub fn descendants(&self, start: &[Ix]) -> Vec<bool> {
        self.reach(start, |i| [self.children(i), self.dependents(i)])
    }

    /// Computes every revision's lineage hash (see [`crate::checksum`]) from
    /// the checksums, indexed like the graph.
    pub fn lineages(
        &self,
        checksum: impl Fn(Ix) -> crate::checksum::Digest256,
    ) -> Vec<crate::checksum::Digest256> {
        let mut out = vec![crate::checksum::Digest256([0; 32]); self.len()];
        for &i in &self.topo {
            let ancestors = self
                .parents(i)
                .iter()
                .chain(self.dependencies(i))
                .map(|&a| (self.id(a), &out[a]));
            let hash = crate::checksum::lineage(&checksum(i), ancestors);
            out[i] = hash;
        }
        out
    }
}

fn normalized_down(parents: &[Vec<Ix>], dependencies: &[Vec<Ix>]) -> Vec<Vec<Ix>> {
    let n = parents.len();
    let mut down = parents.to_vec();
    for i in 0..n {
        if dependencies[i].is_empty() {
            continue;
        }
        // Dependencies of every strict versioned ancestor.
        let mut inherited = vec![false; n];
        let mut seen = vec![false; n];
        let mut stack = parents[i].clone();
        while let Some(a) = stack.pop() {
            if std::mem::replace(&mut seen[a], true) {
                continue;
            }
            for &d in &dependencies[a] {
                inherited[d] = true;
            }
            stack.extend(parents[a].iter().copied().filter(|&p| !seen[p]));
        }
        for &d in &dependencies[i] {
            if !inherited[d] && !down[i].contains(&d) {
                down[i].push(d);
            }
        }
    }
    down
}

/// Kahn's algorithm over parents and dependencies; `Err` holds the nodes
/// left over, which lie on or behind a cycle. Ready nodes are taken in index
/// order, so the result is deterministic.
fn topological_order(
    parents: &[Vec<Ix>],
    dependencies: &[Vec<Ix>],
    children: &[Vec<Ix>],
    dependents: &[Vec<Ix>],
) -> Result<Vec<Ix>, Vec<Ix>> {
    let n = parents.len();
    let mut pending: Vec<usize> = (0..n)
        .map(|i| parents[i].len() + dependencies[i].len())
        .collect();
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<Ix>> = (0..n)
        .filter(|&i| pending[i] == 0)
        .map(std::cmp::Reverse)
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse(i)) = ready.pop() {
        order.push(i);
        for &c in children[i].iter().chain(&dependents[i]) {
            pending[c] -= 1;
            if pending[c] == 0 {
                ready.push(std::cmp::Reverse(c));
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err((0..n).filter(|&i| pending[i] > 0).collect())
    }
}

/// Finds one cycle per group of stuck nodes, walking ancestor edges.
fn find_cycles(stuck: &[Ix], parents: &[Vec<Ix>], dependencies: &[Vec<Ix>]) -> Vec<Vec<Ix>> {
    let n = parents.len();
    let mut is_stuck = vec![false; n];
    for &i in stuck {
        is_stuck[i] = true;
    }
    let mut done = vec![false; n];
    let mut cycles = Vec::new();
    for &start in stuck {
        if done[start] {
            continue;
        }
        // Every stuck node has a stuck ancestor, so the walk must repeat.
        let mut path: Vec<Ix> = Vec::new();
        let mut position: HashMap<Ix, usize> = HashMap::new();
        let mut current = start;
        loop {
            if let Some(&at) = position.get(&current) {
                let mut cycle: Vec<Ix> = path[at..].to_vec();
                cycle.push(current);
                cycles.push(cycle);
                break;
            }
            if done[current] {
                break; // joins a cycle already reported
            }
            position.insert(current, path.len());
            path.push(current);
            let next = parents[current]
                .iter()
                .chain(&dependencies[current])
                .copied()
                .find(|&a| is_stuck[a]);
            match next {
                Some(a) => current = a,
                None => break,
            }
        }
        for i in path {
            done[i] = true;
        }
    }
    cycles
}

mod compact;
mod labels;
#[cfg(test)]
mod tests;
