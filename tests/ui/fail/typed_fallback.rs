// After the macro's error the static still has the right type: using it
// produces the macro's error only, no follow-on type errors.
static MIGRATIONS: retort::Migrations =
    retort::embed_migrations!("fixtures/typed_fallback");

fn heads() -> Vec<&'static str> {
    MIGRATIONS.heads().collect()
}

fn main() {
    assert_eq!(heads(), ["4f1c2a9b7e01"]);
    for rev in MIGRATIONS.revisions() {
        println!("{} {:?}", rev.id(), rev.parents().collect::<Vec<_>>());
    }
    let set: &retort::MigrationSet = MIGRATIONS.set();
    assert!(set.get("4f1c2a9b7e01").is_some());
    assert!(MIGRATIONS.set().graph().is_ok());
}
