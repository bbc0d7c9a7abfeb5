//! Bookkeeping values written into SQL as literals, for the drivers that
//! send a whole step as one message (no binds in a multi-statement text).

use retort_core::plan::VersionChange;

use super::rows::NewHistory;
use super::sql::Statements;
use crate::history::RETORT_VERSION;

/// A version change of one row (a linear step, a new base, the last step
/// down to base): the only kind the one-message paths carry. Merges and
/// branch points change several rows and run op by op.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OneRow<'c> {
    Update { from: &'c str, to: &'c str },
    Insert(&'c str),
    Delete(&'c str),
}

impl<'c> OneRow<'c> {
    /// `change` if it changes one row.
    pub(crate) fn of(change: &'c VersionChange) -> Option<Self> {
        match (
            &change.update,
            change.insert.as_slice(),
            change.delete.as_slice(),
        ) {
            (Some((from, to)), [], []) => Some(Self::Update { from, to }),
            (None, [id], []) => Some(Self::Insert(id)),
            (None, [], [id]) => Some(Self::Delete(id)),
            _ => None,
        }
    }

    /// For the compare-and-set error: `update`, `insert` or `delete`.
    #[cfg_attr(not(any(feature = "mysql", feature = "postgres")), allow(dead_code))]
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Self::Update { .. } => "update",
            Self::Insert(_) => "insert",
            Self::Delete(_) => "delete",
        }
    }

    /// The row that error names: the updated row's old id, or the id.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    pub(crate) fn named(self) -> &'c str {
        match self {
            Self::Update { from, .. } => from,
            Self::Insert(id) | Self::Delete(id) => id,
        }
    }

    /// The bookkeeping statement with `?` placeholders (SQLite, MySQL) and
    /// its values, in order.
    #[cfg_attr(not(any(feature = "mysql", feature = "sqlite")), allow(dead_code))]
    pub(crate) fn statement<'s>(self, sql: &'s Statements) -> (&'s str, Vec<Value<'c>>) {
        match self {
            Self::Update { from, to } => (
                &sql.update_version,
                vec![Value::Text(Some(to)), Value::Text(Some(from))],
            ),
            Self::Insert(id) => (&sql.insert_version, vec![Value::Text(Some(id))]),
            Self::Delete(id) => (&sql.delete_version, vec![Value::Text(Some(id))]),
        }
    }
}

/// One value of a bookkeeping statement.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    /// SQL written as is: a session variable, a server-side expression.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    Raw(&'a str),
}

impl Value<'_> {
    /// The value as a literal of the dialect (`literal` quotes text). With
    /// `typed` (PostgreSQL), numbers and NULLs carry their type: a bare
    /// NULL or string is `text` in `INSERT ... SELECT`, which a `BIGINT`
    /// column refuses.
    pub(crate) fn render(&self, literal: fn(&str) -> String, typed: bool) -> String {
        match (self, typed) {
            (Self::Text(Some(s)), _) => literal(s),
            (Self::Text(None), true) => "NULL::text".to_owned(),
            (Self::Int(Some(i)), true) => format!("({i})::bigint"),
            (Self::Int(None), true) => "NULL::bigint".to_owned(),
            (Self::Int(Some(i)), false) => i.to_string(),
            (Self::Text(None) | Self::Int(None), false) => "NULL".to_owned(),
            (Self::Raw(sql), _) => (*sql).to_owned(),
        }
    }
}

/// A history row's values in the order of `HISTORY_COLUMNS`, linked to
/// `prev` and hashed `hash`.
pub(crate) fn history<'a>(h: &'a NewHistory<'_>, prev: &'a str, hash: &'a str) -> [Value<'a>; 16] {
    [
        Value::Text(Some(h.revision)),
        Value::Text(Some(h.operation.as_str())),
        Value::Text(Some(h.status.as_str())),
        Value::Text(Some(&h.parents)),
        Value::Text(Some(&h.checksum)),
        Value::Text(Some(&h.lineage)),
        Value::Int(Some(h.statement_count)),
        Value::Int(Some(h.statements_done)),
        Value::Text(h.downgrade_sql),
        Value::Int(h.duration_ms()),
        Value::Text(Some(RETORT_VERSION)),
        Value::Int(Some(i64::from(retort_core::checksum::SCHEME_VERSION))),
        Value::Text(h.error.as_deref()),
        Value::Text(Some(&h.nonce)),
        Value::Text(Some(prev)),
        Value::Text(Some(hash)),
    ]
}

/// `template` with its placeholders replaced by `values`: `$N` (PostgreSQL,
/// `numbered`) or `?` in order. The templates are retort's bookkeeping
/// statements, which hold no quoted text, and no `$` or `?` but their
/// placeholders (table names are letters, digits and `_`).
pub(crate) fn fill(
    template: &str,
    numbered: bool,
    values: &[Value<'_>],
    literal: fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    let mut next = 0;
    let mark = if numbered { '$' } else { '?' };
    while let Some(at) = rest.find(mark) {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (value, skip) = if numbered {
            let digits = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            let n: usize = after[..digits].parse().unwrap_or(0);
            (n.checked_sub(1).and_then(|i| values.get(i)), digits)
        } else {
            next += 1;
            (values.get(next - 1), 0)
        };
        match value {
            Some(value) => out.push_str(&value.render(literal, numbered)),
            None => out.push_str(&rest[at..at + 1 + skip]),
        }
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    #[test]
    fn placeholders_become_literals() {
        let values = [
            Value::Text(Some("it's")),
            Value::Int(Some(-3)),
            Value::Text(None),
            Value::Int(None),
        ];
        assert_eq!(
            fill("f($1, $2, $3, $4, $12) $", true, &values, quote),
            "f('it''s', (-3)::bigint, NULL::text, NULL::bigint, $12) $"
        );
        assert_eq!(
            fill("f(?, ?, ?, ?, ?)", false, &values, quote),
            "f('it''s', -3, NULL, NULL, ?)"
        );
    }
}
