// A Rust revision with a type error: the compiler reports it in the revision's file.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/rust_type_error");

fn main() {
    let _ = &MIGRATIONS;
}
