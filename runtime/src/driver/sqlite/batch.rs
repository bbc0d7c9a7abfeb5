//! A transactional step in one call to sqlx's SQLite worker thread:
//! `BEGIN`, the revision's statements, the version change, the history
//! row (values inlined as literals), `COMMIT`, where the step by step
//! transaction takes one call per statement plus `BEGIN` and `COMMIT`.
//!
//! The version change must touch one row (Alembic's check). Inside one
//! call the driver cannot look at the count before `COMMIT`, so the text
//! checks it itself: the history row is inserted by `INSERT ... SELECT`
//! whose `revision` is NULL, which the column's `NOT NULL` refuses, when
//! `changes()` (the rows the version change touched) is not 1. That fails
//! the call. On any failure the transaction is rolled back and the driver
//! runs the step again op by op, which names the failing statement (or
//! reports the version rows) as before.
//!
//! Every statement in the call costs a message from the worker thread,
//! which wakes the task awaiting it, so the call holds no statement it
//! does not need (the check is part of the history insert, not a
//! statement of its own).

use sqlx::Sqlite;

use crate::driver::core::{Core, Tip};
use crate::driver::inline::{OneRow, fill, history};
use crate::driver::protocol::{Op, TxFailure};

/// `insert` (`INSERT INTO h (revision, ...) VALUES (?, ...)`) as
/// `INSERT INTO h (revision, ...) SELECT CASE WHEN changes() = 1 THEN ?
/// END, ...`: its `revision` is NULL, which the table refuses, unless the
/// statement before it changed exactly one row. `None` if `insert` is not
/// of that shape.
pub(super) fn checked_insert(insert: &str) -> Option<String> {
    let (head, values) = insert.split_once(" VALUES (?")?;
    let rest = values.strip_suffix(')')?;
    head.contains("(revision,")
        .then(|| format!("{head} SELECT CASE WHEN changes() = 1 THEN ? END{rest}"))
}

/// Runs `ops` (a revision's statements, its version change, its history
/// row) as one call; `None` when they are not of that shape (a merge, a
/// recorded step) or the call failed and was rolled back, so the caller
/// runs them op by op.
pub(super) async fn one_call(
    core: &mut Core<'_, Sqlite>,
    ops: &[Op<'_>],
    literal: fn(&str) -> String,
) -> Option<Result<(), TxFailure>> {
    let [statements @ .., Op::Version(change), Op::History(h)] = ops else {
        return None;
    };
    let statements: Vec<&str> = statements
        .iter()
        .map(|op| match op {
            Op::Sql(sql) => Some(*sql),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let one = OneRow::of(change)?;
    let (version, values) = one.statement(&core.sql);
    // An insert of an existing row fails on the primary key by itself.
    let checked = !matches!(one, OneRow::Insert(_));
    let prev = match core.tip.prev::<Sqlite>(&mut core.conn, &core.sql).await {
        Ok(prev) => prev,
        Err(e) => return Some(Err(TxFailure::new(None, e))),
    };
    let insert_history = if checked {
        checked_insert(&core.sql.insert_history)?
    } else {
        core.sql.insert_history.clone()
    };
    let hash = h.content().hash();
    let mut sql = String::from("BEGIN;\n");
    for statement in statements {
        sql.push_str(statement);
        sql.push_str("\n;\n");
    }
    sql.push_str(&fill(version, false, &values, literal));
    sql.push_str(";\n");
    let row = history(h, &prev, &hash);
    sql.push_str(&fill(&insert_history, false, &row, literal));
    sql.push_str(";\nCOMMIT");
    let error = match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *core.conn)
        .await
    {
        Ok(_) => {
            core.tip = Tip::read(Some(hash));
            return Some(Ok(()));
        }
        Err(error) => error,
    };
    match sqlx::raw_sql("ROLLBACK").execute(&mut *core.conn).await {
        Ok(_) => {}
        // The failure came before BEGIN or ended the transaction itself.
        Err(e) if e.to_string().contains("no transaction is active") => {}
        // The connection is unusable: nothing to run the step again on.
        Err(_) => return Some(Err(TxFailure::new(None, error))),
    }
    tracing::debug!(
        %error,
        "the step failed as one call; running it again op by op to name the failing statement"
    );
    None
}
