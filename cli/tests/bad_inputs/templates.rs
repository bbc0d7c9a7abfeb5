//! Malformed revision templates: the error names
//! `revision.sql.tmpl:LINE` and the placeholder.

use crate::check::*;

#[test]
fn unknown_placeholder() {
    expect(
        template(
            "-- ${message}\n-- ${author}\n",
            |k| matches!(k, TemplateErrorKind::UnknownPlaceholder { name } if name == "author"),
        ),
        &["revision.sql.tmpl:2:", "author"],
    );
}

#[test]
fn unterminated_placeholder() {
    expect(
        template("a\nb\n-- ${revision\n", |k| {
            matches!(k, TemplateErrorKind::Unterminated { .. })
        }),
        &["revision.sql.tmpl:3:", "${revision"],
    );
}

#[test]
fn empty_placeholder() {
    expect(
        template("${}\n", |k| {
            matches!(k, TemplateErrorKind::UnknownPlaceholder { .. })
        }),
        &["revision.sql.tmpl:1:", "${}"],
    );
}

#[test]
fn placeholder_split_over_lines() {
    expect(
        template("x\r\n${mess\r\nage}\r\n", |k| {
            matches!(k, TemplateErrorKind::Unterminated { .. })
        }),
        &["revision.sql.tmpl:2:"],
    );
}
