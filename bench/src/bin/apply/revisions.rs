//! The generated revisions, written once per size in the three tools' formats
//! and loaded by each tool before any timing.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Result;

/// A 48-bit bijection of `i` as 12 hex digits: unique, unordered ids.
pub(crate) fn revision_id(i: usize) -> String {
    const MASK: u64 = (1 << 48) - 1;
    let mut x = (i as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        & MASK;
    x ^= x >> 24;
    x = x.wrapping_mul(0x2545_F491_4F6C_DD1D) & MASK;
    x ^= x >> 17;
    format!("{x:012x}")
}

pub(crate) fn table(i: usize) -> String {
    format!("t_{i:06}")
}

/// The statements of revision `i`, each without a trailing newline.
pub(crate) fn statements(i: usize) -> [String; 2] {
    let t = table(i);
    [
        format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, v VARCHAR(50));"),
        format!("INSERT INTO {t} (id, v) VALUES (1, 'revision {i}');"),
    ]
}

/// The upgrade SQL of revision `i`, as every tool's file holds it.
pub(crate) fn upgrade_sql(i: usize) -> String {
    let [a, b] = statements(i);
    format!("{a}\n{b}\n")
}

/// Writes `n` revisions in the three formats under `root`; returns the
/// retort, sqlx and refinery directories.
pub(crate) fn write_sets(root: &Path, n: usize) -> Result<[PathBuf; 3]> {
    let dirs = [
        root.join("retort"),
        root.join("sqlx"),
        root.join("refinery"),
    ];
    for d in &dirs {
        if d.exists() {
            fs::remove_dir_all(d)?;
        }
        fs::create_dir_all(d)?;
    }
    for i in 0..n {
        let sql = upgrade_sql(i);
        let id = revision_id(i);
        let revises = if i == 0 {
            String::new()
        } else {
            revision_id(i - 1)
        };
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        let retort = format!(
            "-- create {t}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n\
             -- Create Date: 2026-01-01 {h:02}:{m:02}:{s:02}+00:00\n\n\
             -- migrate:upgrade\n{sql}\n-- migrate:downgrade\nDROP TABLE {t};\n",
            t = table(i)
        );
        fs::write(
            dirs[0].join(format!("{id}_create_{}.sql", table(i))),
            retort,
        )?;
        fs::write(dirs[1].join(format!("{}_{}.sql", i + 1, table(i))), &sql)?;
        fs::write(dirs[2].join(format!("V{}__{}.sql", i + 1, table(i))), &sql)?;
    }
    Ok(dirs)
}

/// A revision set loaded by every tool, plus the raw SQL.
pub(crate) struct Sets {
    pub(crate) n: usize,
    pub(crate) retort: retort::Migrations,
    pub(crate) sqlx: sqlx::migrate::Migrator,
    pub(crate) refinery: Vec<refinery::Migration>,
    pub(crate) raw: Vec<String>,
    pub(crate) raw_stmts: Vec<[String; 2]>,
}

pub(crate) async fn load_sets(root: &Path, n: usize) -> Result<Sets> {
    let [r, s, f] = write_sets(root, n)?;
    let retort = retort::Migrations::from_dir(&r).map_err(|e| e.to_string())?;
    assert_eq!(retort.len(), n);
    let sqlx = sqlx::migrate::Migrator::new(s.as_path()).await?;
    let refinery = refinery::load_sql_migrations(&f)?;
    assert_eq!(refinery.len(), n);
    // The SQL every tool executes is the same text.
    let first = retort.get(&revision_id(0)).expect("revision 0");
    assert_eq!(first.upgrade_sql().trim_end(), upgrade_sql(0).trim_end());
    Ok(Sets {
        n,
        retort,
        sqlx,
        refinery,
        raw: (0..n).map(upgrade_sql).collect(),
        raw_stmts: (0..n).map(statements).collect(),
    })
}
