//! The floor: the revisions' SQL with no bookkeeping.

use sqlx::{AssertSqlSafe, Connection};

use super::Tool;
use crate::Result;
use crate::revisions::Sets;
use crate::setup::Handle;

/// Applies every revision with no bookkeeping: `raw` runs each
/// revision's SQL in one call, `raw-stmt` each statement in its own.
pub(crate) async fn run(tool: Tool, sets: &Sets, h: &mut Handle) -> Result<usize> {
    match h {
        Handle::SqlitePool(p) => {
            let mut c = p.acquire().await?;
            raw_apply_sqlite(tool, sets, &mut c).await?;
        }
        Handle::PgPool(p) => {
            let mut c = p.acquire().await?;
            raw_apply_pg(tool, sets, &mut c).await?;
        }
        Handle::MySqlPool(p) => {
            let mut c = p.acquire().await?;
            raw_apply_my(tool, sets, &mut c).await?;
        }
        Handle::SqliteConn(c) => raw_apply_sqlite(tool, sets, c).await?,
        Handle::PgConn(c) => raw_apply_pg(tool, sets, c).await?,
        Handle::MySqlConn(c) => raw_apply_my(tool, sets, c).await?,
        _ => unreachable!(),
    }
    Ok(sets.n)
}

/// The floor: per revision `BEGIN`, its SQL, `COMMIT`. (On MySQL the
/// `CREATE TABLE` commits implicitly, so the transaction holds the `INSERT`
/// alone; that is still the floor: what any tool must send.)
macro_rules! raw_apply_fn {
    ($name:ident, $conn:ty) => {
        async fn $name(tool: Tool, sets: &Sets, c: &mut $conn) -> Result<()> {
            for i in 0..sets.n {
                let mut tx = c.begin().await?;
                if tool == Tool::Raw {
                    sqlx::raw_sql(AssertSqlSafe(sets.raw[i].as_str()))
                        .execute(&mut *tx)
                        .await?;
                } else {
                    for s in &sets.raw_stmts[i] {
                        sqlx::raw_sql(AssertSqlSafe(s.as_str()))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
            }
            Ok(())
        }
    };
}
raw_apply_fn!(raw_apply_sqlite, sqlx::SqliteConnection);
raw_apply_fn!(raw_apply_pg, sqlx::PgConnection);
raw_apply_fn!(raw_apply_my, sqlx::MySqlConnection);
