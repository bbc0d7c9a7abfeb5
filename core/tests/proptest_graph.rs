//! Property tests of the graph and the planners on random revision DAGs.
//!
//! A random DAG has 1 to 39 revisions, each revising 0 to 3 earlier ones and
//! now and then depending on earlier ones; ids are random hex, so the id
//! order (retort's load order) differs from the creation order. An applied
//! state is a set of revisions closed under ancestry (parents and
//! dependencies), given to the planners as its tips, the way a version
//! table records it.
//!
//! The model below is written from the definitions, not from the planner:
//! what an upgrade must apply (the target's closure), what a downgrade must
//! remove (what is applied above the target's versioned children), and what
//! the version table must hold after every step (the tips of what is
//! applied).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::sample::Index;
use retort_core::MigrationSet;
use retort_core::plan::{Direction, Plan, PlanError, VersionChange};
use retort_core::target::TargetError;

/// A random DAG, indexed in creation order: parents and dependencies of
/// revision `i` are all `< i`.
#[derive(Debug, Clone)]
struct Dag {
    ids: Vec<String>,
    parents: Vec<Vec<usize>>,
    deps: Vec<Vec<usize>>,
}

impl Dag {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(move |&c| self.parents[c].contains(&i))
    }

    fn dependents(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(move |&c| self.deps[c].contains(&i))
    }

    /// Parents and dependencies.
    fn below(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.parents[i].iter().chain(&self.deps[i]).copied()
    }

    /// Children and dependents.
    fn above(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.children(i).chain(self.dependents(i))
    }

    /// `start` and everything below it (parents and dependencies).
    fn closure(&self, start: impl IntoIterator<Item = usize>) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = start.into_iter().collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(self.below(i));
            }
        }
        seen
    }

    /// `start` and everything above it (children and dependents).
    fn descendants(&self, start: impl IntoIterator<Item = usize>) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = start.into_iter().collect();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(self.above(i));
            }
        }
        seen
    }

    /// The members nothing else in `members` revises or depends on: the
    /// version-table rows of an applied set.
    fn tips(&self, members: &[bool]) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| members[i] && !self.above(i).any(|a| members[a]))
            .collect()
    }

    fn bases(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.parents[i].is_empty())
            .collect()
    }

    /// Nothing revises them (what `head` chooses from).
    fn versioned_heads(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.children(i).next().is_none())
            .collect()
    }

    /// Nothing revises or depends on them (what `heads` means).
    fn real_heads(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.above(i).next().is_none())
            .collect()
    }

    fn sorted_ids(&self, ix: &[usize]) -> Vec<String> {
        let mut ids: Vec<String> = ix.iter().map(|&i| self.ids[i].clone()).collect();
        ids.sort();
        ids
    }

    fn set(&self) -> MigrationSet {
        let files = (0..self.len())
            .map(|i| {
                let id = &self.ids[i];
                let list = |ix: &[usize]| ix.iter().map(|&p| self.ids[p].as_str()).collect::<Vec<_>>().join(", ");
                let mut text = format!("-- Revision ID: {id}\n-- Revises: {}\n", list(&self.parents[i]));
                if !self.deps[i].is_empty() {
                    let _ = writeln!(text, "-- Depends On: {}", list(&self.deps[i]));
                }
                let _ = write!(
                    text,
                    "\n-- migrate:upgrade\nSELECT 'up {id}';\n-- migrate:downgrade\nSELECT 'down {id}';\n"
                );
                let path = format!("migrations/{id}.sql");
                let parsed = retort_core::format::parse(&path, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                (path, text, parsed)
            })
            .collect();
        MigrationSet::from_parsed(files)
            .unwrap_or_else(|e| panic!("invalid random graph {self:?}: {e:?}"))
    }
}

