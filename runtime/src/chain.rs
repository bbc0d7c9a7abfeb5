//! The history table's hash chain: every row carries a hash of its own
//! content (`row_hash`) and the hash of the row before it (`prev_hash`), so
//! a row edited or deleted by hand is found by `check`, which names the
//! first row that breaks the chain.
//!
//! # Scheme 1
//!
//! * **Row hash**: SHA-256 (64 lowercase hex digits) of the UTF-8 bytes of
//!   `"retort-history:1\n"` followed by one line per field, in this order:
//!   `revision`, `operation`, `status`, `parents`, `checksum`, `lineage`,
//!   `statement_count`, `statements_done`, `error`, `downgrade_sql`,
//!   `retort_version`, `checksum_scheme`, `nonce`. A field is written as its
//!   name, a space, the byte length of its value in decimal, `:`, the value
//!   and `\n` (`revision 12:c3c3c3c3c3c3\n`); a NULL as its name and ` -\n`.
//!   Numbers are written in decimal. The row's id, `started_at` and
//!   `duration_ms` are not covered: the database assigns the first two, and
//!   an offline script cannot know any of them.
//! * **Nonce**: 32 random hex digits drawn for each row, so that no two
//!   rows hash alike, even two identical stamps of one revision: otherwise
//!   deleting a pair of identical rows could leave every link intact.
//! * **Link**: `prev_hash` holds the `row_hash` of the row before it (by
//!   id) when it was written, the empty string for the first row or when
//!   that row has no hash. The link is copied, not hashed in, so that an
//!   offline `--sql` script can write it: the script's `INSERT` reads it
//!   from the table when it runs, where the engine knows it under the
//!   migration lock; both write identical rows.
//!
//! A row is *unchained* when its `row_hash` is NULL: written by a release
//! from before the chain (or by one that does not know the columns). Such
//! rows are counted, not reported as tampering, and the next chained row
//! links to the empty string.
//!
//! Verification walks the rows by id and reports the first chained row
//! whose hash does not match its content (it was edited) or whose
//! `prev_hash` does not match the row before it (a row before it was
//! deleted, inserted or edited together with its hash). Deleting the
//! newest rows leaves no link behind: the chain cannot show it.

use std::fmt;
use std::fmt::Write as _;

use sha2::{Digest as _, Sha256};

use crate::history::{HistoryEntry, Operation};

/// The first line of every row hash's input: the scheme's version.
const SCHEME: &str = "retort-history:1\n";

/// The fields of a history row that its hash covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Content<'a> {
    pub(crate) revision: &'a str,
    pub(crate) operation: &'a str,
    pub(crate) status: &'a str,
    pub(crate) parents: &'a str,
    pub(crate) checksum: &'a str,
    pub(crate) lineage: &'a str,
    pub(crate) statement_count: i64,
    pub(crate) statements_done: i64,
    pub(crate) error: Option<&'a str>,
    pub(crate) downgrade_sql: Option<&'a str>,
    pub(crate) retort_version: &'a str,
    pub(crate) checksum_scheme: i64,
    pub(crate) nonce: &'a str,
}

