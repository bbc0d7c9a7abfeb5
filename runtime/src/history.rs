//! The history table's rows and the two values every row is classified by:
//! what was done ([`Operation`]) and how it ended ([`Status`]).
//!
//! The strings these types stand for are stored in the `operation` and
//! `status` columns and covered by each row's hash (docs/history-table.md):
//! [`Operation::as_str`] and [`Status::as_str`] return exactly what every
//! release has written, so databases written before these types existed
//! read back unchanged.

use std::fmt;
use std::str::FromStr;

use retort_core::plan::Direction;

/// Recorded in every history row.
pub(crate) const RETORT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a history row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// A revision's upgrade section ran (`upgrade`).
    Upgrade,
    /// A revision's downgrade section ran (`downgrade`).
    Downgrade,
    /// `stamp` recorded the revision as applied without running SQL
    /// (`stamp`).
    Stamp,
    /// `repair` recorded the revision's current checksum and lineage
    /// (`repair`).
    Repair,
    /// `repair` accepted a broken hash chain and re-sealed it (`reseal`).
    Reseal,
}

impl Operation {
    /// Every operation, in the order of the variants.
    pub const ALL: [Self; 5] = [
        Self::Upgrade,
        Self::Downgrade,
        Self::Stamp,
        Self::Repair,
        Self::Reseal,
    ];

    /// The value stored in the `operation` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Upgrade => "upgrade",
            Self::Downgrade => "downgrade",
            Self::Stamp => "stamp",
            Self::Repair => "repair",
            Self::Reseal => "reseal",
        }
    }

    /// The operation of a step that runs `direction`'s section.
    pub(crate) fn of(direction: Direction) -> Self {
        match direction {
            Direction::Upgrade => Self::Upgrade,
            Direction::Downgrade => Self::Downgrade,
        }
    }

    /// True when an `applied` row of this operation records the checksum
    /// and lineage the revision had when it became applied: the row that
    /// drift detection and recovered downgrades read.
    pub const fn records_applied(self) -> bool {
        matches!(self, Self::Upgrade | Self::Stamp | Self::Repair)
    }
}

/// How the step a history row records ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// It completed (`applied`).
    Applied,
    /// It is running, or the process died while it ran (`running`).
    Running,
    /// It failed part-way, outside a transaction (`failed`).
    Failed,
    /// It failed or was interrupted, and `stamp` or `repair` resolved it
    /// (`resolved`).
    Resolved,
}

impl Status {
    /// Every status, in the order of the variants.
    pub const ALL: [Self; 4] = [Self::Applied, Self::Running, Self::Failed, Self::Resolved];

    /// The value stored in the `status` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Resolved => "resolved",
        }
    }

    /// True while the step blocks later runs until it is resolved:
    /// `running` or `failed`.
    pub const fn is_unfinished(self) -> bool {
        matches!(self, Self::Running | Self::Failed)
    }
}

/// A string that is not one of the values of [`Operation`] or [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// `operation` or `status`.
    pub column: &'static str,
    /// The string.
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.column, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// `FromStr`, `Display` and comparison with strings, for a type whose
/// `ALL` lists its values and `as_str` spells them.
fn parse<T: Copy>(
    all: &[T],
    as_str: fn(T) -> &'static str,
    column: &'static str,
    s: &str,
) -> Result<T, UnknownValue> {
    all.iter()
        .copied()
        .find(|v| as_str(*v) == s)
        .ok_or_else(|| UnknownValue {
            column,
            value: s.to_owned(),
        })
}

impl FromStr for Operation {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        parse(&Self::ALL, Self::as_str, "operation", s)
    }
}

impl FromStr for Status {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        parse(&Self::ALL, Self::as_str, "status", s)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Operation {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Operation {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Status {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Status {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// Row id (increasing).
    pub id: i64,
    /// The revision.
    pub revision: String,
    /// What the row records.
    pub operation: Operation,
    /// How it ended.
    pub status: Status,
    /// The revision's parents, space-separated.
    pub parents: String,
    /// The file's checksum when the step ran.
    pub checksum: String,
    /// The revision's lineage hash when the step ran.
    pub lineage: String,
    /// Statements in the section.
    pub statement_count: i64,
    /// Statements completed.
    pub statements_done: i64,
    /// The error, for failed steps (what was accepted, for `reseal` rows).
    pub error: Option<String>,
    /// When the step started (UTC, as the database formats it).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// The revision's downgrade SQL, kept so an older binary can roll back.
    pub downgrade_sql: Option<String>,
    /// The retort release that wrote the row.
    pub retort_version: String,
    /// The checksum scheme of `checksum` and `lineage`.
    pub checksum_scheme: i64,
    /// The row's nonce (see [`row_hash`](Self::row_hash)).
    pub nonce: Option<String>,
    /// The `row_hash` of the row before it when it was written.
    pub prev_hash: Option<String>,
    /// The hash of the row's content (docs/history-table.md); `None` for
    /// rows written before the hash chain.
    pub row_hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored strings are an on-disk contract: every release wrote
    /// these, and row hashes cover them.
    #[test]
    fn stored_strings_are_the_documented_ones() {
        let ops: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(ops, ["upgrade", "downgrade", "stamp", "repair", "reseal"]);
        let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(statuses, ["applied", "running", "failed", "resolved"]);
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
        }
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        assert_eq!(
            "unstamp".parse::<Operation>().unwrap_err().to_string(),
            "unknown operation `unstamp`"
        );
        assert!(Status::Running == "running" && Operation::Stamp != "upgrade");
    }
}