/// Distinct indices below `bound`, in the order drawn.
fn pick(indices: &[Index], count: usize, bound: usize) -> Vec<usize> {
    let mut out = Vec::new();
    if bound == 0 {
        return out;
    }
    for index in &indices[..count] {
        let i = index.index(bound);
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn dag() -> impl Strategy<Value = Dag> {
    let revision = (
        any::<u32>(),
        prop_oneof![2 => Just(0usize), 8 => Just(1), 3 => Just(2), 1 => Just(3)],
        prop::array::uniform3(any::<Index>()),
        prop_oneof![10 => Just(0usize), 2 => Just(1), 1 => Just(2)],
        prop::array::uniform2(any::<Index>()),
    );
    prop::collection::vec(revision, 1..40).prop_map(|raw| {
        let mut dag = Dag {
            ids: Vec::new(),
            parents: Vec::new(),
            deps: Vec::new(),
        };
        for (i, (key, n_parents, parents, n_deps, deps)) in raw.into_iter().enumerate() {
            // Random hex first, creation index last: unique, and the id
            // order has nothing to do with the creation order.
            dag.ids.push(format!("{key:08x}{i:02x}"));
            dag.parents.push(pick(&parents, n_parents, i));
            dag.deps.push(pick(&deps, n_deps, i));
        }
        dag
    })
}

/// How to choose an applied state.
#[derive(Debug, Clone)]
enum StateChoice {
    /// The closure of the revisions whose flag is set.
    Subset(Vec<bool>),
    /// Where `plan_upgrade(&[], <revision>)` ends.
    UpgradedTo(Index),
}

fn state_choice() -> impl Strategy<Value = StateChoice> {
    prop_oneof![
        prop::collection::vec(any::<bool>(), 40).prop_map(StateChoice::Subset),
        any::<Index>().prop_map(StateChoice::UpgradedTo),
    ]
}

/// The version-table rows of the chosen state.
fn rows_of(
    dag: &Dag,
    set: &MigrationSet,
    choice: &StateChoice,
) -> Result<Vec<usize>, TestCaseError> {
    match choice {
        StateChoice::Subset(flags) => {
            let closure = dag.closure((0..dag.len()).filter(|&i| flags[i]));
            Ok(dag.tips(&closure))
        }
        StateChoice::UpgradedTo(index) => {
            let t = index.index(dag.len());
            let plan = set.plan_upgrade(&[], &dag.ids[t]).map_err(|e| {
                TestCaseError::fail(format!("upgrade to {} from nothing: {e}", dag.ids[t]))
            })?;
            let index: HashMap<&str, usize> = dag
                .ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            Ok(plan
                .heads_after
                .iter()
                .map(|id| index[id.as_str()])
                .collect())
        }
    }
}

/// A target: a revision id, `heads`, `head` or `base`.
#[derive(Debug, Clone, Copy)]
enum Target {
    Revision(usize),
    Heads,
    Head,
    Base,
}

impl Target {
    fn choose(dag: &Dag, index: Index) -> Self {
        match index.index(dag.len() + 3) {
            i if i < dag.len() => Self::Revision(i),
            i if i == dag.len() => Self::Heads,
            i if i == dag.len() + 1 => Self::Head,
            _ => Self::Base,
        }
    }

    fn text(self, dag: &Dag) -> String {
        match self {
            Self::Revision(i) => dag.ids[i].clone(),
            Self::Heads => "heads".to_owned(),
            Self::Head => "head".to_owned(),
            Self::Base => "base".to_owned(),
        }
    }
}

fn ids_of<'a>(dag: &'a Dag, rows: &[usize]) -> Vec<&'a str> {
    rows.iter().map(|&i| dag.ids[i].as_str()).collect()
}

fn is_target_error(result: &Result<Plan<'_>, PlanError>, want: fn(&TargetError) -> bool) -> bool {
    matches!(result, Err(PlanError::Target(e)) if want(e))
}

/// Applies one version-table change (update, then delete, then insert),
/// failing when a statement would not touch exactly one row.
fn replay(rows: &mut BTreeSet<String>, change: &VersionChange) -> Result<(), TestCaseError> {
    if let Some((from, to)) = &change.update {
        prop_assert!(
            rows.remove(from),
            "UPDATE from {from}, not a row of {rows:?}"
        );
        prop_assert!(rows.insert(to.clone()), "UPDATE to {to}, already a row");
    }
    for d in &change.delete {
        prop_assert!(rows.remove(d), "DELETE {d}, not a row of {rows:?}");
    }
    for i in &change.insert {
        prop_assert!(rows.insert(i.clone()), "INSERT {i}, already a row");
    }
    Ok(())
}

