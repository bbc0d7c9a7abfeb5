//! SQLite's table rebuild, the "12 steps" of
//! <https://sqlite.org/lang_altertable.html#otheralter>, for the changes
//! `ALTER TABLE` cannot make (a type, a default, a NOT NULL, a key, a
//! check, a foreign key...): this is how revisions get Alembic's
//! `batch_alter_table` on SQLite.
//!
//! How the steps map onto a generated revision:
//!
//! 1. foreign keys off, 2. a transaction: the revision's own wrapper (see
//!    [`wrap`]), needed only when other tables (or the table itself)
//!    reference the rebuilt one. With foreign keys on, `DROP TABLE` of a
//!    referenced table deletes its rows first, and that fires the
//!    children's `ON DELETE` actions: `CASCADE` would empty them (Alembic
//!    #1207, Atlas #3317). `PRAGMA foreign_keys` is a no-op inside a
//!    transaction, and retort runs a transactional revision inside one, so
//!    such a revision is `Transactional: false` and brackets its own
//!    `BEGIN` ... `COMMIT` with `PRAGMA foreign_keys = OFF` / `ON`.
//! 3. views and triggers that name the table are dropped first (the diff's
//!    [`DropView`](crate::Change::DropView)/[`DropTrigger`](crate::Change::DropTrigger)),
//!    since the final rename fails while a view or trigger names a table
//!    that does not exist;
//! 4. `CREATE TABLE "_retort_new_<t>"` with the new definition;
//! 5. `INSERT INTO ... SELECT` the columns both versions have;
//! 6. `DROP TABLE <t>`;
//! 7. `ALTER TABLE "_retort_new_<t>" RENAME TO <t>`;
//! 8. the table's indexes, then views and triggers, are created again;
//! 9. (views were recreated in 8);
//! 10. `PRAGMA foreign_key_check`, made to fail the revision when it finds
//!     a violation (see [`wrap`]);
//! 11. `COMMIT`; 12. foreign keys back on.

use retort_core::split::Dialect;

use crate::change::Change;
use crate::lex::{self, Kind};

const D: Dialect = Dialect::Sqlite;

/// The name of the new table while it is built.
pub(crate) fn temp_name(table: &str) -> String {
    format!("_retort_new_{table}")
}

/// True when SQLite's `ALTER TABLE` (and index statements) can make every
/// change of one table, so no rebuild is needed.
pub(crate) fn alterable(changes: &[Change]) -> bool {
    changes.iter().all(|c| match c {
        Change::CreateIndex { .. } | Change::DropIndex { .. } | Change::DropColumn { .. } => true,
        Change::AddColumn { column, .. } => {
            // ADD COLUMN takes no stored generated column, no expression
            // default, and NOT NULL only with a non-NULL default.
            let default_ok = column.default.as_deref().is_none_or(is_literal);
            let not_null_ok = column.nullable
                || column
                    .default
                    .as_deref()
                    .is_some_and(|d| !d.eq_ignore_ascii_case("null"));
            column.generated.as_ref().is_none_or(|g| !g.stored)
                && default_ok
                && not_null_ok
                && column.identity.is_none()
        }
        _ => false,
    })
}

/// True for a literal default (a string, a number, a blob, NULL, TRUE,
/// FALSE), which SQLite takes without parentheses.
pub(crate) fn is_literal(default: &str) -> bool {
    let tokens = lex::code_tokens(default, D);
    match tokens.as_slice() {
        [t] => {
            matches!(t.kind, Kind::String | Kind::Number)
                || ["null", "true", "false"].iter().any(|w| t.is_word(w))
        }
        [sign, n] => (sign.is_punct("-") || sign.is_punct("+")) && n.kind == Kind::Number,
        _ => false,
    }
}

/// True when a rebuild in `changes` drops a table that `referenced_by`
/// says some table references (itself included): its revision must turn
/// foreign keys off, outside a transaction.
pub(crate) fn needs_foreign_keys_off(
    changes: &[Change],
    referenced: &dyn Fn(&str) -> bool,
) -> bool {
    changes.iter().any(|c| match c {
        Change::RebuildTable { from, .. } => referenced(&from.name),
        _ => false,
    })
}

/// The statements that bracket a section which must run with foreign keys
/// off (steps 1, 2, 10, 11 and 12): `(before, after)`.
///
/// `PRAGMA foreign_key_check` reports violations as rows rather than
/// failing, so the check counts them into a temporary table whose CHECK
/// constraint fails the revision (and so rolls the rebuild back) with a
/// message saying what to run.
pub(crate) fn wrap() -> (Vec<String>, Vec<String>) {
    (
        vec!["PRAGMA foreign_keys = OFF".to_owned(), "BEGIN".to_owned()],
        vec![
            "CREATE TEMP TABLE _retort_fk_check (violations INTEGER \
             CONSTRAINT \"foreign key violations after the rebuild: run PRAGMA foreign_key_check\" \
             CHECK (violations = 0))"
                .to_owned(),
            "INSERT INTO _retort_fk_check SELECT count(*) FROM pragma_foreign_key_check".to_owned(),
            "DROP TABLE temp._retort_fk_check".to_owned(),
            "COMMIT".to_owned(),
            "PRAGMA foreign_keys = ON".to_owned(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        for l in ["'a'", "0", "- 1.5", "NULL", "true", "X'00'"] {
            assert!(is_literal(l), "{l}");
        }
        for e in ["current_timestamp", "datetime('now')", "1 + 1", "abs(1)"] {
            assert!(!is_literal(e), "{e}");
        }
    }
}
