//! Tables: create, drop, rename, several tables related by foreign keys.

use super::{Case, case};
use crate::common::Backend::{MySql, Postgres, Sqlite};

pub fn cases() -> Vec<Case> {
    vec![
        case("create a table", "", "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);"),
        case("drop a table", "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));", "")
            .seed("INSERT INTO users VALUES (1, 'a');")
            .contains(None, "-- retort: destructive: drops table users"),
        case(
            "create a table beside one with rows",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(10));",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR(10)); CREATE TABLE b (id INTEGER PRIMARY KEY);",
        )
        .seed("INSERT INTO a VALUES (1, 'x'), (2, NULL);")
        .keep("a", "id, v"),
        case(
            "create parent and child together",
            "",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));",
        ),
        case(
            "drop parent and child together",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));",
            "",
        )
        .seed("INSERT INTO users VALUES (1); INSERT INTO posts VALUES (10, 1);"),
        case(
            "create a chain of three tables",
            "",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));",
        ),
        case(
            "insert a table into the middle of a chain",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id), b_id INTEGER REFERENCES b (id));",
        )
        .seed("INSERT INTO a VALUES (1); INSERT INTO c VALUES (5, 1);")
        .keep("c", "id, a_id"),
        case(
            "create two tables that reference each other",
            "",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER);\n\
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n\
             ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b (id);",
        )
        .on(
            Sqlite,
            "",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));\n\
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));",
        ),
        case(
            "drop two tables that reference each other",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER);\n\
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n\
             ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b (id);",
            "",
        )
        .only(&[Postgres, MySql]),
        case(
            "create a self-referencing table",
            "",
            "CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES nodes (id));",
        ),
        case(
            "rename a table with the hint",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));",
            "-- retort:renamed-from users\nCREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(50));",
        )
        .seed("INSERT INTO users VALUES (1, 'ann'), (2, 'bob');")
        .keep_renamed(("users", "id, name"), ("accounts", "id, name"))
        .contains(Some(Postgres), "ALTER TABLE users RENAME TO accounts")
        .contains(Some(MySql), "RENAME TABLE `users` TO `accounts`"),
        case(
            "rename a table without the hint: drop and create, with a warning",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY);",
        )
        .warns("retort:renamed-from users"),
        case(
            "rename a referenced table with the hint",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(20));\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
            "-- retort:renamed-from users\nCREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(20));\n\
             CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES people (id));",
        )
        .seed("INSERT INTO users VALUES (1, 'a'); INSERT INTO posts VALUES (7, 1);")
        .keep_renamed(("users", "id, name"), ("people", "id, name"))
        .keep("posts", "id, user_id"),
        case(
            "rename a table and one of its columns",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, mail VARCHAR(50));",
            "-- retort:renamed-from users\nCREATE TABLE accounts (\n  id INTEGER PRIMARY KEY,\n  -- retort:renamed-from mail\n  email VARCHAR(50)\n);",
        )
        .seed("INSERT INTO users VALUES (1, 'a@b');")
        .keep_renamed(("users", "id, mail"), ("accounts", "id, email")),
        case(
            "a stale rename hint is satisfied, not an error",
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY);",
            "-- retort:renamed-from users\nCREATE TABLE accounts (id INTEGER PRIMARY KEY, v INTEGER);",
        ),
        case(
            "create a table with every kind of constraint",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);",
            "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
             CREATE TABLE orders (\n  id INTEGER NOT NULL,\n  code VARCHAR(20) NOT NULL,\n  qty INTEGER DEFAULT 1 NOT NULL,\n  \
             user_id INTEGER,\n  CONSTRAINT orders_pk PRIMARY KEY (id),\n  CONSTRAINT orders_code UNIQUE (code),\n  \
             CONSTRAINT orders_qty CHECK (qty > 0),\n  CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL\n);\n\
             CREATE INDEX orders_user_ix ON orders (user_id);",
        )
        .seed("INSERT INTO users VALUES (1), (2);")
        .keep("users", "id"),
    ]
}
