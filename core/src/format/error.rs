//! Errors of the revision-file format.

use super::grammar::{DOWNGRADE_MARKER, UPGRADE_MARKER};
/// A revision file that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct ParseError {
    /// The file, as it should be shown to the user.
    pub file: String,
    /// 1-based line number.
    pub line: u32,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a revision file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The file is not valid UTF-8.
    #[error("file is not valid UTF-8 (invalid byte sequence on this line)")]
    NotUtf8,
    /// The file is larger than a revision may be (1 GiB).
    #[error("file is {bytes} bytes; a revision file may be at most 1 GiB (1073741824 bytes)")]
    TooLarge {
        /// The file's size.
        bytes: usize,
    },
    /// The file has no `-- migrate:upgrade` line.
    #[error("missing `{UPGRADE_MARKER}` line: every revision needs an upgrade section")]
    MissingUpgrade,
    /// A section marker appears twice.
    #[error("second `{marker}` line (the first is on line {first_line})")]
    DuplicateMarker {
        /// The repeated marker.
        marker: &'static str,
        /// Line of the first occurrence.
        first_line: u32,
    },
    /// The downgrade marker comes before the upgrade marker.
    #[error("`{DOWNGRADE_MARKER}` before `{UPGRADE_MARKER}`: the upgrade section comes first")]
    DowngradeBeforeUpgrade,
    /// A line starts like a marker but is none.
    #[error(
        "unknown section marker `{found}`: expected `{UPGRADE_MARKER}` or `{DOWNGRADE_MARKER}`"
    )]
    UnknownMarker {
        /// The line as found.
        found: String,
    },
    /// SQL (or anything but comments and blank lines) before the upgrade marker.
    #[error(
        "expected a `-- Key: value` header line, a `--` comment or `{UPGRADE_MARKER}`, found `{found}`"
    )]
    UnexpectedBeforeUpgrade {
        /// The line as found (truncated).
        found: String,
    },
    /// An unknown `Key: value` line inside the block of header keys.
    #[error(
        "unknown header key `{key}`: expected one of `Revision ID`, `Revises`, `Create Date`, `Branch Labels`, `Depends On`, `Transactional`"
    )]
    UnknownKey {
        /// The key as found.
        key: String,
    },
    /// A comment line without `Key:` inside the block of header keys.
    #[error(
        "expected a `Key: value` header line inside the header block, found `{found}` (put free text above the keys, or separate it with a blank line)"
    )]
    ExpectedKey {
        /// The line as found (truncated).
        found: String,
    },
    /// A header key appears twice.
    #[error("duplicate header key `{key}` (first on line {first_line})")]
    DuplicateKey {
        /// The canonical key.
        key: &'static str,
        /// Line of the first occurrence.
        first_line: u32,
    },
    /// A required header key is missing.
    #[error("missing header key `{key}`: {hint}")]
    MissingKey {
        /// The canonical key.
        key: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
    /// A revision id, parent id, dependency or label is malformed.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName {
        /// "revision id", "parent revision id", "dependency" or "branch label".
        what: &'static str,
        /// The value as found.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The same name is listed twice in one header value.
    #[error("`{value}` is listed twice in `{key}`")]
    DuplicateName {
        /// The canonical key.
        key: &'static str,
        /// The repeated name.
        value: String,
    },
    /// A revision lists itself as parent or dependency.
    #[error("revision `{id}` lists itself in `{key}`")]
    SelfReference {
        /// The canonical key.
        key: &'static str,
        /// The revision id.
        id: String,
    },
    /// A header key has an empty value where one is required.
    #[error("`{key}` has an empty value")]
    EmptyValue {
        /// The canonical key.
        key: &'static str,
    },
    /// A Rust revision lacks `pub async fn upgrade` (or `downgrade` is
    /// not `async`).
    #[error(
        "{problem}: a Rust revision defines `pub async fn upgrade(cx: &mut retort::code::Context<'_>) -> retort::code::Result` (and optionally `downgrade`, the same way)"
    )]
    RustFunction {
        /// What is wrong, such as "no `upgrade` function".
        problem: String,
    },
    /// `Transactional` is neither `true` nor `false`.
    #[error("invalid `Transactional` value `{value}`: expected `true` or `false`")]
    InvalidTransactional {
        /// The value as found.
        value: String,
    },
}

impl ParseErrorKind {
    pub(crate) fn at(self, file: &str, line: u32) -> ParseError {
        ParseError {
            file: file.to_owned(),
            line,
            kind: self,
        }
    }
}
