//! Expansion of `embed_migrations!`: arguments, loading, code generation.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use retort_core::format::SectionSpan;
use retort_core::load::{LoadError, LoadErrors, read_dir};
use retort_core::{MigrationSet, Revision};
use syn::parse::{Parse, ParseStream};
use syn::{LitBool, LitStr, Token};

/// The macro's arguments: `"dir"` then optional `key = value` options.
struct Args {
    dir: LitStr,
    allow_multiple_heads: bool,
    name: Option<String>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "expected the migrations directory, relative to the crate root: `embed_migrations!(\"migrations\")`",
            ));
        }
        let dir: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the migrations directory as a string literal, relative to the crate root, such as `\"migrations\"`",
            )
        })?;
        let mut allow_multiple_heads = false;
        let mut name = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: syn::Ident = input.parse()?;
            if key == "allow_multiple_heads" {
                input.parse::<Token![=]>()?;
                allow_multiple_heads = input
                    .parse::<LitBool>()
                    .map_err(|e| {
                        syn::Error::new(e.span(), "`allow_multiple_heads` takes `true` or `false`")
                    })?
                    .value;
            } else if key == "name" {
                input.parse::<Token![=]>()?;
                let value = input.parse::<LitStr>().map_err(|e| {
                    syn::Error::new(e.span(), "`name` takes a string, such as `name = \"jobs\"`")
                })?;
                retort_core::format::validate_set_name(&value.value()).map_err(|reason| {
                    syn::Error::new(value.span(), format!("invalid set name: {reason}"))
                })?;
                name = Some(value.value());
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key}`: the options are `allow_multiple_heads = true` and `name = \"...\"`"
                    ),
                ));
            }
        }
        Ok(Self {
            dir,
            allow_multiple_heads,
            name,
        })
    }
}

/// Expands the macro; on error, `compile_error!`s followed by an empty set
/// of the right type so no follow-on type errors appear.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let result = syn::parse2::<Args>(input).and_then(|args| embed(&args));
    match result {
        Ok(tokens) => tokens,
        Err(error) => {
            let errors = error.into_compile_error();
            quote! {{
                #errors
                ::retort::Migrations::__embedded(::retort::__private::MigrationSet::__embedded(&[], &[], &[]))
            }}
        }
    }
}

fn combine(errors: impl IntoIterator<Item = String>, span: Span) -> Option<syn::Error> {
    errors
        .into_iter()
        .map(|message| syn::Error::new(span, message))
        .reduce(|mut all, e| {
            all.combine(e);
            all
        })
}

fn manifest_dir(span: Span) -> syn::Result<PathBuf> {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .ok_or_else(|| {
            syn::Error::new(
                span,
                "CARGO_MANIFEST_DIR is not set: `embed_migrations!` must be compiled by cargo",
            )
        })
}

fn embed(args: &Args) -> syn::Result<TokenStream> {
    let span = args.dir.span();
    let relative = args.dir.value();
    if relative.is_empty() {
        return Err(syn::Error::new(
            span,
            "the migrations directory path is empty: write a path relative to the crate root, such as \"migrations\"",
        ));
    }
    if Path::new(&relative).is_absolute() || relative.starts_with('/') || relative.starts_with('\\')
    {
        return Err(syn::Error::new(
            span,
            format!(
                "`{relative}` is an absolute path: write the migrations directory relative to the crate root (the directory of its Cargo.toml), such as \"migrations\""
            ),
        ));
    }
    let root = manifest_dir(span)?;
    let display = relative.replace('\\', "/");
    let dir = root.join(&relative);
    let files = read_dir(&dir, &display).map_err(|e| syn::Error::new(span, hint_missing_dir(e)))?;
    let set = retort_core::load::parse_files(files).map_err(|LoadErrors(errors)| {
        combine(errors.iter().map(ToString::to_string), span)
            .unwrap_or_else(|| syn::Error::new(span, "invalid migrations"))
    })?;
    if set.heads().len() > 1 && !args.allow_multiple_heads {
        return Err(syn::Error::new(span, multiple_heads(&set)));
    }
    let sources = set
        .revisions()
        .iter()
        .map(|rev| source_path(&dir, &display, rev.path()))
        .collect::<Option<Vec<PathBuf>>>()
        .ok_or_else(|| syn::Error::new(span, "internal error: a revision's file name does not start with the migrations directory"))?;
    // A loaded set computes every lineage hash when it is built, so this
    // fails only if that ever changes.
    let head_lineages = set
        .heads()
        .map(|head| set.lineage(head))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| syn::Error::new(span, "internal error: a head's lineage hash is unknown"))?;
    Ok(generate(
        &set,
        &sources,
        &head_lineages,
        args.name.as_deref(),
    ))
}

