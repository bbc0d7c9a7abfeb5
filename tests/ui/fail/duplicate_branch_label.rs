// Two revisions declaring the same branch label.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("../../../../tests/fixtures/ui/duplicate_branch_label");

fn main() {
    let _ = &MIGRATIONS;
}
