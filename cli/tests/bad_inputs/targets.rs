//! Targets that do not parse, or do not resolve in the graph
//! `aaaa0001 -> bbbb0002 -> cccc0003 (left) | cccc0004 (right)`.

use crate::check::*;

#[test]
fn empty_target() {
    expect(syntax(""), &["empty"]);
}

#[test]
fn target_with_spaces() {
    expect(syntax(" head"), &["` head`", "whitespace"]);
}

#[test]
fn two_at_in_a_target() {
    expect(syntax("a@b@c"), &["a@b@c"]);
}

#[test]
fn nothing_before_at() {
    expect(syntax("@head"), &["@head", "before `@`"]);
}

#[test]
fn nothing_after_at() {
    expect(syntax("api@"), &["api@"]);
}

#[test]
fn non_numeric_step() {
    expect(syntax("head+x"), &["head+x"]);
}

#[test]
fn step_overflows() {
    expect(
        syntax("+99999999999999999999999"),
        &["+99999999999999999999999"],
    );
}

#[test]
fn unknown_revision() {
    expect(
        target(resolve("zzzz9999"), |t| {
            matches!(t, TargetError::Unknown { .. })
        }),
        &["zzzz9999"],
    );
}

#[test]
fn prefix_too_short() {
    expect(
        target(resolve("zz"), |t| matches!(t, TargetError::Unknown { .. })),
        &["`zz`", "at least 4"],
    );
}

#[test]
fn ambiguous_prefix() {
    expect(
        target(resolve("cccc"), |t| {
            matches!(t, TargetError::Ambiguous { .. })
        }),
        &["cccc", "cccc0003", "cccc0004"],
    );
}

#[test]
fn unknown_branch_label() {
    expect(
        target(up(&[], "nolabel@head"), |t| {
            matches!(t, TargetError::NoSuchBranch { .. })
        }),
        &["nolabel", "nolabel@head"],
    );
}

#[test]
fn revision_not_on_the_branch() {
    expect(
        target(up(&[], "left@cccc0004"), |t| {
            matches!(t, TargetError::NotInBranch { .. })
        }),
        &["cccc0004", "left"],
    );
}

#[test]
fn head_with_two_heads() {
    expect(
        target(up(&[], "head"), |t| {
            matches!(t, TargetError::MultipleHeads { .. })
        }),
        &["cccc0003", "cccc0004"],
    );
}

#[test]
fn walk_up_through_a_branch_point() {
    expect(
        target(up(&["aaaa0001"], "+2"), |t| {
            matches!(t, TargetError::AmbiguousWalk { .. })
        }),
        &["+2", "bbbb0002"],
    );
}

#[test]
fn walk_past_the_head() {
    expect(
        target(up(&[], "left@+9"), |t| {
            matches!(t, TargetError::OutOfRange { .. })
        }),
        &["left@+9"],
    );
}

#[test]
fn walk_down_past_base() {
    expect(
        target(down(&["aaaa0001"], "-5"), |t| {
            matches!(t, TargetError::OutOfRange { .. })
        }),
        &["-5", "base"],
    );
}

#[test]
fn relative_downgrade_from_nothing() {
    expect(
        target(down(&[], "-1"), |t| {
            matches!(t, TargetError::NothingCurrent { .. })
        }),
        &["`-1`"],
    );
}

#[test]
fn relative_downgrade_from_two_heads() {
    expect(
        target(down(&["cccc0003", "cccc0004"], "-1"), |t| {
            matches!(t, TargetError::AmbiguousCurrent { .. })
        }),
        &["-1", "cccc0003", "cccc0004"],
    );
}

#[test]
fn downgrade_upwards() {
    expect(
        target(down(&["aaaa0001"], "+1"), |t| {
            matches!(t, TargetError::WrongDirection { .. })
        }),
        &["`+1`", "downgrade", "aaaa0001"],
    );
}

#[test]
fn applied_revision_unknown_to_the_set() {
    expect(
        plan(up(&["ffff9999"], "left@head"), |p| {
            matches!(p, PlanError::UnknownApplied { .. })
        }),
        &["ffff9999"],
    );
}