/// The file a revision was read from: `dir` joined with its name below
/// the directory (`read_dir` names each file `{display}/{relative path}`).
fn source_path(dir: &Path, display: &str, name: &str) -> Option<PathBuf> {
    let below = name.strip_prefix(display)?.strip_prefix('/')?;
    Some(
        below
            .split('/')
            .fold(dir.to_owned(), |path, part| path.join(part)),
    )
}

fn hint_missing_dir(error: LoadError) -> String {
    match error {
        // No absolute path in messages: it would differ between machines.
        LoadError::MissingDir { display, .. } => format!(
            "migrations directory `{display}` does not exist; the path is relative to the crate root, the directory of its Cargo.toml"
        ),
        LoadError::NotADir { display, .. } => format!(
            "`{display}` is not a directory; the path is relative to the crate root, the directory of its Cargo.toml"
        ),
        other => other.to_string(),
    }
}

fn multiple_heads(set: &MigrationSet) -> String {
    let heads: Vec<String> = set
        .heads()
        .filter_map(|id| set.get(id))
        .map(|r| format!("`{}` ({})", r.id(), r.path()))
        .collect();
    let ids: Vec<&str> = set.heads().collect();
    format!(
        "the migrations have {} heads: {}; `upgrade head` would be ambiguous. Merge them with `retort merge -m \"merge heads\" {}`, or pass `allow_multiple_heads = true` to `embed_migrations!` to keep several branches",
        heads.len(),
        heads.join(", "),
        ids.join(" ")
    )
}

