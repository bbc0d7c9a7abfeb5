// A header key given twice (keys are case-insensitive).
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/duplicate_header_key");

fn main() {
    let _ = &MIGRATIONS;
}