impl Content<'_> {
    /// The row hash (see the module documentation).
    pub(crate) fn hash(&self) -> String {
        let mut text = String::from(SCHEME);
        let numbers = [
            self.statement_count.to_string(),
            self.statements_done.to_string(),
            self.checksum_scheme.to_string(),
        ];
        let fields: [(&str, Option<&str>); 13] = [
            ("revision", Some(self.revision)),
            ("operation", Some(self.operation)),
            ("status", Some(self.status)),
            ("parents", Some(self.parents)),
            ("checksum", Some(self.checksum)),
            ("lineage", Some(self.lineage)),
            ("statement_count", Some(&numbers[0])),
            ("statements_done", Some(&numbers[1])),
            ("error", self.error),
            ("downgrade_sql", self.downgrade_sql),
            ("retort_version", Some(self.retort_version)),
            ("checksum_scheme", Some(&numbers[2])),
            ("nonce", Some(self.nonce)),
        ];
        for (name, value) in fields {
            let _ = match value {
                Some(value) => writeln!(text, "{name} {}:{value}", value.len()),
                None => writeln!(text, "{name} -"),
            };
        }
        hex(&Sha256::digest(text.as_bytes()))
    }

    /// The content of a row read back from the table.
    pub(crate) fn of(entry: &'_ HistoryEntry) -> Content<'_> {
        Content {
            revision: &entry.revision,
            operation: entry.operation.as_str(),
            status: entry.status.as_str(),
            parents: &entry.parents,
            checksum: &entry.checksum,
            lineage: &entry.lineage,
            statement_count: entry.statement_count,
            statements_done: entry.statements_done,
            error: entry.error.as_deref(),
            downgrade_sql: entry.downgrade_sql.as_deref(),
            retort_version: &entry.retort_version,
            checksum_scheme: entry.checksum_scheme,
            nonce: entry.nonce.as_deref().unwrap_or_default(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A fresh nonce: 32 hex digits that no other row shares. They need to be
/// unique, not secret: the OS-seeded hasher of the standard library, the
/// clock, the process and a counter, through SHA-256.
pub(crate) fn nonce() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut seed = std::collections::hash_map::RandomState::new().build_hasher();
    seed.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut input = Vec::with_capacity(36);
    input.extend_from_slice(&seed.finish().to_le_bytes());
    input.extend_from_slice(
        &std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            .to_le_bytes(),
    );
    input.extend_from_slice(&std::process::id().to_le_bytes());
    let digest = Sha256::digest(&input);
    hex(&digest[..16])
}

/// What the chain says about the history table, for `check`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryCheck {
    /// Rows in the history table.
    pub rows: usize,
    /// Rows without a hash, written before the chain existed: they cannot
    /// be verified, which is not a sign of tampering.
    pub unchained: usize,
    /// The first row that breaks the chain, if any.
    pub broken: Option<BrokenRow>,
}

/// A history row that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokenRow {
    /// The row's id.
    pub id: i64,
    /// The revision it records.
    pub revision: String,
    /// What it records.
    pub operation: Operation,
    /// When the step started, as the database formats it.
    pub started_at: String,
    /// What is wrong with it.
    pub reason: Break,
}

/// How a row breaks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Break {
    /// Its hash does not match its content: the row was edited.
    Edited,
    /// Its link does not match the row before it: a row before it was
    /// deleted, inserted or edited together with its hash.
    Unlinked,
}

impl Break {
    /// `edited` or `unlinked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edited => "edited",
            Self::Unlinked => "unlinked",
        }
    }
}

impl fmt::Display for BrokenRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "history row {} ({} of `{}`, {}) ",
            self.id, self.operation, self.revision, self.started_at
        )?;
        match self.reason {
            Break::Edited => f.write_str("was edited by hand: its hash does not match its content"),
            Break::Unlinked => f.write_str(
                "does not follow the row before it: a row before it was deleted, inserted or edited by hand",
            ),
        }
    }
}

/// Verifies the chain of `history` (oldest first).
pub(crate) fn verify(history: &[HistoryEntry]) -> HistoryCheck {
    let mut check = HistoryCheck {
        rows: history.len(),
        ..HistoryCheck::default()
    };
    let mut expected_prev = "";
    for entry in history {
        let Some(hash) = entry.row_hash.as_deref() else {
            check.unchained += 1;
            expected_prev = "";
            continue;
        };
        let reason = if Content::of(entry).hash() != hash {
            Some(Break::Edited)
        } else if entry.prev_hash.as_deref().unwrap_or_default() != expected_prev {
            Some(Break::Unlinked)
        } else {
            None
        };
        if let Some(reason) = reason
            && check.broken.is_none()
        {
            check.broken = Some(BrokenRow {
                id: entry.id,
                revision: entry.revision.clone(),
                operation: entry.operation,
                started_at: entry.started_at.clone(),
                reason,
            });
        }
        expected_prev = hash;
    }
    check
}

