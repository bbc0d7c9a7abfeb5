//! The fixed words of the revision-file format.

/// Marker line that opens the upgrade section.
pub const UPGRADE_MARKER: &str = "-- migrate:upgrade";
/// Marker line that opens the downgrade section.
pub const DOWNGRADE_MARKER: &str = "-- migrate:downgrade";
/// Longest revision id accepted: the width of Alembic's `version_num VARCHAR(32)`.
pub const MAX_ID_LEN: usize = 32;
/// Words that are targets, never revision ids or branch labels.
pub const RESERVED_WORDS: [&str; 3] = ["head", "heads", "base"];

/// The header keys, in the canonical spelling `retort revision` writes.
pub const HEADER_KEYS: [&str; 6] = [
    "Revision ID",
    "Revises",
    "Create Date",
    "Branch Labels",
    "Depends On",
    "Transactional",
];
