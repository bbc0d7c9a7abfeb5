use super::*;
use crate::format::parse;

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn render_default(values: &Values<'_>) -> String {
    Template::parse("t.tmpl", DEFAULT_TEMPLATE)
        .unwrap()
        .render(values)
}

fn err(text: &str) -> TemplateError {
    match Template::parse("migrations/script.sql.tmpl", text) {
        Ok(t) => panic!("expected an error, parsed {t:?}"),
        Err(e) => e,
    }
}

#[test]
fn default_template_is_the_documented_format() {
    let revises = strings(&["1a2b3c4d5e6f"]);
    let labels = strings(&["accounts"]);
    let depends = strings(&["9c8b7a6d5e4f"]);
    let text = render_default(&Values {
        message: "add users table",
        revision: "3f2a9c1b7d4e",
        revises: &revises,
        create_date: "2026-11-24 15:30:00+00:00",
        branch_labels: &labels,
        depends_on: &depends,
        transactional: true,
        upgrade: "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n",
        downgrade: "DROP TABLE users;",
    });
    assert_eq!(
        text,
        "\
-- add users table
--
-- Revision ID: 3f2a9c1b7d4e
-- Revises: 1a2b3c4d5e6f
-- Create Date: 2026-11-24 15:30:00+00:00
-- Branch Labels: accounts
-- Depends On: 9c8b7a6d5e4f

-- migrate:upgrade
CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE);

-- migrate:downgrade
DROP TABLE users;
"
    );
    let parsed = parse("x.sql", &text).unwrap();
    assert_eq!(parsed.id, "3f2a9c1b7d4e");
    assert_eq!(parsed.parents, revises);
    assert_eq!(parsed.branch_labels, labels);
    assert_eq!(parsed.depends_on, depends);
    assert_eq!(parsed.message, "add users table");
    assert!(parsed.transactional);
    assert_eq!(
        &text[parsed.downgrade.unwrap().range()],
        "DROP TABLE users;\n"
    );
}

#[test]
fn base_merge_and_non_transactional_round_trip() {
    // A base revision keeps an empty `Revises:` line.
    let text = render_default(&Values {
        message: "first",
        revision: "aaaa00000001",
        create_date: "2026-01-01 00:00:00+00:00",
        ..Values::default()
    });
    assert!(text.contains("\n-- Revises: \n"), "{text}");
    assert!(!text.contains("Branch Labels"));
    assert!(!text.contains("Transactional"));
    let parsed = parse("x.sql", &text).unwrap();
    assert!(parsed.parents.is_empty());
    assert_eq!(&text[parsed.upgrade.range()], "\n");
    assert_eq!(&text[parsed.downgrade.unwrap().range()], "");

    let parents = strings(&["aaaa00000001", "bbbb00000002"]);
    let text = render_default(&Values {
        message: "merge",
        revision: "cccc00000003",
        revises: &parents,
        create_date: "2026-01-01 00:00:00+00:00",
        transactional: false,
        ..Values::default()
    });
    assert!(text.contains("-- Revises: aaaa00000001, bbbb00000002\n"));
    assert!(text.contains("-- Transactional: false\n"));
    let parsed = parse("x.sql", &text).unwrap();
    assert_eq!(parsed.parents, parents);
    assert!(!parsed.transactional);
}

#[test]
fn odd_messages_stay_in_the_header() {
    let messages = [
        "line one\nline two\r\n\r\n  line three  ",
        "Revision ID: evil\nRevises: x",
        "migrate:upgrade",
        "-- migrate:downgrade",
        "tab\there \u{7} bell",
        "   ",
        "",
        "${revision} $${ and $",
        "ümlaut ✓",
    ];
    for message in messages {
        let text = render_default(&Values {
            message,
            revision: "aaaa00000001",
            create_date: "2026-01-01 00:00:00+00:00",
            ..Values::default()
        });
        let parsed = parse("x.sql", &text).unwrap_or_else(|e| panic!("{message:?}: {e}\n{text}"));
        assert_eq!(parsed.id, "aaaa00000001", "{text}");
        assert!(parsed.parents.is_empty(), "{text}");
        assert_eq!(parsed.message, message_lines(message).join(" "), "{text}");
    }
    assert_eq!(
        message_lines("line one\nline two\r\n\r\n  line three  "),
        ["line one", "line two", "line three"]
    );
    assert_eq!(
        message_lines("Revises: x\nmigrate:up"),
        ["\"Revises: x\"", "\"migrate:up\""]
    );
    assert_eq!(message_lines("tab\there \u{7}"), ["tab here"]);
    // Each message line gets the `-- ` prefix.
    let text = render_default(&Values {
        message: "one\ntwo",
        revision: "aaaa00000001",
        create_date: "d",
        ..Values::default()
    });
    assert!(text.starts_with("-- one\n-- two\n--\n"), "{text}");
}

