//! What a fleet run returns: one [`TargetReport`] per target, in the
//! order the targets were given, and the [`Progress`] it reports on the
//! way.

use std::time::Duration;

use retort_runtime::Error;

/// How one target ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome<R> {
    /// The operation ran; its result (an upgrade's [`Report`](retort_runtime::Report), ...).
    Done(R),
    /// Another runner holds the target's lock: its migration is in
    /// progress elsewhere, and this run left it alone.
    Busy,
    /// The operation failed on this target.
    Failed(Error),
    /// Not started: the run stopped at an earlier failure (not keep-going).
    NotStarted,
}

impl<R> Outcome<R> {
    /// The outcome without its value.
    pub fn status(&self) -> Status {
        match self {
            Self::Done(_) => Status::Done,
            Self::Busy => Status::Busy,
            Self::Failed(_) => Status::Failed,
            Self::NotStarted => Status::NotStarted,
        }
    }

    /// The result of a target the operation ran on.
    pub fn done(&self) -> Option<&R> {
        match self {
            Self::Done(value) => Some(value),
            _ => None,
        }
    }

    /// The error of a failed target.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Failed(error) => Some(error),
            _ => None,
        }
    }
}

/// An [`Outcome`] without its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// See [`Outcome::Done`].
    Done,
    /// See [`Outcome::Busy`].
    Busy,
    /// See [`Outcome::Failed`].
    Failed,
    /// See [`Outcome::NotStarted`].
    NotStarted,
}

impl Status {
    /// `done`, `busy`, `failed`, `not-started`: the word of `--json` and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::NotStarted => "not-started",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Done => "done",
            Self::Busy => "in progress elsewhere",
            Self::Failed => "failed",
            Self::NotStarted => "not started",
        })
    }
}

/// One target's end.
#[derive(Debug)]
#[non_exhaustive]
pub struct TargetReport<R> {
    /// The target's name ([`Target::name`](crate::Target::name)).
    pub target: String,
    /// How it ended.
    pub outcome: Outcome<R>,
    /// How long it took (zero when not started).
    pub elapsed: Duration,
}

/// A whole run: every target, in the order given.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetReport<R> {
    /// One report per target.
    pub targets: Vec<TargetReport<R>>,
    /// How long the run took.
    pub elapsed: Duration,
}

impl<R> FleetReport<R> {
    /// How many targets ended each way.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            total: self.targets.len(),
            ..Counts::default()
        };
        for target in &self.targets {
            match target.outcome.status() {
                Status::Done => counts.done += 1,
                Status::Busy => counts.busy += 1,
                Status::Failed => counts.failed += 1,
                Status::NotStarted => counts.not_started += 1,
            }
        }
        counts
    }

    /// True when no target failed and every one was started (busy ones
    /// count as success: another runner has them).
    pub fn is_success(&self) -> bool {
        let counts = self.counts();
        counts.failed == 0 && counts.not_started == 0
    }

    /// The failed targets and their errors.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &Error)> {
        self.targets
            .iter()
            .filter_map(|t| t.outcome.error().map(|e| (t.target.as_str(), e)))
    }
}

/// Targets by state, during or after a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Targets in the run.
    pub total: usize,
    /// Ended with the operation done.
    pub done: usize,
    /// Under way now.
    pub running: usize,
    /// Ended failed.
    pub failed: usize,
    /// Skipped: in progress elsewhere.
    pub busy: usize,
    /// Skipped: the run stopped before them.
    pub not_started: usize,
}

impl Counts {
    /// Targets not reached yet.
    pub fn remaining(&self) -> usize {
        self.total
            .saturating_sub(self.done + self.running + self.failed + self.busy + self.not_started)
    }
}

/// What [`Fleet::on_progress`](crate::Fleet::on_progress) is told.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A target started.
    Started {
        /// Its name.
        target: &'a str,
        /// The counts with it running.
        counts: Counts,
    },
    /// A target ended (or was passed over: [`Status::NotStarted`]).
    Finished {
        /// Its name.
        target: &'a str,
        /// How.
        status: Status,
        /// How long it took.
        elapsed: Duration,
        /// The counts with it ended.
        counts: Counts,
    },
}

impl Progress<'_> {
    /// The counts at this point.
    pub fn counts(&self) -> Counts {
        match self {
            Self::Started { counts, .. } | Self::Finished { counts, .. } => *counts,
        }
    }
}
