//! Tests of the `CREATE` statement parser.

use super::*;

fn table(sql: &str) -> Parsed {
    create_table(sql).expect("parses").expect("not AS SELECT")
}

#[test]
fn columns_keys_and_constraints() {
    let p = table(
        "CREATE TABLE IF NOT EXISTS \"T\" (\n id INTEGER PRIMARY KEY AUTOINCREMENT,\n \
         name varchar ( 20 ) NOT NULL DEFAULT 'x' COLLATE nocase CONSTRAINT ck CHECK (length(name) > 0),\n \
         p INT REFERENCES parent ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT NULL,\n \
         g INT GENERATED ALWAYS AS (p * 2) STORED, d REAL DEFAULT -1.5, e TEXT DEFAULT (datetime('now')),\n \
         UNIQUE (name, p) ON CONFLICT REPLACE, CHECK (p <> 0),\n \
         CONSTRAINT fk FOREIGN KEY (g) REFERENCES other (x, y) MATCH SIMPLE\n) WITHOUT ROWID, STRICT",
    );
    let t = &p.table;
    assert_eq!(t.name, "T");
    assert_eq!(t.options, ["STRICT", "WITHOUT ROWID"]);
    let id = &t.columns[0];
    assert_eq!(
        (id.data_type.as_str(), &id.identity),
        ("INTEGER", &Some(Identity::AutoIncrement))
    );
    assert_eq!(
        t.primary_key.as_ref().map(|k| k.definition.as_str()),
        Some("PRIMARY KEY (id)")
    );
    let name = &t.columns[1];
    assert_eq!(name.data_type, "VARCHAR(20)");
    assert!(!name.nullable);
    assert_eq!(name.default.as_deref(), Some("'x'"));
    assert_eq!(name.collation.as_deref(), Some("NOCASE"));
    assert_eq!(t.checks[0].definition, "CHECK (length(name) > 0)");
    assert_eq!(t.checks[0].name.as_deref(), Some("ck"));
    assert_eq!(t.checks[1].definition, "CHECK (p <> 0)");
    let fk = &t.foreign_keys[0];
    assert_eq!(
        (fk.ref_table.as_str(), fk.on_delete, fk.options.as_str()),
        ("parent", FkAction::Cascade, "DEFERRABLE INITIALLY DEFERRED")
    );
    assert!(!t.columns[2].nullable);
    assert_eq!(t.foreign_keys[1].ref_columns, ["x", "y"]);
    assert_eq!(t.foreign_keys[1].options, "MATCH SIMPLE");
    assert_eq!(
        t.columns[3]
            .generated
            .as_ref()
            .map(|g| (g.expression.as_str(), g.stored)),
        Some(("p * 2", true))
    );
    assert_eq!(t.columns[4].default.as_deref(), Some("- 1.5"));
    assert_eq!(t.columns[5].default.as_deref(), Some("datetime('now')"));
    assert_eq!(
        t.uniques[0].definition,
        "UNIQUE (name, p) ON CONFLICT REPLACE"
    );
}

#[test]
fn other_statements() {
    assert!(
        create_table("CREATE TABLE t AS SELECT 1 AS x")
            .expect("parses")
            .is_none()
    );
    let ix =
        create_index("CREATE UNIQUE INDEX ix ON t (a COLLATE nocase, lower(b) DESC) WHERE a > 0")
            .expect("parses");
    assert!(ix.unique);
    assert_eq!(
        ix.definition,
        "(a collate nocase, lower(b) desc) where a > 0"
    );
    assert_eq!(
        after_name("CREATE VIEW IF NOT EXISTS v(a) AS SELECT 1", "VIEW").expect("parses"),
        "(a) as select 1"
    );
    assert!(create_table("CREATE TABLE t (a INT,").is_err());
    assert!(create_table("CREATE TABLE t (a INT NOT)").is_err());
    assert!(create_table("CREATE TABLE").is_err());
}
