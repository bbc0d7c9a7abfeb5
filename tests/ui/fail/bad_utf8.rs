// A file that is not valid UTF-8.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/bad_utf8");

fn main() {
    let _ = &MIGRATIONS;
}
