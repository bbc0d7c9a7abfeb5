// The sample `migrations/` directory of the repository embeds cleanly.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

fn main() {
    assert_eq!(MIGRATIONS.len(), 5);
    assert_eq!(MIGRATIONS.heads().collect::<Vec<_>>(), ["e9a14c7f3b45"]);
    let merge = MIGRATIONS.get("c6f08b1d2e34").expect("the merge revision is embedded");
    assert_eq!(merge.parents().collect::<Vec<_>>(), ["8a3e5d0c6b12", "2b7d9e4f0a23"]);
    assert!(MIGRATIONS.set().graph().is_ok());
}
