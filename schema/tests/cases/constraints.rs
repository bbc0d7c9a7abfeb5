//! Keys, checks, foreign keys and indexes.

use super::{Case, case};
use crate::common::Backend::{MySql, Postgres, Sqlite};

const P: &str = "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10));\n";

pub fn cases() -> Vec<Case> {
    vec![
        // Primary keys.
        case(
            "add a primary key",
            "CREATE TABLE t (id INTEGER NOT NULL, v VARCHAR(10));",
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10));",
        )
        .seed("INSERT INTO t VALUES (1, 'a'), (2, 'b');")
        .keep("t", "id, v"),
        case(
            "drop a primary key",
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(10));",
            "CREATE TABLE t (id INTEGER NOT NULL, v VARCHAR(10));",
        )
        .seed("INSERT INTO t VALUES (1, 'a');")
        .keep("t", "id, v"),
        case(
            "widen a primary key to two columns",
            "CREATE TABLE t (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a));",
            "CREATE TABLE t (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));",
        )
        .seed("INSERT INTO t VALUES (1, 1), (2, 1);")
        .keep("t", "a, b"),
        // Unique constraints.
        case("add a unique constraint", P, "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT p_code_uq UNIQUE (code));")
            .seed("INSERT INTO p VALUES (1, 'a'), (2, 'b');")
            .keep("p", "id, code"),
        case("drop a unique constraint", "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10) UNIQUE);", P)
            .seed("INSERT INTO p VALUES (1, 'a');")
            .keep("p", "id, code"),
        case(
            "rename a unique constraint",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT old_uq UNIQUE (code));",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT new_uq UNIQUE (code));",
        )
        .seed("INSERT INTO p VALUES (1, 'a');")
        .keep("p", "id, code")
        .contains(Some(Postgres), "RENAME CONSTRAINT old_uq TO new_uq")
        .contains(Some(MySql), "RENAME INDEX `old_uq` TO `new_uq`"),
        case(
            "a two-column unique constraint",
            "CREATE TABLE t (a INTEGER, b INTEGER);",
            "CREATE TABLE t (a INTEGER, b INTEGER, CONSTRAINT t_ab UNIQUE (a, b));",
        )
        .seed("INSERT INTO t VALUES (1, 1), (1, 2);")
        .keep("t", "a, b"),
        // Checks.
        case("add a check", P, "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT code_len CHECK (LENGTH(code) > 0));")
            .seed("INSERT INTO p VALUES (1, 'a');")
            .keep("p", "id, code"),
        case("add an unnamed check", P, "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CHECK (id > 0));")
            .seed("INSERT INTO p VALUES (1, 'a');")
            .keep("p", "id, code"),
        case("drop a check", "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT pos CHECK (id > 0));", P)
            .seed("INSERT INTO p VALUES (1, 'a');")
            .keep("p", "id, code"),
        case(
            "change a check",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT pos CHECK (id > 0));",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10), CONSTRAINT pos CHECK (id > 0 AND id < 1000));",
        )
        .seed("INSERT INTO p VALUES (1, 'a');")
        .keep("p", "id, code"),
        // Foreign keys.
        case(
            "add a foreign key",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
        )
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1), (2, NULL);")
        .keep("c", "id, p_id"),
        case(
            "drop a foreign key",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);",
        )
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, p_id"),
        case(
            "change a foreign key's ON DELETE",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id));",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE);",
        )
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, p_id")
        .keep("p", "id"),
        case(
            "point a foreign key at another table",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE q (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, r INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE q (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, r INTEGER REFERENCES q (id));",
        )
        .seed("INSERT INTO p VALUES (1); INSERT INTO q VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, r"),
        case(
            "a composite foreign key",
            "CREATE TABLE p (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));\nCREATE TABLE c (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);",
            "CREATE TABLE p (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, CONSTRAINT c_ab FOREIGN KEY (a, b) REFERENCES p (a, b) ON DELETE SET NULL);",
        )
        .seed("INSERT INTO p VALUES (1, 2); INSERT INTO c VALUES (1, 1, 2);")
        .keep("c", "id, a, b"),
        case(
            "a deferrable foreign key",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .only(&[Postgres, Sqlite])
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, p_id"),
        case(
            "foreign keys among four tables change at once",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE d (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n\
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, d_id INTEGER REFERENCES d (id));\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id) ON DELETE CASCADE, a_id INTEGER REFERENCES a (id));",
        )
        .seed("INSERT INTO a VALUES (1); INSERT INTO b VALUES (1, 1); INSERT INTO c VALUES (1, 1);")
        .non_transactional(Sqlite)
        .keep("b", "id, a_id")
        .keep("c", "id, b_id"),
        // Indexes.
        case("add an index", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE INDEX t_a ON t (a);")
            .seed("INSERT INTO t VALUES (1, 1);")
            .keep("t", "id, a"),
        case("drop an index", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE INDEX t_a ON t (a);", "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);")
            .seed("INSERT INTO t VALUES (1, 1);")
            .keep("t", "id, a"),
        case(
            "rename an index",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE INDEX t_a_old ON t (a);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE INDEX t_a_new ON t (a);",
        )
        .contains(Some(Postgres), "ALTER INDEX t_a_old RENAME TO t_a_new")
        .contains(Some(MySql), "RENAME INDEX `t_a_old` TO `t_a_new`"),
        case(
            "change an index's columns",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);\nCREATE INDEX t_ix ON t (a);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);\nCREATE INDEX t_ix ON t (a, b);",
        )
        .seed("INSERT INTO t VALUES (1, 1, 1);")
        .keep("t", "id, a, b"),
        case(
            "a unique index",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE UNIQUE INDEX t_a_uq ON t (a);",
        )
        .seed("INSERT INTO t VALUES (1, 1), (2, 2);")
        .keep("t", "id, a"),
        case(
            "a descending index",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);\nCREATE INDEX t_ab ON t (a, b DESC);",
        ),
        case(
            "a partial index",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, deleted INTEGER);",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, deleted INTEGER);\nCREATE INDEX t_live ON t (a) WHERE deleted = 0;",
        )
        .only(&[Postgres, Sqlite]),
        case(
            "an expression index",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(100));",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(100));\nCREATE UNIQUE INDEX t_email ON t (lower(email));",
        )
        .only(&[Postgres, Sqlite])
        .seed("INSERT INTO t VALUES (1, 'A@x'), (2, 'b@x');")
        .keep("t", "id, email"),
        case(
            "a foreign key and an index on its column, added together",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER);",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER, CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id));\n\
             CREATE INDEX c_p_ix ON c (p_id);",
        )
        .seed("INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1);")
        .keep("c", "id, p_id"),
        // The same definitions spelled differently.
        case(
            "column-level and table-level keys are the same",
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10) UNIQUE, n INTEGER CHECK (n > 0));\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id INTEGER NOT NULL, code VARCHAR(10), n INTEGER, PRIMARY KEY (id), UNIQUE (code), CHECK (n > 0));\n\
             CREATE TABLE c (id INTEGER NOT NULL, p_id INTEGER, PRIMARY KEY (id), FOREIGN KEY (p_id) REFERENCES p (id));",
        )
        .on(
            Sqlite,
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code VARCHAR(10) UNIQUE, n INTEGER CHECK (n > 0));\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));",
            "CREATE TABLE p (id INTEGER, code VARCHAR(10), n INTEGER, PRIMARY KEY (id), UNIQUE (code), CHECK (n > 0));\n\
             CREATE TABLE c (id INTEGER, p_id INTEGER, PRIMARY KEY (id), FOREIGN KEY (p_id) REFERENCES p (id));",
        )
        .nothing(),
        case(
            "a check spelled differently is the same check",
            "CREATE TABLE t (a INTEGER, CONSTRAINT c CHECK (a>0 AND a<10));",
            "CREATE TABLE t (a INTEGER, CONSTRAINT c CHECK ( ( a > 0 ) and ( a < 10 ) ));",
        )
        .only(&[Postgres, MySql])
        .nothing(),
    ]
}
