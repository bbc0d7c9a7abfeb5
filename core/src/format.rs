//! The revision-file format: parsing one `.sql` revision file.
//!
//! The grammar is documented in `docs/revision-format.md`; in short:
//!
//! ```sql
//! -- add users table
//! --
//! -- Revision ID: 3f2a9c1b7d4e
//! -- Revises: 1a2b3c4d5e6f
//! -- Create Date: 2026-11-24 15:30:00+00:00
//!
//! -- migrate:upgrade
//! CREATE TABLE users (id BIGINT PRIMARY KEY);
//!
//! -- migrate:downgrade
//! DROP TABLE users;
//! ```
//!
//! Parsing never panics; every error names the file and the 1-based line.

use std::fmt;
use std::ops::Range;

use crate::checksum::{Digest256, checksum};

mod error;
mod grammar;

pub use error::{ParseError, ParseErrorKind};
pub use grammar::{DOWNGRADE_MARKER, HEADER_KEYS, MAX_ID_LEN, RESERVED_WORDS, UPGRADE_MARKER};

/// A byte range of the file's text holding one section's SQL, and the line
/// (1-based) where that SQL starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionSpan {
    /// Byte offset of the first byte of the section body in the file's text.
    pub start: usize,
    /// Byte offset one past the last byte of the section body.
    pub end: usize,
    /// 1-based line number of the first line of the section body.
    pub line: u32,
}

impl SectionSpan {
    /// The span as a byte range.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// The 1-based lines on which header values were found, for error messages
/// about those values that can only be detected once the whole graph is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderLines {
    /// Line of `Revision ID`.
    pub id: u32,
    /// Line of `Revises`.
    pub revises: u32,
    /// Line of `Depends On`, or 0 when absent.
    pub depends_on: u32,
    /// Line of `Branch Labels`, or 0 when absent.
    pub branch_labels: u32,
}

/// One revision file, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRevision {
    /// The revision id (`Revision ID`).
    pub id: String,
    /// The parents (`Revises`); empty for a base revision, several for a merge.
    pub parents: Vec<String>,
    /// Revisions (ids or branch labels) this revision depends on (`Depends On`).
    pub depends_on: Vec<String>,
    /// Branch labels declared on this revision (`Branch Labels`).
    pub branch_labels: Vec<String>,
    /// The message: the first paragraph of free comment text in the header.
    pub message: String,
    /// `Create Date`, verbatim.
    pub create_date: Option<String>,
    /// Whether the revision runs inside a transaction (`Transactional`, default true).
    pub transactional: bool,
    /// The upgrade section.
    pub upgrade: SectionSpan,
    /// The downgrade section; `None` when the file has no downgrade marker,
    /// which makes the revision irreversible.
    pub downgrade: Option<SectionSpan>,
    /// The checksum of the file (see [`crate::checksum`]).
    pub checksum: Digest256,
    /// Where the header values were found.
    pub lines: HeaderLines,
}

/// One line of the text: its number and byte ranges.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) number: u32,
    pub(crate) start: usize,
    /// Offset just past the line terminator (the start of the next line).
    pub(crate) next: usize,
    pub(crate) text: &'a str,
}

/// Iterates over lines terminated by `\n`, `\r\n` or a lone `\r`.
pub(crate) fn lines(text: &str, offset: usize) -> impl Iterator<Item = Line<'_>> {
    let bytes = text.as_bytes();
    let mut pos = offset;
    let mut number = 0u32;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let rel = bytes[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r');
        let (end, next) = match rel {
            None => (bytes.len(), bytes.len()),
            Some(rel) => {
                let end = start + rel;
                if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
                    (end, end + 2)
                } else {
                    (end, end + 1)
                }
            }
        };
        pos = next;
        number = number.saturating_add(1);
        Some(Line {
            number,
            start,
            next,
            // `\n` and `\r` are ASCII, so `start..end` lies on char boundaries.
            text: text.get(start..end).unwrap_or_default(),
        })
    })
}

