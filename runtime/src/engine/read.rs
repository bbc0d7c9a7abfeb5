//! The verbs that only read: `current`, `history`, `check` and the dry run.

use retort_core::MigrationSet;
use retort_core::plan::Direction;
use retort_core::split::split;

use super::common::{drift_with, failed_step, row_ids, sorted, with_recorded};
use crate::chain;
use crate::driver::Driver;
use crate::error::Error;
use crate::history::HistoryEntry;
use crate::report::{CheckReport, PlannedStep};

/// `current`: the version-table rows, sorted.
pub(crate) async fn current<D: Driver>(d: &mut D) -> Result<Vec<String>, Error> {
    let state = d.read_state().await?;
    Ok(sorted(state.rows.into_iter().map(|r| r.version).collect()))
}

/// `history`: the history table, oldest first.
pub(crate) async fn history_of<D: Driver>(d: &mut D) -> Result<Vec<HistoryEntry>, Error> {
    d.read_history().await
}

/// `check`: drift, heads, pending revisions, unfinished attempts and the
/// history's hash chain.
pub(crate) async fn check<D: Driver>(d: &mut D, set: &MigrationSet) -> Result<CheckReport, Error> {
    let state = d.read_state().await?;
    let history = d.read_history().await?;
    let drift = drift_with(set, &state, &history);
    let pending = if drift.unknown.is_empty() {
        set.plan_upgrade(&row_ids(&state), "heads")?
            .steps
            .iter()
            .map(|s| s.revision.id().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    Ok(CheckReport {
        current: sorted(state.rows.iter().map(|r| r.version.clone()).collect()),
        heads: set.heads().map(str::to_owned).collect(),
        pending,
        drift,
        failed: state.unfinished.as_ref().map(|a| failed_step(set, a)),
        history: chain::verify(&history),
    })
}

/// A dry run: the steps and their statements, without executing or locking.
pub(crate) async fn plan<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    direction: Direction,
    target: &str,
) -> Result<Vec<PlannedStep>, Error> {
    let state = d.read_state().await?;
    let rows = row_ids(&state);
    let extended = match direction {
        Direction::Upgrade => None,
        Direction::Downgrade => with_recorded(d, set, &rows).await?,
    };
    let set = extended.as_ref().unwrap_or(set);
    let plan = match direction {
        Direction::Upgrade => set.plan_upgrade(&rows, target)?,
        Direction::Downgrade => set.plan_downgrade(&rows, target)?,
    };
    let dialect = d.dialect();
    Ok(plan
        .steps
        .iter()
        .map(|step| PlannedStep {
            revision: step.revision.id().to_owned(),
            file: step.revision.path().to_owned(),
            direction: step.direction,
            transactional: step.revision.is_transactional(),
            statements: split(step.sql(), dialect)
                .iter()
                .map(|s| s.sql.to_owned())
                .collect(),
            version: step.version.clone(),
        })
        .collect())
}
