// Two heads are accepted with `allow_multiple_heads = true` (trailing comma allowed).
static MIGRATIONS: retort::Migrations = retort::embed_migrations!(
    "fixtures/two_heads",
    allow_multiple_heads = true,
);

fn main() {
    assert_eq!(MIGRATIONS.len(), 3);
    assert_eq!(MIGRATIONS.heads().collect::<Vec<_>>(), ["2b7d9e4f0a23", "8a3e5d0c6b12"]);
    assert!(MIGRATIONS.set().graph().is_ok());
}
