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
        "cannot downgrade through irreversible revision(s) `a1 (m/a1.sql)`: their files have no downgrade (a `-- migrate:downgrade` section, or a `downgrade` function in a Rust revision; a Rust revision known only from the history table cannot be downgraded)"
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

#[test]
fn an_empty_set_upgrades_and_downgrades_to_nothing() {
    let s = set(&[]);
    for target in ["head", "heads"] {
        let plan = s.plan_upgrade(&[], target).unwrap();
        assert!(
            plan.steps.is_empty() && plan.heads_after.is_empty(),
            "{target}"
        );
        let plan = s.plan_downgrade(&[], target).unwrap();
        assert!(plan.steps.is_empty(), "{target}");
    }
    assert!(s.plan_downgrade(&[], "base").unwrap().steps.is_empty());
    assert!(s.resolve("head").unwrap().is_empty());
    assert!(
        s.plan_stamp(&[], &["head"], false)
            .unwrap()
            .heads_after
            .is_empty()
    );
    // Relative targets still have nothing to walk.
    assert!(s.plan_upgrade(&[], "+1").is_err());
    assert!(s.plan_downgrade(&[], "-1").is_err());
}

/// The commands an error's hint offers, as the backticked pieces that
/// follow `marker`.
fn offered<'e>(message: &'e str, marker: &str) -> Vec<&'e str> {
    let at = message
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in: {message}"));
    message[at + marker.len()..]
        .split('`')
        .skip(1)
        .step_by(2)
        .collect()
}

#[test]
fn every_ambiguity_hint_names_a_target_that_works() {
    // a1 branches into b2 and c3.
    let s = set(&[("a1", "", ""), ("b2", "a1", ""), ("c3", "a1", "")]);

    // Both applied: `-1` could undo either; each offered target undoes one.
    let e = s
        .plan_downgrade(&["b2", "c3"], "-1")
        .unwrap_err()
        .to_string();
    assert_eq!(offered(&e, "count from:"), ["b2@-1", "c3@-1"], "{e}");
    for (hint, left) in [("b2@-1", "c3"), ("c3@-1", "b2")] {
        let plan = s.plan_downgrade(&["b2", "c3"], hint).unwrap();
        assert_eq!(plan.steps.len(), 1, "{hint}");
        assert_eq!(plan.heads_after, [left], "{hint}");
    }
    // The same for `+1` from two rows.
    let two = set(&[
        ("a1", "", ""),
        ("b2", "a1", ""),
        ("c3", "a1", ""),
        ("d4", "b2", ""),
    ]);
    let e = two
        .plan_upgrade(&["b2", "c3"], "+1")
        .unwrap_err()
        .to_string();
    assert_eq!(offered(&e, "count from:"), ["b2@+1", "c3@+1"], "{e}");
    let plan = two.plan_upgrade(&["b2", "c3"], "b2@+1").unwrap();
    assert_eq!(ids(&plan), ["d4"]);
    assert!(
        two.plan_upgrade(&["b2", "c3"], "c3@+1").is_err(),
        "c3 has no child"
    );

    // Only a1 applied: `+1` meets the branch point; each branch works.
    let e = s.plan_upgrade(&["a1"], "+1").unwrap_err().to_string();
    assert_eq!(offered(&e, "say which branch:"), ["b2@+1", "c3@+1"], "{e}");
    for (hint, to) in [("b2@+1", "b2"), ("c3@+1", "c3")] {
        let plan = s.plan_upgrade(&["a1"], hint).unwrap();
        assert_eq!(ids(&plan), [to], "{hint}");
    }
    // Counting from a revision, and from base with two bases.
    let e = s.plan_upgrade(&[], "a1+1").unwrap_err().to_string();
    assert_eq!(
        offered(&e, "say which branch:"),
        ["b2@a1+1", "c3@a1+1"],
        "{e}"
    );
    assert_eq!(ids(&s.plan_upgrade(&[], "c3@a1+1").unwrap()), ["a1", "c3"]);
    let roots = set(&[("a1", "", ""), ("x9", "", "")]);
    let e = roots.plan_upgrade(&[], "+1").unwrap_err().to_string();
    assert_eq!(offered(&e, "say which branch:"), ["a1@+1", "x9@+1"], "{e}");
    assert_eq!(ids(&roots.plan_upgrade(&[], "x9@+1").unwrap()), ["x9"]);

    // Down through a merge: the parents are the revisions to go to.
    let merged = set(&[
        ("a1", "", ""),
        ("b2", "a1", ""),
        ("c3", "a1", ""),
        ("m4", "b2 c3", ""),
    ]);
    let e = merged
        .plan_downgrade(&["m4"], "-1")
        .unwrap_err()
        .to_string();
    assert_eq!(offered(&e, "instead ("), ["b2", "c3"], "{e}");
    for hint in ["b2", "c3"] {
        let plan = merged.plan_downgrade(&["m4"], hint).unwrap();
        assert_eq!(ids(&plan), ["m4"], "{hint}");
    }

    // Several heads: `head` names none of them; `heads` and each head do.
    let e = s.plan_upgrade(&[], "head").unwrap_err().to_string();
    assert!(e.contains("use `heads` for all of them"), "{e}");
    assert!(e.contains("`retort merge -m \"merge heads\"`"), "{e}");
    assert_eq!(
        s.plan_upgrade(&[], "heads").unwrap().heads_after,
        ["b2", "c3"]
    );
}

#[test]
fn the_version_table_hints_name_a_stamp_that_works() {
    let s = set(&[("a1", "", ""), ("b2", "a1", ""), ("c3", "a1", "")]);
    // Overlapping rows: stamping the rows that descend from nothing else.
    let e = s
        .plan_upgrade(&["a1", "b2"], "head")
        .unwrap_err()
        .to_string();
    assert_eq!(
        offered(&e, "without the overlap:"),
        ["retort stamp --purge b2"],
        "{e}"
    );
    assert!(
        s.plan_stamp(&["a1", "b2"], &["b2"], false).is_err(),
        "plain stamp fails alike"
    );
    let p = s.plan_stamp(&["a1", "b2"], &["b2"], true).unwrap();
    assert_eq!(p.heads_after, ["b2"]);
    // Rows of another set: only a purge can drop them.
    let e = s.plan_upgrade(&["zz99"], "head").unwrap_err().to_string();
    assert!(e.contains("`retort stamp --purge <revision>`"), "{e}");
    assert!(s.plan_stamp(&["zz99"], &["a1"], false).is_err());
    assert_eq!(
        s.plan_stamp(&["zz99"], &["a1"], true).unwrap().heads_after,
        ["a1"]
    );
}
