// The downgrade section before the upgrade section.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/downgrade_before_upgrade");

fn main() {
    let _ = &MIGRATIONS;
}