/// The 1-based line on which byte `offset` of `bytes` lies, counting line
/// terminators the way the parser does.
pub fn line_of_offset(bytes: &[u8], offset: usize) -> u32 {
    let prefix = &bytes[..offset.min(bytes.len())];
    let mut line = 1u32;
    let mut i = 0;
    while i < prefix.len() {
        match prefix[i] {
            b'\n' => line = line.saturating_add(1),
            b'\r' => {
                line = line.saturating_add(1);
                if prefix.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    line
}

/// The largest revision file retort reads, in bytes: 1 GiB. A revision
/// keeps its text and header values in one string indexed by `u32`
/// offsets, which this bound keeps in range.
pub const MAX_FILE_BYTES: usize = 1 << 30;

/// Refuses a text over [`MAX_FILE_BYTES`].
pub(crate) fn check_size(file: &str, text: &str) -> Result<(), ParseError> {
    check_len(file, text.len(), MAX_FILE_BYTES)
}

fn check_len(file: &str, bytes: usize, max: usize) -> Result<(), ParseError> {
    if bytes > max {
        return Err(ParseErrorKind::TooLarge { bytes }.at(file, 1));
    }
    Ok(())
}

/// Decodes a revision file's bytes, naming the line of the first invalid byte.
pub fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ParseError> {
    std::str::from_utf8(bytes)
        .map_err(|e| ParseErrorKind::NotUtf8.at(file, line_of_offset(bytes, e.valid_up_to())))
}

/// [`decode`] for bytes the caller owns: the text reuses their buffer.
pub fn decode_owned(file: &str, bytes: Vec<u8>) -> Result<String, ParseError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        ParseErrorKind::NotUtf8.at(file, line_of_offset(e.as_bytes(), valid))
    })
}

fn shorten(line: &str) -> String {
    const MAX: usize = 60;
    let trimmed = line.trim();
    match trimmed.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// Checks that `value` can be a revision id or branch label.
pub fn validate_name(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("it is empty");
    }
    if value.len() > MAX_ID_LEN {
        return Err("longer than 32 characters (the width of the version table's column)");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err("only ASCII letters, digits and `_` are allowed");
    }
    if RESERVED_WORDS.contains(&value) {
        return Err("`head`, `heads` and `base` are reserved target names");
    }
    Ok(())
}

/// Checks that `value` can name a migration set (`embed_migrations!(...,
/// name = "jobs")`): its bookkeeping tables are named after it.
pub fn validate_set_name(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("the set name is empty");
    }
    if value.len() > 24 {
        return Err("a set name is at most 24 characters (its tables are named after it)");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err("a set name is lowercase ASCII letters, digits and `_`");
    }
    Ok(())
}

struct KeyLine<'a> {
    key: &'static str,
    value: &'a str,
}

/// Recognises `-- Key: value` for one of the [`HEADER_KEYS`] (key matched
/// case-insensitively, spaces inside the key are significant).
fn header_key(comment: &str) -> Option<KeyLine<'_>> {
    let (key, value) = comment.split_once(':')?;
    let key = key.trim();
    HEADER_KEYS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(key))
        .map(|known| KeyLine {
            key: known,
            value: value.trim(),
        })
}

/// Looks like `Key: value` with a short key made of words (so a free comment
/// such as `see: ticket 42` inside the header block is caught as a typo'd key).
fn looks_like_key(comment: &str) -> Option<&str> {
    let (key, _) = comment.split_once(':')?;
    let key = key.trim();
    let wordy = !key.is_empty()
        && key.len() <= 30
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '_' || c == '-');
    wordy.then_some(key)
}

