//! Unit tests of the planner's mechanics; Alembic conformance lives in
//! `core/tests/alembic.rs`.

use crate::format::parse;
use crate::set::MigrationSet;

/// Builds a set from `(id, parents, extra header lines)`.
pub(crate) fn set(specs: &[(&str, &str, &str)]) -> MigrationSet {
    let files = specs
        .iter()
        .map(|(id, parents, extra)| {
            let text = format!(
                "-- Revision ID: {id}\n-- Revises: {parents}\n{extra}\n-- migrate:upgrade\nSELECT '{id}';\n-- migrate:downgrade\nSELECT 'undo {id}';\n"
            );
            let parsed = parse(&format!("m/{id}.sql"), &text).unwrap();
            (format!("m/{id}.sql"), text, parsed)
        })
        .collect();
    MigrationSet::from_parsed(files).unwrap()
}

fn ids(plan: &super::Plan<'_>) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| s.revision.id().to_owned())
        .collect()
}

#[test]
fn linear_upgrade_and_downgrade_track_rows() {
    let s = set(&[("a1", "", ""), ("b2", "a1", ""), ("c3", "b2", "")]);
    let up = s.plan_upgrade(&[], "head").unwrap();
    assert_eq!(ids(&up), ["a1", "b2", "c3"]);
    assert_eq!(up.steps[0].version.insert, ["a1"]);
    assert_eq!(up.steps[1].version.update, Some(("a1".into(), "b2".into())));
    assert_eq!(up.heads_after, ["c3"]);
    let down = s.plan_downgrade(&["c3"], "base").unwrap();
    assert_eq!(ids(&down), ["c3", "b2", "a1"]);
    assert_eq!(down.steps[2].version.delete, ["a1"]);
    assert!(down.heads_after.is_empty());
    assert_eq!(down.steps[0].sql(), "SELECT 'undo c3';\n");
}

#[test]
fn irreversible_revisions_stop_a_downgrade_before_it_starts() {
    let text = "-- Revision ID: a1\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n";
    let parsed = parse("m/a1.sql", text).unwrap();
    let s = MigrationSet::from_parsed(vec![("m/a1.sql".into(), text.into(), parsed)]).unwrap();
    let e = s.plan_downgrade(&["a1"], "base").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot downgrade through irreversible revision(s) `a1 (m/a1.sql)`: their files have no `-- migrate:downgrade` section"
    );
}

#[test]
fn unknown_and_overlapping_rows_are_errors() {
    let s = set(&[("a1", "", ""), ("b2", "a1", "")]);
    let e = s.plan_upgrade(&["zz99"], "head").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the database records revision(s) `zz99`"),
        "{e}"
    );
    let e = s.plan_upgrade(&["a1", "b2"], "head").unwrap_err();
    assert!(
        e.to_string()
            .contains("row `a1` is an ancestor of row(s) `b2`"),
        "{e}"
    );
}

#[test]
fn stamp_moves_rows_without_steps() {
    let s = set(&[("a1", "", ""), ("b2", "a1", ""), ("c3", "a1", "")]);
    let p = s.plan_stamp(&["b2"], &["c3"], false).unwrap();
    assert_eq!(p.heads_after, ["b2", "c3"]);
    let p = s.plan_stamp(&["b2", "c3"], &["a1"], false).unwrap();
    assert_eq!(p.heads_after, ["a1"]);
    let p = s.plan_stamp(&["b2", "c3"], &["base"], false).unwrap();
    assert!(p.heads_after.is_empty());
    let p = s.plan_stamp(&["unknown"], &["b2"], true).unwrap();
    assert_eq!(p.heads_after, ["b2"]);
}
