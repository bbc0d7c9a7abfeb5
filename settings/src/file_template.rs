//! [`FileTemplate`]: how new revision files are named.

use std::fmt;

/// The placeholders a file-name template may use.
pub const PLACEHOLDERS: [&str; 8] = [
    "rev", "slug", "year", "month", "day", "hour", "minute", "second",
];

/// A file-name template such as `{rev}_{slug}` (the default), the
/// `file_template` setting. `.sql` is appended when the file is written.
///
/// Placeholders are `{name}` with a name from [`PLACEHOLDERS`]: `rev` (the
/// revision id), `slug` (the message, lowercased, words joined by `_`),
/// and the creation date's `year`, `month`, `day`, `hour`, `minute` and
/// `second`. `{{` and `}}` stand for literal braces. `{rev}` is required so
/// that file names are unique.
///
/// ```
/// use retort_settings::FileTemplate;
/// let template = FileTemplate::parse("{year}{month}{day}_{rev}_{slug}")?;
/// let name = template.render(|name| match name {
///     "rev" => "3f2a9c1b7d4e".to_owned(),
///     "slug" => "add_users".to_owned(),
///     "year" => "2026".to_owned(),
///     "month" => "11".to_owned(),
///     _ => "24".to_owned(),
/// });
/// assert_eq!(name, "20261124_3f2a9c1b7d4e_add_users");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTemplate(String);

impl Default for FileTemplate {
    fn default() -> Self {
        Self("{rev}_{slug}".to_owned())
    }
}

enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into text and placeholders, or says what is wrong.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let (text, tail) = rest.split_at(i);
        if !text.is_empty() {
            out.push(Piece::Text(text));
        }
        if let Some(tail) = tail.strip_prefix("{{") {
            out.push(Piece::Text("{"));
            rest = tail;
        } else if let Some(tail) = tail.strip_prefix("}}") {
            out.push(Piece::Text("}"));
            rest = tail;
        } else if tail.starts_with('}') {
            return Err("unmatched `}` (write `}}` for a literal brace)".to_owned());
        } else {
            let Some(end) = tail.find('}') else {
                return Err("unclosed `{` (write `{{` for a literal brace)".to_owned());
            };
            let name = &tail[1..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "unknown placeholder `{{{name}}}`; use {}",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ));
            }
            out.push(Piece::Placeholder(name));
            rest = &tail[end + 1..];
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

impl FileTemplate {
    /// Checks a template: known placeholders, balanced braces, `{rev}`
    /// present, no path separator.
    pub fn parse(template: &str) -> Result<Self, String> {
        let pieces = pieces(template)?;
        if !pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Placeholder("rev")))
        {
            return Err("must contain `{rev}` so that file names are unique".to_owned());
        }
        if template.contains(['/', '\\']) {
            return Err("must be a file name, not a path".to_owned());
        }
        Ok(Self(template.to_owned()))
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file name (without `.sql`), each placeholder replaced by
    /// `value(name)`.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        // Checked by `parse`, so this cannot fail.
        pieces(&self.0)
            .unwrap_or_default()
            .into_iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.to_owned(),
                Piece::Placeholder(name) => value(name),
            })
            .collect()
    }
}

impl fmt::Display for FileTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_escapes() {
        let t = FileTemplate::default();
        assert_eq!(t.render(|n| n.to_uppercase()), "REV_SLUG");
        let t = FileTemplate::parse("{{x}}_{rev}").unwrap();
        assert_eq!(t.render(|_| "1".to_owned()), "{x}_1");
    }

    #[test]
    fn errors() {
        let err = |t: &str| FileTemplate::parse(t).unwrap_err();
        assert!(err("{rev}_{nope}").contains("unknown placeholder `{nope}`"));
        assert!(err("{rev").contains("unclosed `{`"));
        assert!(err("{rev}}").contains("unmatched `}`"));
        assert!(err("{slug}").contains("must contain `{rev}`"));
        assert!(err("a/{rev}").contains("not a path"));
    }
}
