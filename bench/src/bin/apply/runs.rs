//! The two benchmarks: applying N revisions, and the no-op call at head.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::report::{Samples, fmt_d, median};
use crate::revisions::load_sets;
use crate::setup::{Server, close, open};
use crate::tools::{Tool, run_tool};
use crate::{Opts, Result};

/// Lets the previous call's background work finish outside the clock: on
/// this single-threaded runtime, a connection the previous call returned to
/// its pool is pinged and put back by a spawned task, which would otherwise
/// run during the next timed call (and, on the same pool, delay its
/// acquire). Spins on `yield_now` (which polls the I/O driver) for 1 ms
/// rather than sleeping, so threads and caches stay as warm as in a
/// back-to-back run; `RETORT_BENCH_SETTLE=sleep` sleeps 3 ms instead,
/// `none` does nothing.
pub(crate) async fn settle() {
    static MODE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        std::env::var("RETORT_BENCH_SETTLE").unwrap_or_else(|_| "spin".to_owned())
    });
    match MODE.as_str() {
        "none" => {}
        "sleep" => tokio::time::sleep(Duration::from_millis(3)).await,
        _ => {
            static SPIN: std::sync::LazyLock<Duration> = std::sync::LazyLock::new(|| {
                Duration::from_micros(
                    std::env::var("RETORT_BENCH_SPIN_US")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(150),
                )
            });
            let t0 = Instant::now();
            while t0.elapsed() < *SPIN {
                tokio::task::yield_now().await;
            }
        }
    }
}

pub(crate) async fn bench_apply(
    o: &Opts,
    server: &mut Server,
    root: &Path,
    s: &mut Samples,
) -> Result<()> {
    let sets = load_sets(&root.join(format!("apply-{}", o.apply_n)), o.apply_n).await?;
    let tools = &o.tools;
    // Warm-up: one untimed run per tool (the server's and the process's
    // first runs are slower, whichever tool goes first).
    for &tool in tools {
        let db = server.fresh().await?;
        let mut h = open(o.backend, tool, o.handle, &db, false).await?;
        run_tool(tool, &sets, &mut h, false).await?;
        close(h).await;
        server.drop_db(db).await?;
    }
    for rep in 0..o.apply_reps {
        // Rotate the order so no tool always runs first (or last).
        for k in 0..tools.len() {
            let tool = tools[(k + rep) % tools.len()];
            let db = server.fresh().await?;
            let mut h = open(o.backend, tool, o.handle, &db, false).await?;
            settle().await;
            let t0 = Instant::now();
            let applied = run_tool(tool, &sets, &mut h, false).await?;
            let d = t0.elapsed();
            close(h).await;
            server.drop_db(db).await?;
            if applied != usize::MAX && applied != sets.n {
                return Err(format!("{} applied {applied} of {}", tool.name(), sets.n).into());
            }
            eprintln!(
                "  {} apply {} rep {}: {}",
                o.backend.name(),
                tool.name(),
                rep + 1,
                fmt_d(d)
            );
            s.add(o.backend, "apply", tool, sets.n, d);
        }
    }
    Ok(())
}

