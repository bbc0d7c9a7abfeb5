// SQL before the `-- migrate:upgrade` marker.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("../../../../tests/fixtures/ui/sql_before_upgrade");

fn main() {
    let _ = &MIGRATIONS;
}
