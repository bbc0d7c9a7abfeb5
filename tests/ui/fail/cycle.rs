// Revisions revising each other.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("../../../../tests/fixtures/ui/cycle");

fn main() {
    let _ = &MIGRATIONS;
}
