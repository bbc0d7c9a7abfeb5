//! [`Revision`]: one validated revision, embedded at compile time or loaded
//! at run time; both are the same type.

use std::borrow::Cow;
use std::fmt;

use crate::checksum::Digest256;
use crate::format::SectionSpan;

/// A string that is either `'static` (embedded) or owned (loaded at run time).
pub type Text = Cow<'static, str>;
/// A list of names (revision ids or branch labels): `'static` when embedded,
/// owned when loaded at run time.
///
/// Equality compares the names, whichever way they are stored.
#[derive(Clone)]
pub enum Names {
    /// Embedded by `embed_migrations!`.
    Static(&'static [&'static str]),
    /// Loaded at run time.
    Owned(Vec<String>),
}

impl Names {
    /// The names, in declaration order.
    pub fn iter(&self) -> NamesIter<'_> {
        NamesIter {
            names: self,
            next: 0,
        }
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        match self {
            Self::Static(names) => names.len(),
            Self::Owned(names) => names.len(),
        }
    }

    /// True when there is no name.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Names {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Names {}

impl std::hash::Hash for Names {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for name in self.iter() {
            name.hash(state);
        }
    }
}

/// Iterator over [`Names`].
#[derive(Debug, Clone)]
pub struct NamesIter<'a> {
    names: &'a Names,
    next: usize,
}

impl<'a> Iterator for NamesIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let item = match self.names {
            Names::Static(names) => names.get(self.next).copied(),
            Names::Owned(names) => names.get(self.next).map(String::as_str),
        };
        self.next += usize::from(item.is_some());
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.names.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for NamesIter<'_> {}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One revision of a migration set: its header, its SQL and its checksum.
///
/// Revisions come out of [`crate::MigrationSet`]s, which validate them as a
/// graph; the type has no public constructor besides the hidden one the
/// `embed_migrations!` macro uses.
///
/// The file's text and the header values parsed from it are kept in one
/// string, the text first, so that an embedded revision is one string
/// literal (one pointer, one relocation in the binary) plus offsets.
#[derive(Clone, PartialEq, Eq)]
pub struct Revision {
    /// The file's text, then the id, message, create date, path, parents,
    /// dependencies and branch labels (each list joined with spaces: names
    /// hold none).
    text: Text,
    /// Where each of those parts ends in `text`; see [`Part`].
    ends: [u32; PARTS],
    has_create_date: bool,
    transactional: bool,
    upgrade: SectionSpan,
    downgrade: Option<SectionSpan>,
    checksum: Digest256,
}

/// The parts of [`Revision::text`], in order.
#[derive(Clone, Copy)]
enum Part {
    Source,
    Id,
    Message,
    CreateDate,
    Path,
    Parents,
    DependsOn,
    BranchLabels,
}

/// Number of [`Part`]s.
const PARTS: usize = 8;

/// Builds a revision's text and the ends of its parts, in [`Part`] order.
struct Packer {
    text: String,
    ends: [u32; PARTS],
    next: usize,
}

impl Packer {
    fn new(source: String) -> Self {
        let mut packer = Self {
            text: source,
            ends: [0; PARTS],
            next: 0,
        };
        packer.end();
        packer
    }

    fn push(mut self, value: &str) -> Self {
        self.text.push_str(value);
        self.end();
        self
    }

    fn push_list<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                self.text.push(' ');
            }
            self.text.push_str(name.as_ref());
        }
        self.end();
        self
    }

    /// Ends the current part. Files over 1 GiB are refused when parsed
    /// (see [`crate::format::MAX_FILE_BYTES`]), so every offset fits in a `u32`.
    fn end(&mut self) {
        if let Some(slot) = self.ends.get_mut(self.next) {
            *slot = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        }
        self.next += 1;
    }
}

/// The names of a space-separated list (parents, dependencies, labels).
#[derive(Debug, Clone)]
struct NameList<'a> {
    rest: &'a str,
}

impl<'a> Iterator for NameList<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let (name, rest) = self.rest.split_once(' ').unwrap_or((self.rest, ""));
        self.rest = rest;
        Some(name)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = if self.rest.is_empty() {
            0
        } else {
            self.rest.bytes().filter(|&b| b == b' ').count() + 1
        };
        (len, Some(len))
    }
}

impl ExactSizeIterator for NameList<'_> {}

impl Revision {
    /// Used by `embed_migrations!`: `text` is the file's text followed by
    /// the header values, `ends` where each part ends. Not part of the
    /// public API.
    ///
    /// # Panics
    ///
    /// At compile time, when `text` is not as long as the macro saw it:
    /// the file changed while the crate was compiling.
    #[doc(hidden)]
    pub const fn __new(
        text: &'static str,
        ends: [u32; PARTS],
        has_create_date: bool,
        transactional: bool,
        upgrade: SectionSpan,
        downgrade: Option<SectionSpan>,
        checksum: Digest256,
    ) -> Self {
        assert!(
            ends[PARTS - 1] as usize == text.len(),
            "a migration file changed while compiling; build again"
        );
        Self {
            text: Cow::Borrowed(text),
            ends,
            has_create_date,
            transactional,
            upgrade,
            downgrade,
            checksum,
        }
    }

