// `Revises` names a shortened id: the full one is suggested.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/unknown_parent");

fn main() {
    let _ = &MIGRATIONS;
}
