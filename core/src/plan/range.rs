//! History ranges, `retort history -r START:END`: Alembic's
//! `ScriptDirectory.walk_revisions(base, head)`, which lists what an upgrade
//! from `START` to `END` would walk through, `START` included.

use crate::graph::Ix;
use crate::revision::Revision;
use crate::set::MigrationSet;
use crate::target::{Resolver, Symbol, Target, TargetError, parse};

use super::{PlanError, branch_of, graph_of};

/// True when a side of a range needs the database's current revisions:
/// `current`, or a target relative to them (`-1`, `label@+2`).
pub fn needs_current(side: &str) -> bool {
    side == "current" || matches!(parse(side), Ok(Target::Relative { symbol: None, .. }))
}

/// One side, resolved: the revisions it names and, for `label@base` as a
/// start, the branch the range keeps to.
struct Side {
    ix: Vec<Ix>,
    branch: Option<Ix>,
}

impl MigrationSet {
    /// The revisions of the range `start:end`, newest first, as
    /// `retort history -r` lists them. An empty `start` means `base`, an
    /// empty `end` every head; either side may be `current` (the version
    /// table's `current` rows) or a target relative to them. A start of
    /// `label@base` keeps the range to that branch's heads.
    ///
    /// A start that is not below the end is an error saying so (reversed,
    /// or on another branch), where Alembic answers "does not refer to
    /// ancestor/descendant revisions along the same branch"; a valid range
    /// that holds nothing (`base:base`) is an empty list.
    pub fn range(
        &self,
        start: &str,
        end: &str,
        current: &[&str],
    ) -> Result<Vec<&Revision>, PlanError> {
        let graph = graph_of(self)?;
        let lower = match start {
            "" | "base" => Side {
                ix: Vec::new(),
                branch: None,
            },
            side => self.side(side, current, true)?,
        };
        let mut upper = match end {
            "" | "heads" => Side {
                ix: graph.heads().to_vec(),
                branch: None,
            },
            side => self.side(side, current, false)?,
        };
        if let Some(b) = lower.branch {
            upper.ix.retain(|&u| graph.shares_lineage(u, b));
        }
        let below_upper = graph.ancestors(&upper.ix);
        if lower.ix.iter().any(|&l| !below_upper[l]) {
            let named = |side: &str, empty: &str| {
                if side.is_empty() {
                    empty.to_owned()
                } else {
                    side.to_owned()
                }
            };
            let (start, end) = (named(start, "base"), named(end, "heads"));
            let range = format!("{start}:{end}");
            let below_lower = graph.ancestors(&lower.ix);
            return Err(if upper.ix.iter().all(|&u| below_lower[u]) {
                TargetError::ReversedRange { range, start, end }
            } else {
                TargetError::UnrelatedRange { range, start, end }
            }
            .into());
        }
        let above_lower = (!lower.ix.is_empty()).then(|| graph.descendants(&lower.ix));
        Ok(graph
            .topological()
            .iter()
            .rev()
            .copied()
            .filter(|&i| below_upper[i] && above_lower.as_ref().is_none_or(|a| a[i]))
            .map(|i| &self.revisions()[i])
            .collect())
    }

    /// The revisions one side of a range names.
    fn side(&self, side: &str, current: &[&str], is_start: bool) -> Result<Side, PlanError> {
        let graph = graph_of(self)?;
        let ids: Vec<String> = if side == "current" {
            let unknown: Vec<String> = current
                .iter()
                .filter(|id| self.get(id).is_none())
                .map(|id| (*id).to_owned())
                .collect();
            if !unknown.is_empty() {
                return Err(PlanError::UnknownApplied { ids: unknown });
            }
            current.iter().map(|id| (*id).to_owned()).collect()
        } else if needs_current(side) {
            let upward = matches!(parse(side), Ok(Target::Relative { delta, .. }) if delta > 0);
            let plan = if upward {
                self.plan_upgrade(current, side)?
            } else {
                self.plan_downgrade(current, side)?
            };
            plan.heads_after
        } else {
            if is_start
                && let Target::Absolute {
                    label: Some(label),
                    symbol: Symbol::Base,
                } = parse(side)?
            {
                let resolver = Resolver {
                    graph,
                    target: side,
                };
                return Ok(Side {
                    ix: Vec::new(),
                    branch: branch_of(&resolver, Some(&label))?,
                });
            }
            self.resolve(side)?
                .iter()
                .map(|r| r.id().to_owned())
                .collect()
        };
        Ok(Side {
            ix: ids.iter().filter_map(|id| self.index_of(id)).collect(),
            branch: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::set;
    use crate::plan::PlanError;
    use crate::target::TargetError;

    /// `a1` branches into `b2` (labelled `audit`, then `c3`) and `d4`.
    fn branched() -> crate::MigrationSet {
        set(&[
            ("a1", "", ""),
            ("b2", "a1", "-- Branch Labels: audit"),
            ("c3", "b2", ""),
            ("d4", "a1", ""),
        ])
    }

    fn ids(set: &crate::MigrationSet, start: &str, end: &str, current: &[&str]) -> Vec<String> {
        set.range(start, end, current)
            .unwrap_or_else(|e| panic!("{start}:{end}: {e}"))
            .iter()
            .map(|r| r.id().to_owned())
            .collect()
    }

    #[test]
    fn open_and_closed_ranges() {
        let s = branched();
        assert_eq!(ids(&s, "", "", &[]), ["d4", "c3", "b2", "a1"]);
        assert_eq!(ids(&s, "b2", "", &[]), ["c3", "b2"]);
        assert_eq!(ids(&s, "", "c3", &[]), ["c3", "b2", "a1"]);
        assert_eq!(ids(&s, "current", "", &["b2"]), ["c3", "b2"]);
        assert_eq!(ids(&s, "", "current", &["b2", "d4"]), ["d4", "b2", "a1"]);
        assert_eq!(ids(&s, "-1", "", &["c3"]), ["c3", "b2"]);
    }

    #[test]
    fn a_label_at_base_keeps_to_its_branch() {
        let s = branched();
        // As Alembic: the branch's heads and everything below them.
        assert_eq!(ids(&s, "audit@base", "", &[]), ["c3", "b2", "a1"]);
        assert_eq!(ids(&s, "audit@base", "audit@head", &[]), ["c3", "b2", "a1"]);
    }

    #[test]
    fn a_valid_range_may_be_empty() {
        let s = branched();
        assert!(ids(&s, "base", "base", &[]).is_empty());
        assert!(ids(&s, "", "current", &[]).is_empty());
        assert!(ids(&set(&[]), "", "", &[]).is_empty());
    }

    #[test]
    fn reversed_and_unrelated_ranges_are_errors() {
        let s = branched();
        for (start, end, reversed, swapped) in [
            ("heads", "base", true, "base:heads"),
            ("c3", "a1", true, "a1:c3"),
            ("c3", "d4", false, ""),
        ] {
            let e = s.range(start, end, &[]).unwrap_err();
            match (&e, reversed) {
                (PlanError::Target(TargetError::ReversedRange { .. }), true) => {
                    assert!(
                        e.to_string()
                            .contains(&format!("run `retort history -r {swapped}`")),
                        "{e}"
                    );
                }
                (PlanError::Target(TargetError::UnrelatedRange { .. }), false) => {}
                _ => panic!("{start}:{end}: {e:?}"),
            }
            // The hint's range is valid.
            if reversed {
                let (a, b) = swapped.split_once(':').unwrap();
                assert!(!ids(&s, a, b, &[]).is_empty());
            }
        }
    }
}