pub(crate) async fn bench_noop(
    o: &Opts,
    server: &mut Server,
    root: &Path,
    s: &mut Samples,
) -> Result<()> {
    let tools: Vec<Tool> = o
        .tools
        .iter()
        .copied()
        .filter(|t| !matches!(t, Tool::Raw | Tool::RawStmt))
        .collect();
    const WARMUP: usize = 20;
    // MySQL: the setup runs with `innodb_flush_log_at_trx_commit=0` (the
    // counterpart of SQLite's `synchronous=OFF` there), restored before
    // anything is timed.
    let my_flush = match server.my_admin.as_mut() {
        Some(admin) => {
            let v: String =
                sqlx::query_scalar("SELECT CAST(@@GLOBAL.innodb_flush_log_at_trx_commit AS CHAR)")
                    .fetch_one(&mut *admin)
                    .await?;
            sqlx::raw_sql("SET GLOBAL innodb_flush_log_at_trx_commit = 0")
                .execute(&mut *admin)
                .await?;
            Some(v)
        }
        None => None,
    };
    // Every size's databases first, one per tool, brought to head by the
    // tool itself: the process is as warm for the first size timed as for
    // the last.
    let mut sizes = Vec::new();
    for &n in &o.noop_sizes {
        let sets = load_sets(&root.join(format!("noop-{n}")), n).await?;
        let mut dbs = Vec::new();
        for &tool in &tools {
            let db = server.fresh().await?;
            let t0 = Instant::now();
            let mut setup = open(o.backend, tool, o.handle, &db, true).await?;
            let applied = run_tool(tool, &sets, &mut setup, true).await?;
            close(setup).await;
            if applied != usize::MAX && applied != n {
                return Err(format!("{} applied {applied} of {n}", tool.name()).into());
            }
            eprintln!(
                "  {} no-op N={n}: {} set up in {}",
                o.backend.name(),
                tool.name(),
                fmt_d(t0.elapsed())
            );
            let h = open(o.backend, tool, o.handle, &db, false).await?;
            dbs.push((tool, db, h));
        }
        sizes.push((sets, dbs));
    }
    // Let the setup's writes reach the disk (and PostgreSQL's dirty
    // buffers its data files) before timing anything: the kernel's
    // writeback and the checkpointer would otherwise compete for the 2 CPUs.
    if let (Some(admin), Some(v)) = (server.my_admin.as_mut(), &my_flush) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET GLOBAL innodb_flush_log_at_trx_commit = {v}"
        )))
        .execute(&mut *admin)
        .await?;
    }
    let _ = std::process::Command::new("sync").status();
    if let Some(admin) = server.pg_admin.as_mut() {
        sqlx::raw_sql("CHECKPOINT").execute(&mut *admin).await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A first round of calls over every (tool, size), untimed.
    for (k, &tool) in tools.iter().enumerate() {
        for (sets, dbs) in &mut sizes {
            for _ in 0..WARMUP {
                settle().await;
                run_tool(tool, sets, &mut dbs[k].2, false).await?;
            }
        }
    }
    // Then the timed calls (after WARMUP more untimed ones), a settle
    // before each. `--noop-order blocks` (default): each (tool, size)'s
    // calls back to back, so a tool's timing does not depend on how much
    // work its neighbours did (caches), which differs with N.
    // `--noop-order interleave`: one call per (tool, size) per round, so a
    // slow phase of the machine (background writes, CPU idle states) is
    // shared by every tool and size instead of landing on one block.
    let cells: Vec<(usize, usize)> = (0..tools.len())
        .flat_map(|k| (0..sizes.len()).map(move |z| (k, z)))
        .collect();
    let rounds: Vec<Vec<(usize, usize)>> = if o.interleave {
        (0..WARMUP + o.noop_reps).map(|_| cells.clone()).collect()
    } else {
        cells
            .iter()
            .map(|&c| vec![c; WARMUP + o.noop_reps])
            .collect()
    };
    let mut done = vec![0usize; cells.len()];
    for round in rounds {
        for (k, z) in round {
            let tool = tools[k];
            let (sets, dbs) = &mut sizes[z];
            let n = sets.n;
            settle().await;
            let t0 = Instant::now();
            let applied = run_tool(tool, sets, &mut dbs[k].2, false).await?;
            let d = t0.elapsed();
            if applied != 0 && applied != usize::MAX {
                return Err(format!("{}: no-op applied {applied}", tool.name()).into());
            }
            let i = k * sizes.len() + z;
            done[i] += 1;
            if done[i] > WARMUP {
                s.add(o.backend, "noop", tool, n, d);
            }
        }
    }
    for &tool in &tools {
        for (sets, _) in &sizes {
            let xs = s.get("noop", tool, sets.n).unwrap_or_default();
            eprintln!(
                "  {} no-op N={} {}: median {}",
                o.backend.name(),
                sets.n,
                tool.name(),
                fmt_d(median(xs))
            );
        }
    }
    for (_, dbs) in sizes {
        for (_, db, h) in dbs {
            close(h).await;
            server.drop_db(db).await?;
        }
    }
    Ok(())
}
