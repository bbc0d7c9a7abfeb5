// `Depends On` names neither a revision nor a branch label.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("../../../../tests/fixtures/ui/unknown_depends_on");

fn main() {
    let _ = &MIGRATIONS;
}
