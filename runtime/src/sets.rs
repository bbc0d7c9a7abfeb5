//! [`upgrade_all`]: a service's own migration set and the named sets its
//! library crates ship, upgraded together.

use std::future::Future;
use std::pin::Pin;

use tracing::Instrument as _;

use crate::config::Config;
use crate::database::Database;
use crate::engine::{self, SetRun};
use crate::error::Error;
use crate::migrations::Migrations;
use crate::report::Report;

/// Upgrades each of `sets` to its heads, under one migration lock for the
/// whole database; one report per set, in the order given.
///
/// Each set keeps its own heads and history in its own tables (the
/// default set in `retort_version`/`retort_history`, a set named `jobs` in
/// `retort_version__jobs`/`retort_history__jobs`). A revision that depends
/// on another set's revision (`Depends On: jobs@a1b2`) runs after it;
/// otherwise the sets go in the order given. Before anything runs, every
/// set is checked as [`Migrations::upgrade`] checks one (drift, an
/// unfinished step, a Rust revision without its code), and every
/// dependency on another set must name a set of this call and one of its
/// revisions.
///
/// ```no_run
/// # async fn run(pool: sqlx::PgPool, jobs: &retort_runtime::Migrations, app: &retort_runtime::Migrations) -> Result<(), retort_runtime::Error> {
/// // `jobs` from a library crate (`embed_migrations!("migrations", name = "jobs")`),
/// // `app` the service's own set.
/// let reports = retort_runtime::upgrade_all(&pool, &[jobs, app]).await?;
/// for report in &reports {
///     println!("{report}");
/// }
/// # Ok(()) }
/// ```
pub async fn upgrade_all<'a>(
    db: impl Into<Database<'a>>,
    sets: &[&Migrations],
) -> Result<Vec<Report>, Error> {
    run(db.into(), sets, Config::default()).await
}

/// [`upgrade_all`] with non-default settings: `config` is the default
/// set's; each named set's tables are derived from it ([`Config::for_set`]).
pub async fn upgrade_all_with<'a>(
    db: impl Into<Database<'a>>,
    sets: &[&Migrations],
    config: &Config,
) -> Result<Vec<Report>, Error> {
    run(db.into(), sets, config.clone()).await
}

/// The boxed, non-generic body (see `migrations.rs`).
fn run<'f>(
    db: Database<'f>,
    sets: &'f [&'f Migrations],
    config: Config,
) -> Pin<Box<dyn Future<Output = Result<Vec<Report>, Error>> + Send + 'f>> {
    let names: Vec<&str> = sets
        .iter()
        .map(|m| m.name().unwrap_or("(default)"))
        .collect();
    let span = tracing::info_span!(
        target: engine::RUN_TARGET,
        "migrate",
        operation = "upgrade",
        target = "heads",
        sets = names.join(" ").as_str()
    );
    Box::pin(
        async move {
            let runs: Vec<SetRun<'_>> = sets
                .iter()
                .map(|m| SetRun {
                    set: m.set(),
                    code: m.code_table(),
                    name: m.name(),
                    config: config.for_set(m.name()),
                })
                .collect();
            let mut d = db.driver(&config).await?;
            let result = engine::upgrade_all(&mut d, &runs, &config).await;
            d.close().await;
            result
        }
        .instrument(span),
    )
}
