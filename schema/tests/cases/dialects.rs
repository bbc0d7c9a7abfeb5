//! What one backend has: SQLite rebuilds, PostgreSQL enums, sequences,
//! functions, serial columns and materialized views, MySQL's index kinds
//! and table options; and spellings each server normalises.

use super::{Case, case};
use crate::common::Backend::{MySql, Postgres, Sqlite};

pub fn cases() -> Vec<Case> {
    let mut out = sqlite();
    out.extend(postgres());
    out.extend(mysql());
    out.extend(spellings());
    out
}

fn sqlite() -> Vec<Case> {
    const PARENT: &str = "CREATE TABLE p (id INTEGER PRIMARY KEY, name VARCHAR(20), n INTEGER);\n\
                          CREATE INDEX p_name ON p (name);\n\
                          CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);\n\
                          CREATE VIEW pv AS SELECT p.id, p.name, c.id AS c_id FROM p JOIN c ON c.p_id = p.id;\n\
                          CREATE TABLE audit (what VARCHAR(20));\n\
                          CREATE TRIGGER p_audit AFTER UPDATE ON p BEGIN INSERT INTO audit VALUES (NEW.name); END;\n";
    const ROWS: &str = "INSERT INTO p VALUES (1, 'a', 1), (2, 'b', NULL); INSERT INTO c VALUES (10, 1), (11, 1), (20, 2);";
    vec![
        case(
            "sqlite: rebuild a parent with an index, a view, a trigger and cascading children",
            PARENT,
            "CREATE TABLE p (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT '', n BIGINT);\n\
             CREATE INDEX p_name ON p (name);\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);\n\
             CREATE VIEW pv AS SELECT p.id, p.name, c.id AS c_id FROM p JOIN c ON c.p_id = p.id;\n\
             CREATE TABLE audit (what VARCHAR(20));\n\
             CREATE TRIGGER p_audit AFTER UPDATE ON p BEGIN INSERT INTO audit VALUES (NEW.name); END;\n",
        )
        .only(&[Sqlite])
        .seed(ROWS)
        .keep("p", "id, name")
        .keep("c", "id, p_id")
        .keep("pv", "id, c_id")
        .non_transactional(Sqlite)
        .contains(Some(Sqlite), "PRAGMA foreign_keys = OFF"),
        case(
            "sqlite: rebuild a child to add a foreign key",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, note VARCHAR(10));\nCREATE INDEX c_note ON c (note);",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id), note VARCHAR(10));\nCREATE INDEX c_note ON c (note);",
        )
        .only(&[Sqlite])
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1, 'x'), (2, NULL, 'y');")
        .keep("c", "id, p_id, note"),
        case(
            "sqlite: drop a column that an index and a check use",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER CHECK (a > 0), b VARCHAR(10));\nCREATE INDEX t_a ON t (a);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b VARCHAR(10));",
        )
        .only(&[Sqlite])
        .seed("INSERT INTO t VALUES (1, 5, 'x');")
        .keep("t", "id, b"),
        case(
            "sqlite: a self-referencing table is rebuilt with foreign keys off",
            "CREATE TABLE n (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES n (id) ON DELETE CASCADE, label VARCHAR(10));",
            "CREATE TABLE n (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES n (id) ON DELETE CASCADE, label VARCHAR(50) NOT NULL DEFAULT '');",
        )
        .only(&[Sqlite])
        .seed("INSERT INTO n VALUES (1, NULL, 'root'), (2, 1, 'leaf'), (3, 2, 'leaf2');")
        .keep("n", "id, parent, label")
        .non_transactional(Sqlite),
        case(
            "sqlite: WITHOUT ROWID and STRICT",
            "CREATE TABLE t (k TEXT NOT NULL PRIMARY KEY, v INTEGER);",
            "CREATE TABLE t (k TEXT NOT NULL PRIMARY KEY, v INTEGER) WITHOUT ROWID, STRICT;",
        )
        .only(&[Sqlite])
        .seed("INSERT INTO t VALUES ('a', 1);")
        .keep("t", "k, v"),
        case(
            "sqlite: a table made by CREATE TABLE AS is compared by its columns",
            "CREATE TABLE src (a INTEGER);",
            "CREATE TABLE src (a INTEGER);\nCREATE TABLE copy AS SELECT a FROM src;",
        )
        .only(&[Sqlite]),
    ]
}

