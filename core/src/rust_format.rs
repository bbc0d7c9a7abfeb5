//! Rust revisions: a `.rs` file with the same header as a SQL revision,
//! written as `//` comments, and an `upgrade` (and optionally a
//! `downgrade`) function that `embed_migrations!` compiles into the
//! service ([docs/rust-revisions.md]).
//!
//! ```text
//! // backfill the users' display names
//! //
//! // Revision ID: 5a1b2c3d4e5f
//! // Revises: 4f1c2a9b7e05
//!
//! use retort::code::{Context, Result};
//!
//! pub async fn upgrade(cx: &mut Context<'_>) -> Result {
//!     cx.execute("UPDATE users SET display_name = name").await?;
//!     Ok(())
//! }
//! ```
//!
//! Only the header is parsed here, and the two functions are found by
//! their lines; the compiler checks the rest when the service is built.
//!
//! [docs/rust-revisions.md]: https://github.com/retort-rs/retort/blob/main/docs/rust-revisions.md

use crate::format::{
    Header, Line, ParseError, ParseErrorKind, ParsedRevision, SectionSpan, finish, lines,
};

/// Parses the text of one Rust revision file (`file` as in [`crate::format::parse`]).
///
/// The header is the block of `//` comment lines (and blank lines) that
/// opens the file; the upgrade and downgrade "sections" are empty spans at
/// the lines declaring `pub async fn upgrade` and `pub async fn downgrade`,
/// so [`ParsedRevision::downgrade`] is `None` when there is no downgrade
/// function (the revision cannot be downgraded).
///
/// ```
/// let text = "// backfill\n// Revision ID: b2\n// Revises: a1\n\n\
///             pub async fn upgrade(cx: &mut Context<'_>) -> Result { Ok(()) }\n";
/// let rev = retort_core::rust_format::parse("m/b2.rs", text).unwrap();
/// assert_eq!((rev.id.as_str(), rev.message.as_str()), ("b2", "backfill"));
/// assert_eq!(rev.upgrade.line, 5);
/// assert!(rev.downgrade.is_none());
/// ```
pub fn parse(file: &str, text: &str) -> Result<ParsedRevision, ParseError> {
    crate::format::check_size(file, text)?;
    let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut header = Header::new("//");
    let mut header_done = false;
    let mut first_code_line = None;
    let mut upgrade: Option<Line<'_>> = None;
    let mut downgrade = None;
    let mut last_line = 1;
    for line in lines(text, offset) {
        last_line = line.number;
        let trimmed = line.text.trim();
        if !header_done {
            let comment = trimmed.starts_with("//")
                && !trimmed.starts_with("///")
                && !trimmed.starts_with("//!");
            if comment || trimmed.is_empty() {
                header.line(file, line)?;
                continue;
            }
            header_done = true;
            first_code_line = Some(line.number);
        }
        let Some((name, is_async)) = function(trimmed) else {
            continue;
        };
        let slot = if name == "upgrade" {
            &mut upgrade
        } else {
            &mut downgrade
        };
        if let Some(first) = slot {
            let problem = format!(
                "a second `{name}` function (the first is on line {})",
                first.number
            );
            return Err(rust_error(problem, file, line.number));
        }
        if !is_async {
            let problem = format!("`{name}` must be an `async fn`");
            return Err(rust_error(problem, file, line.number));
        }
        *slot = Some(line);
    }
    let Some(upgrade) = upgrade else {
        return Err(rust_error(
            "no `upgrade` function".to_owned(),
            file,
            first_code_line.unwrap_or(last_line),
        ));
    };
    let span = |line: Line<'_>| SectionSpan {
        start: line.start,
        end: line.start,
        line: line.number,
    };
    finish(
        file,
        text,
        &header,
        first_code_line.unwrap_or(last_line),
        span(upgrade),
        downgrade.map(span),
    )
}

fn rust_error(problem: String, file: &str, line: u32) -> ParseError {
    ParseErrorKind::RustFunction { problem }.at(file, line)
}