/// Walks the plan step by step: every step is legal when it runs, the
/// version table (replayed from the steps' changes) always holds the tips of
/// what is applied, and the plan ends at `expected` (as applied set).
fn check_steps(
    dag: &Dag,
    rows: &[usize],
    plan: &Plan<'_>,
    direction: Direction,
    expected: &[bool],
) -> Result<Vec<usize>, TestCaseError> {
    let index: HashMap<&str, usize> = dag
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut applied = dag.closure(rows.iter().copied());
    let mut table: BTreeSet<String> = rows.iter().map(|&i| dag.ids[i].clone()).collect();
    prop_assert_eq!(&plan.heads_before, &dag.sorted_ids(rows));
    prop_assert_eq!(plan.direction, direction);
    for step in &plan.steps {
        let id = step.revision.id();
        let i = index[id];
        prop_assert_eq!(step.direction, direction);
        match direction {
            Direction::Upgrade => {
                prop_assert!(
                    !applied[i],
                    "{id} is upgraded but is already applied (or twice)"
                );
                for below in dag.below(i) {
                    prop_assert!(applied[below], "{id} is upgraded before {}", dag.ids[below]);
                }
                applied[i] = true;
            }
            Direction::Downgrade => {
                prop_assert!(
                    applied[i],
                    "{id} is downgraded but is not applied (or twice)"
                );
                for above in dag.above(i) {
                    prop_assert!(
                        !applied[above],
                        "{id} is downgraded while {} is applied",
                        dag.ids[above]
                    );
                }
                applied[i] = false;
            }
        }
        replay(&mut table, &step.version)?;
        let tips: BTreeSet<String> = dag
            .tips(&applied)
            .into_iter()
            .map(|t| dag.ids[t].clone())
            .collect();
        prop_assert_eq!(&table, &tips, "rows after {} {}", direction.as_str(), id);
    }
    let missing: Vec<&str> = (0..dag.len())
        .filter(|&i| applied[i] != expected[i])
        .map(|i| dag.ids[i].as_str())
        .collect();
    prop_assert!(
        missing.is_empty(),
        "the plan ends with these revisions wrongly (un)applied: {missing:?}"
    );
    let tips = dag.tips(expected);
    prop_assert_eq!(&plan.heads_after, &dag.sorted_ids(&tips));
    prop_assert_eq!(
        table.into_iter().collect::<Vec<_>>(),
        plan.heads_after.clone()
    );
    Ok(tips)
}

/// Plans an upgrade and checks it; returns the rows after (or the rows
/// unchanged when the target is rightly refused).
fn check_upgrade(
    dag: &Dag,
    set: &MigrationSet,
    rows: &[usize],
    target: Target,
) -> Result<Vec<usize>, TestCaseError> {
    let applied = dag.closure(rows.iter().copied());
    let result = set.plan_upgrade(&ids_of(dag, rows), &target.text(dag));
    let targets = match target {
        // A deliberate difference (docs/targets.md): Alembic does nothing.
        Target::Base => {
            prop_assert!(
                is_target_error(&result, |e| matches!(e, TargetError::WrongDirection { .. })),
                "upgrade to base: {result:?}"
            );
            return Ok(rows.to_vec());
        }
        Target::Head => match dag.versioned_heads().as_slice() {
            [one] => vec![*one],
            _ => {
                prop_assert!(
                    is_target_error(&result, |e| matches!(e, TargetError::MultipleHeads { .. })),
                    "upgrade to head with several heads: {result:?}"
                );
                return Ok(rows.to_vec());
            }
        },
        Target::Heads => dag.real_heads(),
        Target::Revision(t) => vec![t],
    };
    let plan =
        result.map_err(|e| TestCaseError::fail(format!("upgrade to {}: {e}", target.text(dag))))?;
    let wanted = dag.closure(targets);
    let expected: Vec<bool> = applied.iter().zip(&wanted).map(|(a, w)| *a || *w).collect();
    check_steps(dag, rows, &plan, Direction::Upgrade, &expected)
}

