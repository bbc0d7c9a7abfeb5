// `allow_multiple_heads` takes `true` or `false`, not a string.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("migrations", allow_multiple_heads = "yes");

fn main() {
    let _ = &MIGRATIONS;
}
