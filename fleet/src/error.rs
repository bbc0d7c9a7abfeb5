//! What can go wrong before a fleet run starts: a target that cannot be
//! addressed, a targets query that fails. What goes wrong on a target
//! during the run is that target's [`Outcome`](crate::Outcome).

/// A target that cannot be addressed in its fleet's shape.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The URL, or the base URL of the shape, is not one the shape can use.
    #[error("fleet target `{target}`: {message}")]
    Url {
        /// The target (a URL is redacted).
        target: String,
        /// What is wrong.
        message: String,
    },
    /// The name is not a database or schema name.
    #[error("fleet target `{target}`: {message}")]
    Name {
        /// The target.
        target: String,
        /// What is wrong.
        message: String,
    },
    /// A database or schema target without the URL of its server.
    #[error(
        "fleet target `{target}`: a fleet of `{shape}` targets needs the database URL of their server as the base URL"
    )]
    NoBase {
        /// The target.
        target: String,
        /// The fleet's shape.
        shape: &'static str,
    },
}

/// The targets query failed.
#[derive(Debug, thiserror::Error)]
#[error("the fleet's targets query failed on {url}: {message}")]
pub struct QueryError {
    /// The control database, redacted.
    pub url: String,
    /// What failed, with the server's words.
    pub message: String,
}
