//! Several migration sets of one database upgraded together: one lock,
//! each set's own tables, and the steps ordered so that a revision runs
//! after the revisions of other sets it depends on (`Depends On:
//! jobs@a1b2`).

use std::collections::{HashMap, HashSet};

use retort_core::MigrationSet;
use retort_core::plan::{Direction, Plan, Step};

use super::common::{Lineages, drift_of, refuse_unfinished, row_ids};
use super::run::{accept_drift, already_at_head};
use super::step::{execute, validate};
use crate::code::Functions;
use crate::config::Config;
use crate::driver::Driver;
use crate::error::Error;
use crate::report::Report;

/// One set of a run: its revisions, their compiled code, its name and its
/// settings ([`Config::for_set`]).
pub(crate) struct SetRun<'s> {
    pub(crate) set: &'s MigrationSet,
    pub(crate) code: &'s [Functions],
    pub(crate) name: Option<&'s str>,
    pub(crate) config: Config,
}

/// Upgrades every set to its heads under one migration lock; one report
/// per set, in the order given.
pub(crate) async fn upgrade_all<D: Driver>(
    d: &mut D,
    sets: &[SetRun<'_>],
    config: &Config,
) -> Result<Vec<Report>, Error> {
    let order = check_names(sets)?;
    check_dependencies(sets, &order)?;
    if let Some(reports) = all_at_heads(d, sets).await? {
        tracing::info!("every migration set is already at its heads");
        return Ok(reports);
    }
    d.lock(config.lock_timeout).await?;
    let result = upgrade_locked(d, sets, &order).await;
    if let Err(e) = d.unlock().await {
        tracing::warn!(error = %e, "could not release the migration lock explicitly; closing its connection releases it");
    }
    result
}

/// The index of each named set; refuses two sets with the same name.
fn check_names<'s>(sets: &[SetRun<'s>]) -> Result<HashMap<&'s str, usize>, Error> {
    let mut seen: HashMap<Option<&str>, usize> = HashMap::new();
    for (i, s) in sets.iter().enumerate() {
        if seen.insert(s.name, i).is_some() {
            return Err(Error::Config {
                setting: "migration sets",
                message: format!(
                    "two sets named {} were given; each set of a database needs its own name (`embed_migrations!(\"...\", name = \"...\")`)",
                    s.name
                        .map_or("(the default, unnamed set)".to_owned(), |n| format!(
                            "`{n}`"
                        ))
                ),
            });
        }
    }
    Ok(seen
        .into_iter()
        .filter_map(|(name, i)| Some((name?, i)))
        .collect())
}

