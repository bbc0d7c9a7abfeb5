// The checks run by the `revision_file`, `target_grammar` and `template`
// fuzz targets. Included (not compiled as a module of its own) by
// `fuzz/src/lib.rs` and `core/tests/fuzz_corpus.rs`: keep it free of
// anything but `retort_core` and `std`.

use retort_core::MigrationSet;
use retort_core::checksum::checksum;
use retort_core::format::{SectionSpan, decode, line_of_offset, parse};
use retort_core::load::{SourceFile, parse_files};
use retort_core::split::{Dialect, is_space, split};
use retort_core::template::{DEFAULT_TEMPLATE, Template, Values};

fn check_span(text: &str, span: &SectionSpan, what: &str) {
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what} span {span} outside the text ({} bytes)",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what} span {span} splits a character"
    );
    assert!(span.line >= 1, "{what} span {span} on line 0");
    // An empty section at the end of a file without a final newline
    // "starts" on the line after the marker, one past the last line.
    let last_line = line_of_offset(text.as_bytes(), text.len());
    let at_eof = span.start == text.len() && span.end == text.len();
    assert!(
        span.line <= last_line || (at_eof && span.line == last_line + 1),
        "{what} span {span} past the last line"
    );
}

/// Arbitrary bytes as a revision file: decoding and parsing never panic;
/// a parsed file has its sections inside the text, in order, and the
/// checksum of its bytes.
pub fn revision_file(data: &[u8]) {
    let Ok(text) = decode("fuzz.sql", data) else {
        return;
    };
    if let Ok(rev) = parse("fuzz.sql", text) {
        check_span(text, &rev.upgrade, "upgrade");
        if let Some(down) = &rev.downgrade {
            check_span(text, down, "downgrade");
            assert!(
                rev.upgrade.end <= down.start,
                "upgrade {} overlaps downgrade {down}",
                rev.upgrade
            );
        }
        assert_eq!(rev.checksum, checksum(data), "checksum differs from the bytes'");
        assert!(!rev.id.is_empty());
    }
    // The loader path: the same bytes as a one-file migration set.
    let _ = parse_files(vec![SourceFile {
        display: "migrations/fuzz.sql".to_owned(),
        path: "migrations/fuzz.sql".into(),
        bytes: data.to_vec(),
    }]);
}

/// A small branched history: two roots, a branch and a merge, labels and a
/// cross-branch dependency.
///
/// ```text
/// aaaa0001 -> bbbb0002 -> cccc0003 (left) -> eeee0005 (merge)
///                      -> dddd0004 (right) ->
/// ffff0006 (other) -> abab0007 (depends on cccc0003)
/// ```
pub fn fixture_set() -> MigrationSet {
    const FILES: [(&str, &str, &str, &str); 7] = [
        ("aaaa0001", "", "", ""),
        ("bbbb0002", "aaaa0001", "", ""),
        ("cccc0003", "bbbb0002", "left", ""),
        ("dddd0004", "bbbb0002", "right", ""),
        ("eeee0005", "cccc0003, dddd0004", "", ""),
        ("ffff0006", "", "other", ""),
        ("abab0007", "ffff0006", "", "cccc0003"),
    ];
    let parsed = FILES
        .iter()
        .map(|(id, revises, labels, depends)| {
            let mut text = format!("-- {id}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n");
            if !labels.is_empty() {
                text.push_str(&format!("-- Branch Labels: {labels}\n"));
            }
            if !depends.is_empty() {
                text.push_str(&format!("-- Depends On: {depends}\n"));
            }
            text.push_str(&format!(
                "\n-- migrate:upgrade\nCREATE TABLE t_{id} (id INT);\n\n-- migrate:downgrade\nDROP TABLE t_{id};\n"
            ));
            let file = format!("m/{id}.sql");
            let rev = parse(&file, &text).expect("fixture revision parses");
            (file, text, rev)
        })
        .collect();
    MigrationSet::from_parsed(parsed).expect("fixture graph is valid")
}

/// The applied states the target grammar is resolved against.
pub const APPLIED_STATES: [&[&str]; 8] = [
    &[],
    &["aaaa0001"],
    &["cccc0003"],
    &["cccc0003", "dddd0004"],
    &["eeee0005", "ffff0006"],
    &["abab0007", "eeee0005"],
    &["dddd0004", "abab0007"],
    &["zzzz9999"],
];

