//! What the runtime's operations return.

use std::fmt;
use std::time::Duration;

use retort_core::plan::{Direction, Step, VersionChange};

use crate::chain::HistoryCheck;
use crate::drift::Drift;

/// One step that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepReport {
    /// The revision.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// How long it took (zero in single-transaction mode, where only the
    /// whole run is timed).
    pub duration: Duration,
}

impl StepReport {
    pub(crate) fn new(step: &Step<'_>, duration: Duration) -> Self {
        Self {
            revision: step.revision.id().to_owned(),
            message: step.revision.message().to_owned(),
            direction: step.direction,
            duration,
        }
    }
}

/// The outcome of `upgrade`, `downgrade`, `stamp` or `repair`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Upgrade or downgrade; `None` for stamp and repair.
    pub direction: Option<Direction>,
    /// The steps that ran, in order.
    pub steps: Vec<StepReport>,
    /// Version-table rows before, sorted.
    pub heads_before: Vec<String>,
    /// Version-table rows after, sorted.
    pub heads_after: Vec<String>,
}

impl Report {
    /// True when nothing ran.
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty() && self.heads_before == self.heads_after
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            match self.direction {
                Some(_) => write!(f, "nothing to do; at {}", show_heads(&self.heads_after))?,
                None => write!(
                    f,
                    "{} -> {}",
                    show_heads(&self.heads_before),
                    show_heads(&self.heads_after)
                )?,
            }
            return Ok(());
        }
        for step in &self.steps {
            writeln!(
                f,
                "{} {} ({:.1} ms): {}",
                step.direction.as_str(),
                step.revision,
                step.duration.as_secs_f64() * 1000.0,
                step.message
            )?;
        }
        write!(f, "now at {}", show_heads(&self.heads_after))
    }
}

fn show_heads(heads: &[String]) -> String {
    if heads.is_empty() {
        "base".to_owned()
    } else {
        heads.join(", ")
    }
}

/// A step that did not finish (a revision run statement by statement, on
/// MySQL/MariaDB or with `Transactional: false`, that failed or was
/// interrupted): nothing runs until it is resolved. Displays as the error
/// the other verbs refuse with ([`Error::FailedState`](crate::Error::FailedState)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedStep {
    /// The revision.
    pub revision: String,
    /// Its file; `None` when this migration set does not have it.
    pub file: Option<String>,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// 1-based statement that failed or was running.
    pub statement: i64,
    /// Statements in the section.
    pub statement_count: i64,
    /// The recorded error.
    pub error: Option<String>,
    /// True when the process died instead of reporting an error.
    pub interrupted: bool,
    /// The revision(s) to stamp if the step was completed by hand.
    pub stamp_hint: String,
}

impl fmt::Display for FailedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_failed_state(
            &self.revision,
            self.file.as_deref().unwrap_or("unknown file"),
            &self.direction,
            &self.statement,
            &self.statement_count,
            &self.error,
            &self.interrupted,
            &self.stamp_hint,
            f,
        )
    }
}

/// The message of a step that did not finish, for [`FailedStep`] and
/// `Error::FailedState` (whose fields these are, in order).
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_failed_state(
    revision: &str,
    file: &str,
    direction: &Direction,
    statement: &i64,
    count: &i64,
    error: &Option<String>,
    interrupted: &bool,
    stamp_hint: &str,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(
        f,
        "the database is in a failed state: {direction} of revision `{revision}` ({file}) "
    )?;
    if file.ends_with(".rs") {
        let what = if *interrupted {
            "was interrupted while its Rust code ran, which may or may not have taken effect"
        } else {
            "failed in its Rust code"
        };
        f.write_str(what)?;
    } else if *interrupted {
        write!(
            f,
            "was interrupted at statement {statement} of {count}, which may or may not have taken effect"
        )?;
    } else {
        write!(f, "failed at statement {statement} of {count}")?;
    }
    if let Some(error) = error {
        write!(f, " ({error})")?;
    }
    write!(
        f,
        "; check the schema by hand, then run `retort repair` if the revision's effects were undone (it will run again), or `retort stamp {stamp_hint}` if you completed it by hand"
    )
}

/// The outcome of `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// The version-table rows.
    pub current: Vec<String>,
    /// The migration set's heads.
    pub heads: Vec<String>,
    /// Revisions not yet applied (towards `heads`).
    pub pending: Vec<String>,
    /// Drift between the database and the files.
    pub drift: Drift,
    /// An unfinished or failed step.
    pub failed: Option<FailedStep>,
    /// The history table's hash chain.
    pub history: HistoryCheck,
}

impl CheckReport {
    /// True when the database is at the single head, with no drift, no
    /// failed step and an intact history chain.
    pub fn is_ok(&self) -> bool {
        self.problems().is_empty()
    }

    /// Each problem, in plain words.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.heads.len() > 1 {
            problems.push(format!(
                "the migrations have {} heads ({}); merge them with `retort merge -m \"merge heads\"`",
                self.heads.len(),
                self.heads.join(", ")
            ));
        }
        if !self.pending.is_empty() {
            problems.push(format!(
                "{} revision(s) not applied: {}",
                self.pending.len(),
                self.pending.join(", ")
            ));
        }
        if !self.drift.is_empty() {
            problems.push(self.drift.to_string());
        }
        if let Some(failed) = &self.failed {
            problems.push(failed.to_string());
        }
        if let Some(broken) = &self.history.broken {
            problems.push(format!(
                "{broken}; restore the history table from a backup, or, to accept it as it stands, run `retort repair`, which re-seals the chain from that row"
            ));
        }
        problems
    }
}

/// One step of a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedStep {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub file: String,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// Whether it would run in a transaction.
    pub transactional: bool,
    /// The statements it would run, in order.
    pub statements: Vec<String>,
    /// What it would do to the version table.
    pub version: VersionChange,
}