/// Every set's report when each is already at its heads, answered as
/// [`already_at_head`] answers for one set: without the lock.
async fn all_at_heads<D: Driver>(
    d: &mut D,
    sets: &[SetRun<'_>],
) -> Result<Option<Vec<Report>>, Error> {
    let mut reports = Vec::with_capacity(sets.len());
    for s in sets {
        d.use_tables(&s.config);
        match already_at_head(d, s.set, &s.config, "heads").await? {
            Some(report) => reports.push(report),
            None => return Ok(None),
        }
    }
    Ok(Some(reports))
}

/// Every dependency on another set names a set of the run and one of its
/// revisions.
fn check_dependencies(sets: &[SetRun<'_>], names: &HashMap<&str, usize>) -> Result<(), Error> {
    for rev in sets.iter().flat_map(|s| s.set.revisions()) {
        for (set, revision) in rev.other_sets_depends_on() {
            let problem = match names.get(set) {
                None => format!(
                    "but no migration set named `{set}` is upgraded with it: pass that set too (`retort::upgrade_all(&db, &[&{set}::MIGRATIONS, ...])`)"
                ),
                Some(&j) if sets[j].set.get(revision).is_none() => {
                    format!("which is not a revision of the set `{set}`")
                }
                Some(_) => continue,
            };
            return Err(Error::SetDependency {
                revision: rev.id().to_owned(),
                file: rev.path().to_owned(),
                dependency: format!("{set}@{revision}"),
                problem,
            });
        }
    }
    Ok(())
}

async fn upgrade_locked<D: Driver>(
    d: &mut D,
    sets: &[SetRun<'_>],
    names: &HashMap<&str, usize>,
) -> Result<Vec<Report>, Error> {
    let mut plans = Vec::with_capacity(sets.len());
    let mut lineages = Vec::with_capacity(sets.len());
    let mut layouts = Vec::with_capacity(sets.len());
    for s in sets {
        d.use_tables(&s.config);
        let state = d.read_state().await?;
        refuse_unfinished(s.set, &state)?;
        let drift = drift_of(d, s.set, &state).await?;
        let accepted = accept_drift(drift, &s.config, Direction::Upgrade)?;
        lineages.push(Lineages::new(s.set, accepted));
        let plan = s.set.plan_upgrade(&row_ids(&state), "heads")?;
        validate(d, &s.config, s.code, &plan)?;
        layouts.push(state.layout);
        plans.push(plan);
    }
    let runs = interleave(&plans, names)?;
    let mut reports: Vec<Report> = plans
        .iter()
        .map(|plan| Report {
            direction: Some(Direction::Upgrade),
            steps: Vec::new(),
            heads_before: plan.heads_before.clone(),
            heads_after: plan.heads_before.clone(),
        })
        .collect();
    let mut steps: Vec<std::vec::IntoIter<Step<'_>>> = plans
        .into_iter()
        .map(|plan| plan.steps.into_iter())
        .collect();
    let mut ensured = vec![false; sets.len()];
    let mut applied = Vec::new();
    for (i, count) in runs {
        let s = &sets[i];
        d.use_tables(&s.config);
        if !ensured[i] {
            d.ensure_tables(layouts[i]).await?;
            ensured[i] = true;
        }
        // Takes this set's history tip for the rows its steps chain on.
        d.read_state().await?;
        let plan = Plan {
            direction: Direction::Upgrade,
            steps: steps[i].by_ref().take(count).collect(),
            heads_before: reports[i].heads_after.clone(),
            heads_after: Vec::new(),
        };
        match execute(d, &s.config, s.code, plan, lineages[i]).await {
            Ok(report) => {
                applied.extend(report.steps.iter().cloned());
                reports[i].steps.extend(report.steps);
                reports[i].heads_after = report.heads_after;
            }
            Err(error) => {
                let mut done = applied;
                done.extend(error.applied().iter().cloned());
                return Err(error.with_applied(done));
            }
        }
    }
    Ok(reports)
}

/// The order of the run, as consecutive runs of one set's steps: `(set,
/// number of its next steps)`. Each set's steps keep their order; a step
/// waits for the steps of other sets it depends on, and the sets are
/// taken in the order given otherwise.
fn interleave(
    plans: &[Plan<'_>],
    names: &HashMap<&str, usize>,
) -> Result<Vec<(usize, usize)>, Error> {
    let mut pending: Vec<HashSet<&str>> = plans
        .iter()
        .map(|plan| plan.steps.iter().map(|s| s.revision.id()).collect())
        .collect();
    let mut next = vec![0; plans.len()];
    let mut runs = Vec::new();
    loop {
        let mut progressed = false;
        for (i, plan) in plans.iter().enumerate() {
            let start = next[i];
            while let Some(step) = plan.steps.get(next[i]) {
                let waiting = step
                    .revision
                    .other_sets_depends_on()
                    .any(|(set, rev)| names.get(set).is_some_and(|&j| pending[j].contains(rev)));
                if waiting {
                    break;
                }
                pending[i].remove(step.revision.id());
                next[i] += 1;
            }
            if next[i] > start {
                runs.push((i, next[i] - start));
                progressed = true;
            }
        }
        if next
            .iter()
            .zip(plans)
            .all(|(&n, plan)| n == plan.steps.len())
        {
            return Ok(runs);
        }
        if !progressed {
            let (i, plan) = plans
                .iter()
                .enumerate()
                .find(|(i, plan)| next[*i] < plan.steps.len())
                .unwrap_or((0, &plans[0]));
            let step = &plan.steps[next[i]];
            let (set, revision) = step
                .revision
                .other_sets_depends_on()
                .find(|(set, rev)| names.get(set).is_some_and(|&j| pending[j].contains(rev)))
                .unwrap_or(("", ""));
            return Err(dependency_error(
                step,
                set,
                revision,
                "which waits in turn for this set: the sets' dependencies on each other form a cycle".to_owned(),
            ));
        }
    }
}

fn dependency_error(step: &Step<'_>, set: &str, revision: &str, problem: String) -> Error {
    Error::SetDependency {
        revision: step.revision.id().to_owned(),
        file: step.revision.path().to_owned(),
        dependency: format!("{set}@{revision}"),
        problem,
    }
}
