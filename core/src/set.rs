//! [`MigrationSet`]: a validated set of revisions, embedded or loaded.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::checksum::Digest256;
use crate::format::{HeaderLines, ParsedRevision};
use crate::graph::{Graph, GraphError, Node};
use crate::revision::{Names, Revision, from_parsed};

/// A validated set of revisions: every file parsed, the graph checked, every
/// checksum computed.
///
/// Revisions are kept sorted by id, so looking one up is a binary search and
/// the "already at head?" check needs no graph at all: an embedded set
/// carries its heads' lineage hashes. The graph, and the lineage hashes of
/// the other revisions, are computed on first use.
pub struct MigrationSet {
    revisions: Cow<'static, [Revision]>,
    heads: Names,
    /// The lineage hash of each of `heads` (embedded sets; empty otherwise).
    head_lineages: &'static [Digest256],
    /// The lineage hash of every revision, by index.
    lineages: OnceLock<Vec<Digest256>>,
    graph: OnceLock<Result<Graph, Vec<GraphError>>>,
}

impl std::fmt::Debug for MigrationSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationSet")
            .field("revisions", &self.revisions.len())
            .field("heads", &self.heads)
            .finish_non_exhaustive()
    }
}

impl Clone for MigrationSet {
    fn clone(&self) -> Self {
        Self {
            revisions: self.revisions.clone(),
            heads: self.heads.clone(),
            head_lineages: self.head_lineages,
            lineages: self.lineages.clone(),
            graph: OnceLock::new(),
        }
    }
}

impl MigrationSet {
    /// Used by `embed_migrations!`: `revisions` sorted by id and validated at
    /// compile time, `heads` sorted, `head_lineages[i]` the lineage hash of
    /// `heads[i]`. Not part of the public API.
    ///
    /// Only the heads' lineage hashes are embedded: a revision's hash
    /// covers all of its ancestors, so embedding every one would make an
    /// edit of the oldest file change every revision's constant.
    #[doc(hidden)]
    pub const fn __embedded(
        revisions: &'static [Revision],
        heads: &'static [&'static str],
        head_lineages: &'static [Digest256],
    ) -> Self {
        Self {
            revisions: Cow::Borrowed(revisions),
            heads: Names::Static(heads),
            head_lineages,
            lineages: OnceLock::new(),
            graph: OnceLock::new(),
        }
    }

    /// Builds a set from parsed files `(display path, text, parsed)`,
    /// validating the graph and computing lineage hashes.
    pub fn from_parsed(
        files: Vec<(String, String, ParsedRevision)>,
    ) -> Result<Self, Vec<GraphError>> {
        let mut files = files;
        files.sort_by(|a, b| a.2.id.cmp(&b.2.id));
        let lines: Vec<HeaderLines> = files.iter().map(|f| f.2.lines).collect();
        let revisions: Vec<Revision> = files
            .into_iter()
            .map(|(path, text, parsed)| from_parsed(path, text, parsed))
            .collect();
        Self::assemble(revisions, &lines)
    }

    /// Builds a set from revisions that already exist (those of another
    /// set, [recovered](Revision::recovered) ones), validating the graph
    /// and computing lineage hashes; nothing is parsed again.
    pub fn from_revisions(mut revisions: Vec<Revision>) -> Result<Self, Vec<GraphError>> {
        revisions.sort_by(|a, b| a.id().cmp(b.id()));
        Self::assemble(revisions, &[])
    }

    /// `revisions`, sorted by id, as a set; `lines[i]` (when given) is
    /// where revision `i`'s header values are, for error messages.
    fn assemble(revisions: Vec<Revision>, lines: &[HeaderLines]) -> Result<Self, Vec<GraphError>> {
        let graph = build_graph(&revisions, lines)?;
        let lineages = OnceLock::from(graph.lineages(|i| revisions[i].checksum()));
        let mut heads: Vec<String> = graph
            .heads()
            .iter()
            .map(|&i| revisions[i].id().to_owned())
            .collect();
        heads.sort();
        let graph_cell = OnceLock::new();
        let _ = graph_cell.set(Ok(graph));
        Ok(Self {
            revisions: Cow::Owned(revisions),
            heads: Names::Owned(heads),
            head_lineages: &[],
            lineages,
            graph: graph_cell,
        })
    }

    /// Every revision, sorted by id. Index `i` here is index `i` of
    /// [`MigrationSet::graph`].
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// True when the set has no revision.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id (a binary search, no graph needed).
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.index_of(id).map(|i| &self.revisions[i])
    }

    /// The index of the revision with exactly this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.revisions.binary_search_by(|r| r.id().cmp(id)).ok()
    }

    /// The ids of the heads, sorted: revisions nothing revises, what
    /// `retort heads` lists and `embed_migrations!` counts. A head that
    /// another revision depends on is one of these but not a *real* head
    /// ([`Graph::real_heads`]), which is what the `heads` target upgrades
    /// to and what the version table holds after `upgrade heads`.
    pub fn heads(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.heads.iter()
    }

    /// The lineage hash of the revision with this id (see
    /// [`crate::checksum`]): its checksum and, transitively, every
    /// ancestor's. `None` for an unknown id, or when the graph is invalid
    /// (only a set assembled by hand can be).
    ///
    /// An embedded set answers for its heads from what it embeds; for any
    /// other revision the first call computes every revision's hash (one
    /// SHA-256 each).
    pub fn lineage(&self, id: &str) -> Option<Digest256> {
        if let Names::Static(heads) = &self.heads
            && let Ok(k) = heads.binary_search(&id)
            && let Some(&lineage) = self.head_lineages.get(k)
        {
            return Some(lineage);
        }
        let i = self.index_of(id)?;
        self.lineages
            .get_or_init(|| match self.graph() {
                Ok(graph) => graph.lineages(|i| self.revisions[i].checksum()),
                Err(_) => Vec::new(),
            })
            .get(i)
            .copied()
    }

    /// The revision graph, built on first use.
    ///
    /// Embedded sets were validated at compile time and loaded ones when they
    /// were loaded, so this only fails for a set assembled by hand.
    pub fn graph(&self) -> Result<&Graph, &[GraphError]> {
        self.graph
            .get_or_init(|| build_graph(&self.revisions, &[]))
            .as_ref()
            .map_err(Vec::as_slice)
    }
}

