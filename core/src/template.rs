//! The revision template: the user-editable file `retort revision` fills in
//! (Alembic's `script.py.mako`), by default `migrations/script.sql.tmpl`.
//!
//! # Syntax
//!
//! A template is text with `${name}` placeholders:
//!
//! | placeholder | value |
//! |---|---|
//! | `${message}` | the message (`-m`), made safe for a header comment (below) |
//! | `${revision}` | the new revision id |
//! | `${revises}` | the parents, comma-separated (`a1b2, c3d4`); empty for a base |
//! | `${create_date}` | the creation date, `YYYY-MM-DD HH:MM:SS+00:00` (UTC) |
//! | `${branch_labels}` | the branch labels, comma-separated |
//! | `${depends_on}` | the dependencies, comma-separated |
//! | `${transactional}` | `true` or `false` |
//! | `${upgrade}` | the upgrade SQL (written by `--autogenerate`, else empty) |
//! | `${downgrade}` | the downgrade SQL (written by `--autogenerate`, else empty) |
//!
//! * **Optional lines**: `${name?}` renders like `${name}`, but the whole
//!   line is dropped when the value is empty, or, for `transactional`, when
//!   it is `true` (the default). So `-- Branch Labels: ${branch_labels?}`
//!   disappears for a revision without labels, while `-- Revises: ${revises}`
//!   stays (empty) for a base revision, as the format requires.
//! * **Multi-line values** continue on new lines, each starting with the
//!   template line's text before its first placeholder: with
//!   `-- ${message}`, a two-line message becomes two `-- ` comment lines.
//! * `$${` stands for a literal `${`; any other `$` is literal.
//! * A placeholder cannot span lines. An unknown name, or a `${` without its
//!   `}` on the same line, is a [`TemplateError`] naming the template file
//!   and line.
//! * The output always uses `\n` line endings, whatever the template uses; a
//!   leading byte-order mark is dropped.
//!
//! The message is made safe for the header: line endings are normalised,
//! control characters removed, each line trimmed and blank lines dropped (so
//! the whole message stays the header's first paragraph), and a line that
//! would read as a header key (`Revises: ...`) or a section marker
//! (`migrate:...`) is put in double quotes.
//!
//! ```
//! use retort_core::template::{Template, Values, DEFAULT_TEMPLATE};
//!
//! let template = Template::parse("<default template>", DEFAULT_TEMPLATE)?;
//! let text = template.render(&Values {
//!     message: "add users table",
//!     revision: "3f2a9c1b7d4e",
//!     revises: &["1a2b3c4d5e6f".to_owned()],
//!     create_date: "2026-11-24 15:30:00+00:00",
//!     ..Values::default()
//! });
//! assert_eq!(text, "\
//! -- add users table
//! --
//! -- Revision ID: 3f2a9c1b7d4e
//! -- Revises: 1a2b3c4d5e6f
//! -- Create Date: 2026-11-24 15:30:00+00:00
//!
//! -- migrate:upgrade
//!
//! -- migrate:downgrade
//! ");
//! let parsed = retort_core::format::parse("new.sql", &text).unwrap();
//! assert_eq!(parsed.parents, ["1a2b3c4d5e6f"]);
//! # Ok::<(), retort_core::template::TemplateError>(())
//! ```

use crate::format::HEADER_KEYS;

/// The default template: exactly the format of `docs/revision-format.md`,
/// without the optional keys when they have no value.
pub const DEFAULT_TEMPLATE: &str = "\
-- ${message?}
--
-- Revision ID: ${revision}
-- Revises: ${revises}
-- Create Date: ${create_date}
-- Branch Labels: ${branch_labels?}
-- Depends On: ${depends_on?}
-- Transactional: ${transactional?}

-- migrate:upgrade
${upgrade?}

-- migrate:downgrade
${downgrade?}
";

/// The names a template may use inside `${...}`.
pub const PLACEHOLDERS: [&str; 9] = [
    "message",
    "revision",
    "revises",
    "create_date",
    "branch_labels",
    "depends_on",
    "transactional",
    "upgrade",
    "downgrade",
];

/// The values a template is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Values<'a> {
    /// The message, as typed (made safe when rendered).
    pub message: &'a str,
    /// The new revision id.
    pub revision: &'a str,
    /// The parents; empty for a base revision.
    pub revises: &'a [String],
    /// The creation date.
    pub create_date: &'a str,
    /// The branch labels.
    pub branch_labels: &'a [String],
    /// The dependencies.
    pub depends_on: &'a [String],
    /// Whether the revision runs in a transaction.
    pub transactional: bool,
    /// The upgrade SQL.
    pub upgrade: &'a str,
    /// The downgrade SQL.
    pub downgrade: &'a str,
}

impl Default for Values<'_> {
    fn default() -> Self {
        Self {
            message: "",
            revision: "",
            revises: &[],
            create_date: "",
            branch_labels: &[],
            depends_on: &[],
            transactional: true,
            upgrade: "",
            downgrade: "",
        }
    }
}

/// A template that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct TemplateError {
    /// The template file, as it should be shown to the user.
    pub file: String,
    /// 1-based line number.
    pub line: u32,
    /// What was wrong.
    pub kind: TemplateErrorKind,
}

