//! Writes a generated revision set (see `retort_bench::plan`).
//!
//! ```text
//! gen-migrations N [--retort DIR] [--sqlx DIR] [--sqlx-simple DIR]
//! ```
//!
//! `--sqlx` writes reversible migrations (`.up.sql` + `.down.sql`),
//! `--sqlx-simple` one `.sql` file per revision (the upgrade only).
//!
//! Each DIR is emptied first. Prints one line per format written:
//! `<format> files=<n> bytes=<n> sql_bytes=<n>`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gen-migrations: {message}");
            eprintln!("usage: gen-migrations N [--retort DIR] [--sqlx DIR] [--sqlx-simple DIR]");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .ok_or("missing N")?
        .parse()
        .map_err(|e| format!("N: {e}"))?;
    let (mut retort, mut sqlx, mut simple) = (None, None, None);
    while let Some(flag) = args.next() {
        let dir = args
            .next()
            .map(PathBuf::from)
            .ok_or(format!("{flag} needs a directory"))?;
        match flag.as_str() {
            "--retort" => retort = Some(dir),
            "--sqlx" => sqlx = Some(dir),
            "--sqlx-simple" => simple = Some(dir),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if retort.is_none() && sqlx.is_none() && simple.is_none() {
        return Err(
            "nothing to write: pass --retort DIR, --sqlx DIR and/or --sqlx-simple DIR".into(),
        );
    }
    let plan = retort_bench::plan(n);
    if let Some(dir) = retort {
        let w = retort_bench::write_retort(&dir, &plan)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        println!(
            "retort files={} bytes={} sql_bytes={}",
            w.files, w.bytes, w.sql_bytes
        );
    }
    if let Some(dir) = sqlx {
        let w =
            retort_bench::write_sqlx(&dir, &plan).map_err(|e| format!("{}: {e}", dir.display()))?;
        println!(
            "sqlx files={} bytes={} sql_bytes={}",
            w.files, w.bytes, w.sql_bytes
        );
    }
    if let Some(dir) = simple {
        let w = retort_bench::write_sqlx_simple(&dir, &plan)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        println!(
            "sqlx-simple files={} bytes={} sql_bytes={}",
            w.files, w.bytes, w.sql_bytes
        );
    }
    Ok(())
}
