//! A transactional step's bookkeeping as one statement ([`Fused`]), and
//! the whole step as one simple-query message ([`one_message`]): `BEGIN`,
//! the revision's statements, an `EXECUTE` of the bookkeeping prepared
//! once per run ([`Prepared`]) with its values as literals, `COMMIT`. One
//! round trip per revision, the floor's.
//!
//! In the message, the bookkeeping cannot hand its answers (lock held,
//! version rows changed) back before `COMMIT`, so it fails the
//! transaction itself when one is wrong: a cast of a marker text
//! ([`LOCK_LOST`], [`VERSION_MISMATCH`]) to `int`, evaluated only on that
//! branch. The
//! driver reads the marker from the error; on any other error it rolls
//! back and runs the step again statement by statement, which names the
//! failing statement (the step is transactional: the failed attempt left
//! nothing behind).

use retort_core::plan::VersionChange;

use crate::driver::inline::{OneRow, Value, fill, history};
use crate::driver::rows::NewHistory;
use crate::driver::sql::HISTORY_COLUMNS;

/// In the error of a one-message step whose lock check failed.
pub(super) const LOCK_LOST: &str = "retort:migration-lock-lost";

/// In the error of a one-message step whose version change matched no row,
/// or several.
pub(super) const VERSION_MISMATCH: &str = "retort:version-rows-changed";

/// [`LEASE_HELD`]'s test as an expression: one literal for both, so the
/// checked form cannot drift from it.
macro_rules! lease_ok {
    () => {
        "CASE WHEN $1::bigint IS NULL THEN true \
         ELSE NOT pg_try_advisory_xact_lock_shared($1::bigint) END"
    };
}

/// Whether the lock session still holds the migration lock, checked from
/// the work session in about a microsecond: the lock session also holds
/// an exclusive advisory lock on a random *lease* key (`$1`), which only it
/// knows and which it loses exactly when it loses the migration lock (it
/// runs nothing but retort's lock calls, so only its end releases them).
/// While it holds the lease, a shared try-lock on it fails. A NULL lease
/// (the lock lives on the work session itself, which cannot have ended
/// while it runs this) is always held. When the try-lock succeeds, the
/// lease is lost and the work session holds it in shared mode until its
/// transaction ends, which blocks no one.
pub(super) const LEASE_HELD: &str = concat!("SELECT ", lease_ok!(), " AS ok");

/// A step's bookkeeping as one statement (a data-modifying CTE): checks
/// that the migration lock is still held ([`LEASE_HELD`]), changes the
/// version table and inserts the history row. One round trip instead of
/// three (lock check, version change, history insert). In two forms: one
/// writing nothing unless the lock is held and returning `(lock held,
/// version rows changed)`, and one failing instead when either is wrong
/// (for [`one_message`]). Binds: the history row as `$1`..`$16` (the
/// order of `insert_history`), the lease key `$17`, then the version ids
/// `$18` (and `$19`, the old id of an update).
pub(super) struct Fused {
    update: Pair,
    insert: Pair,
    delete: Pair,
}

/// One version change's statement: answering `(lock held, rows changed)`
/// (`plain`), and failing the transaction instead when either is wrong
/// (`checked`, for [`one_message`]).
struct Pair {
    plain: String,
    checked: String,
}