/// An arbitrary string as a target: parsing and resolving it against the
/// fixture set from every applied state never panics.
pub fn target_grammar(data: &[u8]) {
    let Ok(target) = std::str::from_utf8(data) else {
        return;
    };
    let _ = retort_core::target::parse(target);
    thread_local! {
        static SET: MigrationSet = fixture_set();
    }
    SET.with(|set| {
        let _ = set.resolve(target).map(|revs| revs.len());
        for current in APPLIED_STATES {
            if let Ok(plan) = set.plan_upgrade(current, target) {
                for step in &plan.steps {
                    let _ = step.sql();
                }
            }
            if let Ok(plan) = set.plan_downgrade(current, target) {
                for step in &plan.steps {
                    let _ = step.sql();
                }
            }
        }
    });
}

/// Arbitrary text as a revision template: parsing and rendering never
/// panic; what the default template renders from the same text as message
/// and SQL still parses as a revision.
pub fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let revises = vec!["aaaa0001".to_owned(), "bbbb0002".to_owned()];
    let labels = vec!["api".to_owned()];
    let values = Values {
        message: text,
        revision: "cccc0003",
        revises: &revises,
        create_date: "2026-01-01 00:00:00+00:00",
        branch_labels: &labels,
        depends_on: &[],
        transactional: false,
        upgrade: text,
        downgrade: text,
    };
    if let Ok(template) = Template::parse("fuzz.tmpl", text) {
        let _ = template.render(&values);
        let _ = template.render(&Values::default());
    }
    let default = Template::parse("default.tmpl", DEFAULT_TEMPLATE).expect("default template");
    let rendered = default.render(&values);
    if let Err(e) = parse("rendered.sql", &rendered) {
        // SQL text may legitimately contain section markers or anything else;
        // only the header the template writes must never be the problem.
        let header_end = rendered.find("\n-- migrate:upgrade").unwrap_or(rendered.len());
        let header_lines = u32::try_from(rendered[..header_end].lines().count()).unwrap_or(u32::MAX);
        assert!(
            e.line > header_lines,
            "the default template wrote a bad header for message {text:?}: {e}\n{rendered}"
        );
    }
}

/// The dialects the splitter knows.
pub const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

/// Arbitrary text as a section of SQL, split in every dialect: see
/// [`split_invariants`].
pub fn split_statements(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for dialect in DIALECTS {
        split_invariants(&text, dialect);
    }
}

/// What `split` guarantees for `text`: it does not panic; each statement
/// is a non-empty slice of `text` trimmed of SQL's whitespace
/// ([`is_space`]), in order and apart, with a `;` between each and the
/// next; its `line` is the line it starts on; and splitting the statements
/// again, joined by `\n;\n`, gives back the same statements.
pub fn split_invariants(text: &str, dialect: Dialect) {
    let stmts = split(text, dialect);
    let base = text.as_ptr() as usize;
    let mut previous_end: Option<usize> = None;
    for stmt in &stmts {
        assert!(!stmt.sql.is_empty(), "{text:?} {dialect:?}: an empty statement in {stmts:?}");
        let start = (stmt.sql.as_ptr() as usize)
            .checked_sub(base)
            .unwrap_or_else(|| panic!("{stmt:?} is not a slice of {text:?}"));
        let end = start + stmt.sql.len();
        assert!(end <= text.len(), "{stmt:?} is not a slice of {text:?}");
        assert_eq!(
            stmt.sql,
            stmt.sql.trim_matches(is_space),
            "{text:?}: {stmt:?} is not trimmed"
        );
        if let Some(previous_end) = previous_end {
            assert!(
                previous_end < start && text[previous_end..start].contains(';'),
                "{text:?} {dialect:?}: no `;` before {stmt:?}"
            );
        }
        previous_end = Some(end);
        let line = text[..start].matches('\n').count() + 1;
        assert_eq!(
            usize::try_from(stmt.line).ok(),
            Some(line),
            "{text:?}: the line of {stmt:?}"
        );
    }
    let texts: Vec<&str> = stmts.iter().map(|s| s.sql).collect();
    let joined = texts.join("\n;\n");
    let again: Vec<&str> = split(&joined, dialect).iter().map(|s| s.sql).collect();
    assert_eq!(
        again, texts,
        "{text:?} {dialect:?}: the statements split again differently"
    );
}
