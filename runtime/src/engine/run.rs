//! The verbs that run under the migration lock: taking it, reading the
//! state, refusing drift and unfinished steps, planning, and running.

use retort_core::MigrationSet;
use retort_core::plan::{Direction, Plan};

use super::bookkeeping;
use super::common::{Lineages, RUN_TARGET, drift_of, refuse_unfinished, row_ids, with_recorded};
use super::step::{self, execute};
use crate::code::Functions;
use crate::config::Config;
use crate::drift::{self, Drift};
use crate::driver::{DbState, Driver};
use crate::error::Error;
use crate::history::Operation;
use crate::report::Report;

/// Operations that run under the migration lock.
pub(crate) enum Locked<'t> {
    Upgrade(&'t str),
    Downgrade(&'t str),
    Stamp { targets: &'t [&'t str], purge: bool },
    Repair,
}

impl Locked<'_> {
    /// The span around a run: the operation and what it was asked for.
    pub(crate) fn span(&self) -> tracing::Span {
        let (operation, target) = match self {
            Self::Upgrade(target) => (Operation::Upgrade, (*target).to_owned()),
            Self::Downgrade(target) => (Operation::Downgrade, (*target).to_owned()),
            Self::Stamp { targets, .. } => (Operation::Stamp, targets.join(" ")),
            Self::Repair => (Operation::Repair, String::new()),
        };
        let operation = operation.as_str();
        tracing::info_span!(target: RUN_TARGET, "migrate", operation, target = target.as_str())
    }
}

/// `upgrade head`/`heads` when the database is already there: answered
/// from the version table alone, without the lock, in time independent of
/// the number of revisions.
pub(super) async fn already_at_head<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    config: &Config,
    target: &str,
) -> Result<Option<Report>, Error> {
    let single = set.heads().len() == 1;
    if !(target == "heads" || (target == "head" && single)) {
        return Ok(None);
    }
    let Some(state) = d.peek_state().await? else {
        return Ok(None);
    };
    if state.unfinished.is_some() || state.rows.len() != set.heads().len() {
        return Ok(None);
    }
    let mut rows = row_ids(&state);
    rows.sort_unstable();
    if !rows.iter().copied().eq(set.heads()) {
        return Ok(None);
    }
    if config.verify_checksums && !drift::quick(set, &state.rows) {
        return Ok(None);
    }
    let heads: Vec<String> = rows.iter().map(|r| (*r).to_owned()).collect();
    Ok(Some(Report {
        direction: Some(Direction::Upgrade),
        steps: Vec::new(),
        heads_before: heads.clone(),
        heads_after: heads,
    }))
}

/// Runs `op` under the migration lock, which is released on every path
/// (and by the server when the process dies: the lock lives on a dedicated
/// connection or file descriptor).
pub(crate) async fn locked<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    config: &Config,
    code: &[Functions],
    op: Locked<'_>,
) -> Result<Report, Error> {
    if let Locked::Upgrade(target) = op
        && let Some(report) = already_at_head(d, set, config, target).await?
    {
        tracing::info!(heads = ?report.heads_after, "database is already at head");
        return Ok(report);
    }
    d.lock(config.lock_timeout).await?;
    let result = run_locked(d, set, config, code, op).await;
    let unlocked = d.unlock().await;
    if let Err(e) = &unlocked {
        // The lock lives on a dedicated connection (or file descriptor)
        // that is closed next, which releases it anyway.
        tracing::warn!(error = %e, "could not release the migration lock explicitly; closing its connection releases it");
    }
    result
}

async fn run_locked<D: Driver>(
    d: &mut D,
    set: &MigrationSet,
    config: &Config,
    code: &[Functions],
    op: Locked<'_>,
) -> Result<Report, Error> {
    let state = d.read_state().await?;
    match op {
        Locked::Upgrade(target) => {
            refuse_unfinished(set, &state)?;
            let drift = drift_of(d, set, &state).await?;
            let verified = accept_drift(drift, config, Direction::Upgrade)?;
            let plan = set.plan_upgrade(&row_ids(&state), target)?;
            run_plan(d, config, code, &state, plan, Lineages::new(set, verified)).await
        }
        Locked::Downgrade(target) => {
            refuse_unfinished(set, &state)?;
            let rows = row_ids(&state);
            let extended = with_recorded(d, set, &rows).await?;
            // Refused on drift as an upgrade is: an edited downgrade
            // section must not run unnoticed. Rows this build lacks but
            // the history recorded are no drift here: their recorded
            // downgrade SQL is what runs.
            let mut drift = drift_of(d, set, &state).await?;
            if let Some(extended) = &extended {
                drift.unknown.retain(|id| extended.get(id).is_none());
            }
            let verified = accept_drift(drift, config, Direction::Downgrade)?;
            let planned = extended.as_ref().unwrap_or(set);
            let plan = planned.plan_downgrade(&rows, target)?;
            let lineages = Lineages::new(planned, verified);
            run_plan(d, config, code, &state, plan, lineages).await
        }
        Locked::Stamp { targets, purge } => {
            bookkeeping::stamp(d, set, &state, targets, purge).await
        }
        Locked::Repair => bookkeeping::repair(d, set, &state).await,
    }
}

/// Refuses on drift (the error names each edited file and the way out),
/// unless checksum verification is off; `Ok(false)` when going on over it.
pub(super) fn accept_drift(
    drift: Drift,
    config: &Config,
    direction: Direction,
) -> Result<bool, Error> {
    if drift.is_empty() {
        return Ok(true);
    }
    if config.verify_checksums {
        return Err(Error::Drift(drift));
    }
    tracing::warn!(%drift, "checksum verification is off: running the {direction} despite drift, which stays reported until `repair`");
    Ok(false)
}

/// Validates the plan, creates the bookkeeping tables if it has steps,
/// and runs it.
async fn run_plan<D: Driver>(
    d: &mut D,
    config: &Config,
    code: &[Functions],
    state: &DbState,
    plan: Plan<'_>,
    lineages: Lineages<'_>,
) -> Result<Report, Error> {
    if !plan.steps.is_empty() {
        step::validate(d, config, code, &plan)?;
        d.ensure_tables(state.layout).await?;
    }
    execute(d, config, code, plan, lineages).await
}
