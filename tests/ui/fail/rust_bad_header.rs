// A Rust revision with a misspelt header key.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/rust_bad_header");

fn main() {
    let _ = &MIGRATIONS;
}
