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
//! * `macro`: the same items as `macros/src/expand.rs` generates: one
//!   `const __RETORT_REV_<ID>: Revision` per revision whose text is
//!   `concat!(include_str!(..), "<header values>")`, digests as
//!   `Digest256(*b"\x..")` byte-string literals, and the heads' lineage
//!   hashes;
//! * `one-const`: every revision inline in the one `__RETORT_REVISIONS`
//!   slice (one large constant instead of many small ones);
//! * `array-digests`: digests as `Digest256([0x..u8, ...])` (32 tokens, what
//!   sqlx does with its checksums);
//! * `literal-text`: each revision's text as one string literal holding the
//!   file's text (no `include_str!`, no `concat!`).
//!
//! Earlier variants (hex digests, the old `checked_source` assertion) are in
//! the git history of this file; BENCHMARKS.md reports what they measured.
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

const VARIANTS: [&str; 4] = ["macro", "one-const", "array-digests", "literal-text"];

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

fn span(s: SectionSpan) -> String {
    format!(
        "::retort::__private::SectionSpan {{ start: {}usize, end: {}usize, line: {}u32 }}",
        s.start, s.end, s.line
    )
}

fn digest(d: Digest256, variant: &str) -> String {
    if variant == "array-digests" {
        let bytes: Vec<String> = d.0.iter().map(|b| format!("{b}u8")).collect();
        return format!("::retort::__private::Digest256([{}])", bytes.join(", "));
    }
    let mut lit = String::from("::retort::__private::Digest256(*b\"");
    for b in d.0 {
        let _ = write!(lit, "\\x{b:02x}");
    }
    lit + "\")"
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
    let split = variant != "one-const";

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
        let (values, ends, has_create_date) = rev.__packed();
        let text = if variant == "literal-text" {
            format!("{:?}", format!("{}{values}", rev.source()))
        } else {
            let source_end = ends[0] as usize;
            let parts: Vec<String> = ends
                .windows(2)
                .map(|w| {
                    format!(
                        "{:?}",
                        &values[w[0] as usize - source_end..w[1] as usize - source_end]
                    )
                })
                .collect();
            format!(
                "::core::concat!(::core::include_str!({absolute:?}), {})",
                parts.join(", ")
            )
        };
        let downgrade = match rev.downgrade_span() {
            Some(s) => format!("::core::option::Option::Some({})", span(s)),
            None => "::core::option::Option::None".to_owned(),
        };
        let ends: Vec<String> = ends.iter().map(|e| format!("{e}u32")).collect();
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
            "{open}::retort::__private::Revision::__new({text}, [{ends}], {has_create_date}, \
             {transactional}, {upgrade}, {downgrade}, {checksum}){close}",
            ends = ends.join(", "),
            transactional = rev.is_transactional(),
            upgrade = span(rev.upgrade_span()),
            checksum = digest(rev.checksum(), variant),
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
    let lineages: Vec<String> = set
        .heads()
        .filter_map(|h| set.lineage(h))
        .map(|l| digest(l, variant))
        .collect();
    let _ = write!(
        out,
        "];\nconst __RETORT_HEAD_LINEAGES: &[::retort::__private::Digest256] = &[{}];\n\
         ::retort::Migrations::__embedded(::retort::__private::MigrationSet::__embedded(\
         __RETORT_REVISIONS, &[{}], __RETORT_HEAD_LINEAGES))\n}};\n\n\
         fn main() {{\n    println!(\"{{}} revisions\", MIGRATIONS.len());\n}}\n",
        lineages.join(", "),
        heads.join(", ")
    );
    Ok(out)
}
