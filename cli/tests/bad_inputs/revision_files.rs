//! Malformed revision files: each is parsed alone, and the error names
//! `bad.sql:LINE` and what is wrong on that line.

use crate::check::*;

#[test]
fn invalid_utf8() {
    expect(
        rev_bytes(
            b"-- Revision ID: aaaa0001\n-- Revises:\n\xff\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::NotUtf8),
        ),
        &["bad.sql:3:", "UTF-8"],
    );
}

#[test]
fn no_upgrade_marker() {
    expect(
        rev(OK, |k| matches!(k, ParseErrorKind::MissingUpgrade)),
        &["bad.sql:", "migrate:upgrade"],
    );
}

#[test]
fn second_upgrade_marker() {
    expect(
        rev(
            &format!("{OK}-- migrate:upgrade\nSELECT 1;\n-- migrate:upgrade\n"),
            |k| matches!(k, ParseErrorKind::DuplicateMarker { first_line: 3, .. }),
        ),
        &["bad.sql:5:", "line 3"],
    );
}

#[test]
fn second_downgrade_marker() {
    expect(
        rev(
            &format!("{OK}-- migrate:upgrade\n-- migrate:downgrade\n-- migrate:downgrade\n"),
            |k| matches!(k, ParseErrorKind::DuplicateMarker { first_line: 4, .. }),
        ),
        &["bad.sql:5:"],
    );
}

#[test]
fn downgrade_before_upgrade() {
    expect(
        rev(
            &format!("{OK}-- migrate:downgrade\n-- migrate:upgrade\n"),
            |k| matches!(k, ParseErrorKind::DowngradeBeforeUpgrade),
        ),
        &["bad.sql:3:"],
    );
}

#[test]
fn unknown_marker() {
    expect(
        rev(
            &format!("{OK}-- migrate:upgrade\nSELECT 1;\n-- migrate:sideways\n"),
            |k| matches!(k, ParseErrorKind::UnknownMarker { .. }),
        ),
        &["bad.sql:5:", "migrate:sideways"],
    );
}

#[test]
fn sql_before_the_upgrade_marker() {
    expect(
        rev(
            &format!("{OK}CREATE TABLE t (id INT);\n-- migrate:upgrade\n"),
            |k| matches!(k, ParseErrorKind::UnexpectedBeforeUpgrade { .. }),
        ),
        &["bad.sql:3:", "CREATE TABLE t"],
    );
}

#[test]
fn misspelt_header_key() {
    expect(
        rev(
            "-- Revision ID: aaaa0001\n-- Revisess: x\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::UnknownKey { key } if key == "Revisess"),
        ),
        &["bad.sql:2:", "Revisess"],
    );
}

#[test]
fn free_text_inside_the_key_block() {
    expect(
        rev(
            "-- Revision ID: aaaa0001\n-- some words here\n-- Revises:\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::ExpectedKey { .. }),
        ),
        &["bad.sql:2:", "some words here"],
    );
}

#[test]
fn duplicate_key() {
    expect(
        rev(&format!("{OK}-- Revises:\n-- migrate:upgrade\n"), |k| {
            matches!(
                k,
                ParseErrorKind::DuplicateKey {
                    key: "Revises",
                    first_line: 2
                }
            )
        }),
        &["bad.sql:3:", "Revises"],
    );
}

#[test]
fn missing_revision_id() {
    expect(
        rev("-- Revises:\n-- migrate:upgrade\n", |k| {
            matches!(
                k,
                ParseErrorKind::MissingKey {
                    key: "Revision ID",
                    ..
                }
            )
        }),
        &["bad.sql:", "Revision ID"],
    );
}

#[test]
fn missing_revises() {
    expect(
        rev("-- Revision ID: aaaa0001\n-- migrate:upgrade\n", |k| {
            matches!(k, ParseErrorKind::MissingKey { key: "Revises", .. })
        }),
        &["bad.sql:", "Revises"],
    );
}