impl Fused {
    /// The statements for the version table `v` and history table `h`
    /// (quoted, qualified).
    pub(super) fn new(v: &str, h: &str) -> Self {
        let held = LEASE_HELD.replace("$1", "$17");
        let lease_ok = lease_ok!().replace("$1", "$17");
        let values = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16";
        let with = |guarded: &str, version: &str| Pair {
            plain: format!(
                "WITH held AS ({held}), v AS ({guarded} RETURNING 1), \
                 h AS (INSERT INTO {h} ({HISTORY_COLUMNS}) SELECT {values} \
                 WHERE (SELECT ok FROM held) RETURNING 1) \
                 SELECT (SELECT ok FROM held), (SELECT count(*) FROM v)"
            ),
            // One CTE and the insert, which fails instead of inserting
            // when a check is wrong: about two thirds of the server time
            // of the guarded form with three CTEs and the answer as a
            // select (before it is prepared, see `Prepared`). The casts
            // depend on the version change's count, so the planner cannot
            // fold them (and fail) on a branch not taken.
            checked: format!(
                "WITH v AS ({version} RETURNING 1) \
                 INSERT INTO {h} ({HISTORY_COLUMNS}) SELECT {values} \
                 FROM (SELECT count(*) AS n FROM v) AS c WHERE CASE \
                 WHEN NOT ({lease_ok}) \
                 THEN CAST('{LOCK_LOST}' || c.n AS int) = 0 \
                 WHEN c.n <> 1 THEN CAST('{VERSION_MISMATCH}:' || c.n AS int) = 0 \
                 ELSE true END"
            ),
        };
        let guard = "AND (SELECT ok FROM held)";
        Self {
            update: with(
                &format!("UPDATE {v} SET version_num = $18 WHERE version_num = $19 {guard}"),
                &format!("UPDATE {v} SET version_num = $18 WHERE version_num = $19"),
            ),
            insert: with(
                &format!("INSERT INTO {v} (version_num) SELECT $18 WHERE (SELECT ok FROM held)"),
                &format!("INSERT INTO {v} (version_num) VALUES ($18)"),
            ),
            delete: with(
                &format!("DELETE FROM {v} WHERE version_num = $18 {guard}"),
                &format!("DELETE FROM {v} WHERE version_num = $18"),
            ),
        }
    }

    /// The statement and version ids for a change of one row (a linear
    /// step, a new base or the last step down to base); `None` for merges
    /// and branch points, which change several rows.
    pub(super) fn pick<'c>(&self, change: &'c VersionChange) -> Option<FusedChange<'_, 'c>> {
        let one = OneRow::of(change)?;
        let (pair, kind, id, from) = match one {
            OneRow::Update { from, to } => (&self.update, 0, to, Some(from)),
            OneRow::Insert(id) => (&self.insert, 1, id, None),
            OneRow::Delete(id) => (&self.delete, 2, id, None),
        };
        Some(FusedChange {
            sql: &pair.plain,
            checked: &pair.checked,
            kind,
            verb: one.verb(),
            id,
            from,
        })
    }
}

/// A one-row version change, as [`Fused`] runs it.
pub(super) struct FusedChange<'s, 'c> {
    /// The statement answering `(lock held, rows changed)`, with binds.
    pub(super) sql: &'s str,
    /// The statement failing the transaction instead, for [`one_message`].
    checked: &'s str,
    /// Which of [`Fused`]'s statements: update, insert, delete.
    kind: usize,
    /// For the compare-and-set error: `update`, `insert` or `delete`.
    pub(super) verb: &'static str,
    /// The row's new id (update, insert) or the deleted one.
    pub(super) id: &'c str,
    /// The updated row's old id.
    pub(super) from: Option<&'c str>,
}

/// String literal: `E'...'` with doubled backslashes when the text has a
/// backslash (so the result does not depend on
/// `standard_conforming_strings`), else standard quoting.
pub(crate) fn literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

impl FusedChange<'_, '_> {
    /// The checked statement's values: the history row `h` (linked to
    /// `prev`, hashed `hash`), the lease `lease`, the version ids.
    pub(super) fn values<'v>(
        &'v self,
        h: &'v NewHistory<'_>,
        prev: &'v str,
        hash: &'v str,
        lease: Option<i64>,
    ) -> Vec<Value<'v>> {
        let mut values = history(h, prev, hash).to_vec();
        values.extend([Value::Int(lease), Value::Text(Some(self.id))]);
        values.extend(self.from.map(|from| Value::Text(Some(from))));
        values
    }

    /// The checked statement with `values` written in as literals.
    pub(super) fn inline(&self, values: &[Value<'_>]) -> String {
        fill(self.checked, true, values, literal)
    }
}

