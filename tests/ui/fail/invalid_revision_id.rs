// A revision id with a character that is not allowed.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/invalid_revision_id");

fn main() {
    let _ = &MIGRATIONS;
}
