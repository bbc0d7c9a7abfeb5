//! The graph's storage once built: every id in one string and every
//! adjacency list in one array, so a graph of 10,000 revisions holds a
//! few allocations instead of tens of thousands (see BENCHMARKS.md,
//! "Where the peak RSS goes").

/// A revision's index (the graph's `Ix`, not imported: the graph uses
/// this module, and modules here depend one way).
type Ix = usize;

/// One list of indices per revision, all in one array.
#[derive(Debug, Clone, Default)]
pub(super) struct Lists {
    /// `items[starts[i]..starts[i + 1]]` is revision `i`'s list.
    starts: Vec<usize>,
    items: Vec<Ix>,
}

impl Lists {
    pub(super) fn new(lists: &[Vec<Ix>]) -> Self {
        let mut starts = Vec::with_capacity(lists.len() + 1);
        let mut items = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        starts.push(0);
        for list in lists {
            items.extend_from_slice(list);
            starts.push(items.len());
        }
        Self { starts, items }
    }

    /// Revision `i`'s list.
    pub(super) fn get(&self, i: Ix) -> &[Ix] {
        &self.items[self.starts[i]..self.starts[i + 1]]
    }
}

/// The revisions' ids, in index order, and a lookup by id.
#[derive(Debug, Clone, Default)]
pub(super) struct Ids {
    /// Every id, one after the other.
    text: String,
    /// `text[ends[i - 1]..ends[i]]` is revision `i`'s id.
    ends: Vec<usize>,
    /// Indices sorted by id, for binary search.
    sorted: Vec<Ix>,
}

impl Ids {
    /// `ids` must be distinct (the graph refuses duplicates before).
    pub(super) fn new<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Self {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(ids.len());
        for id in ids {
            text.push_str(id);
            ends.push(text.len());
        }
        let mut this = Self {
            text,
            ends,
            sorted: Vec::new(),
        };
        let mut sorted: Vec<Ix> = (0..this.len()).collect();
        sorted.sort_unstable_by(|&a, &b| this.id(a).cmp(this.id(b)));
        this.sorted = sorted;
        this
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Revision `i`'s id.
    pub(super) fn id(&self, i: Ix) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1],
        };
        &self.text[start..self.ends[i]]
    }

    /// The index of the revision with exactly this id.
    pub(super) fn get(&self, id: &str) -> Option<Ix> {
        self.sorted
            .binary_search_by(|&i| self.id(i).cmp(id))
            .ok()
            .map(|k| self.sorted[k])
    }

    /// Every index, sorted by id.
    pub(super) fn by_id(&self) -> &[Ix] {
        &self.sorted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ids_read_back() {
        let lists = Lists::new(&[vec![2], vec![], vec![0, 1]]);
        assert_eq!(lists.get(0), [2]);
        assert!(lists.get(1).is_empty());
        assert_eq!(lists.get(2), [0, 1]);
        let ids = Ids::new(["b2", "a1", "c3"].into_iter());
        assert_eq!(ids.len(), 3);
        assert_eq!(ids.id(0), "b2");
        assert_eq!(ids.id(2), "c3");
        assert_eq!(ids.get("a1"), Some(1));
        assert_eq!(ids.get("c3"), Some(2));
        assert_eq!(ids.get("a"), None);
        assert_eq!(ids.by_id(), [1, 0, 2]);
    }
}
