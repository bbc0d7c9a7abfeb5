// The directory must be a string literal.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!(migrations);

fn main() {
    let _ = &MIGRATIONS;
}
