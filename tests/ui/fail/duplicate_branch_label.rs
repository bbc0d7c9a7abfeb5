// Two revisions declaring the same branch label.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/duplicate_branch_label");

fn main() {
    let _ = &MIGRATIONS;
}