/// `Some(("upgrade" or "downgrade", is async))` when `line` declares one
/// of the two functions at the start of an item: `pub async fn upgrade(`,
/// with any visibility (the compiler reports a private one).
fn function(line: &str) -> Option<(&'static str, bool)> {
    let mut rest = line;
    for visibility in ["pub(crate)", "pub(super)", "pub"] {
        if let Some(after) = rest.strip_prefix(visibility) {
            rest = after.trim_start();
            break;
        }
    }
    let is_async = match rest.strip_prefix("async") {
        Some(after) if after.starts_with(char::is_whitespace) => {
            rest = after.trim_start();
            true
        }
        _ => false,
    };
    let after_fn = rest.strip_prefix("fn")?;
    if !after_fn.starts_with(char::is_whitespace) {
        return None;
    }
    let after_fn = after_fn.trim_start();
    ["upgrade", "downgrade"].into_iter().find_map(|name| {
        let after = after_fn.strip_prefix(name)?;
        let boundary = after
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        boundary.then_some((name, is_async))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "// copy the rows\n//\n// Revision ID: b2\n// Revises: a1\n// Depends On: c3\n\nuse retort::code::{Context, Result};\n\n";

    #[test]
    fn header_functions_and_lines() {
        let text = format!(
            "{HEAD}pub async fn upgrade(cx: &mut Context<'_>) -> Result {{\n    Ok(())\n}}\n\npub async fn downgrade(cx: &mut Context<'_>) -> Result {{\n    Ok(())\n}}\n"
        );
        let rev = parse("m/b2.rs", &text).unwrap();
        assert_eq!(rev.id, "b2");
        assert_eq!(rev.parents, ["a1"]);
        assert_eq!(rev.depends_on, ["c3"]);
        assert_eq!(rev.message, "copy the rows");
        assert!(rev.transactional);
        assert_eq!(rev.upgrade.line, 9);
        assert_eq!(rev.downgrade.map(|d| d.line), Some(13));
        assert!(text[rev.upgrade.start..].starts_with("pub async fn upgrade"));
        assert_eq!(rev.upgrade.range().len(), 0);
        assert_eq!(rev.checksum, crate::checksum::checksum(text.as_bytes()));
    }

    #[test]
    fn the_functions_are_found_by_their_declaration() {
        assert_eq!(function("pub async fn upgrade("), Some(("upgrade", true)));
        assert_eq!(
            function("async fn downgrade<'a>("),
            Some(("downgrade", true))
        );
        assert_eq!(
            function("pub(crate) async fn upgrade ("),
            Some(("upgrade", true))
        );
        assert_eq!(function("pub fn upgrade("), Some(("upgrade", false)));
        assert_eq!(function("pub async fn upgrade_users("), None);
        assert_eq!(function("// async fn upgrade("), None);
        assert_eq!(function("let upgrade = 1;"), None);
        assert_eq!(function("pub async fnupgrade("), None);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                format!("{HEAD}fn helper() {{}}\n"),
                7,
                "no `upgrade` function",
            ),
            (
                format!("{HEAD}pub fn upgrade(cx: &mut Context<'_>) {{}}\n"),
                9,
                "`upgrade` must be an `async fn`",
            ),
            (
                format!("{HEAD}pub async fn upgrade() {{}}\npub async fn upgrade() {{}}\n"),
                10,
                "a second `upgrade` function (the first is on line 9)",
            ),
            (
                "// Revision ID: b2\n// Revises: a1\n// Bogus: 1\npub async fn upgrade() {}\n"
                    .to_owned(),
                3,
                "unknown header key `Bogus`",
            ),
            (
                "// Revises: a1\n\npub async fn upgrade() {}\n".to_owned(),
                3,
                "missing header key `Revision ID`: add `// Revision ID: <id>`",
            ),
        ];
        for (text, line, message) in cases {
            let e = parse("m/x.rs", &text).unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(message), "{text}: {e}");
            assert!(
                e.to_string().starts_with(&format!("m/x.rs:{line}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_header_key_below_the_code_is_not_read() {
        let text = "pub async fn upgrade() {}\n// Revision ID: b2\n// Revises:\n";
        let e = parse("m/x.rs", text).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(
            e.to_string().contains("missing header key `Revision ID`"),
            "{e}"
        );
    }
}
