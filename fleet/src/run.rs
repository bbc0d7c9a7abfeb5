//! The fleet runner: one operation over many targets, a bounded number at
//! a time, each under its own lock, with no coordinator: a target whose
//! lock another runner holds is skipped as busy, so several runners split
//! a fleet between them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use retort_runtime::{CheckReport, Config, Error, Migrations, Migrator, Report};
use tracing::Instrument as _;

use crate::report::{Counts, FleetReport, Outcome, Progress, Status, TargetReport};
use crate::target::Target;

/// The `tracing` target of the runner's events: one when a target starts
/// and one when it ends (fields `fleet_target`, `status`, `elapsed_ms`).
pub const FLEET_TARGET: &str = "retort::fleet";

type ProgressFn<'m> = Box<dyn Fn(&Progress<'_>) + Send + Sync + 'm>;

/// Runs migrations over a fleet of targets.
///
/// ```no_run
/// # async fn example(migrations: &retort_runtime::Migrations) -> Result<(), Box<dyn std::error::Error>> {
/// use retort_fleet::{Fleet, Target};
///
/// let base = "postgres://app@db.internal/app";
/// let targets = ["acme", "globex", "initech"]
///     .into_iter()
///     .map(|tenant| Target::schema(base, tenant))
///     .collect::<Result<Vec<_>, _>>()?;
/// let report = Fleet::new(migrations).jobs(8).upgrade(&targets, "head").await;
/// for target in &report.targets {
///     println!("{}: {}", target.target, target.outcome.status());
/// }
/// if !report.is_success() {
///     return Err("some tenants failed".into());
/// }
/// # Ok(()) }
/// ```
pub struct Fleet<'m> {
    migrations: &'m Migrations,
    config: Config,
    jobs: usize,
    keep_going: bool,
    wait_for_busy: bool,
    progress: Option<ProgressFn<'m>>,
}

impl std::fmt::Debug for Fleet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("revisions", &self.migrations.len())
            .field("config", &self.config)
            .field("jobs", &self.jobs)
            .field("keep_going", &self.keep_going)
            .field("wait_for_busy", &self.wait_for_busy)
            .finish_non_exhaustive()
    }
}

impl<'m> Fleet<'m> {
    /// A runner of `migrations` with the default [`Config`], 4 jobs,
    /// stopping at the first failure, skipping busy targets.
    pub fn new(migrations: &'m Migrations) -> Self {
        Self {
            migrations,
            config: Config::default(),
            jobs: 4,
            keep_going: false,
            wait_for_busy: false,
            progress: None,
        }
    }

    /// The settings every target runs with (a schema target's tables go
    /// to its schema whatever `config` says).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// How many targets run at once (at least 1). Each running target
    /// holds two connections on PostgreSQL and MySQL (the work and the
    /// lock's), so `jobs` times two must fit the server's connection limit
    /// along with everything else.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Go on after a target fails (`true`), or start no new target once
    /// one has failed, letting those under way finish (`false`, the
    /// default): those never started are reported [`Outcome::NotStarted`].
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    /// Wait for a target whose lock another runner holds, up to the lock
    /// timeout (`true`: what a service starting up needs before it serves
    /// the tenant), or skip it at once as [`Outcome::Busy`] (`false`, the
    /// default: several runners split a fleet).
    pub fn wait_for_busy(mut self, wait: bool) -> Self {
        self.wait_for_busy = wait;
        self
    }

