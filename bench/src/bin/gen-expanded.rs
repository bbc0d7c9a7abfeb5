//! Writes, as plain Rust, what `embed_migrations!` expands to for a
//! directory of revision files, or a variant of it, to tell where the
//! compile time of the expansion goes (the proc-macro itself is not run).
//!
//! ```text
//! gen-expanded DIR VARIANT > src/main.rs
//! ```
//!
//! DIR is the crate's migrations directory (its files are `include_str!`ed
//! by absolute path, as the macro does). VARIANT is one of:
//!
//! * `macro`: the same expression as `macros/src/expand.rs` generates:
//!   `Digest256::__from_hex("<64 hex>")` for both digests and
//!   `checked_source(include_str!(..), len)` for the text;
//! * `no-check`: `include_str!(..)` without the `checked_source` length assertion;
//! * `byte-digests`: digests as `Digest256(*b"\x..")` byte-string literals
//!   (one token, no const-fn loop) instead of `__from_hex`;
//! * `byte-digests-no-check`: both changes;
//! * `array-digests`: digests as `Digest256([0x..u8, ...])` (32 tokens, what
//!   sqlx does with its checksums);
//! * `split`: as `macro`, but each revision is its own `const __RETORT_R<i>:
//!   Revision = ...;` item and the slice is `&[__RETORT_R0, __RETORT_R1, ...]`:
//!   many small bodies to type-check and const-evaluate instead of one huge one;
//! * `split-byte-digests`: `split` with byte-string digests;
//! * `split-byte-digests-no-check`: `split` with byte-string digests and no
//!   `checked_source`.
//!
//! The output starts with `#![allow(long_running_const_eval)]` so that large
//! sets compile at all (see BENCHMARKS.md).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use retort_core::Digest256;
use retort_core::format::SectionSpan;
use retort_core::load::{parse_files, read_dir};

const VARIANTS: [&str; 8] = [
    "macro",
    "no-check",
    "byte-digests",
    "byte-digests-no-check",
    "array-digests",
    "split",
    "split-byte-digests",
    "split-byte-digests-no-check",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, variant] = args.as_slice() else {
        eprintln!("usage: gen-expanded DIR {{{}}}", VARIANTS.join("|"));
        return ExitCode::from(2);
    };
    if !VARIANTS.contains(&variant.as_str()) {
        eprintln!(
            "gen-expanded: unknown variant `{variant}`; expected one of {}",
            VARIANTS.join(", ")
        );
        return ExitCode::from(2);
    }
    match generate(Path::new(dir), variant) {
        Ok(code) => {
            print!("{code}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-expanded: {e}");
            ExitCode::FAILURE
        }
    }
}

fn names<'a>(list: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = list.map(|s| format!("{s:?}")).collect();
    format!("::retort::__private::Names::Static(&[{}])", list.join(", "))
}

fn span(s: SectionSpan) -> String {
    format!(
        "::retort::__private::SectionSpan {{ start: {}usize, end: {}usize, line: {}u32 }}",
        s.start, s.end, s.line
    )
}

fn digest(d: Digest256, variant: &str) -> String {
    match variant {
        "byte-digests"
        | "byte-digests-no-check"
        | "split-byte-digests"
        | "split-byte-digests-no-check" => {
            let mut lit = String::from("::retort::__private::Digest256(*b\"");
            for b in d.0 {
                let _ = write!(lit, "\\x{b:02x}");
            }
            lit + "\")"
        }
        "array-digests" => {
            let bytes: Vec<String> = d.0.iter().map(|b| format!("{b}u8")).collect();
            format!("::retort::__private::Digest256([{}])", bytes.join(", "))
        }
        _ => format!(
            "::retort::__private::Digest256::__from_hex({:?})",
            d.to_hex()
        ),
    }
}

fn generate(dir: &Path, variant: &str) -> Result<String, String> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let files = read_dir(&dir, "migrations").map_err(|e| e.to_string())?;
    let paths: HashMap<String, PathBuf> = files
        .iter()
        .map(|f| (f.display.clone(), f.path.clone()))
        .collect();
    let set = parse_files(files).map_err(|e| e.to_string())?;
    let check = !variant.ends_with("no-check");
    let split = variant.starts_with("split");

    let mut out = String::from(
        "#![allow(long_running_const_eval)]\n\
         static MIGRATIONS: retort::Migrations = {\n",
    );
    if !split {
        out.push_str("const __RETORT_REVISIONS: &[::retort::__private::Revision] = &[\n");
    }
    for (i, rev) in set.revisions().iter().enumerate() {
        let absolute = paths
            .get(rev.path())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let create_date = match rev.create_date() {
            Some(date) => format!(
                "::core::option::Option::Some(::retort::__private::Cow::Borrowed({date:?}))"
            ),
            None => "::core::option::Option::None".to_owned(),
        };
        let source = if check {
            format!(
                "::retort::__private::checked_source(include_str!({absolute:?}), {}usize)",
                rev.source().len()
            )
        } else {
            format!("include_str!({absolute:?})")
        };
        let downgrade = match rev.downgrade_span() {
            Some(s) => format!("::core::option::Option::Some({})", span(s)),
            None => "::core::option::Option::None".to_owned(),
        };
        let (open, close) = if split {
            (
                format!("const __RETORT_R{i}: ::retort::__private::Revision = "),
                ";",
            )
        } else {
            (String::new(), ",")
        };
        let _ = writeln!(
            out,
            "{open}::retort::__private::Revision::__new(\
             ::retort::__private::Cow::Borrowed({id:?}), {parents}, {depends}, {labels}, \
             ::retort::__private::Cow::Borrowed({message:?}), {create_date}, {transactional}, \
             ::retort::__private::Cow::Borrowed({display:?}), \
             ::retort::__private::Cow::Borrowed({source}), {upgrade}, {downgrade}, {checksum}, {lineage}){close}",
            id = rev.id(),
            parents = names(rev.parents()),
            depends = names(rev.depends_on()),
            labels = names(rev.branch_labels()),
            message = rev.message(),
            transactional = rev.is_transactional(),
            display = rev.path(),
            upgrade = span(rev.upgrade_span()),
            checksum = digest(rev.checksum(), variant),
            lineage = digest(rev.lineage(), variant),
        );
    }
    if split {
        let items: Vec<String> = (0..set.len()).map(|i| format!("__RETORT_R{i}")).collect();
        let _ = write!(
            out,
            "const __RETORT_REVISIONS: &[::retort::__private::Revision] = &[{}",
            items.join(", ")
        );
    }
    let heads: Vec<String> = set.heads().map(|h| format!("{h:?}")).collect();
    let _ = write!(
        out,
        "];\n::retort::Migrations::__embedded(::retort::__private::MigrationSet::__embedded(\
         __RETORT_REVISIONS, &[{}]))\n}};\n\n\
         fn main() {{\n    println!(\"{{}} revisions\", MIGRATIONS.len());\n}}\n",
        heads.join(", ")
    );
    Ok(out)
}
