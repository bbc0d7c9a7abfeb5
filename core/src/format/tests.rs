use super::*;

const GOOD: &str = "\
-- add users table
-- with an email column
--
-- Revision ID: 3f2a9c1b7d4e
-- Revises: 1a2b3c4d5e6f
-- Create Date: 2026-11-24 15:30:00+00:00

-- migrate:upgrade
CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);

-- migrate:downgrade
DROP TABLE users;
";

fn err(text: &str) -> ParseError {
    match parse("m/x.sql", text) {
        Ok(rev) => panic!("expected an error, parsed {rev:?}"),
        Err(e) => e,
    }
}

#[test]
fn parses_a_plain_revision() {
    let rev = parse("m/x.sql", GOOD).unwrap();
    assert_eq!(rev.id, "3f2a9c1b7d4e");
    assert_eq!(rev.parents, ["1a2b3c4d5e6f"]);
    assert_eq!(rev.message, "add users table with an email column");
    assert_eq!(
        rev.create_date.as_deref(),
        Some("2026-11-24 15:30:00+00:00")
    );
    assert!(rev.transactional);
    assert!(rev.depends_on.is_empty() && rev.branch_labels.is_empty());
    assert_eq!(
        &GOOD[rev.upgrade.range()],
        "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n\n"
    );
    assert_eq!(rev.upgrade.line, 9);
    let down = rev.downgrade.unwrap();
    assert_eq!(&GOOD[down.range()], "DROP TABLE users;\n");
    assert_eq!(down.line, 12);
    assert_eq!(rev.lines.id, 4);
    assert_eq!(rev.lines.revises, 5);
    assert_eq!(rev.checksum, crate::checksum::checksum(GOOD.as_bytes()));
}

#[test]
fn crlf_and_bom_parse_identically() {
    let crlf = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
    let a = parse("a", GOOD).unwrap();
    let b = parse("b", &crlf).unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(a.message, b.message);
    assert_eq!(a.checksum, b.checksum);
    assert_eq!(a.upgrade.line, b.upgrade.line);
    assert_eq!(
        crlf[b.upgrade.range()].replace("\r\n", "\n"),
        GOOD[a.upgrade.range()]
    );
    // Old-Mac lone CR line endings too.
    let cr = GOOD.replace('\n', "\r");
    let c = parse("c", &cr).unwrap();
    assert_eq!(c.checksum, a.checksum);
    assert_eq!(c.downgrade.unwrap().line, 12);
}

#[test]
fn base_merge_labels_dependencies_and_flags() {
    let text = "-- merge\n-- Revision ID: m1\n-- Revises: a1, b2 ,c3\n-- Branch Labels: core, api\n\
                -- Depends On: d4\n-- Transactional: FALSE\n-- migrate:upgrade\n";
    let rev = parse("f", text).unwrap();
    assert_eq!(rev.parents, ["a1", "b2", "c3"]);
    assert_eq!(rev.branch_labels, ["core", "api"]);
    assert_eq!(rev.depends_on, ["d4"]);
    assert!(!rev.transactional);
    assert_eq!(&text[rev.upgrade.range()], "");
    assert_eq!(rev.downgrade, None);

    let base = parse(
        "f",
        "-- Revision ID: b\n-- Revises:\n-- migrate:upgrade\nSELECT 1;",
    )
    .unwrap();
    assert!(base.parents.is_empty());
    assert_eq!(base.message, "");
    assert_eq!(
        &"-- Revision ID: b\n-- Revises:\n-- migrate:upgrade\nSELECT 1;"[base.upgrade.range()],
        "SELECT 1;"
    );
}

#[test]
fn keys_are_case_insensitive_and_free_comments_after_a_blank_line_are_fine() {
    let text = "-- msg\n-- revision id: abcd\n-- REVISES: \n\n-- see ticket 42: slow on big tables\n\n-- migrate:upgrade\nSELECT 1;\n";
    let rev = parse("f", text).unwrap();
    assert_eq!(rev.id, "abcd");
    assert_eq!(rev.message, "msg");
}

#[test]
fn sql_comments_inside_sections_are_sql() {
    let text = "-- Revision ID: abcd\n-- Revises:\n-- migrate:upgrade\n-- Revision ID: not a header\nSELECT 1;\n-- migrate:downgrade\n-- nothing\n";
    let rev = parse("f", text).unwrap();
    assert_eq!(
        &text[rev.upgrade.range()],
        "-- Revision ID: not a header\nSELECT 1;\n"
    );
}

