// No argument at all.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!();

fn main() {
    let _ = &MIGRATIONS;
}
