// Two bad files: both errors are reported at once.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/several_errors");

fn main() {
    let _ = &MIGRATIONS;
}