fn span_tokens(span: SectionSpan) -> TokenStream {
    let SectionSpan { start, end, line } = span;
    quote!(::retort::__private::SectionSpan { start: #start, end: #end, line: #line })
}

/// A revision's constant: one string (the file's text, `include_str!`ed so
/// that cargo rebuilds when it changes, followed by the header values),
/// the offsets of its parts, its sections and its checksum. Nothing in it
/// depends on another revision, so editing one file changes one constant.
fn revision(rev: &Revision, path: &Path) -> TokenStream {
    let (values, ends, has_create_date) = rev.__packed();
    // Each header value its own literal, in order (id, message, create
    // date, path, parents, dependencies, labels), so the expansion reads.
    let source_end = ends[0] as usize;
    let parts = ends.windows(2).map(|w| {
        let (start, end) = (w[0] as usize - source_end, w[1] as usize - source_end);
        values.get(start..end).unwrap_or_default()
    });
    let transactional = rev.is_transactional();
    let absolute = path.to_string_lossy().into_owned();
    let upgrade = span_tokens(rev.upgrade_span());
    let downgrade = match rev.downgrade_span() {
        Some(span) => {
            let span = span_tokens(span);
            quote!(::core::option::Option::Some(#span))
        }
        None => quote!(::core::option::Option::None),
    };
    // A byte-string literal: evaluating a hex decoder for every digest at
    // compile time dominated large builds (see BENCHMARKS.md).
    let checksum = proc_macro2::Literal::byte_string(rev.checksum().as_bytes());
    quote! {
        ::retort::__private::Revision::__new(
            ::core::concat!(::core::include_str!(#absolute), #(#parts),*),
            [#(#ends),*],
            #has_create_date,
            #transactional,
            #upgrade,
            #downgrade,
            ::retort::__private::Digest256(*#checksum),
        )
    }
}

/// The name of each revision's constant, `__RETORT_REV_<ID>`: derived from the
/// id alone, so adding, removing or editing a revision leaves every other
/// constant as it was and incremental compilation reuses them. Ids are ASCII
/// letters, digits and `_`; two ids that differ only in case would collide
/// once upper-cased, so a later one gets `_2`, `_3`, ... appended.
fn const_names(set: &MigrationSet) -> Vec<proc_macro2::Ident> {
    let mut taken = std::collections::HashSet::new();
    set.revisions()
        .iter()
        .map(|rev| {
            let base = format!("__RETORT_REV_{}", rev.id().to_ascii_uppercase());
            let mut name = base.clone();
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{base}_{n}");
            }
            proc_macro2::Ident::new(&name, Span::call_site())
        })
        .collect()
}

/// The set's tokens; `sources[i]` is the file of `set.revisions()[i]`,
/// `head_lineages[i]` the lineage hash of the `i`th head.
fn generate(
    set: &MigrationSet,
    sources: &[PathBuf],
    head_lineages: &[retort_core::Digest256],
    name: Option<&str>,
) -> TokenStream {
    // One `const` per revision: each is evaluated on its own, so no single
    // constant grows with the number of revisions (rustc caps the work one
    // constant may take, and large ones cost more than linearly).
    let names = const_names(set);
    let revisions = set
        .revisions()
        .iter()
        .zip(&names)
        .zip(sources)
        .map(|((rev, name), path)| {
            let value = revision(rev, path);
            quote!(const #name: ::retort::__private::Revision = #value;)
        });
    let heads: Vec<&str> = set.heads().collect();
    let head_lineages = head_lineages.iter().map(|lineage| {
        let bytes = proc_macro2::Literal::byte_string(lineage.as_bytes());
        quote!(::retort::__private::Digest256(*#bytes))
    });
    let set_tokens = quote! {
        ::retort::__private::MigrationSet::__embedded(
            __RETORT_REVISIONS,
            &[#(#heads),*],
            __RETORT_HEAD_LINEAGES,
        )
    };
    let (modules, functions): (Vec<TokenStream>, Vec<TokenStream>) = set
        .revisions()
        .iter()
        .zip(&names)
        .zip(sources)
        .filter(|((rev, _), _)| rev.is_code())
        .map(|((rev, name), path)| code(rev, name, path))
        .unzip();
    let migrations = if functions.is_empty() && name.is_none() {
        quote!(::retort::Migrations::__embedded(#set_tokens))
    } else {
        let name = match name {
            Some(name) => quote!(::core::option::Option::Some(#name)),
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::retort::Migrations::__embedded_as(#set_tokens, &[#(#functions),*], #name)
        }
    };
    quote! {{
        #(#revisions)*
        #(#modules)*
        const __RETORT_REVISIONS: &[::retort::__private::Revision] = &[#(#names),*];
        const __RETORT_HEAD_LINEAGES: &[::retort::__private::Digest256] = &[#(#head_lineages),*];
        #migrations
    }}
}

/// A Rust revision's items and its entry in the table of functions: the
/// file as a module (so the compiler checks it with the service and names
/// it in its errors), and a wrapper per function that boxes its future.
fn code(rev: &Revision, name: &proc_macro2::Ident, path: &Path) -> (TokenStream, TokenStream) {
    let suffix = name
        .to_string()
        .trim_start_matches("__RETORT_REV_")
        .to_ascii_lowercase();
    let ident =
        |prefix: &str| proc_macro2::Ident::new(&format!("{prefix}{suffix}"), Span::call_site());
    let module = ident("__retort_rs_");
    // The file's real path: the compiler names it in its errors, so a
    // path through a symbolic link would show the link's place.
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let absolute = real.to_string_lossy().into_owned();
    let wrapper = |function: &str, wrapper: &proc_macro2::Ident| {
        let function = proc_macro2::Ident::new(function, Span::call_site());
        quote! {
            fn #wrapper<'a, 'c>(
                cx: &'a mut ::retort::code::Context<'c>,
            ) -> ::retort::code::BoxFuture<'a> {
                ::std::boxed::Box::pin(#module::#function(cx))
            }
        }
    };
    let up = ident("__retort_up_");
    let up_fn = wrapper("upgrade", &up);
    let (down_fn, down) = if rev.downgrade_span().is_some() {
        let down = ident("__retort_down_");
        (
            wrapper("downgrade", &down),
            quote!(::core::option::Option::Some(#down)),
        )
    } else {
        (TokenStream::new(), quote!(::core::option::Option::None))
    };
    let id = rev.id();
    let items = quote! {
        // `pub` in a module nobody outside can name: the functions are
        // `pub` for the wrappers below, not for export.
        #[allow(unreachable_pub)]
        #[path = #absolute]
        mod #module;
        #up_fn
        #down_fn
    };
    (
        items,
        quote!(::retort::code::Functions::__new(#id, #up, #down)),
    )
}
