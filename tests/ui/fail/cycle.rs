// Revisions revising each other.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/cycle");

fn main() {
    let _ = &MIGRATIONS;
}