#[test]
fn errors_name_file_line_and_expectation() {
    let cases: &[(&str, u32, &str)] = &[
        (
            "-- Revision ID: a\n-- Revises:\nSELECT 1;\n",
            3,
            "expected a `-- Key: value` header line",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n",
            2,
            "missing `-- migrate:upgrade` line",
        ),
        ("", 1, "missing `-- migrate:upgrade`"),
        (
            "-- Revises:\n-- migrate:upgrade\n",
            2,
            "missing header key `Revision ID`",
        ),
        (
            "-- Revision ID: a\n-- migrate:upgrade\n",
            2,
            "missing header key `Revises`",
        ),
        (
            "-- Revision ID: a\n-- Revision ID: b\n-- Revises:\n-- migrate:upgrade\n",
            2,
            "duplicate header key `Revision ID` (first on line 1)",
        ),
        (
            "-- Revision ID: a\n-- Revisess: b\n-- migrate:upgrade\n",
            2,
            "unknown header key `Revisess`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- just words\n-- migrate:upgrade\n",
            3,
            "expected a `Key: value` header line inside the header block",
        ),
        (
            "-- Revision ID: a-b\n-- Revises:\n-- migrate:upgrade\n",
            1,
            "invalid revision id `a-b`",
        ),
        (
            "-- Revision ID: head\n-- Revises:\n-- migrate:upgrade\n",
            1,
            "reserved",
        ),
        (
            &format!(
                "-- Revision ID: {}\n-- Revises:\n-- migrate:upgrade\n",
                "a".repeat(33)
            ),
            1,
            "longer than 32",
        ),
        (
            "-- Revision ID: a\n-- Revises: b, b\n-- migrate:upgrade\n",
            2,
            "`b` is listed twice in `Revises`",
        ),
        (
            "-- Revision ID: a\n-- Revises: a\n-- migrate:upgrade\n",
            2,
            "revision `a` lists itself in `Revises`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- Depends On: a\n-- migrate:upgrade\n",
            3,
            "lists itself in `Depends On`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- Branch Labels: x@y\n-- migrate:upgrade\n",
            3,
            "invalid branch label `x@y`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- Transactional: maybe\n-- migrate:upgrade\n",
            3,
            "invalid `Transactional` value `maybe`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- Create Date:\n-- migrate:upgrade\n",
            3,
            "`Create Date` has an empty value",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- migrate:upgrade\n-- migrate:upgrade\n",
            4,
            "second `-- migrate:upgrade` line (the first is on line 3)",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- migrate:upgrade\n-- migrate:downgrade\n-- migrate:downgrade\n",
            5,
            "second `-- migrate:downgrade`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- migrate:downgrade\n-- migrate:upgrade\n",
            3,
            "before `-- migrate:upgrade`",
        ),
        (
            "-- Revision ID: a\n-- Revises:\n-- migrate:upgrade\n-- migrate:down\n",
            4,
            "unknown section marker `-- migrate:down`",
        ),
    ];
    for (text, line, message) in cases {
        let e = err(text);
        assert_eq!(e.file, "m/x.sql", "{text:?}");
        assert_eq!(e.line, *line, "{text:?} -> {e}");
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("m/x.sql:{line}: ")), "{shown}");
        assert!(
            shown.contains(message),
            "{text:?}: `{shown}` lacks `{message}`"
        );
    }
}

#[test]
fn invalid_utf8_names_the_line() {
    let bytes = b"-- Revision ID: a\n-- Revises:\n-- migrate:upgrade\nSELECT '\xff';\n";
    let e = decode("m/x.sql", bytes).unwrap_err();
    assert_eq!(e.line, 4);
    assert_eq!(
        e.to_string(),
        "m/x.sql:4: file is not valid UTF-8 (invalid byte sequence on this line)"
    );
    assert_eq!(line_of_offset(b"a\r\nb\rc\nd", 8), 4);
    let owned = decode_owned("m/x.sql", bytes.to_vec()).unwrap_err();
    assert_eq!(owned.to_string(), e.to_string());
    let text = b"-- Revision ID: a\n".to_vec();
    let ptr = text.as_ptr();
    let decoded = decode_owned("m/x.sql", text).unwrap();
    assert_eq!(decoded, "-- Revision ID: a\n");
    assert_eq!(decoded.as_ptr(), ptr, "the text reuses the file's buffer");
}

#[test]
fn long_lines_are_shortened_in_messages() {
    let text = format!("{}\n-- migrate:upgrade\n", "x".repeat(500));
    let shown = err(&text).to_string();
    assert!(shown.len() < 200, "{shown}");
}

#[test]
fn files_over_the_limit_are_refused_by_name() {
    assert!(check_len("m/a1.sql", MAX_FILE_BYTES, MAX_FILE_BYTES).is_ok());
    let error = check_len("m/a1.sql", MAX_FILE_BYTES + 1, MAX_FILE_BYTES).unwrap_err();
    assert_eq!(
        error.to_string(),
        "m/a1.sql:1: file is 1073741825 bytes; a revision file may be at most 1 GiB (1073741824 bytes)"
    );
}
