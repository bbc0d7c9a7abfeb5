//! refinery: `Runner::run` (rusqlite) or `run_async` (tokio-postgres, and
//! on MySQL a `mysql_async::Pool`).

use crate::Result;
use crate::revisions::Sets;
use crate::setup::Handle;

/// Runs the migrations; with `setup`, grouped in one transaction.
pub(crate) async fn run(sets: &Sets, h: &mut Handle, setup: bool) -> Result<usize> {
    let runner = refinery::Runner::new(&sets.refinery).set_grouped(setup);
    let report = match h {
        Handle::Rusqlite(c) => runner.run(c)?,
        Handle::TokioPg(c, _) => runner.run_async(c).await?,
        Handle::MysqlAsync(p) => runner.run_async(p).await?,
        _ => unreachable!(),
    };
    Ok(report.applied_migrations().len())
}