/// The checked statements prepared on the work session (`PREPARE`), one
/// per kind of version change, so that a step's message carries `EXECUTE
/// name(values)`: the server then plans the bookkeeping once per run, not
/// once per revision (planning was most of its server time). Prepared on
/// first use, each in a round trip of its own, and deallocated when the
/// lock is released. A `PREPARE` survives the rollback of a failed step.
///
/// The names carry a random tag, so they never meet a statement that a
/// cancelled run left on a pooled session. When a prepared statement is
/// gone (`26000`: a pooler in transaction mode hands out other sessions),
/// the run goes on with the values written in as literals.
pub(super) struct Prepared {
    tag: u64,
    count: u32,
    names: [Option<String>; 3],
    /// Prepared for tables no longer in use: deallocated with the rest.
    stale: Vec<String>,
    off: bool,
}

impl Prepared {
    pub(super) fn new(tag: i64) -> Self {
        Self {
            tag: u64::from_ne_bytes(tag.to_ne_bytes()),
            count: 0,
            names: [None, None, None],
            stale: Vec::new(),
            off: false,
        }
    }

    /// The bookkeeping of `change` with `values`: an `EXECUTE` of its
    /// prepared statement (prepared now if it is not yet), or the
    /// statement with the values inlined.
    pub(super) async fn bookkeeping(
        &mut self,
        conn: &mut sqlx::PgConnection,
        change: &FusedChange<'_, '_>,
        values: &[Value<'_>],
    ) -> String {
        if self.off {
            return change.inline(values);
        }
        if self.names[change.kind].is_none() {
            self.count += 1;
            let name = format!("retort_bookkeeping_{:016x}_{}", self.tag, self.count);
            let types: Vec<&str> = values
                .iter()
                .map(|v| match v {
                    Value::Int(_) => "bigint",
                    Value::Text(_) | Value::Raw(_) => "text",
                })
                .collect();
            let prepare = format!(
                "PREPARE {name} ({}) AS {}",
                types.join(", "),
                change.checked
            );
            match sqlx::raw_sql(sqlx::AssertSqlSafe(prepare))
                .execute(&mut *conn)
                .await
            {
                Ok(_) => self.names[change.kind] = Some(name),
                Err(error) => {
                    tracing::debug!(%error, "could not prepare the bookkeeping; writing its values in");
                    self.off = true;
                    return change.inline(values);
                }
            }
        }
        let name = self.names[change.kind].as_deref().unwrap_or_default();
        let args: Vec<String> = values.iter().map(|v| v.render(literal, true)).collect();
        format!("EXECUTE {name}({})", args.join(", "))
    }

    /// After a failed step: a prepared statement the session no longer
    /// has turns preparing off for the run.
    pub(super) fn failed(&mut self, error: &sqlx::Error) {
        if let sqlx::Error::Database(db) = error
            && db.code().as_deref() == Some("26000")
        {
            self.stale.clear();
            self.names = [None, None, None];
            self.off = true;
        }
    }

    /// The tables changed: the statements are prepared again on next use.
    pub(super) fn reset(&mut self) {
        self.stale
            .extend(self.names.iter_mut().filter_map(Option::take));
    }

    /// Deallocates what was prepared (best effort: a statement the session
    /// lost is gone anyway, and a session that ended took them all).
    pub(super) async fn deallocate(&mut self, conn: &mut sqlx::PgConnection) {
        self.reset();
        if self.stale.is_empty() {
            return;
        }
        let sql: Vec<String> = (self.stale.drain(..))
            .map(|name| format!("DEALLOCATE {name}"))
            .collect();
        if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.join(";\n")))
            .execute(&mut *conn)
            .await
        {
            tracing::debug!(%error, "could not deallocate the prepared bookkeeping");
        }
    }
}

/// The step as one simple-query message: `BEGIN`, `statements`, the
/// `bookkeeping`, `COMMIT`. Each statement ends with a line break before
/// its `;`, so a trailing line comment cannot swallow it.
pub(super) fn one_message<'s>(
    statements: impl Iterator<Item = &'s str>,
    bookkeeping: &str,
) -> String {
    let mut sql = String::from("BEGIN;\n");
    for statement in statements {
        sql.push_str(statement);
        sql.push_str("\n;\n");
    }
    sql.push_str(bookkeeping);
    sql.push_str(";\nCOMMIT");
    sql
}

/// Which marker, if any, the error of a one-message step carries.
pub(super) fn marker(error: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    [LOCK_LOST, VERSION_MISMATCH]
        .into_iter()
        .find(|m| db.message().contains(m))
}
