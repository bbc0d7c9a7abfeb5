// An unknown `Key: value` line in the header block.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/unknown_header_key");

fn main() {
    let _ = &MIGRATIONS;
}
