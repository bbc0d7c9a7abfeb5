// The path names a file, not a directory.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/not_a_directory/4f1c2a9b7e01_create_users.sql");

fn main() {
    let _ = &MIGRATIONS;
}
