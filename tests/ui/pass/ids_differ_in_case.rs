// Each revision's constant is named after its id, upper-cased: ids that
// differ only in case (and an id equal to the disambiguated name) still
// get distinct constants.
static MIGRATIONS: retort::Migrations = retort::embed_migrations!("fixtures/ids_differ_in_case");

fn main() {
    let ids: Vec<&str> = MIGRATIONS.revisions().iter().map(|r| r.id()).collect();
    assert_eq!(ids, ["ABC1", "abc1", "abc1_2"]);
    assert_eq!(MIGRATIONS.heads().collect::<Vec<_>>(), ["abc1_2"]);
    assert_eq!(MIGRATIONS.get("abc1").unwrap().upgrade_sql(), "CREATE TABLE a (id INTEGER PRIMARY KEY);\n\n");
}
