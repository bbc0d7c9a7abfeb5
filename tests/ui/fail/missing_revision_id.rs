// A file without `Revision ID`.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("../../../../tests/fixtures/ui/missing_revision_id");

fn main() {
    let _ = &MIGRATIONS;
}
