//! Views, triggers, identity and generated columns, collations, comments.

use super::{Case, case};
use crate::common::Backend::{MySql, Postgres, Sqlite};

const T: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\n";
const SEED: &str = "INSERT INTO t VALUES (1, 10, 'x'), (2, 20, 'y');";

pub fn cases() -> Vec<Case> {
    vec![
        // Views.
        case("create a view", T, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a FROM t WHERE a > 0;")
            .seed(SEED)
            .keep("t", "id, a, b"),
        case("drop a view", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a FROM t;", T)
            .seed(SEED)
            .keep("t", "id, a, b"),
        case(
            "change a view",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a FROM t;",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a, b FROM t WHERE a > 5;",
        )
        .seed(SEED)
        .keep("v", "id, a"),
        case(
            "a view over a view over two tables",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER);\n\
             CREATE VIEW tu AS SELECT t.id, t.a, u.id AS u_id FROM t JOIN u ON u.t_id = t.id;\nCREATE VIEW tu_big AS SELECT id, u_id FROM tu WHERE a > 10;",
        ),
        case(
            "change the type of a column a view reads",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, b FROM t;\nCREATE VIEW w AS SELECT b FROM v;",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(100));\nCREATE VIEW v AS SELECT id, b FROM t;\nCREATE VIEW w AS SELECT b FROM v;",
        )
        .seed(SEED)
        .keep("w", "b"),
        case(
            "rename a table a view reads, with the hint",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a FROM t;",
            "-- retort:renamed-from t\nCREATE TABLE t2 (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a FROM t2;",
        )
        .seed(SEED)
        .keep("v", "id, a"),
        case(
            "drop a column a view reads, and the view",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20));\nCREATE VIEW v AS SELECT id, a FROM t;\nCREATE VIEW keep AS SELECT id FROM t;",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b VARCHAR(20));\nCREATE VIEW keep AS SELECT id FROM t;",
        )
        .seed(SEED)
        .keep("keep", "id"),
        // Triggers.
        case(
            "create a trigger",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO log VALUES (NEW.id); END;",
        )
        .on(
            Postgres,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE FUNCTION log_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (NEW.id); RETURN NEW; END $$;\n\
             CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION log_t();",
        ),
        case(
            "drop a trigger",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO log VALUES (NEW.id); END;",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);",
        )
        .on(
            Postgres,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE FUNCTION log_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (NEW.id); RETURN NEW; END $$;\n\
             CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION log_t();",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);",
        )
        .seed("INSERT INTO t VALUES (1, 1);")
        .keep("t", "id, a")
        .keep("log", "id"),
        case(
            "change a trigger",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO log VALUES (NEW.id); END;",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE TRIGGER t_log AFTER UPDATE ON t FOR EACH ROW BEGIN INSERT INTO log VALUES (NEW.id + 1000); END;",
        )
        .on(
            Postgres,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE FUNCTION log_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (NEW.id); RETURN NEW; END $$;\n\
             CREATE TRIGGER t_log AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION log_t();",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE TABLE log (id INTEGER);\n\
             CREATE FUNCTION log_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (NEW.id + 1000); RETURN NEW; END $$;\n\
             CREATE TRIGGER t_log AFTER INSERT OR UPDATE ON t FOR EACH ROW WHEN (NEW.a > 0) EXECUTE FUNCTION log_t();",
        )
        .seed("INSERT INTO t VALUES (1, 1);")
        .keep("log", "id"),
        // Identity and auto-increment.
        case(
            "create a table with an auto-increment key",
            "",
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v VARCHAR(10));",
        )
        .on(MySql, "", "CREATE TABLE t (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));")
        .on(Postgres, "", "CREATE TABLE t (id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v VARCHAR(10));"),
        case(
            "make a key auto-increment",
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10));",
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v VARCHAR(10));",
        )
        .on(MySql, "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10));", "CREATE TABLE t (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));")
        .on(Postgres, "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10));", "CREATE TABLE t (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v VARCHAR(10));")
        .seed("INSERT INTO t VALUES (1, 'a'), (2, 'b');")
        .keep("t", "id, v"),
        case(
            "add an auto-increment key column",
            "CREATE TABLE t (v VARCHAR(10));",
            "CREATE TABLE t (v VARCHAR(10), id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY);",
        )
        .only(&[MySql])
        .seed("INSERT INTO t VALUES ('a'), ('b');")
        .keep("t", "v"),
        // Generated columns.
        case(
            "add a stored generated column",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), a2 INTEGER GENERATED ALWAYS AS (a * 2) STORED);",
        )
        .seed(SEED)
        .keep("t", "id, a, b"),
        case(
            "add a virtual generated column",
            T,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b VARCHAR(20), a3 INTEGER GENERATED ALWAYS AS (a + 3) VIRTUAL);",
        )
        // PostgreSQL has virtual generated columns from 18 on.
        .postgres_since(18)
        .seed(SEED)
        .keep("t", "id, a, b"),
        case(
            "change a generated column's expression",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, a2 INTEGER GENERATED ALWAYS AS (a * 2) STORED);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, a2 INTEGER GENERATED ALWAYS AS (a * 3) STORED);",
        )
        .seed("INSERT INTO t (id, a) VALUES (1, 1);")
        .keep("t", "id, a"),
        case(
            "a generated column becomes a plain one",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, a2 INTEGER GENERATED ALWAYS AS (a * 2) STORED);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, a2 INTEGER);",
        )
        .seed("INSERT INTO t (id, a) VALUES (1, 1);")
        .keep("t", "id, a"),
        // Collations.
        case(
            "change a column's collation",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20));",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20) COLLATE \"C\");",
        )
        .on(Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20));", "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20) COLLATE NOCASE);")
        .on(MySql, "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20));", "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(20) COLLATE latin1_bin);")
        .seed("INSERT INTO t VALUES (1, 'Ab'), (2, 'b');")
        .keep("t", "id, s"),
        // Comments.
        case(
            "comment on a table and a column",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCOMMENT ON TABLE t IS 'the t''s table';\nCOMMENT ON COLUMN t.a IS 'an amount';",
        )
        .on(MySql, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER COMMENT 'an amount') COMMENT 'the t''s table';")
        .only(&[Postgres, MySql])
        .seed("INSERT INTO t VALUES (1, 2);")
        .keep("t", "id, a"),
        case(
            "change and drop comments",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCOMMENT ON TABLE t IS 'old';\nCOMMENT ON COLUMN t.a IS 'old';",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCOMMENT ON TABLE t IS 'new';",
        )
        .on(MySql, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER COMMENT 'old') COMMENT 'old';", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER) COMMENT 'new';")
        .only(&[Postgres, MySql]),
    ]
}
