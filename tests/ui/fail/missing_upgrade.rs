// A file without a `-- migrate:upgrade` section.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/missing_upgrade");

fn main() {
    let _ = &MIGRATIONS;
}
