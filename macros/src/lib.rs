//! The `embed_migrations!` proc-macro of [retort](https://docs.rs/retort).
//!
//! This crate is an implementation detail: depend on `retort` and use
//! `retort::embed_migrations!`, whose documentation describes the macro.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod expand;

use proc_macro::TokenStream;

/// Embeds a directory of revision files; see `retort::embed_migrations!`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    expand::expand(input.into()).into()
}
