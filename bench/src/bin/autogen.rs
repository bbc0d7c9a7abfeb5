//! Autogenerate benchmark: the time `retort revision --autogenerate` spends
//! in the engine for a generated schema of N tables (columns, a unique
//! key, two indexes, a check and two foreign keys each), per backend.
//!
//! ```text
//! autogen --backend sqlite|postgres|mysql [--tables 200] [--runs 5] [--dev-url URL]
//! ```
//!
//! PostgreSQL and MySQL use the server of `--dev-url`, else
//! `RETORT_TEST_POSTGRES_URL` / `RETORT_TEST_MYSQL_URL` (as
//! `scripts/with-services.sh` exports them).
//!
//! Two scenarios, each run `--runs` times:
//!
//! * `initial`: nothing exists yet; the desired schema has N tables;
//! * `changed`: the current schema has N tables and the desired one
//!   changes one table in ten (a column added, a default and a type
//!   changed, an index swapped, a foreign key's action changed), drops one
//!   table and adds one.
//!
//! Each run is what the command does, timed by phase: a scratch database
//! for the current state (created, loaded, introspected, dropped; the
//! command replays revisions where this loads the same SQL directly), the
//! same for the desired schema, then `autogenerate` (diff, order, render
//! both directions). Prints markdown: the median, min and max per phase.

use std::time::{Duration, Instant};

use retort_schema::{DesiredSchema, Dialect, Hints, Scope, ScratchDatabase, autogenerate};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Opts {
    dialect: Dialect,
    tables: usize,
    runs: usize,
    dev_url: Option<String>,
    /// Print the changes of the last run (to check the scenarios).
    show: bool,
}

fn parse_args() -> Result<Opts> {
    let mut o = Opts {
        dialect: Dialect::Sqlite,
        tables: 200,
        runs: 5,
        dev_url: None,
        show: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--backend" => {
                o.dialect = match val()?.as_str() {
                    "sqlite" => Dialect::Sqlite,
                    "postgres" => Dialect::Postgres,
                    "mysql" => Dialect::MySql,
                    other => {
                        return Err(
                            format!("unknown backend `{other}` (sqlite, postgres, mysql)").into(),
                        );
                    }
                }
            }
            "--tables" => o.tables = val()?.parse()?,
            "--runs" => o.runs = val()?.parse()?,
            "--dev-url" => o.dev_url = Some(val()?),
            "--show" => o.show = true,
            "-h" | "--help" => {
                println!(
                    "autogen --backend sqlite|postgres|mysql [--tables 200] [--runs 5] [--dev-url URL]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    if o.dev_url.is_none() {
        let var = match o.dialect {
            Dialect::Postgres => Some("RETORT_TEST_POSTGRES_URL"),
            Dialect::MySql => Some("RETORT_TEST_MYSQL_URL"),
            Dialect::Sqlite => None,
        };
        if let Some(var) = var {
            o.dev_url =
                Some(std::env::var(var).map_err(|_| format!("pass --dev-url or set {var}"))?);
        }
    }
    Ok(o)
}

/// Column types per dialect: (integer, text, decimal, timestamp, flag
/// with its default).
fn types(
    d: Dialect,
) -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
) {
    match d {
        Dialect::Postgres => (
            "INTEGER",
            "VARCHAR(100)",
            "NUMERIC(10, 2)",
            "TIMESTAMP",
            "BOOLEAN NOT NULL DEFAULT TRUE",
        ),
        Dialect::MySql => (
            "INT",
            "VARCHAR(100)",
            "DECIMAL(10, 2)",
            "TIMESTAMP NULL",
            "TINYINT(1) NOT NULL DEFAULT 1",
        ),
        Dialect::Sqlite => (
            "INTEGER",
            "VARCHAR(100)",
            "NUMERIC(10, 2)",
            "TIMESTAMP",
            "BOOLEAN NOT NULL DEFAULT 1",
        ),
    }
}

