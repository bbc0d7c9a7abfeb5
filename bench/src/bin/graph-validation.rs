//! Is loading and validating a migration directory linear in its size?
//!
//! ```text
//! graph-validation [--sizes 1000,10000] [--runs 10]
//! ```
//!
//! For each size, writes a generated revision set (see `retort_bench::plan`)
//! to a temp dir and times, best of `--runs` (after one warm-up run, so the
//! files are in the page cache):
//!
//! * `load_dir`: `retort_core::load::load_dir`, what `embed_migrations!` and
//!   `Migrations::from_dir` do: read + parse + validate + hash;
//! * its phases: reading the files (`load::read_dir`), parsing them
//!   (`format::decode` + `format::parse`), and building the set
//!   (`MigrationSet::from_parsed`: sort, graph validation, lineage hashes);
//! * `Graph::build` alone (the DAG checks: ids, parents, labels, cycles,
//!   topological order), on nodes taken from the built set, which are in id
//!   order (ids are random, so a parent lies anywhere in memory);
//! * `Graph::build` on the same graph with the nodes in chain order (parents
//!   next to their children), to tell cache misses from algorithmic growth.
//!
//! Prints a markdown table with the time per revision of each, and the ratio
//! of per-revision times between the largest and the smallest size (1.0 means
//! perfectly linear).

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use retort_core::MigrationSet;
use retort_core::format::{HeaderLines, decode, parse};
use retort_core::graph::{Graph, Node};
use retort_core::load::{SourceFile, load_dir, read_dir};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("graph-validation: {message}");
            eprintln!("usage: graph-validation [--sizes 1000,10000] [--runs 10]");
            ExitCode::from(2)
        }
    }
}

/// Best-of-`runs` wall time of `f`, after one untimed warm-up call; `setup`
/// prepares each call's input outside the timed region.
fn best<I, O>(runs: usize, mut setup: impl FnMut() -> I, mut f: impl FnMut(I) -> O) -> Duration {
    black_box(f(setup()));
    (0..runs)
        .map(|_| {
            let input = setup();
            let start = Instant::now();
            let out = f(input);
            let elapsed = start.elapsed();
            drop(black_box(out));
            elapsed
        })
        .min()
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy)]
struct Row {
    size: usize,
    load_dir: Duration,
    read: Duration,
    parse: Duration,
    set: Duration,
    graph: Duration,
    chain: Duration,
}

fn parse_all(files: Vec<SourceFile>) -> Vec<(String, String, retort_core::format::ParsedRevision)> {
    files
        .into_iter()
        .map(|file| {
            let text = match decode(&file.display, &file.bytes) {
                Ok(text) => text.to_owned(),
                Err(e) => panic!("{e}"),
            };
            let rev = parse(&file.display, &text).unwrap_or_else(|e| panic!("{e}"));
            (file.display, text, rev)
        })
        .collect()
}

/// Per revision: parents, dependencies and branch labels.
type NodeLists<'a> = (Vec<Vec<&'a str>>, Vec<Vec<&'a str>>, Vec<Vec<&'a str>>);

fn graph_nodes(set: &MigrationSet) -> NodeLists<'_> {
    let revs = set.revisions();
    (
        revs.iter().map(|r| r.parents().collect()).collect(),
        revs.iter().map(|r| r.depends_on().collect()).collect(),
        revs.iter().map(|r| r.branch_labels().collect()).collect(),
    )
}

