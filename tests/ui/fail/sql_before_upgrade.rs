// SQL before the `-- migrate:upgrade` marker.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/sql_before_upgrade");

fn main() {
    let _ = &MIGRATIONS;
}