    /// What `embed_migrations!` embeds after the file's text: the header
    /// values as one string, the ends of every part and whether there is a
    /// create date. Not part of the public API.
    #[doc(hidden)]
    pub fn __packed(&self) -> (&str, [u32; PARTS], bool) {
        let source_end = self.ends[Part::Source as usize] as usize;
        (
            self.text.get(source_end..).unwrap_or_default(),
            self.ends,
            self.has_create_date,
        )
    }

    fn pack(
        packer: Packer,
        path: &str,
        parents: &[impl AsRef<str>],
        depends_on: &[impl AsRef<str>],
        branch_labels: &[impl AsRef<str>],
    ) -> (Text, [u32; PARTS]) {
        let packed = packer
            .push(path)
            .push_list(parents)
            .push_list(depends_on)
            .push_list(branch_labels);
        (Cow::Owned(packed.text), packed.ends)
    }

    fn part(&self, part: Part) -> &str {
        let i = part as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    fn list(&self, part: Part) -> NameList<'_> {
        NameList {
            rest: self.part(part),
        }
    }

    /// A revision known only from the history table of a database (its
    /// file is not in this build): its id, its parents and the downgrade
    /// SQL recorded when it was applied. It has no upgrade SQL; its path is
    /// `history:{id}` and its source the text a file of it would hold.
    ///
    /// ```
    /// use retort_core::Revision;
    /// let rev = Revision::recovered("b2", &["a1"], Some("DROP TABLE t;\n"));
    /// assert_eq!(rev.path(), "history:b2");
    /// assert_eq!(rev.parents().collect::<Vec<_>>(), ["a1"]);
    /// assert_eq!(rev.upgrade_sql(), "");
    /// assert_eq!(rev.downgrade_sql(), Some("DROP TABLE t;\n"));
    /// ```
    pub fn recovered(id: &str, parents: &[&str], downgrade_sql: Option<&str>) -> Self {
        let message =
            format!("{id} (recovered from the history table; its file is not in this build)");
        let mut source = format!(
            "-- {message}\n-- Revision ID: {id}\n-- Revises: {}\n\n-- migrate:upgrade\n",
            parents.join(", ")
        );
        let upgrade = span_at(&source, source.len());
        let downgrade = downgrade_sql.map(|sql| {
            source.push_str("-- migrate:downgrade\n");
            let start = source.len();
            source.push_str(sql);
            SectionSpan {
                end: source.len(),
                ..span_at(&source, start)
            }
        });
        let checksum = crate::checksum::checksum(source.as_bytes());
        let packer = Packer::new(source).push(id).push(&message).push("");
        let none: &[&str] = &[];
        let (text, ends) = Self::pack(packer, &format!("history:{id}"), parents, none, none);
        Self {
            text,
            ends,
            has_create_date: false,
            transactional: true,
            upgrade,
            downgrade,
            checksum,
        }
    }

    /// The revision id.
    pub fn id(&self) -> &str {
        self.part(Part::Id)
    }

    /// The parent revision ids (`Revises`): none for a base, several for a merge.
    pub fn parents(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.list(Part::Parents)
    }

    /// What the revision depends on (`Depends On`): revision ids or branch labels.
    pub fn depends_on(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.list(Part::DependsOn)
    }

    /// The revisions of other migration sets this revision depends on
    /// (`Depends On: jobs@a1b2`), as `(set, revision)`.
    ///
    /// ```
    /// let text = "// Revision ID: b2\n// Revises:\n// Depends On: jobs@a1\n\npub async fn upgrade() {}\n";
    /// let parsed = retort_core::rust_format::parse("m/b2.rs", text).unwrap();
    /// let set = retort_core::MigrationSet::from_parsed(vec![("m/b2.rs".into(), text.into(), parsed)])
    ///     .unwrap();
    /// let other: Vec<_> = set.revisions()[0].other_sets_depends_on().collect();
    /// assert_eq!(other, [("jobs", "a1")]);
    /// ```
    pub fn other_sets_depends_on(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.list(Part::DependsOn).filter_map(|d| d.split_once('@'))
    }

    /// The branch labels declared on this revision (`Branch Labels`).
    pub fn branch_labels(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.list(Part::BranchLabels)
    }

    /// The message (first paragraph of the header's free text).
    pub fn message(&self) -> &str {
        self.part(Part::Message)
    }

    /// The `Create Date` header, verbatim.
    pub fn create_date(&self) -> Option<&str> {
        self.has_create_date.then(|| self.part(Part::CreateDate))
    }

