//! Shared code of retort's benchmarks: a generator of revision sets.
//!
//! [`plan`] lays out `n` revisions as a linear chain with a side branch
//! every 100 revisions that merges straight back:
//!
//! ```text
//! ... -> r[k-2] -> r[k-1] ----> r[k+1] -> r[k+2] ...      (k % 100 == 50)
//!             \                 /
//!              `---> r[k] -----'       r[k]: side branch, `Branch Labels: side_<k>`
//!                                      r[k+1]: merge, `Revises: r[k-1], r[k]`
//! ```
//!
//! so the graph has branches, merges and labels but a single head (what
//! `embed_migrations!` requires by default). Every revision creates one table
//! and an index and drops them on downgrade.
//!
//! [`write_retort`] writes the plan as retort revision files; [`write_sqlx`]
//! writes the same upgrade and downgrade SQL as sqlx reversible migrations
//! (`<version>_<name>.up.sql` / `.down.sql`), so both macros embed the same SQL.

use std::fs;
use std::io;
use std::path::Path;

/// One generated revision.
#[derive(Debug, Clone)]
pub struct GenRevision {
    /// Position in the plan (0-based); also the sqlx version minus one.
    pub index: usize,
    /// The retort revision id: 12 hex digits, scattered so that sorting by
    /// id does not follow the chain (as with real, random ids).
    pub id: String,
    /// Indices of the parents in the plan.
    pub parents: Vec<usize>,
    /// Branch label, on side-branch revisions.
    pub label: Option<String>,
    /// Name of the table the revision creates, `t_000123`.
    pub table: String,
    /// Upgrade SQL.
    pub upgrade: String,
    /// Downgrade SQL.
    pub downgrade: String,
}

/// Totals of what was written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// Files written.
    pub files: usize,
    /// Bytes written (whole files).
    pub bytes: usize,
    /// Bytes of SQL in those files (upgrade + downgrade sections).
    pub sql_bytes: usize,
}

/// A 48-bit bijection of `i`, as 12 hex digits: unique, deterministic and
/// unordered.
pub fn revision_id(i: usize) -> String {
    const MASK: u64 = (1 << 48) - 1;
    let mut x = (i as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        & MASK;
    x ^= x >> 24;
    x = x.wrapping_mul(0x2545_F491_4F6C_DD1D) & MASK; // odd: a bijection mod 2^48
    x ^= x >> 17;
    format!("{x:012x}")
}

/// True when revision `k` of an `n`-revision plan is a side branch.
fn is_side(k: usize, n: usize) -> bool {
    k % 100 == 50 && k >= 2 && k + 1 < n
}

/// Lays out `n` revisions (see the module docs).
pub fn plan(n: usize) -> Vec<GenRevision> {
    (0..n)
        .map(|k| {
            let parents = if k == 0 {
                Vec::new()
            } else if is_side(k, n) {
                vec![k - 2]
            } else if k >= 1 && is_side(k - 1, n) {
                vec![k - 2, k - 1]
            } else {
                vec![k - 1]
            };
            let table = format!("t_{k:06}");
            let reference = match parents.first() {
                Some(&p) => format!("\n    parent_id BIGINT REFERENCES t_{p:06} (id),"),
                None => String::new(),
            };
            let upgrade = format!(
                "CREATE TABLE {table} (\n    id BIGINT NOT NULL PRIMARY KEY,{reference}\n    \
                 name VARCHAR(100) NOT NULL,\n    \
                 created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n\
                 CREATE INDEX {table}_name_idx ON {table} (name);\n"
            );
            let downgrade = format!("DROP INDEX {table}_name_idx;\nDROP TABLE {table};\n");
            GenRevision {
                index: k,
                id: revision_id(k),
                parents,
                label: is_side(k, n).then(|| format!("side_{k}")),
                table,
                upgrade,
                downgrade,
            }
        })
        .collect()
}

/// `2026-01-01 00:00:00+00:00` plus `seconds`.
fn create_date(seconds: usize) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Stays a valid date for the first 31 days (2.6 million revisions).
    format!(
        "2026-01-{:02} {:02}:{:02}:{:02}+00:00",
        1 + days.min(30),
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The text of a retort revision file.
pub fn retort_file(plan: &[GenRevision], rev: &GenRevision) -> String {
    let parents: Vec<&str> = rev.parents.iter().map(|&p| plan[p].id.as_str()).collect();
    let mut text = format!(
        "-- create {table}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n-- Create Date: {date}\n",
        table = rev.table,
        id = rev.id,
        revises = parents.join(", "),
        date = create_date(rev.index),
    );
    if let Some(label) = &rev.label {
        text.push_str(&format!("-- Branch Labels: {label}\n"));
    }
    text.push_str("\n-- migrate:upgrade\n");
    text.push_str(&rev.upgrade);
    text.push_str("\n-- migrate:downgrade\n");
    text.push_str(&rev.downgrade);
    text
}

/// The retort file name of a revision: `<id>_create_<table>.sql`.
pub fn retort_file_name(rev: &GenRevision) -> String {
    format!("{}_create_{}.sql", rev.id, rev.table)
}

fn fresh_dir(dir: &Path) -> io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)
}

