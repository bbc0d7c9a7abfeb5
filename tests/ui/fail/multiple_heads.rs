// Two heads without `allow_multiple_heads = true`.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/multiple_heads");

fn main() {
    let _ = &MIGRATIONS;
}