#[test]
fn multi_line_bodies_and_escapes() {
    let template = Template::parse(
        "t",
        "cost: $5 $${literal}\n-- up\n  ${upgrade}\nend ${revision}",
    )
    .unwrap();
    let text = template.render(&Values {
        revision: "r1",
        upgrade: "a;\r\nb;\n\n",
        ..Values::default()
    });
    assert_eq!(text, "cost: $5 ${literal}\n-- up\n  a;\n  b;\nend r1");
}

#[test]
fn optional_lines() {
    let template = Template::parse(
        "t",
        "a ${message?}\nb ${transactional?}\nc ${transactional}\nd ${depends_on?} ${revision}\n",
    )
    .unwrap();
    assert_eq!(template.render(&Values::default()), "c true\n");
    let deps = strings(&["x", "y"]);
    assert_eq!(
        template.render(&Values {
            message: "m",
            transactional: false,
            depends_on: &deps,
            revision: "r",
            ..Values::default()
        }),
        "a m\nb false\nc false\nd x, y r\n"
    );
}

#[test]
fn crlf_and_bom_templates() {
    let template = Template::parse("t", "\u{feff}-- ${revision}\r\n-- x\r\n").unwrap();
    assert_eq!(
        template.render(&Values {
            revision: "r",
            ..Values::default()
        }),
        "-- r\n-- x\n"
    );
    assert_eq!(
        Template::parse("t", "").unwrap().render(&Values::default()),
        ""
    );
}

#[test]
fn unknown_placeholder_names_file_and_line() {
    let e = err("-- ${message}\n-- Revision ID: ${revison}\n");
    assert_eq!(e.file, "migrations/script.sql.tmpl");
    assert_eq!(e.line, 2);
    assert_eq!(
        e.kind,
        TemplateErrorKind::UnknownPlaceholder {
            name: "revison".to_owned()
        }
    );
    let message = e.to_string();
    assert!(
        message.starts_with(
            "migrations/script.sql.tmpl:2: unknown placeholder `${revison}`: expected one of `${message}`, `${revision}`"
        ),
        "{message}"
    );
    assert_eq!(err("\n\n${}").line, 3);
    assert!(matches!(
        err("${ message }").kind,
        TemplateErrorKind::UnknownPlaceholder { .. }
    ));
    assert!(matches!(
        err("${upgrade??}").kind,
        TemplateErrorKind::UnknownPlaceholder { .. }
    ));
}

#[test]
fn unterminated_placeholder_names_file_and_line() {
    let e = err("-- ${message}\r\n-- Revises: ${revises\n${revision}}\n");
    assert_eq!(e.line, 2);
    assert_eq!(
        e.kind,
        TemplateErrorKind::Unterminated {
            found: "${revises".to_owned()
        }
    );
    assert!(
        e.to_string()
            .starts_with("migrations/script.sql.tmpl:2: unterminated placeholder `${revises`"),
        "{e}"
    );
}

#[test]
fn every_placeholder_is_known() {
    let text: String = PLACEHOLDERS
        .iter()
        .map(|p| format!("${{{p}}} ${{{p}?}}\n"))
        .collect();
    Template::parse("t", &text).unwrap();
}

#[test]
fn several_multi_line_values_on_one_line_stay_linear() {
    // Continuation lines start with the line's text before its first
    // placeholder. They used to repeat everything rendered so far, which
    // grew exponentially with the placeholders on a line.
    let message: String = (1..=200).map(|i| format!("line {i}\n")).collect();
    let template = Template::parse(
        "t.tmpl",
        "-- ${message} | ${message} | ${message} | ${message}\n",
    )
    .unwrap();
    let out = template.render(&Values {
        message: &message,
        ..Values::default()
    });
    assert_eq!(out.lines().count(), 1 + 4 * 199, "{} bytes", out.len());
    assert!(out.starts_with("-- line 1\n-- line 2\n"), "{out}");
    assert!(out.contains("\n-- line 200 | line 1\n-- line 2\n"), "{out}");
    assert!(out.ends_with("-- line 200\n"));

    let two = Template::parse("t.tmpl", "   ${upgrade};${upgrade}\n").unwrap();
    let out = two.render(&Values {
        upgrade: "a\nb",
        ..Values::default()
    });
    assert_eq!(out, "   a\n   b;a\n   b\n");
}
