//! retort's runtime: the [`Migrations`] type that `embed_migrations!`
//! produces and that loads migration directories at run time.

mod migrations;
pub mod split;

pub use migrations::Migrations;
pub use retort_core::load::{LoadError, LoadErrors};
