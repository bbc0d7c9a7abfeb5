// The fallback also has the right type outside a static: a `let` binding and
// method calls on it produce the macro's error only.
fn main() {
    let migrations: retort::Migrations =
        retort::embed_migrations!("fixtures/typed_fallback_local");
    let heads: Vec<&str> = migrations.heads().collect();
    assert_eq!(heads.len(), migrations.len());
    let owned: retort::Migrations = migrations.clone();
    assert!(owned.revisions().iter().all(|rev| rev.is_transactional()));
}
