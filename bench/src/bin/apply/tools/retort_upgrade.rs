//! retort: `Migrations::upgrade(handle, "head")`.

use std::time::Duration;

use crate::Result;
use crate::report::fmt_d;
use crate::revisions::Sets;
use crate::setup::Handle;

/// Upgrades to head; with `setup` (bringing a no-op database to head), in
/// one transaction (not on MySQL, which refuses it: DDL commits implicitly).
pub(crate) async fn run(sets: &Sets, h: &mut Handle, setup: bool) -> Result<usize> {
    let mysql = matches!(h, Handle::MySqlPool(_) | Handle::MySqlConn(_));
    let migrator = if setup && !mysql {
        // Setting up the no-op benchmark: one transaction is faster
        // and records the same rows.
        sets.retort.with_config(
            retort::Config::default().transaction_mode(retort::TransactionMode::Single),
        )
    } else {
        sets.retort.with_config(retort::Config::default())
    };
    let report = match h {
        Handle::SqlitePool(p) => migrator.upgrade(&*p, "head").await?,
        Handle::PgPool(p) => migrator.upgrade(&*p, "head").await?,
        Handle::SqliteConn(c) => migrator.upgrade(c, "head").await?,
        Handle::PgConn(c) => migrator.upgrade(c, "head").await?,
        Handle::MySqlPool(p) => migrator.upgrade(&*p, "head").await?,
        Handle::MySqlConn(c) => migrator.upgrade(c, "head").await?,
        _ => unreachable!(),
    };
    if std::env::var_os("RETORT_BENCH_STEPS").is_some() && report.steps.len() >= 10 {
        // Diagnostics: mean step duration per tenth of the run.
        let tenth = report.steps.len() / 10;
        let means: Vec<String> = report
            .steps
            .chunks(tenth)
            .take(10)
            .map(|c| fmt_d(c.iter().map(|s| s.duration).sum::<Duration>() / c.len() as u32))
            .collect();
        eprintln!("  retort step means by tenth: {}", means.join(", "));
    }
    Ok(report.steps.len())
}
