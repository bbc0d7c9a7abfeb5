//! sqlx: `Migrator::run(handle)`.

use crate::Result;
use crate::revisions::Sets;
use crate::setup::Handle;

/// Runs the migrator; sqlx reports no count (`usize::MAX`).
pub(crate) async fn run(sets: &Sets, h: &mut Handle) -> Result<usize> {
    // sqlx reports nothing: count by reading its table afterwards is
    // not free, so trust it (the setup asserts the count).
    match h {
        Handle::SqlitePool(p) => sets.sqlx.run(&*p).await?,
        Handle::PgPool(p) => sets.sqlx.run(&*p).await?,
        Handle::SqliteConn(c) => sets.sqlx.run(c).await?,
        Handle::PgConn(c) => sets.sqlx.run(c).await?,
        Handle::MySqlPool(p) => sets.sqlx.run(&*p).await?,
        Handle::MySqlConn(c) => sets.sqlx.run(c).await?,
        _ => unreachable!(),
    }
    Ok(usize::MAX)
}