fn build_graph(revisions: &[Revision], lines: &[HeaderLines]) -> Result<Graph, Vec<GraphError>> {
    let parents: Vec<Vec<&str>> = revisions.iter().map(|r| r.parents().collect()).collect();
    let depends: Vec<Vec<&str>> = revisions.iter().map(|r| r.depends_on().collect()).collect();
    let labels: Vec<Vec<&str>> = revisions
        .iter()
        .map(|r| r.branch_labels().collect())
        .collect();
    let nodes: Vec<Node<'_>> = revisions
        .iter()
        .enumerate()
        .map(|(i, r)| Node {
            id: r.id(),
            parents: &parents[i],
            depends_on: &depends[i],
            branch_labels: &labels[i],
            file: r.path(),
            lines: lines.get(i).copied().unwrap_or_default(),
        })
        .collect();
    Graph::build(&nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::parse;

    fn set(files: &[(&str, &str)]) -> MigrationSet {
        let parsed = files
            .iter()
            .map(|(path, text)| {
                (
                    (*path).to_owned(),
                    (*text).to_owned(),
                    parse(path, text).unwrap(),
                )
            })
            .collect();
        MigrationSet::from_parsed(parsed).unwrap()
    }

    #[test]
    fn from_revisions_keeps_lineages_and_adds_recovered_ones() {
        let known = set(&[
            (
                "m/a1.sql",
                "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n",
            ),
            (
                "m/b2.sql",
                "-- Revision ID: b2\n-- Revises: a1\n-- migrate:upgrade\nSELECT 1;\n",
            ),
        ]);
        let mut revisions = vec![Revision::recovered("c3", &["b2"], Some("DROP TABLE u;\n"))];
        revisions.extend(known.revisions().iter().cloned());
        let extended = MigrationSet::from_revisions(revisions).unwrap();
        assert_eq!(extended.heads().collect::<Vec<_>>(), ["c3"]);
        for rev in known.revisions() {
            assert_eq!(
                extended.lineage(rev.id()),
                known.lineage(rev.id()),
                "{}",
                rev.id()
            );
        }
        let c3 = extended.get("c3").unwrap();
        assert_eq!(c3.downgrade_sql(), Some("DROP TABLE u;\n"));
        assert_eq!(c3.upgrade_sql(), "");
        // The source is what a file of it would hold: it parses back to the same revision.
        let reparsed = parse(c3.path(), c3.source()).unwrap();
        assert_eq!(reparsed.parents, ["b2"]);
        assert_eq!(reparsed.downgrade, c3.downgrade_span());
        assert_eq!(reparsed.upgrade, c3.upgrade_span());
        assert_eq!(reparsed.checksum, c3.checksum());
        assert!(extended.lineage("c3").is_some());
        assert_ne!(extended.lineage("c3"), known.lineage("b2"));
        assert_eq!(extended.lineage("zz"), None);

        // A recovered revision whose parent is in neither: a graph error.
        let orphan = vec![Revision::recovered("d4", &["zz"], None)];
        assert!(MigrationSet::from_revisions(orphan).is_err());
    }

    #[test]
    fn an_embedded_set_answers_for_its_heads_from_what_it_embeds() {
        let loaded = set(&[
            (
                "m/a1.sql",
                "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nCREATE TABLE t (id INT);\n",
            ),
            (
                "m/b2.sql",
                "-- Revision ID: b2\n-- Revises: a1\n-- migrate:upgrade\nSELECT 1;\n",
            ),
        ]);
        let revisions: &'static [Revision] = loaded.revisions().to_vec().leak();
        const MARKER: Digest256 = Digest256([7; 32]);
        let embedded = MigrationSet::__embedded(revisions, &["b2"], &[MARKER]);
        // The head's hash is the embedded one (a real one is never all 7s),
        // every other revision's is computed from the graph.
        assert_eq!(embedded.lineage("b2"), Some(MARKER));
        assert_eq!(embedded.lineage("a1"), loaded.lineage("a1"));
        assert_eq!(embedded.lineage("c3"), None);
    }
}
