//! A transactional step's bookkeeping as one statement ([`Fused`]), and
//! the whole step as one simple-query message ([`one_message`]): `BEGIN`,
//! the revision's statements, the bookkeeping with its values inlined as
//! literals, `COMMIT`. One round trip per revision, the floor's.
//!
//! Inlined, the bookkeeping cannot hand its answers (lock held, version
//! rows changed) back before `COMMIT`, so it fails the transaction itself
//! when one is wrong: a cast of a marker text ([`LOCK_LOST`],
//! [`VERSION_MISMATCH`]) to `int`, evaluated only on that branch. The
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
pub(super) const LEASE_HELD: &str = "SELECT CASE WHEN $1::bigint IS NULL THEN true \
     ELSE NOT pg_try_advisory_xact_lock_shared($1::bigint) END AS ok";

/// A step's bookkeeping as one statement (a data-modifying CTE): checks
/// that the migration lock is still held ([`LEASE_HELD`]), changes the
/// version table and inserts the history row, writing nothing unless the
/// lock is held. One round trip instead of three (lock check, version
/// change, history insert). Returns `(lock held, version rows changed)`.
/// Binds: the history row as `$1`..`$16` (the order of `insert_history`),
/// the lease key `$17`, then the version ids `$18` (and `$19`, the old id
/// of an update).
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
        let with = |version: &str| {
            let head = format!(
                "WITH held AS ({held}), v AS ({version} RETURNING 1), \
                 h AS (INSERT INTO {h} ({HISTORY_COLUMNS}) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
                 WHERE (SELECT ok FROM held) RETURNING 1) "
            );
            // The casts depend on a subquery, so the planner cannot fold
            // them (and fail) on a branch not taken.
            Pair {
                plain: format!("{head}SELECT (SELECT ok FROM held), (SELECT count(*) FROM v)"),
                checked: format!(
                    "{head}SELECT CASE \
                     WHEN NOT (SELECT ok FROM held) \
                     THEN CAST('{LOCK_LOST}' || (SELECT count(*) FROM v) AS int) \
                     WHEN (SELECT count(*) FROM v) <> 1 \
                     THEN CAST('{VERSION_MISMATCH}:' || (SELECT count(*) FROM v) AS int) \
                     ELSE 0 END"
                ),
            }
        };
        Self {
            update: with(&format!(
                "UPDATE {v} SET version_num = $18 WHERE version_num = $19 AND (SELECT ok FROM held)"
            )),
            insert: with(&format!(
                "INSERT INTO {v} (version_num) SELECT $18 WHERE (SELECT ok FROM held)"
            )),
            delete: with(&format!(
                "DELETE FROM {v} WHERE version_num = $18 AND (SELECT ok FROM held)"
            )),
        }
    }

    /// The statement and version ids for a change of one row (a linear
    /// step, a new base or the last step down to base); `None` for merges
    /// and branch points, which change several rows.
    pub(super) fn pick<'c>(&self, change: &'c VersionChange) -> Option<FusedChange<'_, 'c>> {
        let one = OneRow::of(change)?;
        let (pair, id, from) = match one {
            OneRow::Update { from, to } => (&self.update, to, Some(from)),
            OneRow::Insert(id) => (&self.insert, id, None),
            OneRow::Delete(id) => (&self.delete, id, None),
        };
        Some(FusedChange {
            sql: &pair.plain,
            checked: &pair.checked,
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

/// The step as one simple-query message: `BEGIN`, `statements`, the
/// bookkeeping `change` with the history row `h` (linked to `prev`,
/// hashed `hash`) checked against the lease `lease`, `COMMIT`. Each
/// statement ends with a line break before its `;`, so a trailing line
/// comment cannot swallow it.
pub(super) fn one_message<'s>(
    statements: impl Iterator<Item = &'s str>,
    change: &FusedChange<'_, '_>,
    h: &NewHistory<'_>,
    prev: &str,
    hash: &str,
    lease: Option<i64>,
) -> String {
    let mut values = history(h, prev, hash).to_vec();
    values.extend([
        Value::Int(lease),
        Value::Text(Some(change.id)),
        Value::Text(change.from),
    ]);
    let bookkeeping = fill(change.checked, true, &values, literal);
    let mut sql = String::from("BEGIN;\n");
    for statement in statements {
        sql.push_str(statement);
        sql.push_str("\n;\n");
    }
    sql.push_str(&bookkeeping);
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