fn measure(dir: &Path, size: usize, runs: usize) -> Result<Row, String> {
    let plan = retort_bench::plan(size);
    retort_bench::write_retort(dir, &plan).map_err(|e| format!("{}: {e}", dir.display()))?;
    let set = load_dir(dir, "migrations").map_err(|e| e.to_string())?;
    if set.len() != size || set.heads().len() != 1 {
        return Err(format!(
            "generated set has {} revisions and {} heads",
            set.len(),
            set.heads().len()
        ));
    }

    let load = best(
        runs,
        || (),
        |()| load_dir(dir, "migrations").map(|s| s.len()),
    );
    let read = best(
        runs,
        || (),
        |()| read_dir(dir, "migrations").map(|f| f.len()),
    );
    let files = read_dir(dir, "migrations").map_err(|e| e.to_string())?;
    let parse_t = best(runs, || files.clone(), parse_all);
    let parsed = parse_all(files);
    let set_t = best(
        runs,
        || parsed.clone(),
        |p| MigrationSet::from_parsed(p).map(|s| s.len()),
    );

    let (parents, depends, labels) = graph_nodes(&set);
    let nodes: Vec<Node<'_>> = set
        .revisions()
        .iter()
        .enumerate()
        .map(|(i, r)| Node {
            id: r.id(),
            parents: &parents[i],
            depends_on: &depends[i],
            branch_labels: &labels[i],
            file: r.path(),
            lines: HeaderLines::default(),
        })
        .collect();
    let graph_t = best(runs, || (), |()| Graph::build(&nodes).map(|g| g.len()));

    // The same graph with the nodes in chain order instead of id order:
    // parents sit next to their children in memory.
    let ids: Vec<&str> = plan.iter().map(|r| r.id.as_str()).collect();
    let chain_parents: Vec<Vec<&str>> = plan
        .iter()
        .map(|r| r.parents.iter().map(|&p| ids[p]).collect())
        .collect();
    let chain_labels: Vec<Vec<&str>> = plan
        .iter()
        .map(|r| r.label.as_deref().into_iter().collect())
        .collect();
    let chain_nodes: Vec<Node<'_>> = plan
        .iter()
        .enumerate()
        .map(|(i, r)| Node {
            id: &r.id,
            parents: &chain_parents[i],
            depends_on: &[],
            branch_labels: &chain_labels[i],
            file: "",
            lines: HeaderLines::default(),
        })
        .collect();
    let chain_t = best(
        runs,
        || (),
        |()| Graph::build(&chain_nodes).map(|g| g.len()),
    );

    Ok(Row {
        size,
        load_dir: load,
        read,
        parse: parse_t,
        set: set_t,
        graph: graph_t,
        chain: chain_t,
    })
}

fn cell(total: Duration, size: usize) -> String {
    let per = total.as_secs_f64() * 1e6 / size as f64;
    format!("{:.1} ms ({per:.2} µs/rev)", total.as_secs_f64() * 1e3)
}

fn run() -> Result<(), String> {
    let mut sizes = vec![1_000, 10_000];
    let mut runs = 10;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sizes" => {
                sizes = value
                    .split(',')
                    .map(|s| s.trim().parse().map_err(|e| format!("--sizes: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => runs = value.parse().map_err(|e| format!("--runs: {e}"))?,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if sizes.is_empty() || runs == 0 {
        return Err("need at least one size and one run".into());
    }

    let root = std::env::temp_dir().join(format!("retort-graph-validation-{}", std::process::id()));
    let mut rows = Vec::new();
    for &size in &sizes {
        let result = measure(&root.join(size.to_string()), size, runs);
        let _ = std::fs::remove_dir_all(root.join(size.to_string()));
        rows.push(result?);
    }
    let _ = std::fs::remove_dir_all(&root);

    println!(
        "| revisions | `load_dir` (total) | read files | parse | `MigrationSet::from_parsed` (graph + lineage) | `Graph::build` alone | `Graph::build`, nodes in chain order |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.size,
            cell(r.load_dir, r.size),
            cell(r.read, r.size),
            cell(r.parse, r.size),
            cell(r.set, r.size),
            cell(r.graph, r.size),
            cell(r.chain, r.size)
        );
    }
    if let (Some(small), Some(large)) = (rows.first(), rows.last())
        && large.size != small.size
    {
        {
            let ratio = |a: Duration, b: Duration| {
                (b.as_secs_f64() / large.size as f64) / (a.as_secs_f64() / small.size as f64)
            };
            println!(
                "| per-revision ratio {}/{} (1.0 = linear) | ×{:.2} | ×{:.2} | ×{:.2} | ×{:.2} | ×{:.2} | ×{:.2} |",
                large.size,
                small.size,
                ratio(small.load_dir, large.load_dir),
                ratio(small.read, large.read),
                ratio(small.parse, large.parse),
                ratio(small.set, large.set),
                ratio(small.graph, large.graph),
                ratio(small.chain, large.chain)
            );
        }
    }
    println!();
    println!("best of {runs} runs after one warm-up (files in the page cache); release build.");
    Ok(())
}