    /// Whether the revision runs inside a transaction (`Transactional: false`
    /// turns this off, e.g. for `CREATE INDEX CONCURRENTLY`).
    pub fn is_transactional(&self) -> bool {
        self.transactional
    }

    /// The file the revision came from, relative to where it was loaded
    /// (for example `migrations/3f2a9c1b7d4e_add_users.sql`).
    pub fn path(&self) -> &str {
        self.part(Part::Path)
    }

    /// True for a Rust revision (a `.rs` file): its upgrade and downgrade
    /// are functions compiled into the service by `embed_migrations!`,
    /// so [`Revision::upgrade_sql`] is empty and its spans are where the
    /// functions are declared.
    pub fn is_code(&self) -> bool {
        self.path().ends_with(".rs")
    }

    /// The whole file's text, as read (line endings untouched).
    pub fn source(&self) -> &str {
        self.part(Part::Source)
    }

    /// The upgrade SQL (empty for a [Rust revision](Revision::is_code)).
    pub fn upgrade_sql(&self) -> &str {
        section(self.source(), self.upgrade)
    }

    /// Where the upgrade SQL lies in [`Revision::source`].
    pub fn upgrade_span(&self) -> SectionSpan {
        self.upgrade
    }

    /// The downgrade SQL, or `None` when the file has no downgrade section
    /// (the revision cannot be downgraded).
    pub fn downgrade_sql(&self) -> Option<&str> {
        self.downgrade.map(|span| section(self.source(), span))
    }

    /// Where the downgrade SQL lies in [`Revision::source`].
    pub fn downgrade_span(&self) -> Option<SectionSpan> {
        self.downgrade
    }

    /// The file's checksum (see [`crate::checksum`]).
    pub fn checksum(&self) -> Digest256 {
        self.checksum
    }

    /// True when the revision has no parents.
    pub fn is_base(&self) -> bool {
        self.part(Part::Parents).is_empty()
    }

    /// True when the revision has several parents.
    pub fn is_merge(&self) -> bool {
        self.part(Part::Parents).contains(' ')
    }
}

/// An empty section starting at byte `start` of `source`.
fn span_at(source: &str, start: usize) -> SectionSpan {
    let line = source[..start].matches('\n').count() + 1;
    SectionSpan {
        start,
        end: start,
        line: u32::try_from(line).unwrap_or(u32::MAX),
    }
}

fn section(source: &str, span: SectionSpan) -> &str {
    source.get(span.range()).unwrap_or_default()
}

impl fmt::Debug for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revision")
            .field("id", &self.id())
            .field("parents", &self.list(Part::Parents).collect::<Vec<_>>())
            .field(
                "depends_on",
                &self.list(Part::DependsOn).collect::<Vec<_>>(),
            )
            .field(
                "branch_labels",
                &self.list(Part::BranchLabels).collect::<Vec<_>>(),
            )
            .field("message", &self.message())
            .field("transactional", &self.transactional)
            .field("path", &self.path())
            .field("checksum", &self.checksum)
            .finish_non_exhaustive()
    }
}

/// Turns a parsed file into an owned [`Revision`].
pub(crate) fn from_parsed(
    path: String,
    source: String,
    parsed: crate::format::ParsedRevision,
) -> Revision {
    let packer = Packer::new(source)
        .push(&parsed.id)
        .push(&parsed.message)
        .push(parsed.create_date.as_deref().unwrap_or_default());
    let (text, ends) = Revision::pack(
        packer,
        &path,
        &parsed.parents,
        &parsed.depends_on,
        &parsed.branch_labels,
    );
    Revision {
        text,
        ends,
        has_create_date: parsed.create_date.is_some(),
        transactional: parsed.transactional,
        upgrade: parsed.upgrade,
        downgrade: parsed.downgrade,
        checksum: parsed.checksum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_through_the_packed_text() {
        let rev = Revision::recovered("m3", &["a1", "b2"], Some("DROP TABLE t;\n"));
        assert_eq!(rev.id(), "m3");
        assert_eq!(rev.parents().collect::<Vec<_>>(), ["a1", "b2"]);
        assert_eq!(rev.parents().len(), 2);
        assert!(rev.is_merge());
        assert!(!rev.is_base());
        assert_eq!(rev.depends_on().len(), 0);
        assert_eq!(rev.branch_labels().next(), None);
        assert_eq!(rev.create_date(), None);
        assert_eq!(rev.path(), "history:m3");
        assert!(rev.source().starts_with("-- m3 (recovered"));
        assert_eq!(rev.downgrade_sql(), Some("DROP TABLE t;\n"));
        let (tail, ends, has_date) = rev.__packed();
        assert_eq!(tail, format!("m3{}history:m3a1 b2", rev.message()));
        assert_eq!(ends[PARTS - 1] as usize, rev.source().len() + tail.len());
        assert!(!has_date);
        let base = Revision::recovered("a1", &[], None);
        assert!(base.is_base() && !base.is_merge());
        assert_eq!(base.parents().len(), 0);
    }
}