    /// Calls `f` when a target starts and when it ends, with the counts so
    /// far (for a live display). `f` runs on the runner's task: keep it
    /// short.
    pub fn on_progress(mut self, f: impl Fn(&Progress<'_>) + Send + Sync + 'm) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    /// Upgrades every target to `revision` (`head`, `heads`, an id, ...).
    pub async fn upgrade(&self, targets: &[Target], revision: &str) -> FleetReport<Report> {
        self.run(targets, move |m, url| async move {
            m.upgrade(url.as_str(), revision).await
        })
        .await
    }

    /// Downgrades every target to `revision`.
    pub async fn downgrade(&self, targets: &[Target], revision: &str) -> FleetReport<Report> {
        self.run(targets, move |m, url| async move {
            m.downgrade(url.as_str(), revision).await
        })
        .await
    }

    /// Stamps every target with `revisions`, running nothing
    /// ([`Migrator::stamp`]).
    pub async fn stamp(
        &self,
        targets: &[Target],
        revisions: &[&str],
        purge: bool,
    ) -> FleetReport<Report> {
        self.run(targets, move |m, url| async move {
            m.stamp(url.as_str(), revisions, purge).await
        })
        .await
    }

    /// Checks every target: pending revisions, drift, a failed step
    /// ([`Migrator::check`]). Takes no lock.
    pub async fn check(&self, targets: &[Target]) -> FleetReport<CheckReport> {
        self.run(targets, |m, url| async move { m.check(url.as_str()).await })
            .await
    }

    /// Reads every target's current revisions. Takes no lock.
    pub async fn current(&self, targets: &[Target]) -> FleetReport<Vec<String>> {
        self.run(
            targets,
            |m, url| async move { m.current(url.as_str()).await },
        )
        .await
    }

    /// Runs `op` on every target with the target's [`Migrator`] and URL:
    /// the operations above, or the caller's own. An `Err` of
    /// [`Error::LockTimeout`] means busy unless
    /// [`wait_for_busy`](Self::wait_for_busy).
    pub async fn run<R, F, Fut>(&self, targets: &[Target], op: F) -> FleetReport<R>
    where
        F: Fn(Migrator<'m>, String) -> Fut,
        Fut: Future<Output = Result<R, Error>>,
    {
        let started = Instant::now();
        let shared = Shared {
            stop: AtomicBool::new(false),
            counts: Mutex::new(Counts {
                total: targets.len(),
                ..Counts::default()
            }),
        };
        tracing::info!(
            target: FLEET_TARGET,
            targets = targets.len(),
            jobs = self.jobs,
            keep_going = self.keep_going,
            "fleet run starting"
        );
        let op = &op;
        let shared = &shared;
        // The futures are made up front (they do nothing until polled): in
        // a stream's `map` closure they would make the run's future `Send`
        // for one lifetime only, and a service could not spawn it.
        let futures: Vec<_> = targets
            .iter()
            .enumerate()
            .map(|(index, target)| async move { (index, self.one(target, op, shared).await) })
            .collect();
        let mut done: Vec<(usize, TargetReport<R>)> = futures_util::stream::iter(futures)
            .buffer_unordered(self.jobs)
            .collect()
            .await;
        done.sort_by_key(|(index, _)| *index);
        let report = FleetReport {
            targets: done.into_iter().map(|(_, report)| report).collect(),
            elapsed: started.elapsed(),
        };
        let counts = report.counts();
        tracing::info!(
            target: FLEET_TARGET,
            done = counts.done,
            busy = counts.busy,
            failed = counts.failed,
            not_started = counts.not_started,
            elapsed_ms = millis(report.elapsed),
            "fleet run finished"
        );
        report
    }

    /// One target: started unless the run stopped, its outcome, progress.
    async fn one<R, F, Fut>(&self, target: &Target, op: &F, shared: &Shared) -> TargetReport<R>
    where
        F: Fn(Migrator<'m>, String) -> Fut,
        Fut: Future<Output = Result<R, Error>>,
    {
        let name = target.name();
        if !self.keep_going && shared.stop.load(Ordering::Acquire) {
            let counts = shared.update(|c| c.not_started += 1);
            self.report(&Progress::Finished {
                target: name,
                status: Status::NotStarted,
                elapsed: Duration::ZERO,
                counts,
            });
            return TargetReport {
                target: name.to_owned(),
                outcome: Outcome::NotStarted,
                elapsed: Duration::ZERO,
            };
        }
        let counts = shared.update(|c| c.running += 1);
        self.report(&Progress::Started {
            target: name,
            counts,
        });
        let mut config = target.config(&self.config);
        if !self.wait_for_busy {
            config = config.lock_timeout(Duration::ZERO);
        }
        let migrator = self.migrations.with_config(config);
        let span = tracing::info_span!(target: FLEET_TARGET, "fleet", fleet_target = %name);
        let start = Instant::now();
        let result = op(migrator, target.expose_url().to_owned())
            .instrument(span)
            .await;
        let elapsed = start.elapsed();
        let outcome = match result {
            Ok(value) => Outcome::Done(value),
            Err(Error::LockTimeout { .. }) if !self.wait_for_busy => Outcome::Busy,
            Err(error) => {
                shared.stop.store(true, Ordering::Release);
                Outcome::Failed(error)
            }
        };
        let status = outcome.status();
        let counts = shared.update(|c| {
            c.running -= 1;
            match status {
                Status::Done => c.done += 1,
                Status::Busy => c.busy += 1,
                Status::Failed => c.failed += 1,
                Status::NotStarted => c.not_started += 1,
            }
        });
        match &outcome {
            Outcome::Failed(error) => tracing::warn!(
                target: FLEET_TARGET,
                fleet_target = %name,
                status = status.as_str(),
                elapsed_ms = millis(elapsed),
                error = %error,
                "fleet target failed"
            ),
            _ => tracing::info!(
                target: FLEET_TARGET,
                fleet_target = %name,
                status = status.as_str(),
                elapsed_ms = millis(elapsed),
                "fleet target finished"
            ),
        }
        self.report(&Progress::Finished {
            target: name,
            status,
            elapsed,
            counts,
        });
        TargetReport {
            target: name.to_owned(),
            outcome,
            elapsed,
        }
    }

    fn report(&self, progress: &Progress<'_>) {
        if let Some(f) = &self.progress {
            f(progress);
        }
    }
}

/// What the targets of one run share.
struct Shared {
    /// Set by a failure: start no more targets (unless keep-going).
    stop: AtomicBool,
    counts: Mutex<Counts>,
}

impl Shared {
    /// Applies `f` to the counts and returns them.
    fn update(&self, f: impl FnOnce(&mut Counts)) -> Counts {
        match self.counts.lock() {
            Ok(mut counts) => {
                f(&mut counts);
                *counts
            }
            Err(poisoned) => {
                let mut counts = poisoned.into_inner();
                f(&mut counts);
                *counts
            }
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
