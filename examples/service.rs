//! A service that embeds `migrations/` and upgrades its database at startup.
//!
//! ```sh
//! cargo run --example service                         # sqlite://quickstart.db
//! cargo run --example service -- postgres://user@localhost/app
//! ```
//!
//! `main` returns [`retort::Error`], whose `Debug` (what a failed `main`
//! prints) is its message and causes in plain words:
//!
//! ```text
//! Error: cannot connect to postgres://user:***@localhost/app: password authentication failed for user "user"
//! ```

use std::io::IsTerminal as _;

use sqlx::Row;

static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

#[tokio::main]
async fn main() -> Result<(), retort::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://quickstart.db".to_owned());
    println!(
        "{} revisions embedded, head {}",
        MIGRATIONS.len(),
        MIGRATIONS.heads().collect::<Vec<_>>().join(", ")
    );

    let report = MIGRATIONS.upgrade(url.as_str(), "head").await?;
    if report.steps.is_empty() {
        println!("already at head ({})", report.heads_after.join(", "));
    } else {
        println!("applied {} revision(s):", report.steps.len());
        for step in &report.steps {
            println!(
                "  {} {:<14} {:>7.2} ms  {}",
                step.direction,
                step.revision,
                step.duration.as_secs_f64() * 1000.0,
                step.message
            );
        }
        println!("now at {}", report.heads_after.join(", "));
    }

    if url.starts_with("sqlite:") {
        // The listing is this example's extra, not part of the migration:
        // its failure is reported, not returned.
        match tables(&url).await {
            Ok(tables) => println!("tables: {}", tables.join(", ")),
            Err(e) => eprintln!("cannot list the tables of {url}: {e}"),
        }
    }
    Ok(())
}

async fn tables(url: &str) -> Result<Vec<String>, sqlx::Error> {
    let pool = sqlx::SqlitePool::connect(url).await?;
    let rows = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&pool)
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
