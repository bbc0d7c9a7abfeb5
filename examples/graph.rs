//! Prints the embedded revision graph of `migrations/`.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");
fn main() {
    for rev in MIGRATIONS.revisions() {
        println!("{} <- {:?} {:?} {}", rev.id(), rev.parents().collect::<Vec<_>>(), rev.branch_labels().collect::<Vec<_>>(), rev.message());
    }
    println!("heads: {:?}", MIGRATIONS.heads().collect::<Vec<_>>());
}
