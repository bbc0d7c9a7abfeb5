//! [`Migrations`]: the set of revisions a service carries.

use std::ops::Deref;
use std::path::Path;

use retort_core::MigrationSet;
use retort_core::load::{LoadErrors, load_dir};

/// A validated set of revisions, embedded with `embed_migrations!` or
/// loaded from a directory at run time; both behave the same.
#[derive(Debug, Clone)]
pub struct Migrations {
    set: MigrationSet,
}

impl Migrations {
    /// Used by `embed_migrations!`; not part of the public API.
    #[doc(hidden)]
    pub const fn __embedded(set: MigrationSet) -> Self {
        Self { set }
    }

    /// Loads and validates the revision files under `dir` (what the CLI does
    /// with a migrations directory), reporting every problem at once.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, LoadErrors> {
        let dir = dir.as_ref();
        let display = dir.to_string_lossy().replace('\\', "/");
        load_dir(dir, &display).map(|set| Self { set })
    }

    /// The validated revisions and their graph.
    pub fn set(&self) -> &MigrationSet {
        &self.set
    }
}

impl Deref for Migrations {
    type Target = MigrationSet;

    fn deref(&self) -> &MigrationSet {
        &self.set
    }
}
