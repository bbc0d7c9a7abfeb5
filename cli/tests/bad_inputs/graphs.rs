//! Revision sets that do not form a graph, and migrations directories that
//! are not there: the error names every file (and line) at fault.

use crate::check::*;

#[test]
fn duplicate_revision_id() {
    expect(
        graph(
            &[
                ("a.sql", header("aaaa0001", "", "")),
                ("b.sql", header("aaaa0001", "", "")),
            ],
            graph_kind(|g| matches!(g, GraphError::DuplicateId { .. })),
        ),
        &["migrations/a.sql", "migrations/b.sql", "aaaa0001"],
    );
}

#[test]
fn unknown_parent() {
    expect(
        graph(
            &[
                ("a.sql", header("aaaa0001", "", "")),
                ("b.sql", header("bbbb0002", "aaaa0009", "")),
            ],
            graph_kind(|g| matches!(g, GraphError::UnknownParent { .. })),
        ),
        &["migrations/b.sql:4:", "aaaa0009"],
    );
}

#[test]
fn unknown_dependency() {
    expect(
        graph(
            &[("a.sql", header("aaaa0001", "", "-- Depends On: nowhere"))],
            graph_kind(|g| matches!(g, GraphError::UnknownDependency { .. })),
        ),
        &["migrations/a.sql:5:", "nowhere"],
    );
}

#[test]
fn cycle() {
    expect(
        graph(
            &[
                ("a.sql", header("aaaa0001", "bbbb0002", "")),
                ("b.sql", header("bbbb0002", "aaaa0001", "")),
            ],
            graph_kind(|g| matches!(g, GraphError::Cycle { .. })),
        ),
        &["migrations/", ".sql:4:", "cycle"],
    );
}

#[test]
fn duplicate_branch_label() {
    expect(
        graph(
            &[
                ("a.sql", header("aaaa0001", "", "-- Branch Labels: api")),
                ("b.sql", header("bbbb0002", "", "-- Branch Labels: api")),
            ],
            graph_kind(|g| matches!(g, GraphError::DuplicateLabel { .. })),
        ),
        &["migrations/b.sql:5:", "api"],
    );
}

#[test]
fn label_equal_to_a_revision_id() {
    expect(
        graph(
            &[
                ("a.sql", header("aaaa0001", "", "")),
                (
                    "b.sql",
                    header("bbbb0002", "", "-- Branch Labels: aaaa0001"),
                ),
            ],
            graph_kind(|g| matches!(g, GraphError::LabelIsRevisionId { .. })),
        ),
        &["migrations/b.sql:5:", "aaaa0001"],
    );
}

#[test]
fn one_unparsable_file_among_good_ones() {
    expect(
        graph(
            &[
                ("a.sql", header("aaaa0001", "", "")),
                ("z.sql", "-- Revision ID: zzzz0001\n".to_owned()),
            ],
            |e| matches!(e, LoadError::Parse(p) if matches!(p.kind, ParseErrorKind::MissingKey { key: "Revises", .. } | ParseErrorKind::MissingUpgrade)),
        ),
        &["migrations/z.sql:"],
    );
}

#[test]
fn missing_migrations_directory() {
    expect(
        match load_dir(Path::new("/nonexistent/retort/migrations"), "db/migrations") {
            Err(e) => (
                e.0.iter()
                    .any(|e| matches!(e, LoadError::MissingDir { .. })),
                e.to_string(),
            ),
            Ok(_) => (false, "loaded".to_owned()),
        },
        &["db/migrations"],
    );
}

#[test]
fn migrations_path_is_a_file() {
    expect(
        {
            let f = tempfile::NamedTempFile::new().unwrap();
            match load_dir(f.path(), "migrations.sql") {
                Err(e) => (
                    e.0.iter().any(|e| matches!(e, LoadError::NotADir { .. })),
                    e.to_string(),
                ),
                Ok(_) => (false, "loaded".to_owned()),
            }
        },
        &["migrations.sql"],
    );
}