fn postgres() -> Vec<Case> {
    const MOOD: &str = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\nCREATE TABLE t (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'ok');\n";
    vec![
        case("postgres: create an enum and a column of it", "CREATE TABLE t (id INTEGER PRIMARY KEY);", MOOD)
            .only(&[Postgres])
            .seed("INSERT INTO t VALUES (1);")
            .keep("t", "id"),
        case(
            "postgres: add enum values",
            MOOD,
            "CREATE TYPE mood AS ENUM ('awful', 'sad', 'ok', 'good', 'happy');\nCREATE TABLE t (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'ok');\n",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES (1, 'happy'), (2, DEFAULT);")
        .keep("t", "id, m")
        .contains(Some(Postgres), "ALTER TYPE mood ADD VALUE 'awful' BEFORE 'sad'"),
        case(
            "postgres: add an enum value and use it as the default",
            MOOD,
            "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'meh');\nCREATE TABLE t (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'meh');\n",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES (1, 'happy');")
        .keep("t", "id, m")
        .non_transactional(Postgres),
        case(
            "postgres: remove an enum value",
            MOOD,
            "CREATE TYPE mood AS ENUM ('ok', 'happy');\nCREATE TABLE t (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'ok');\n",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES (1, 'happy'), (2, 'ok');")
        .keep("t", "id, m")
        .contains(Some(Postgres), "-- retort: destructive: type mood loses value(s) sad"),
        case(
            "postgres: rename an enum type with the hint",
            MOOD,
            "-- retort:renamed-from mood\nCREATE TYPE feeling AS ENUM ('sad', 'ok', 'happy');\nCREATE TABLE t (id INTEGER PRIMARY KEY, m feeling NOT NULL DEFAULT 'ok');\n",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES (1, 'happy');")
        .keep("t", "id, m"),
        case("postgres: drop an enum and its column", MOOD, "CREATE TABLE t (id INTEGER PRIMARY KEY);")
            .only(&[Postgres])
            .seed("INSERT INTO t VALUES (1, 'sad');")
            .keep("t", "id"),
        case("postgres: create a sequence", "", "CREATE SEQUENCE order_no START WITH 1000 INCREMENT BY 10;").only(&[Postgres]),
        case(
            "postgres: change a sequence",
            "CREATE SEQUENCE order_no START WITH 1000;",
            "CREATE SEQUENCE order_no START WITH 1000 INCREMENT BY 5 CACHE 10;",
        )
        .only(&[Postgres]),
        case(
            "postgres: rename a sequence with the hint",
            "CREATE SEQUENCE order_no;",
            "-- retort:renamed-from order_no\nCREATE SEQUENCE order_number;",
        )
        .only(&[Postgres])
        .contains(Some(Postgres), "ALTER SEQUENCE order_no RENAME TO order_number"),
        case("postgres: drop a sequence", "CREATE SEQUENCE s;", "").only(&[Postgres]),
        case(
            "postgres: a serial column",
            "CREATE TABLE t (v TEXT);",
            "CREATE TABLE t (v TEXT, id SERIAL PRIMARY KEY);",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES ('a'), ('b');")
        .keep("t", "v"),
        case(
            "postgres: a serial column becomes an identity column",
            "CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT);",
            "CREATE TABLE t (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v TEXT);",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t (v) VALUES ('a'), ('b');")
        .keep("t", "id, v"),
        case(
            "postgres: identity options",
            "CREATE TABLE t (id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT);",
            "CREATE TABLE t (id INTEGER GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 2) PRIMARY KEY, v TEXT);",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t (v) VALUES ('a');")
        .keep("t", "id, v"),
        case(
            "postgres: change a function's body",
            "CREATE FUNCTION twice(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 2';",
            "CREATE FUNCTION twice(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + x';",
        )
        .only(&[Postgres]),
        case(
            "postgres: a check that calls a new function",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);",
            "CREATE FUNCTION is_short(s text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT length(s) < 10';\n\
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT CONSTRAINT short CHECK (is_short(v)));",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES (1, 'a');")
        .keep("t", "id, v"),
        case(
            "postgres: a materialized view",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE MATERIALIZED VIEW mv AS SELECT a, count(*) AS n FROM t GROUP BY a;",
        )
        .only(&[Postgres]),
        case(
            "postgres: arrays, jsonb and timestamps with time zone",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, tags TEXT[] NOT NULL DEFAULT '{}', doc JSONB, at TIMESTAMPTZ DEFAULT now());",
        )
        .only(&[Postgres])
        .seed("INSERT INTO t VALUES (1);")
        .keep("t", "id"),
        case(
            "postgres: a unique constraint with NULLS NOT DISTINCT and a deferrable one",
            "CREATE TABLE t (a INTEGER, b INTEGER);",
            "CREATE TABLE t (a INTEGER, b INTEGER, CONSTRAINT t_a UNIQUE NULLS NOT DISTINCT (a), CONSTRAINT t_b UNIQUE (b) DEFERRABLE INITIALLY DEFERRED);",
        )
        .only(&[Postgres])
        .postgres_since(15),
        case(
            "postgres: a mixed-case table and column",
            "CREATE TABLE \"Users\" (\"Id\" INTEGER PRIMARY KEY);",
            "CREATE TABLE \"Users\" (\"Id\" INTEGER PRIMARY KEY, \"DisplayName\" TEXT NOT NULL DEFAULT 'x');",
        )
        .only(&[Postgres])
        .seed("INSERT INTO \"Users\" VALUES (1);")
        .keep("\"Users\"", "\"Id\""),
    ]
}

fn mysql() -> Vec<Case> {
    vec![
        case(
            "mysql: prefix and fulltext indexes",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, title VARCHAR(200), body TEXT);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, title VARCHAR(200), body TEXT, KEY t_title (title(20)), FULLTEXT KEY t_body (body));",
        )
        .only(&[MySql])
        .seed("INSERT INTO t VALUES (1, 'a', 'b');")
        .keep("t", "id, title"),
        case(
            "mysql: engine and table collation",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(10));",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, s VARCHAR(10)) ENGINE=MyISAM COLLATE=utf8mb4_bin;",
        )
        .only(&[MySql])
        .seed("INSERT INTO t VALUES (1, 'x');")
        .keep("t", "id, s"),
        case(
            "mysql: ON UPDATE CURRENT_TIMESTAMP, unsigned, enum and set types",
            "CREATE TABLE t (id INTEGER PRIMARY KEY);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT UNSIGNED NOT NULL DEFAULT 0, \
             kind ENUM('a', 'b') NOT NULL DEFAULT 'a', flags SET('x', 'y'), \
             changed TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);",
        )
        .only(&[MySql])
        .seed("INSERT INTO t (id) VALUES (1);")
        .keep("t", "id"),
        case(
            "mysql: change an enum column's values",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, kind ENUM('a', 'b') NOT NULL DEFAULT 'a');",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, kind ENUM('a', 'b', 'c') NOT NULL DEFAULT 'a');",
        )
        .only(&[MySql])
        .seed("INSERT INTO t VALUES (1, 'b');")
        .keep("t", "id, kind"),
        case(
            "mysql: change the type of a column a foreign key uses",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, FOREIGN KEY (p_id) REFERENCES p (id));",
            "CREATE TABLE p (id BIGINT PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id BIGINT, FOREIGN KEY (p_id) REFERENCES p (id));",
        )
        .only(&[MySql])
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, p_id"),
        case(
            "change the type of a referenced key and its foreign key",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id BIGINT PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id BIGINT REFERENCES p (id));",
        )
        .only(&[Postgres, Sqlite])
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, p_id")
        .non_transactional(Sqlite),
    ]
}

