// A misspelt option.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("migrations", allow_multiple_head = true);

fn main() {
    let _ = &MIGRATIONS;
}