/// Plans a downgrade and checks it; returns the rows after (or the rows
/// unchanged when the target is rightly refused).
fn check_downgrade(
    dag: &Dag,
    set: &MigrationSet,
    rows: &[usize],
    target: Target,
) -> Result<Vec<usize>, TestCaseError> {
    let applied = dag.closure(rows.iter().copied());
    let result = set.plan_downgrade(&ids_of(dag, rows), &target.text(dag));
    // `head` and `heads` downgrade to the single (versioned, resp. real)
    // head, if there is one.
    let single = |heads: Vec<usize>| match heads.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let dest = match target {
        Target::Base => None,
        Target::Revision(t) => Some(t),
        Target::Head | Target::Heads => {
            let heads = if matches!(target, Target::Head) {
                dag.versioned_heads()
            } else {
                dag.real_heads()
            };
            match single(heads) {
                Some(h) => Some(h),
                None => {
                    prop_assert!(
                        is_target_error(&result, |e| matches!(
                            e,
                            TargetError::MultipleHeads { .. }
                        )),
                        "downgrade to {} with several heads: {result:?}",
                        target.text(dag)
                    );
                    return Ok(rows.to_vec());
                }
            }
        }
    };
    // What lies above the target's versioned children (above every base
    // for `base`) must go; nothing else may.
    let roots = match dest {
        None => dag.bases(),
        Some(t) => dag.children(t).collect(),
    };
    let above = dag.descendants(roots);
    let drop: Vec<bool> = above.iter().zip(&applied).map(|(d, a)| *d && *a).collect();
    if let Some(t) = dest
        && !drop.contains(&true)
        && !rows.contains(&t)
    {
        // Nothing to remove and the target is not a row: either above or
        // beside what is applied, or applied only as a dependency.
        prop_assert!(
            is_target_error(&result, |e| matches!(e, TargetError::WrongDirection { .. })),
            "downgrade to {} (not a row, nothing above it applied): {result:?}",
            dag.ids[t]
        );
        return Ok(rows.to_vec());
    }
    let plan = result
        .map_err(|e| TestCaseError::fail(format!("downgrade to {}: {e}", target.text(dag))))?;
    let expected: Vec<bool> = applied.iter().zip(&drop).map(|(a, d)| *a && !*d).collect();
    match dest {
        None => prop_assert!(!expected.contains(&true)),
        Some(t) => {
            prop_assert!(expected[t], "the target itself stays applied");
            let children: Vec<usize> = dag.children(t).collect();
            let gone = dag.descendants(children);
            prop_assert!((0..dag.len()).all(|i| !(gone[i] && expected[i])));
        }
    }
    check_steps(dag, rows, &plan, Direction::Downgrade, &expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) The graph's topological order puts parents and dependencies first.
    #[test]
    fn topological_order_respects_every_edge(dag in dag()) {
        let set = dag.set();
        let graph = set.graph().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let order: Vec<&str> = graph.topological().iter().map(|&i| graph.id(i)).collect();
        prop_assert_eq!(order.len(), dag.len());
        let position: HashMap<&str, usize> = order.iter().enumerate().map(|(p, id)| (*id, p)).collect();
        prop_assert_eq!(position.len(), dag.len());
        for i in 0..dag.len() {
            for below in dag.below(i) {
                prop_assert!(
                    position[dag.ids[below].as_str()] < position[dag.ids[i].as_str()],
                    "{} comes before {}", dag.ids[i], dag.ids[below]
                );
            }
        }
    }

    /// (b) Upgrades apply exactly the target's missing closure, each step
    /// after what it needs, keeping the version table at the tips.
    #[test]
    fn upgrade_plans_are_sound(dag in dag(), state in state_choice(), target in any::<Index>()) {
        let set = dag.set();
        let rows = rows_of(&dag, &set, &state)?;
        check_upgrade(&dag, &set, &rows, Target::choose(&dag, target))?;
    }

    /// (c) Downgrades remove exactly what is applied above the target,
    /// dependents before what they need, keeping the version table at the tips.
    #[test]
    fn downgrade_plans_are_sound(dag in dag(), state in state_choice(), target in any::<Index>()) {
        let set = dag.set();
        let rows = rows_of(&dag, &set, &state)?;
        check_downgrade(&dag, &set, &rows, Target::choose(&dag, target))?;
    }

    /// (d) `upgrade heads` from nothing, then `downgrade base`, runs every
    /// revision up and down and leaves the version table empty.
    #[test]
    fn upgrade_heads_then_downgrade_base_is_the_identity(dag in dag()) {
        let set = dag.set();
        let up = set.plan_upgrade(&[], "heads").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(up.steps.len(), dag.len());
        prop_assert_eq!(&up.heads_after, &dag.sorted_ids(&dag.real_heads()));
        let rows: Vec<&str> = up.heads_after.iter().map(String::as_str).collect();
        let down = set.plan_downgrade(&rows, "base").map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(down.steps.len(), dag.len());
        prop_assert!(down.heads_after.is_empty(), "{:?}", down.heads_after);
        let mut table: BTreeSet<String> = BTreeSet::new();
        for step in up.steps.iter().chain(&down.steps) {
            replay(&mut table, &step.version)?;
        }
        prop_assert!(table.is_empty(), "{table:?}");
    }

    /// Chains of upgrades and downgrades, each starting where the previous
    /// one ended, stay sound.
    #[test]
    fn sequences_of_plans_stay_sound(
        dag in dag(),
        state in state_choice(),
        ops in prop::collection::vec((any::<bool>(), any::<Index>()), 1..6),
    ) {
        let set = dag.set();
        let mut rows = rows_of(&dag, &set, &state)?;
        for (upgrade, target) in ops {
            let target = Target::choose(&dag, target);
            rows = if upgrade {
                check_upgrade(&dag, &set, &rows, target)?
            } else {
                check_downgrade(&dag, &set, &rows, target)?
            };
        }
    }
}