/// Writes `plan` as retort revision files into `dir` (emptied first).
pub fn write_retort(dir: &Path, plan: &[GenRevision]) -> io::Result<Written> {
    fresh_dir(dir)?;
    let mut written = Written::default();
    for rev in plan {
        let text = retort_file(plan, rev);
        fs::write(dir.join(retort_file_name(rev)), &text)?;
        written.files += 1;
        written.bytes += text.len();
        // Each section ends with the blank line before the next marker or
        // the end of the file, exactly as the parser's spans see them.
        written.sql_bytes += rev.upgrade.len() + 1 + rev.downgrade.len();
    }
    Ok(written)
}

/// Writes `plan` as sqlx reversible migrations into `dir` (emptied first):
/// `<version>_create_<table>.up.sql` and `.down.sql`, version = index + 1.
pub fn write_sqlx(dir: &Path, plan: &[GenRevision]) -> io::Result<Written> {
    fresh_dir(dir)?;
    let width = plan.len().to_string().len().max(6);
    let mut written = Written::default();
    for rev in plan {
        let stem = format!("{:0width$}_create_{}", rev.index + 1, rev.table);
        for (suffix, sql) in [("up", &rev.upgrade), ("down", &rev.downgrade)] {
            fs::write(dir.join(format!("{stem}.{suffix}.sql")), sql)?;
            written.files += 1;
            written.bytes += sql.len();
            written.sql_bytes += sql.len();
        }
    }
    Ok(written)
}

/// Writes `plan` as sqlx simple migrations into `dir` (emptied first): one
/// `<version>_create_<table>.sql` per revision holding the upgrade SQL (a
/// simple migration has no down), version = index + 1.
pub fn write_sqlx_simple(dir: &Path, plan: &[GenRevision]) -> io::Result<Written> {
    fresh_dir(dir)?;
    let width = plan.len().to_string().len().max(6);
    let mut written = Written::default();
    for rev in plan {
        let name = format!("{:0width$}_create_{}.sql", rev.index + 1, rev.table);
        fs::write(dir.join(name), &rev.upgrade)?;
        written.files += 1;
        written.bytes += rev.upgrade.len();
        written.sql_bytes += rev.upgrade.len();
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_valid() {
        let ids: std::collections::HashSet<String> = (0..200_000).map(revision_id).collect();
        assert_eq!(ids.len(), 200_000);
        assert!(ids.iter().all(|id| id.len() == 12));
    }

    #[test]
    fn generated_set_loads_with_one_head() {
        let dir = std::env::temp_dir().join(format!("retort-bench-test-{}", std::process::id()));
        let plan = plan(1_000);
        write_retort(&dir, &plan).unwrap();
        let set = retort_core::load::load_dir(&dir, "migrations").unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(set.len(), 1_000);
        assert_eq!(set.heads().collect::<Vec<_>>(), [plan[999].id.as_str()]);
        assert_eq!(set.revisions().iter().filter(|r| r.is_merge()).count(), 10);
        assert_eq!(
            set.revisions()
                .iter()
                .filter(|r| r.branch_labels().len() == 1)
                .count(),
            10
        );
        let rev = set.get(&plan[151].id).unwrap();
        assert_eq!(rev.upgrade_sql(), format!("{}\n", plan[151].upgrade));
        assert_eq!(rev.downgrade_sql(), Some(plan[151].downgrade.as_str()));
    }
}
