// A file without `Revision ID`.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/missing_revision_id");

fn main() {
    let _ = &MIGRATIONS;
}