/// The generated schema; `changed` applies the `changed` scenario's edits.
fn schema_sql(d: Dialect, n: usize, changed: bool) -> String {
    let (int, text, dec, ts, flag) = types(d);
    let mut out = String::new();
    for i in 0..n {
        let edited = changed && i % 10 == 5;
        if changed && i == n - 1 {
            continue; // dropped
        }
        let mut cols = vec![
            format!("id {int} NOT NULL PRIMARY KEY"),
            format!("code {text} NOT NULL"),
            format!("name {text} NOT NULL"),
            format!(
                "amount {dec} NOT NULL DEFAULT {}",
                if edited { 1 } else { 0 }
            ),
            format!("created {ts} DEFAULT CURRENT_TIMESTAMP"),
            format!("active {flag}"),
            format!("note {}", if edited { "VARCHAR(500)" } else { text }),
        ];
        if edited {
            cols.push(format!("extra {int}"));
        }
        let mut constraints = vec![
            format!("CONSTRAINT t{i:03}_code UNIQUE (code)"),
            format!("CONSTRAINT t{i:03}_amount CHECK (amount >= 0)"),
        ];
        if i > 0 {
            cols.push(format!("prev_id {int}"));
            let action = if edited { " ON DELETE CASCADE" } else { "" };
            constraints.push(format!(
                "CONSTRAINT t{i:03}_prev FOREIGN KEY (prev_id) REFERENCES t{:03} (id){action}",
                i - 1
            ));
            cols.push(format!("half_id {int}"));
            constraints.push(format!(
                "CONSTRAINT t{i:03}_half FOREIGN KEY (half_id) REFERENCES t{:03} (id)",
                i / 2
            ));
        }
        cols.extend(constraints);
        out.push_str(&format!(
            "CREATE TABLE t{i:03} (\n  {}\n);\n",
            cols.join(",\n  ")
        ));
        out.push_str(&format!("CREATE INDEX t{i:03}_name ON t{i:03} (name);\n"));
        let second = if edited {
            "(active, name)"
        } else {
            "(created, amount)"
        };
        out.push_str(&format!(
            "CREATE INDEX t{i:03}_recent ON t{i:03} {second};\n"
        ));
    }
    if changed {
        out.push_str(&format!("CREATE TABLE extra (id {int} NOT NULL PRIMARY KEY, t000_id {int} REFERENCES t000 (id));\n"));
    }
    out
}

#[derive(Default)]
struct Times {
    scratch: Duration,
    load: Duration,
    introspect: Duration,
    drop: Duration,
    generate: Duration,
    total: Duration,
}

async fn build(o: &Opts, sql: &str, t: &mut Times) -> Result<retort_schema::Schema> {
    let desired = DesiredSchema::from_sql(o.dialect, "schema.sql", sql)?;
    let started = Instant::now();
    let scratch = ScratchDatabase::create(o.dialect, o.dev_url.as_deref()).await?;
    t.scratch += started.elapsed();
    let started = Instant::now();
    scratch.load(&desired).await?;
    t.load += started.elapsed();
    let started = Instant::now();
    let schema = scratch.introspect(&Scope::default()).await?;
    t.introspect += started.elapsed();
    let started = Instant::now();
    scratch.drop().await?;
    t.drop += started.elapsed();
    Ok(schema)
}

async fn run(o: &Opts, current_sql: &str, desired_sql: &str) -> Result<(Times, usize)> {
    let mut t = Times::default();
    let started = Instant::now();
    let current = build(o, current_sql, &mut t).await?;
    let desired = build(o, desired_sql, &mut t).await?;
    let generate = Instant::now();
    let revision = autogenerate(&current, &desired, &Hints::none())?;
    t.generate = generate.elapsed();
    t.total = started.elapsed();
    if o.show {
        for c in &revision.changes {
            eprintln!("{c}");
        }
    }
    Ok((t, revision.changes.len()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(name: &str, mut samples: Vec<f64>) -> String {
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    format!(
        "| {name} | {median:.1} | {:.1} | {:.1} |",
        samples[0],
        samples[samples.len() - 1]
    )
}

async fn scenario(o: &Opts, name: &str, current: &str, desired: &str) -> Result<()> {
    let mut all = Vec::new();
    let mut changes = 0;
    for r in 0..o.runs {
        let (t, n) = run(o, current, desired).await?;
        eprintln!("{name} run {}: {:.0} ms, {n} changes", r + 1, ms(t.total));
        changes = n;
        all.push(t);
    }
    println!(
        "\n### {:?}, {} tables, `{name}` ({changes} changes, {} runs, ms)\n",
        o.dialect, o.tables, o.runs
    );
    println!("| phase | median | min | max |\n|---|---|---|---|");
    let col = |f: fn(&Times) -> Duration| all.iter().map(|t| ms(f(t))).collect::<Vec<_>>();
    println!(
        "{}",
        row("scratch databases created (2)", col(|t| t.scratch))
    );
    println!("{}", row("schemas loaded (2)", col(|t| t.load)));
    println!("{}", row("schemas introspected (2)", col(|t| t.introspect)));
    println!("{}", row("scratch databases dropped (2)", col(|t| t.drop)));
    println!(
        "{}",
        row(
            "diff + order + render, both directions",
            col(|t| t.generate)
        )
    );
    println!("{}", row("**total**", col(|t| t.total)));
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let o = parse_args()?;
    let full = schema_sql(o.dialect, o.tables, false);
    let changed = schema_sql(o.dialect, o.tables, true);
    scenario(&o, "initial", "", &full).await?;
    scenario(&o, "changed", &full, &changed).await?;
    Ok(())
}
