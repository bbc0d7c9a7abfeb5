//! The stairway test (pytest-alembic's up/down consistency): every
//! revision, in order, is upgraded, downgraded and upgraded again on a real
//! database, and each downgrade must give back exactly the schema from
//! before its upgrade, as introspection reads it.
//!
//! ```no_run
//! # async fn run(migrations: &retort_runtime::Migrations) {
//! // In a service's tests, on a fresh, empty database:
//! retort_schema::stairway::assert_stairway(migrations, "sqlite://stairway.db").await;
//! # }
//! ```

use retort_runtime::Migrations;

use crate::change::Change;
use crate::error::{Error, redact};
use crate::hints::Hints;
use crate::introspect::{Scope, introspect_url};
use crate::model::Schema;

/// Why the stairway stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StairwayError {
    /// The downgrade of `revision` does not restore the schema from before
    /// its upgrade.
    #[error(
        "the downgrade of revision `{revision}` does not restore the schema from before its upgrade; what it leaves, against what was there:\n{}",
        list(.differences)
    )]
    NotRestored {
        /// The revision.
        revision: String,
        /// The changes that would take the downgraded schema back to the
        /// one before the upgrade, one per line.
        differences: Vec<String>,
    },

    /// Upgrading or downgrading failed.
    #[error("{step} of revision `{revision}` failed during the stairway test")]
    Step {
        /// `upgrade`, `downgrade` or `upgrade again`.
        step: &'static str,
        /// The revision.
        revision: String,
        /// The runtime's error.
        #[source]
        source: retort_runtime::Error,
    },

    /// Reading or comparing the schema failed.
    #[error("reading the schema of {url} during the stairway test")]
    Schema {
        /// The database, redacted.
        url: String,
        /// The engine's error.
        #[source]
        source: Error,
    },

    /// The database is not at base: the stairway starts from nothing.
    #[error("the stairway test needs a database at base; this one is at {}", .current.join(", "))]
    NotAtBase {
        /// Its current revisions.
        current: Vec<String>,
    },

    /// Reading the database's current revisions failed.
    #[error("reading the current revisions before the stairway test")]
    Current(#[source] retort_runtime::Error),

    /// The revision graph is invalid (the runtime reports why).
    #[error("the revision graph is invalid")]
    Graph,
}

fn list(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the stairway on `url`, which should be empty: for each revision in
/// order (parents first), upgrade to it, read the schema, downgrade one
/// step on its branch (`REV@-1`), compare with the schema before the
/// upgrade, and upgrade again. A merge revision (several parents) is only
/// upgraded: a one-step downgrade from it is ambiguous. retort's own
/// tables (under the migrations' configured names) are left out.
pub async fn stairway(migrations: &Migrations, url: &str) -> Result<(), StairwayError> {
    let scope = Scope::default();
    let read = async |scope: &Scope| {
        introspect_url(url, scope)
            .await
            .map_err(|source| StairwayError::Schema {
                url: redact(url),
                source,
            })
    };
    // Also creates a SQLite file that does not exist yet.
    let current = migrations
        .current(url)
        .await
        .map_err(StairwayError::Current)?;
    if !current.is_empty() {
        return Err(StairwayError::NotAtBase { current });
    }
    let set = migrations.set();
    let graph = set.graph().map_err(|_| StairwayError::Graph)?;
    for &i in graph.topological() {
        let revision = graph.id(i).to_owned();
        let step = |step: &'static str| {
            let revision = revision.clone();
            move |source| StairwayError::Step {
                step,
                revision,
                source,
            }
        };
        let before = read(&scope).await?;
        migrations
            .upgrade(url, revision.as_str())
            .await
            .map_err(step("upgrade"))?;
        if graph.parents(i).len() > 1 {
            continue;
        }
        migrations
            .downgrade(url, format!("{revision}@-1").as_str())
            .await
            .map_err(step("downgrade"))?;
        let after = read(&scope).await?;
        let differences = differences(&after, &before).map_err(|source| StairwayError::Schema {
            url: redact(url),
            source,
        })?;
        if !differences.is_empty() {
            return Err(StairwayError::NotRestored {
                revision,
                differences: differences.iter().map(ToString::to_string).collect(),
            });
        }
        migrations
            .upgrade(url, revision.as_str())
            .await
            .map_err(step("upgrade again"))?;
    }
    Ok(())
}

fn differences(after: &Schema, before: &Schema) -> Result<Vec<Change>, Error> {
    crate::generate::compare(after, before, &Hints::none())
}

/// Panics unless [`stairway`] passes, naming the first revision whose
/// downgrade does not restore the schema and printing the differences.
#[allow(clippy::panic, reason = "an assertion for tests: failing is panicking")]
pub async fn assert_stairway(migrations: &Migrations, url: &str) {
    if let Err(e) = stairway(migrations, url).await {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!("\n  caused by: {cause}"));
            source = cause.source();
        }
        panic!("{message}");
    }
}
