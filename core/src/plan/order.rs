//! Step order: Alembic's `_topological_sort`, and the overlap check.

use crate::graph::{Graph, Ix};

/// Errors with the first row that is an ancestor of another.
pub(super) fn check_overlap(graph: &Graph, ix: &[Ix]) -> Result<(), (String, Vec<String>)> {
    if ix.len() < 2 {
        return Ok(());
    }
    for &a in ix {
        let below = graph.descendants(&[a]);
        let others: Vec<String> = ix
            .iter()
            .filter(|&&b| b != a && below[b])
            .map(|&b| graph.id(b).to_owned())
            .collect();
        if !others.is_empty() {
            return Err((graph.id(a).to_owned(), others));
        }
    }
    Ok(())
}

/// Alembic's `_topological_sort`: the order in which to *remove* `todo`
/// walking down from `heads`; reversed, the order to apply it.
pub(super) fn alembic_order(graph: &Graph, todo: &[bool], heads: &[Ix]) -> Vec<Ix> {
    let mut todo = todo.to_vec();
    let mut remaining = todo.iter().filter(|&&t| t).count();
    let mut cur: Vec<Ix> = heads.iter().copied().filter(|&h| todo[h]).collect();
    cur.sort_unstable();
    cur.dedup();
    let mut anc: Vec<Vec<bool>> = cur.iter().map(|&h| graph.ancestors(&[h])).collect();
    let mut out = Vec::with_capacity(remaining);
    let mut i = 0;
    while !cur.is_empty() && remaining > 0 {
        let c = cur[i];
        if let Some(j) = (0..cur.len()).find(|&j| j != i && anc[j][c]) {
            i = j;
            continue;
        }
        if todo[c] {
            out.push(c);
            todo[c] = false;
            remaining -= 1;
        }
        let add: Vec<Ix> = graph
            .down(c)
            .iter()
            .copied()
            .filter(|p| todo[*p] && !cur.contains(p))
            .collect();
        if add.is_empty() {
            cur.remove(i);
            anc.remove(i);
            i = i.saturating_sub(1);
        } else if graph.down(c).len() == graph.parents(c).len() && graph.parents(c).len() == 1 {
            cur[i] = add[0];
            anc[i][c] = false;
        } else {
            cur[i] = add[0];
            anc[i] = graph.ancestors(&add[..1]);
            for &p in &add[1..] {
                cur.push(p);
                anc.push(graph.ancestors(&[p]));
            }
        }
    }
    if remaining > 0 {
        // Not reachable from `heads` (cannot happen for the sets the
        // planners pass); keep them, dependents first, rather than drop them.
        out.extend(
            graph
                .topological()
                .iter()
                .rev()
                .copied()
                .filter(|&i| todo[i]),
        );
    }
    out
}
