//! The branch labels a revision carries, its own and inherited ones.

use super::{Graph, Ix};

impl Graph {
    /// The branch labels revision `i` carries, declared or inherited,
    /// sorted: what Alembic shows after a revision id
    /// (`7367e3f76828 (audit) (head)`). As Alembic's
    /// `RevisionMap._add_branches` spreads them, a label covers the revision
    /// that declares it, every revision above it (through children), and
    /// the revisions below it down to, not including, the nearest branch
    /// point or merge.
    pub fn branch_names(&self, i: Ix) -> Vec<&str> {
        let below = self.versioned_ancestors(&[i]);
        let mut names: Vec<&str> = self
            .declared_labels
            .iter()
            .filter(|&(_, &declared)| below[declared] || self.on_stem_below(declared, i))
            .map(|(label, _)| &**label)
            .collect();
        names.sort_unstable();
        names
    }

    /// True when `i` lies on the single-parent chain below `top`, before
    /// the first revision with several children or several parents.
    fn on_stem_below(&self, top: Ix, i: Ix) -> bool {
        let mut at = top;
        while let [parent] = self.parents(at) {
            let parent = *parent;
            if self.children(parent).len() > 1 || self.parents(parent).len() > 1 {
                return false;
            }
            if parent == i {
                return true;
            }
            at = parent;
        }
        false
    }
}