/// The links and hashes that make `history` a valid chain again from its
/// first broken row on, `(id, prev_hash, row_hash)` per row to rewrite:
/// what `repair` writes when the history as it stands is accepted. Rows
/// after the break that have no hash get one too.
pub(crate) fn reseal(history: &[HistoryEntry]) -> Vec<(i64, String, String)> {
    let Some(broken) = verify(history).broken else {
        return Vec::new();
    };
    let mut prev = String::new();
    let mut out = Vec::new();
    for entry in history {
        if entry.id < broken.id {
            prev = entry.row_hash.clone().unwrap_or_default();
            continue;
        }
        let hash = Content::of(entry).hash();
        out.push((entry.id, prev, hash.clone()));
        prev = hash;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, revision: &str, nonce: &str) -> HistoryEntry {
        HistoryEntry {
            id,
            revision: revision.to_owned(),
            operation: Operation::Upgrade,
            status: crate::history::Status::Applied,
            parents: String::new(),
            checksum: "c".repeat(64),
            lineage: "l".repeat(64),
            statement_count: 1,
            statements_done: 1,
            error: None,
            started_at: "2026-11-25T10:00:00.000000Z".to_owned(),
            duration_ms: Some(3),
            downgrade_sql: Some("DROP TABLE t;".to_owned()),
            retort_version: "0.1.0".to_owned(),
            checksum_scheme: 1,
            nonce: Some(nonce.to_owned()),
            prev_hash: None,
            row_hash: None,
        }
    }

    /// Rows chained as the engine writes them.
    fn chained(specs: &[(&str, &str)]) -> Vec<HistoryEntry> {
        let mut prev = String::new();
        specs
            .iter()
            .enumerate()
            .map(|(i, (revision, nonce))| {
                let mut e = entry(i64::try_from(i).unwrap() + 1, revision, nonce);
                let hash = Content::of(&e).hash();
                e.prev_hash = Some(std::mem::replace(&mut prev, hash.clone()));
                e.row_hash = Some(hash);
                e
            })
            .collect()
    }

    #[test]
    fn the_row_hash_is_the_documented_one() {
        // The input as docs/history-table.md spells it, hashed by
        // `printf ... | sha256sum`.
        let mut e = entry(1, "a1", "00112233445566778899aabbccddeeff");
        e.parents = "x y".to_owned();
        assert_eq!(
            Content::of(&e).hash(),
            "6c597fe80db52d0221226718b40bd004f06507063b4d052b6ecb556e9651d2f2"
        );
    }

    #[test]
    fn nonces_differ() {
        let a = nonce();
        assert_eq!(a.len(), 32);
        assert_ne!(a, nonce());
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chained(&[("a1", "n1"), ("b2", "n2"), ("a1", "n3")]);
        let check = verify(&rows);
        assert_eq!((check.rows, check.unchained, check.broken), (3, 0, None));
    }

    #[test]
    fn edits_and_deletions_name_the_first_broken_row() {
        let mut rows = chained(&[("a1", "n1"), ("b2", "n2"), ("c3", "n3"), ("d4", "n4")]);
        rows[2].downgrade_sql = Some("DROP TABLE everything;".to_owned());
        let broken = verify(&rows).broken.unwrap();
        assert_eq!((broken.id, broken.reason), (3, Break::Edited));
        assert!(
            broken
                .to_string()
                .contains("history row 3 (upgrade of `c3`"),
            "{broken}"
        );

        let mut rows = chained(&[("a1", "n1"), ("b2", "n2"), ("c3", "n3"), ("d4", "n4")]);
        rows.remove(1);
        let broken = verify(&rows).broken.unwrap();
        assert_eq!((broken.id, broken.reason), (3, Break::Unlinked));

        // Editing a row and its hash breaks the next row's link.
        let mut rows = chained(&[("a1", "n1"), ("b2", "n2"), ("c3", "n3")]);
        rows[1].status = crate::history::Status::Failed;
        rows[1].row_hash = Some(Content::of(&rows[1]).hash());
        let broken = verify(&rows).broken.unwrap();
        assert_eq!((broken.id, broken.reason), (3, Break::Unlinked));
    }

    #[test]
    fn unchained_rows_are_counted_not_broken() {
        let mut rows = vec![entry(1, "a1", ""), entry(2, "b2", "")];
        for row in &mut rows {
            row.nonce = None;
        }
        let mut later = chained(&[("c3", "n3"), ("d4", "n4")]);
        for (i, row) in later.iter_mut().enumerate() {
            row.id = i64::try_from(i).unwrap() + 3;
        }
        rows.extend(later);
        let check = verify(&rows);
        assert_eq!((check.rows, check.unchained, check.broken), (4, 2, None));
    }

    #[test]
    fn reseal_accepts_the_history_as_it_stands() {
        let mut rows = chained(&[("a1", "n1"), ("b2", "n2"), ("c3", "n3"), ("d4", "n4")]);
        rows.remove(1);
        rows[2].row_hash = None; // an unchained row after the break gets a hash too
        for (id, prev, hash) in reseal(&rows) {
            let row = rows.iter_mut().find(|r| r.id == id).unwrap();
            row.prev_hash = Some(prev);
            row.row_hash = Some(hash);
        }
        let check = verify(&rows);
        assert_eq!((check.unchained, check.broken), (0, None));
        assert!(reseal(&rows).is_empty());
    }
}
