//! A revision on MySQL/MariaDB in one message per statement, its
//! bookkeeping riding along (the lock check and the attempt record with
//! the first, each statement's progress with it, the version change and
//! the close with the last), where the op-by-op protocol takes a round
//! trip, and mostly a commit, for each statement and each record.
//!
//! The record stays what the op-by-op protocol leaves, because the message
//! is laid out around the statements that commit by themselves (DDL and
//! anything not known to be plain DML):
//!
//! - the attempt first, committed on its own, so an interruption inside any
//!   statement finds the revision recorded as under way; then `BEGIN`;
//! - after a statement that commits by itself, its progress, which commits
//!   on its own (autocommit) before the next statement starts, then
//!   `BEGIN`;
//! - a plain DML statement and its progress share a transaction, which the
//!   next statement that commits by itself commits first, or the close
//!   commits with it (an interruption rolls both back): at any moment the
//!   row says which statements took effect, but for the one under way;
//! - `<version change>; <close> ... AND ROW_COUNT() = 1; COMMIT` last, in
//!   one transaction (with the last statement, when it is DML): the close
//!   only applies when the version change touched exactly one row.
//!
//! Which part failed comes from the results the server sent before the
//! error (one per statement). After a failed statement the pending
//! transaction holds only completed statements and their progress, and is
//! committed, as op by op would have left them; after a failed bookkeeping
//! write it is rolled back.
//!
//! Not sent whole: a version change of several rows (merges, branch
//! points) and revisions with statements whose results or transaction
//! effects would break the layout (`CALL`, transaction control, `SET`,
//! `LOCK`): the engine runs those op by op.

use futures_util::TryStreamExt as _;
use sqlx::Either;
use sqlx::MySql;

use crate::driver::core::{Core, Tip, expect_one};
use crate::driver::inline::{OneRow, Value, fill, history};
use crate::driver::lock::lock_lost;
use crate::driver::protocol::{RecordedFailure, RecordedStep};
use crate::history::Status;

/// The session variable holding the attempt row's id.
const ATTEMPT: &str = "@retort_attempt";

/// The close's duration, measured by the server from the row's start.
const DURATION: &str = "TIMESTAMPDIFF(MICROSECOND, started_at, UTC_TIMESTAMP(6)) DIV 1000";

/// What a part of the message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Bookkeeping,
    LockCheck,
    Attempt,
    Statement(usize),
    Close,
}

/// How a statement may end a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Plain DML: stays inside the open transaction.
    Dml,
    /// May commit by itself (DDL, anything else not known to be DML).
    Commits,
    /// Not to be sent in one message.
    Unfit,
}

/// The first keyword of `sql`, past comments, decides.
fn kind(sql: &str) -> Kind {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--").or_else(|| rest.strip_prefix('#')) {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    match word.as_str() {
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "SELECT" => Kind::Dml,
        "CALL" | "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "XA"
        | "SET" | "LOCK" | "UNLOCK" | "HANDLER" | "LOAD" | "" => Kind::Unfit,
        _ => Kind::Commits,
    }
}

