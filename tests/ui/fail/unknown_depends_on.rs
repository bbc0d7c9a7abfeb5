// `Depends On` names neither a revision nor a branch label.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/unknown_depends_on");

fn main() {
    let _ = &MIGRATIONS;
}
