// An absolute path: the directory must be relative to the crate root.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!("/srv/app/migrations");

fn main() {
    let _ = &MIGRATIONS;
}