/// Runs `step` a message per statement (see the module docs), the first
/// starting with `lock_check` (a statement failing unless the migration
/// lock is held, and the lock's description); `None` when it is not fit
/// for that, before anything was sent.
pub(super) async fn run(
    core: &mut Core<'_, MySql>,
    step: &RecordedStep<'_>,
    lock_check: &(String, String),
    literal: fn(&str) -> String,
) -> Option<Result<(), RecordedFailure>> {
    let kinds: Vec<Kind> = step.statements.iter().map(|s| kind(s)).collect();
    if kinds.contains(&Kind::Unfit) {
        return None;
    }
    let one = OneRow::of(step.version)?;
    let (version, ids) = one.statement(&core.sql);
    let prev = match core.tip.prev::<MySql>(&mut core.conn, &core.sql).await {
        Ok(prev) => prev,
        Err(e) => return Some(Err(RecordedFailure::Record(e))),
    };
    let a = step.attempt;
    let n = step.statements.len();
    let done_hash = |done: usize| {
        let done = i64::try_from(done).unwrap_or(i64::MAX);
        a.content_with(Status::Running, done, None).hash()
    };
    let attempt_hash = a.content().hash();
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    let close_hash = a.content_with(Status::Applied, count, None).hash();

    // The attempt commits on its own: an interruption inside any statement
    // finds it recorded.
    let mut parts: Vec<(String, Part)> = vec![
        (lock_check.0.clone(), Part::LockCheck),
        (
            fill(
                &core.sql.insert_history,
                false,
                &history(a, &prev, &attempt_hash),
                literal,
            ),
            Part::Attempt,
        ),
        (
            format!("SET {ATTEMPT} = LAST_INSERT_ID()"),
            Part::Bookkeeping,
        ),
        ("BEGIN".to_owned(), Part::Bookkeeping),
    ];
    let hashes: Vec<String> = (1..n).map(done_hash).collect();
    for (k, statement) in step.statements.iter().enumerate() {
        parts.push(((*statement).to_owned(), Part::Statement(k)));
        if k + 1 < n {
            let done = i64::try_from(k + 1).unwrap_or(i64::MAX);
            let values = [
                Value::Int(Some(done)),
                Value::Text(Some(&hashes[k])),
                Value::Raw(ATTEMPT),
            ];
            // After a statement that committed, the progress commits on its
            // own (autocommit) before the next statement starts; after DML
            // it joins the statement's transaction.
            parts.push((
                fill(&core.sql.progress, false, &values, literal),
                Part::Bookkeeping,
            ));
        }
        if kinds[k] == Kind::Commits {
            parts.push(("BEGIN".to_owned(), Part::Bookkeeping));
        }
    }
    parts.push((fill(version, false, &ids, literal), Part::Bookkeeping));
    let close = [
        Value::Text(Some(Status::Applied.as_str())),
        Value::Int(Some(count)),
        Value::Text(None),
        Value::Raw(DURATION),
        Value::Text(Some(&close_hash)),
        Value::Raw(ATTEMPT),
    ];
    let close = format!(
        "{} AND ROW_COUNT() = 1",
        fill(&core.sql.finish, false, &close, literal)
    );
    parts.push((close, Part::Close));
    parts.push(("COMMIT".to_owned(), Part::Bookkeeping));

    // One message per statement, its bookkeeping riding along: a client
    // that dies leaves the server finishing at most the message under way
    // (the server runs a message to its end), as op by op it finished the
    // statement under way.
    let mut at = 0;
    let mut id = 0;
    let mut closed = 0;
    let mut failure = None;
    while at < parts.len() && failure.is_none() {
        let end = (at + 1..parts.len())
            .find(|&i| matches!(parts[i].1, Part::Statement(k) if k > 0))
            .unwrap_or(parts.len());
        let mut sql = String::new();
        for (text, _) in &parts[at..end] {
            sql.push_str(text);
            sql.push_str("\n;\n");
        }
        let mut results = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many(&mut *core.conn);
        failure = loop {
            match results.try_next().await {
                Ok(Some(Either::Left(done))) => {
                    match parts.get(at).map(|(_, part)| *part) {
                        Some(Part::Attempt) => {
                            id = i64::try_from(done.last_insert_id()).unwrap_or(0);
                        }
                        Some(Part::Close) => closed = done.rows_affected(),
                        _ => {}
                    }
                    at += 1;
                }
                Ok(Some(Either::Right(_))) => {}
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        // A statement that answered more than once (or not at all) would
        // shift every later part: go on from the message's end.
        if failure.is_none() {
            at = end;
        }
    }
    let last_done = |done: usize| match done {
        0 => attempt_hash.clone(),
        d => hashes[d - 1].clone(),
    };
    match (failure, parts.get(at).map(|(_, part)| *part)) {
        (None, _) if closed == 1 => {
            core.tip = Tip::read(Some(close_hash));
            Some(Ok(()))
        }
        (None, _) => {
            // The version change matched no row: the close did not apply,
            // the attempt stays running with the statements done.
            core.tip = Tip::read(Some(last_done(n.saturating_sub(1))));
            let error = expect_one(0, one.verb(), one.named()).err()?;
            Some(Err(RecordedFailure::Record(error)))
        }
        (Some(source), Some(Part::Statement(k))) => {
            // The pending transaction holds completed statements and their
            // progress only: keep them, as op by op would have.
            let _ = sqlx::raw_sql("COMMIT").execute(&mut *core.conn).await;
            core.tip = Tip::read(Some(last_done(k)));
            Some(Err(RecordedFailure::Statement {
                index: k,
                id,
                source,
            }))
        }
        (Some(source), Some(Part::LockCheck)) => {
            // Nothing was written: the check comes first.
            let lost = matches!(&source, sqlx::Error::Database(db)
                if db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|e| e.number() == 1242));
            Some(Err(if lost {
                RecordedFailure::LockLost(lock_lost(&lock_check.1, None))
            } else {
                RecordedFailure::Record(source)
            }))
        }
        (Some(source), _) => {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *core.conn).await;
            core.tip = Tip::default();
            Some(Err(RecordedFailure::Record(source)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, kind};

    #[test]
    fn statements_are_told_apart_by_their_first_keyword() {
        assert_eq!(kind("insert into t values (1)"), Kind::Dml);
        assert_eq!(kind("-- note\n/* x */ UPDATE t SET a = 1"), Kind::Dml);
        assert_eq!(kind("CREATE TABLE t (id INT)"), Kind::Commits);
        assert_eq!(kind("# c\nALTER TABLE t ADD b INT"), Kind::Commits);
        assert_eq!(kind("GRANT SELECT ON t TO u"), Kind::Commits);
        assert_eq!(kind("CALL p()"), Kind::Unfit);
        assert_eq!(kind("start transaction"), Kind::Unfit);
        assert_eq!(kind("SET foreign_key_checks = 0"), Kind::Unfit);
        assert_eq!(kind("(SELECT 1)"), Kind::Unfit);
    }
}
