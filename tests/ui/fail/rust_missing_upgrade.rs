// A Rust revision without `pub async fn upgrade`.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/rust_missing_upgrade");

fn main() {
    let _ = &MIGRATIONS;
}