/// What was wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateErrorKind {
    /// `${name}` with a name not in [`PLACEHOLDERS`].
    #[error("unknown placeholder `${{{name}}}`: expected one of {}", expected())]
    UnknownPlaceholder {
        /// The name as found.
        name: String,
    },
    /// `${` without `}` on the same line.
    #[error(
        "unterminated placeholder `{found}`: a `${{` needs its `}}` on the same line (write `$${{` for a literal `${{`)"
    )]
    Unterminated {
        /// The text from `${` to the end of the line (shortened).
        found: String,
    },
}

fn expected() -> String {
    PLACEHOLDERS
        .iter()
        .map(|p| format!("`${{{p}}}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value { name: &'static str, optional: bool },
}

/// A parsed template, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    file: String,
    lines: Vec<Vec<Piece>>,
    final_newline: bool,
}

impl Template {
    /// Parses a template; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, TemplateError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let final_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = Vec::new();
        for (index, line) in body.split('\n').enumerate() {
            let number = u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1);
            let line = line.strip_suffix('\r').unwrap_or(line);
            let pieces = parse_line(line).map_err(|kind| TemplateError {
                file: file.to_owned(),
                line: number,
                kind,
            })?;
            lines.push(pieces);
        }
        if text.is_empty() {
            lines.clear();
        }
        Ok(Self {
            file: file.to_owned(),
            lines,
            final_newline,
        })
    }

    /// The template file, as named when parsed.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Renders the template (see the [module docs](self) for the rules).
    pub fn render(&self, values: &Values<'_>) -> String {
        let message = message_lines(values.message).join("\n");
        let value = |name: &str| -> String {
            match name {
                "message" => message.clone(),
                "revision" => values.revision.to_owned(),
                "revises" => values.revises.join(", "),
                "create_date" => values.create_date.to_owned(),
                "branch_labels" => values.branch_labels.join(", "),
                "depends_on" => values.depends_on.join(", "),
                "transactional" => values.transactional.to_string(),
                "upgrade" => body(values.upgrade),
                "downgrade" => body(values.downgrade),
                _ => String::new(),
            }
        };
        let is_default = |name: &str, rendered: &str| match name {
            "transactional" => values.transactional,
            _ => rendered.is_empty(),
        };
        let mut out = String::new();
        for pieces in &self.lines {
            let mut line = String::new();
            let mut lead: Option<String> = None;
            let mut dropped = false;
            for piece in pieces {
                match piece {
                    Piece::Text(text) => line.push_str(text),
                    Piece::Value { name, optional } => {
                        let rendered = value(name);
                        if *optional && is_default(name, &rendered) {
                            dropped = true;
                            break;
                        }
                        // Continuation lines start with the template
                        // line's text before its first placeholder (`-- `
                        // for a message). Repeating everything rendered so
                        // far instead grew exponentially with several
                        // multi-line values on one line (found by the
                        // `template` fuzz target: 2 GB from 376 bytes).
                        let prefix = lead.get_or_insert_with(|| line.clone()).clone();
                        for (i, part) in rendered.split('\n').enumerate() {
                            if i > 0 {
                                line.push('\n');
                                line.push_str(&prefix);
                            }
                            line.push_str(part);
                        }
                    }
                }
            }
            if !dropped {
                out.push_str(&line);
                out.push('\n');
            }
        }
        if !self.final_newline && out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

/// Parses one line of a template into text and placeholders.
fn parse_line(line: &str) -> Result<Vec<Piece>, TemplateErrorKind> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${") {
            text.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                return Err(TemplateErrorKind::Unterminated {
                    found: shorten(tail),
                });
            };
            let raw = &after[..end];
            let (name, optional) = match raw.strip_suffix('?') {
                Some(name) => (name, true),
                None => (raw, false),
            };
            let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                return Err(TemplateErrorKind::UnknownPlaceholder {
                    name: raw.to_owned(),
                });
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Value {
                name: known,
                optional,
            });
            rest = &after[end + 1..];
        } else {
            text.push('$');
            rest = &tail[1..];
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A SQL body: line endings normalised, trailing line breaks removed (the
/// template's own line break ends it).
fn body(sql: &str) -> String {
    normalize_newlines(sql).trim_end_matches('\n').to_owned()
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The message as header comment lines: normalised line endings, control
/// characters removed, lines trimmed, blank lines dropped, and lines that
/// would read as a header key or a section marker quoted.
pub fn message_lines(message: &str) -> Vec<String> {
    normalize_newlines(message)
        .split('\n')
        .map(|line| {
            line.chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .filter(|c| !c.is_control())
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .filter(|line| !line.is_empty())
        .map(|line| {
            if looks_special(&line) {
                format!("\"{line}\"")
            } else {
                line
            }
        })
        .collect()
}

/// True when `line`, after `-- `, would be read as a header key or a
/// section marker.
fn looks_special(line: &str) -> bool {
    if line.starts_with("migrate:") {
        return true;
    }
    line.split_once(':').is_some_and(|(key, _)| {
        HEADER_KEYS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(key.trim()))
    })
}

#[cfg(test)]
mod tests;
