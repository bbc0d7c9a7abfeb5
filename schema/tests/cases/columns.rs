//! Columns: add, drop, rename, types, nullability, defaults, identity,
//! generated columns, collations, comments.

use super::{Case, case};
use crate::common::Backend::{MySql, Postgres, Sqlite};

const T: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));";
const SEED: &str = "INSERT INTO t (id, a, b) VALUES (1, 10, 'x'), (2, NULL, 'y''z');";

pub fn cases() -> Vec<Case> {
    vec![
        case("add a nullable column", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), c INTEGER);")
            .seed(SEED)
            .keep("t", "id, a, b"),
        case(
            "add a NOT NULL column with a default",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), c INTEGER NOT NULL DEFAULT 7);",
        )
        .seed(SEED)
        .keep("t", "id, a, b"),
        case(
            "add a column with an expression default",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), c TIMESTAMP DEFAULT CURRENT_TIMESTAMP);",
        )
        .on(
            MySql,
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), c TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP);",
        )
        .seed(SEED)
        .keep("t", "id, a, b"),
        case(
            "add a NOT NULL column without a default (empty table)",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), c INTEGER NOT NULL);",
        )
        .warns("NOT NULL without a default"),
        case("drop a column", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, b VARCHAR(20));")
            .seed(SEED)
            .keep("t", "id, b")
            .contains(None, "-- retort: destructive: drops column t.a"),
        case("drop two columns", T, "CREATE TABLE t (id INTEGER PRIMARY KEY);").seed(SEED).keep("t", "id"),
        case(
            "rename a column with the hint",
            T,
            "CREATE TABLE t (\n  id INTEGER PRIMARY KEY,\n  -- retort:renamed-from a\n  amount INTEGER,\n  b VARCHAR(20)\n);",
        )
        .seed(SEED)
        .keep_renamed(("t", "id, a, b"), ("t", "id, amount, b"))
        .contains(None, "RENAME COLUMN"),
        case(
            "rename a column with a trailing hint",
            T,
            "CREATE TABLE t (\n  id INTEGER PRIMARY KEY,\n  a INTEGER,\n  label VARCHAR(20) -- retort:renamed-from b\n);",
        )
        .seed(SEED)
        .keep_renamed(("t", "id, a, b"), ("t", "id, a, label")),
        case(
            "rename a column without the hint: drop and add, with a warning",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, amount INTEGER, b VARCHAR(20));",
        )
        .seed(SEED)
        .keep("t", "id, b")
        .warns("retort:renamed-from a"),
        case(
            "rename an indexed column with the hint",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE INDEX t_a_ix ON t (a);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a2 INTEGER -- retort:renamed-from a\n);\nCREATE INDEX t_a_ix ON t (a2);",
        )
        .seed("INSERT INTO t VALUES (1, 5);")
        .keep_renamed(("t", "id, a"), ("t", "id, a2")),
        case(
            "add a column through ALTER TABLE in the desired schema, with the hint",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b VARCHAR(20));\n-- retort:renamed-from a\nALTER TABLE t ADD COLUMN n INTEGER;",
        )
        .seed(SEED)
        .keep_renamed(("t", "id, a, b"), ("t", "id, n, b")),
        case("widen a type: integer to bigint", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a BIGINT, b VARCHAR(20));")
            .seed(SEED)
            .keep("t", "id, a, b"),
        case("lengthen a varchar", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(200));")
            .seed(SEED)
            .keep("t", "id, a, b"),
        case("shorten a varchar (destructive)", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(5));")
            .seed(SEED)
            .keep("t", "id, a, b")
            .contains(None, "-- retort: destructive:"),
        case("integer to text", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(30), b VARCHAR(20));")
            .seed(SEED)
            .keep("t", "id, b"),
        case("decimal precision", "CREATE TABLE t (id INTEGER PRIMARY KEY, p DECIMAL(8, 2));", "CREATE TABLE t (id INTEGER PRIMARY KEY, p DECIMAL(12, 2));")
            .seed("INSERT INTO t VALUES (1, 12.5);")
            .keep("t", "id"),
        case("set NOT NULL", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20) NOT NULL);")
            .seed(SEED)
            .keep("t", "id, a, b"),
        case("drop NOT NULL", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL);", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);")
            .seed("INSERT INTO t VALUES (1, 2);")
            .keep("t", "id, a"),
        case("add a default", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0, b VARCHAR(20));")
            .seed(SEED)
            .keep("t", "id, a, b"),
        case(
            "change a default",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20) DEFAULT 'new');",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20) DEFAULT 'it''s done');",
        )
        .seed("INSERT INTO t (id) VALUES (1);")
        .keep("t", "id, s"),
        case("drop a default", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 3);", T)
            .on(Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 3, b VARCHAR(20));", T)
            .on(Postgres, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 3, b VARCHAR(20));", T)
            .on(MySql, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 3, b VARCHAR(20));", T)
            .seed(SEED)
            .keep("t", "id, a, b"),
        case(
            "type and default together",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(10) DEFAULT '5');",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER DEFAULT 0);",
        )
        .seed("INSERT INTO t (id) VALUES (1);")
        .keep("t", "id"),
    ]
}
