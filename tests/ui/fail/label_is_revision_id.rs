// A branch label that is also a revision id.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/label_is_revision_id");

fn main() {
    let _ = &MIGRATIONS;
}