#[test]
fn revision_id_with_a_dash() {
    expect(
        rev(
            "-- Revision ID: ab-cd\n-- Revises:\n-- migrate:upgrade\n",
            |k| {
                matches!(
                    k,
                    ParseErrorKind::InvalidName {
                        what: "revision id",
                        ..
                    }
                )
            },
        ),
        &["bad.sql:1:", "ab-cd"],
    );
}

#[test]
fn revision_id_of_33_characters() {
    expect(
        rev(
            &format!(
                "-- Revision ID: {}\n-- Revises:\n-- migrate:upgrade\n",
                "a".repeat(33)
            ),
            |k| matches!(k, ParseErrorKind::InvalidName { .. }),
        ),
        &["bad.sql:1:", "32"],
    );
}

#[test]
fn reserved_revision_id() {
    expect(
        rev(
            "-- Revision ID: head\n-- Revises:\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::InvalidName { .. }),
        ),
        &["bad.sql:1:", "reserved"],
    );
}

#[test]
fn non_ascii_revision_id() {
    expect(
        rev(
            "-- Revision ID: caf\u{e9}0001\n-- Revises:\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::InvalidName { .. }),
        ),
        &["bad.sql:1:", "caf\u{e9}0001"],
    );
}

#[test]
fn bad_parent_id() {
    expect(
        rev(
            "-- Revision ID: aaaa0001\n-- Revises: bb/bb\n-- migrate:upgrade\n",
            |k| {
                matches!(
                    k,
                    ParseErrorKind::InvalidName {
                        what: "parent revision id",
                        ..
                    }
                )
            },
        ),
        &["bad.sql:2:", "bb/bb"],
    );
}

#[test]
fn bad_branch_label() {
    expect(
        rev(
            &format!("{OK}-- Branch Labels: my-branch\n-- migrate:upgrade\n"),
            |k| {
                matches!(
                    k,
                    ParseErrorKind::InvalidName {
                        what: "branch label",
                        ..
                    }
                )
            },
        ),
        &["bad.sql:3:", "my-branch"],
    );
}

#[test]
fn bad_dependency() {
    expect(
        rev(
            &format!("{OK}-- Depends On: x.y\n-- migrate:upgrade\n"),
            |k| {
                matches!(
                    k,
                    ParseErrorKind::InvalidName {
                        what: "dependency",
                        ..
                    }
                )
            },
        ),
        &["bad.sql:3:", "x.y"],
    );
}

#[test]
fn parent_listed_twice() {
    expect(
        rev(
            "-- Revision ID: aaaa0001\n-- Revises: bbbb, bbbb\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::DuplicateName { key: "Revises", .. }),
        ),
        &["bad.sql:2:", "bbbb"],
    );
}

#[test]
fn revises_itself() {
    expect(
        rev(
            "-- Revision ID: aaaa0001\n-- Revises: aaaa0001\n-- migrate:upgrade\n",
            |k| matches!(k, ParseErrorKind::SelfReference { key: "Revises", .. }),
        ),
        &["bad.sql:2:", "aaaa0001"],
    );
}

#[test]
fn depends_on_itself() {
    expect(
        rev(
            &format!("{OK}-- Depends On: aaaa0001\n-- migrate:upgrade\n"),
            |k| {
                matches!(
                    k,
                    ParseErrorKind::SelfReference {
                        key: "Depends On",
                        ..
                    }
                )
            },
        ),
        &["bad.sql:3:", "Depends On"],
    );
}

#[test]
fn empty_create_date() {
    expect(
        rev(&format!("{OK}-- Create Date:\n-- migrate:upgrade\n"), |k| {
            matches!(k, ParseErrorKind::EmptyValue { key: "Create Date" })
        }),
        &["bad.sql:3:", "Create Date"],
    );
}

#[test]
fn transactional_maybe() {
    expect(
        rev(
            &format!("{OK}-- Transactional: maybe\n-- migrate:upgrade\n"),
            |k| matches!(k, ParseErrorKind::InvalidTransactional { .. }),
        ),
        &["bad.sql:3:", "maybe"],
    );
}