/// The same schema written two ways: autogenerate must find nothing.
fn spellings() -> Vec<Case> {
    vec![
        case(
            "type synonyms are the same type",
            "CREATE TABLE t (a INTEGER, b VARCHAR(10), c DECIMAL(5, 2), d BOOLEAN);",
            "CREATE TABLE t (a INT, b CHARACTER VARYING(10), c NUMERIC(5,2), d BOOL);",
        )
        .only(&[Postgres, MySql])
        .on(MySql, "CREATE TABLE t (a INTEGER, b VARCHAR(10), c DECIMAL(5, 2), d BOOLEAN);", "CREATE TABLE t (a INT, b VARCHAR(10), c DEC(5,2), d TINYINT(1));")
        .nothing(),
        case(
            "default spellings are the same default",
            "CREATE TABLE t (a INTEGER DEFAULT 0, b VARCHAR(10) DEFAULT 'x', c TIMESTAMP DEFAULT CURRENT_TIMESTAMP);",
            "CREATE TABLE t (a INTEGER DEFAULT (0), b VARCHAR(10) DEFAULT ('x'), c TIMESTAMP DEFAULT current_timestamp);",
        )
        .on(
            MySql,
            "CREATE TABLE t (a INTEGER DEFAULT 0, b VARCHAR(10) DEFAULT 'x', c TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP);",
            "CREATE TABLE t (a INTEGER DEFAULT (0), b VARCHAR(10) DEFAULT 'x', c TIMESTAMP NULL DEFAULT now());",
        )
        .nothing(),
        case(
            "quoted and unquoted names are the same names",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50));\nCREATE INDEX users_email ON users (email);",
            "CREATE TABLE \"users\" (\"id\" INTEGER PRIMARY KEY, \"email\" VARCHAR(50));\nCREATE INDEX \"users_email\" ON \"users\" (\"email\");",
        )
        .on(
            MySql,
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50));\nCREATE INDEX users_email ON users (email);",
            "CREATE TABLE `users` (`id` INTEGER PRIMARY KEY, `email` VARCHAR(50));\nCREATE INDEX `users_email` ON `users` (`email`);",
        )
        .nothing(),
        case(
            "a view written with other spacing and case is the same view",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE VIEW v AS SELECT id, a FROM t WHERE a > 0;",
            "create table t (id integer primary key, a integer);\ncreate view v as\n  select id,a\n  from t\n  where a>0;",
        )
        .nothing(),
        case(
            "column order is not compared",
            "CREATE TABLE t (a INTEGER, b INTEGER);",
            "CREATE TABLE t (b INTEGER, a INTEGER);",
        )
        .nothing(),
        case(
            "comments in the desired schema change nothing",
            "CREATE TABLE t (a INTEGER);",
            "-- the t table\nCREATE TABLE t (\n  a INTEGER -- an integer\n);\n/* done */",
        )
        .nothing(),
    ]
}
