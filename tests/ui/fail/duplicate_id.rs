// Two files declaring the same revision id.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/duplicate_id");

fn main() {
    let _ = &MIGRATIONS;
}
