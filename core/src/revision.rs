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

/// One revision of a migration set: its header, its SQL and its hashes.
///
/// Revisions come out of [`crate::MigrationSet`]s, which validate them as a
/// graph; the type has no public constructor besides the hidden one the
/// `embed_migrations!` macro uses.
#[derive(Clone, PartialEq, Eq)]
pub struct Revision {
    id: Text,
    parents: Names,
    depends_on: Names,
    branch_labels: Names,
    message: Text,
    create_date: Option<Text>,
    transactional: bool,
    path: Text,
    source: Text,
    upgrade: SectionSpan,
    downgrade: Option<SectionSpan>,
    checksum: Digest256,
    lineage: Digest256,
}

impl Revision {
    /// Used by `embed_migrations!`; not part of the public API.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        id: Text,
        parents: Names,
        depends_on: Names,
        branch_labels: Names,
        message: Text,
        create_date: Option<Text>,
        transactional: bool,
        path: Text,
        source: Text,
        upgrade: SectionSpan,
        downgrade: Option<SectionSpan>,
        checksum: Digest256,
        lineage: Digest256,
    ) -> Self {
        Self {
            id,
            parents,
            depends_on,
            branch_labels,
            message,
            create_date,
            transactional,
            path,
            source,
            upgrade,
            downgrade,
            checksum,
            lineage,
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
        Self {
            id: Cow::Owned(id.to_owned()),
            parents: Names::Owned(parents.iter().map(|p| (*p).to_owned()).collect()),
            depends_on: Names::Owned(Vec::new()),
            branch_labels: Names::Owned(Vec::new()),
            message: Cow::Owned(message),
            create_date: None,
            transactional: true,
            path: Cow::Owned(format!("history:{id}")),
            checksum: crate::checksum::checksum(source.as_bytes()),
            source: Cow::Owned(source),
            upgrade,
            downgrade,
            lineage: Digest256([0; 32]),
        }
    }

    pub(crate) fn set_lineage(&mut self, lineage: Digest256) {
        self.lineage = lineage;
    }

    /// The revision id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The parent revision ids (`Revises`): none for a base, several for a merge.
    pub fn parents(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.parents.iter()
    }

    /// What the revision depends on (`Depends On`): revision ids or branch labels.
    pub fn depends_on(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.depends_on.iter()
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
        self.depends_on.iter().filter_map(|d| d.split_once('@'))
    }

    /// The branch labels declared on this revision (`Branch Labels`).
    pub fn branch_labels(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.branch_labels.iter()
    }

    /// The message (first paragraph of the header's free text).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Create Date` header, verbatim.
    pub fn create_date(&self) -> Option<&str> {
        self.create_date.as_deref()
    }

    /// Whether the revision runs inside a transaction (`Transactional: false`
    /// turns this off, e.g. for `CREATE INDEX CONCURRENTLY`).
    pub fn is_transactional(&self) -> bool {
        self.transactional
    }

    /// The file the revision came from, relative to where it was loaded
    /// (for example `migrations/3f2a9c1b7d4e_add_users.sql`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// True for a Rust revision (a `.rs` file): its upgrade and downgrade
    /// are functions compiled into the service by `embed_migrations!`,
    /// so [`Revision::upgrade_sql`] is empty and its spans are where the
    /// functions are declared.
    pub fn is_code(&self) -> bool {
        self.path.ends_with(".rs")
    }

    /// The whole file's text, as read (line endings untouched).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The upgrade SQL (empty for a [Rust revision](Revision::is_code)).
    pub fn upgrade_sql(&self) -> &str {
        section(&self.source, self.upgrade)
    }

    /// Where the upgrade SQL lies in [`Revision::source`].
    pub fn upgrade_span(&self) -> SectionSpan {
        self.upgrade
    }

    /// The downgrade SQL, or `None` when the file has no downgrade section
    /// (the revision cannot be downgraded).
    pub fn downgrade_sql(&self) -> Option<&str> {
        self.downgrade.map(|span| section(&self.source, span))
    }

    /// Where the downgrade SQL lies in [`Revision::source`].
    pub fn downgrade_span(&self) -> Option<SectionSpan> {
        self.downgrade
    }

    /// The file's checksum (see [`crate::checksum`]).
    pub fn checksum(&self) -> Digest256 {
        self.checksum
    }

    /// The revision's lineage hash: its checksum and every ancestor's.
    pub fn lineage(&self) -> Digest256 {
        self.lineage
    }

    /// True when the revision has no parents.
    pub fn is_base(&self) -> bool {
        self.parents.is_empty()
    }

    /// True when the revision has several parents.
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
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
            .field("id", &self.id)
            .field("parents", &self.parents)
            .field("depends_on", &self.depends_on)
            .field("branch_labels", &self.branch_labels)
            .field("message", &self.message)
            .field("transactional", &self.transactional)
            .field("path", &self.path)
            .field("checksum", &self.checksum)
            .field("lineage", &self.lineage)
            .finish_non_exhaustive()
    }
}

/// Turns a parsed file into an owned [`Revision`] whose lineage hash is not
/// yet known (it is filled in once the whole set is validated).
pub(crate) fn from_parsed(
    path: String,
    source: String,
    parsed: crate::format::ParsedRevision,
) -> Revision {
    let list = Names::Owned;
    Revision {
        id: Cow::Owned(parsed.id),
        parents: list(parsed.parents),
        depends_on: list(parsed.depends_on),
        branch_labels: list(parsed.branch_labels),
        message: Cow::Owned(parsed.message),
        create_date: parsed.create_date.map(Cow::Owned),
        transactional: parsed.transactional,
        path: Cow::Owned(path),
        source: Cow::Owned(source),
        upgrade: parsed.upgrade,
        downgrade: parsed.downgrade,
        checksum: parsed.checksum,
        lineage: Digest256([0; 32]),
    }
}
