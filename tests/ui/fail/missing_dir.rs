// A migrations directory that does not exist.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!("fixtures/no_such_dir");

fn main() {
    let _ = &MIGRATIONS;
}