pub(crate) struct Header<'a> {
    /// What starts a comment line: `--` in SQL files, `//` in Rust ones.
    comment: &'static str,
    seen: [Option<(u32, &'a str)>; HEADER_KEYS.len()],
    message: Vec<&'a str>,
    message_done: bool,
    in_key_block: bool,
}

impl<'a> Header<'a> {
    pub(crate) fn new(comment: &'static str) -> Self {
        Self {
            comment,
            seen: Default::default(),
            message: Vec::new(),
            message_done: false,
            in_key_block: false,
        }
    }

    fn get(&self, key: &str) -> Option<(u32, &'a str)> {
        let index = HEADER_KEYS.iter().position(|k| *k == key)?;
        self.seen[index]
    }

    /// Handles one line before the upgrade marker.
    pub(crate) fn line(&mut self, file: &str, line: Line<'a>) -> Result<(), ParseError> {
        let trimmed = line.text.trim();
        if trimmed.is_empty() {
            self.in_key_block = false;
            self.message_done |= !self.message.is_empty();
            return Ok(());
        }
        let Some(comment) = trimmed.strip_prefix(self.comment) else {
            return Err(ParseErrorKind::UnexpectedBeforeUpgrade {
                found: shorten(trimmed),
            }
            .at(file, line.number));
        };
        let comment = comment.trim();
        if let Some(KeyLine { key, value }) = header_key(comment) {
            let index = HEADER_KEYS.iter().position(|k| *k == key).unwrap_or(0);
            if let Some((first_line, _)) = self.seen[index] {
                return Err(ParseErrorKind::DuplicateKey { key, first_line }.at(file, line.number));
            }
            self.seen[index] = Some((line.number, value));
            self.in_key_block = true;
            self.message_done = true;
            return Ok(());
        }
        if comment.is_empty() {
            self.message_done |= !self.message.is_empty();
            return Ok(());
        }
        if self.in_key_block {
            return Err(match looks_like_key(comment) {
                Some(key) => ParseErrorKind::UnknownKey {
                    key: key.to_owned(),
                },
                None => ParseErrorKind::ExpectedKey {
                    found: shorten(trimmed),
                },
            }
            .at(file, line.number));
        }
        if !self.message_done {
            self.message.push(comment);
        }
        Ok(())
    }
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn parse_names(
    file: &str,
    line: u32,
    key: &'static str,
    what: &'static str,
    value: &str,
    own_id: Option<&str>,
) -> Result<Vec<String>, ParseError> {
    let mut names: Vec<String> = Vec::new();
    for name in split_list(value) {
        // `Depends On: jobs@a1b2`: a revision of another migration set.
        let checked = match name.split_once('@') {
            Some((set, rev)) if key == "Depends On" => {
                validate_set_name(set).and_then(|()| validate_name(rev))
            }
            _ => validate_name(name),
        };
        if let Err(reason) = checked {
            return Err(ParseErrorKind::InvalidName {
                what,
                value: name.to_owned(),
                reason,
            }
            .at(file, line));
        }
        if own_id == Some(name) {
            return Err(ParseErrorKind::SelfReference {
                key,
                id: name.to_owned(),
            }
            .at(file, line));
        }
        if names.iter().any(|n| n == name) {
            return Err(ParseErrorKind::DuplicateName {
                key,
                value: name.to_owned(),
            }
            .at(file, line));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// Parses the text of one revision file.
///
/// `file` is how the file is named in error messages (typically the path
/// relative to the crate or the working directory). The section spans in the
/// result index into `text` itself, so `&text[rev.upgrade.range()]` is the
/// upgrade SQL.
///
/// ```
/// let text = "-- create users\n-- Revision ID: a1b2c3d4e5f6\n-- Revises:\n\n\
///             -- migrate:upgrade\nCREATE TABLE users (id INT);\n\
///             -- migrate:downgrade\nDROP TABLE users;\n";
/// let rev = retort_core::format::parse("m/a1.sql", text).unwrap();
/// assert_eq!(rev.id, "a1b2c3d4e5f6");
/// assert!(rev.parents.is_empty());
/// assert_eq!(rev.message, "create users");
/// assert_eq!(&text[rev.upgrade.range()], "CREATE TABLE users (id INT);\n");
/// assert_eq!(rev.upgrade.line, 6);
/// ```
pub fn parse(file: &str, text: &str) -> Result<ParsedRevision, ParseError> {
    check_size(file, text)?;
    let offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut header = Header::new("--");
    let mut upgrade_marker: Option<Line<'_>> = None;
    let mut downgrade_marker: Option<Line<'_>> = None;
    let mut last_line = 0u32;

    for line in lines(text, offset) {
        last_line = line.number;
        let trimmed = line.text.trim_end();
        if trimmed == UPGRADE_MARKER {
            if let Some(first) = upgrade_marker {
                return Err(ParseErrorKind::DuplicateMarker {
                    marker: UPGRADE_MARKER,
                    first_line: first.number,
                }
                .at(file, line.number));
            }
            upgrade_marker = Some(line);
            continue;
        }
        if trimmed == DOWNGRADE_MARKER {
            if let Some(first) = downgrade_marker {
                return Err(ParseErrorKind::DuplicateMarker {
                    marker: DOWNGRADE_MARKER,
                    first_line: first.number,
                }
                .at(file, line.number));
            }
            if upgrade_marker.is_none() {
                return Err(ParseErrorKind::DowngradeBeforeUpgrade.at(file, line.number));
            }
            downgrade_marker = Some(line);
            continue;
        }
        if trimmed.trim_start().starts_with("-- migrate:") {
            return Err(ParseErrorKind::UnknownMarker {
                found: shorten(trimmed),
            }
            .at(file, line.number));
        }
        if upgrade_marker.is_none() {
            header.line(file, line)?;
        }
    }

    let Some(upgrade_marker) = upgrade_marker else {
        return Err(ParseErrorKind::MissingUpgrade.at(file, last_line.max(1)));
    };
    let upgrade = SectionSpan {
        start: upgrade_marker.next,
        end: downgrade_marker.map_or(text.len(), |d| d.start),
        line: upgrade_marker.number.saturating_add(1),
    };
    let downgrade = downgrade_marker.map(|d| SectionSpan {
        start: d.next,
        end: text.len(),
        line: d.number.saturating_add(1),
    });

    finish(
        file,
        text,
        &header,
        upgrade_marker.number,
        upgrade,
        downgrade,
    )
}

/// The revision a parsed header and its sections make; `first_line` is
/// where the header ended (the line missing keys are reported on).
pub(crate) fn finish(
    file: &str,
    text: &str,
    header: &Header<'_>,
    first_line: u32,
    upgrade: SectionSpan,
    downgrade: Option<SectionSpan>,
) -> Result<ParsedRevision, ParseError> {
    let prefix = header.comment;
    let (id_line, id) = header.get("Revision ID").ok_or_else(|| {
        ParseErrorKind::MissingKey {
            key: "Revision ID",
            hint: if prefix == "--" {
                "add `-- Revision ID: <id>` above the upgrade section"
            } else {
                "add `// Revision ID: <id>` to the comment block at the top of the file"
            },
        }
        .at(file, first_line)
    })?;
    if let Err(reason) = validate_name(id) {
        return Err(ParseErrorKind::InvalidName {
            what: "revision id",
            value: id.to_owned(),
            reason,
        }
        .at(file, id_line));
    }
    let (revises_line, revises) = header.get("Revises").ok_or_else(|| {
        ParseErrorKind::MissingKey {
            key: "Revises",
            hint: if prefix == "--" {
                "add `-- Revises: <parent id>`, or `-- Revises:` with no value for a base revision"
            } else {
                "add `// Revises: <parent id>`, or `// Revises:` with no value for a base revision"
            },
        }
        .at(file, first_line)
    })?;
    let parents = parse_names(
        file,
        revises_line,
        "Revises",
        "parent revision id",
        revises,
        Some(id),
    )?;
    let (depends_line, depends_on) = match header.get("Depends On") {
        Some((line, value)) => (
            line,
            parse_names(file, line, "Depends On", "dependency", value, Some(id))?,
        ),
        None => (0, Vec::new()),
    };
    let (labels_line, branch_labels) = match header.get("Branch Labels") {
        Some((line, value)) => (
            line,
            parse_names(file, line, "Branch Labels", "branch label", value, None)?,
        ),
        None => (0, Vec::new()),
    };
    let create_date = match header.get("Create Date") {
        Some((line, "")) => {
            return Err(ParseErrorKind::EmptyValue { key: "Create Date" }.at(file, line));
        }
        Some((_, value)) => Some(value.to_owned()),
        None => None,
    };
    let transactional = match header.get("Transactional") {
        None => true,
        Some((_, value)) if value.eq_ignore_ascii_case("true") => true,
        Some((_, value)) if value.eq_ignore_ascii_case("false") => false,
        Some((line, value)) => {
            return Err(ParseErrorKind::InvalidTransactional {
                value: value.to_owned(),
            }
            .at(file, line));
        }
    };

    Ok(ParsedRevision {
        id: id.to_owned(),
        parents,
        depends_on,
        branch_labels,
        message: header.message.join(" "),
        create_date,
        transactional,
        upgrade,
        downgrade,
        checksum: checksum(text.as_bytes()),
        lines: HeaderLines {
            id: id_line,
            revises: revises_line,
            depends_on: depends_line,
            branch_labels: labels_line,
        },
    })
}

impl fmt::Display for SectionSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} (bytes {}..{})", self.line, self.start, self.end)
    }
}

#[cfg(test)]
mod tests;
