#!/usr/bin/env python3
"""Round trips and commits per revision, counted, not estimated.

    bench/round-trips.py --retort PATH [--postgres URL] [--mysql URL] [--sqlite]
                         [--sizes 100,200]

Applies N generated revisions (each `CREATE TABLE` + one `INSERT`, the
runtime benchmark's shape) with `retort upgrade head` to a fresh database,
for two sizes, and counts what reached the database:

* PostgreSQL: the server's statement log (`log_statement = 'all'`, set on
  the benchmark database only). Each logged `statement:` (a simple-query
  message) or `execute` (an extended-protocol execution) is one round trip
  (a first-time prepare adds one more, once per run); commits are the
  `COMMIT`s in the logged statements.
* MySQL/MariaDB: the general query log (`log_output = 'TABLE'`), the
  sessions connected to the benchmark database. Each `Query`, `Prepare` or
  `Execute` is one round trip. Commits are replayed from the statements:
  an explicit `COMMIT`, a DDL statement (its own commit, plus the implicit
  one before it when a transaction has written), a write in autocommit.
* SQLite: sqlx's query log (`RUST_LOG=sqlx::query=debug`): each logged
  execution is one call to sqlx's SQLite worker thread; sqlx's own `BEGIN`
  and `COMMIT` of a transaction are two more calls it does not log, for
  each committed transaction (one `retort_history` row each) not sent
  inside an execution (`BEGIN; ...; COMMIT` in one text). Commits are the
  write transactions.

Per revision = (count at the larger size - count at the smaller) / the
difference in revisions, so the fixed cost of a run (connect, lock, reads)
cancels out. Prints a markdown table.

Needs psql and the mariadb client on PATH; the PostgreSQL URL's user must be
a superuser (ALTER DATABASE ... SET log_statement), the MySQL user must be
allowed SET GLOBAL. With scripts/with-services.sh the server log of
PostgreSQL is `<data directory>/../log`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b", re.I)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


def revisions(directory: str, n: int) -> None:
    os.makedirs(directory, exist_ok=True)
    parent = ""
    for i in range(n):
        rev = f"{i + 1:012x}"
        text = (
            f"-- revision {rev}\n--\n-- Revision ID: {rev}\n-- Revises: {parent}\n"
            f"-- Create Date: 2026-12-04 09:00:00+00:00\n\n-- migrate:upgrade\n"
            f"CREATE TABLE t_{i} (id INT PRIMARY KEY, name VARCHAR(40));\n"
            f"INSERT INTO t_{i} (id, name) VALUES (1, 'row {i}');\n\n"
            f"-- migrate:downgrade\nDROP TABLE t_{i};\n"
        )
        with open(os.path.join(directory, f"{rev}_t{i}.sql"), "w") as f:
            f.write(text)
        parent = rev


def run(cmd: list[str], env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, env=env)


def upgrade(retort: str, directory: str, url: str, env_extra: dict | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETORT_", "DATABASE_URL"))}
    env.update(env_extra or {})
    out = run([retort, "--migrations", directory, "--database-url", url, "upgrade", "head"], env=env)
    return out.stderr


def with_database(url: str, name: str) -> str:
    head, _, query = url.partition("?")
    scheme, _, rest = head.partition("://")
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


# ---------------------------------------------------------------- PostgreSQL


def psql(url: str, sql: str) -> str:
    return run(["psql", url, "-Atqc", sql]).stdout.strip()


ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
LOGGED = re.compile(r"LOG:  (statement|execute [^:]*): ")


def postgres_counts(retort: str, url: str, log: str, n: int) -> tuple[int, int]:
    name = f"rt_{uuid.uuid4().hex[:10]}"
    psql(url, f"CREATE DATABASE {name}")
    psql(url, f"ALTER DATABASE {name} SET log_statement = 'all'")
    try:
        with tempfile.TemporaryDirectory() as d:
            revisions(d, n)
            start = os.path.getsize(log)
            upgrade(retort, d, with_database(url, name))
            time.sleep(0.5)  # the server's log writes are not synchronous
            with open(log, encoding="utf-8", errors="replace") as f:
                f.seek(start)
                text = f.read()
    finally:
        psql(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    entries: list[str] = []
    for line in text.splitlines():
        if ENTRY.match(line):
            entries.append(line if LOGGED.search(line) else "")
        elif entries and entries[-1]:
            entries[-1] += "\n" + line
    logged = [e for e in entries if e]
    commits = sum(len(re.findall(r"\bCOMMIT\b", LOGGED.split(e, 1)[-1])) for e in logged)
    return len(logged), commits


# ------------------------------------------------------------------- MySQL


def mysql_cli(url: str) -> list[str]:
    m = re.match(r"mysql://([^:@/]+)(?::([^@/]*))?@([^:/]+)(?::(\d+))?", url)
    if not m:
        sys.exit(f"cannot parse the MySQL URL {url}")
    user, password, host, port = m.groups()
    cmd = ["mariadb", "-u", user, "-h", host, "-P", port or "3306", "-N", "-B", "--raw"]
    if password:
        cmd.append(f"-p{password}")
    return cmd


def mysql(url: str, sql: str) -> str:
    return run(mysql_cli(url) + ["-e", sql]).stdout


def mysql_counts(retort: str, url: str, n: int) -> tuple[int, int, int]:
    name = f"rt_{uuid.uuid4().hex[:10]}"
    mysql(url, f"CREATE DATABASE {name}")
    try:
        with tempfile.TemporaryDirectory() as d:
            revisions(d, n)
            mysql(url, "SET GLOBAL general_log = 0; TRUNCATE mysql.general_log; "
                       "SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1")
            before = handler_commits(url)
            upgrade(retort, d, with_database(url, name))
            after = handler_commits(url)
            mysql(url, "SET GLOBAL general_log = 0")
            rows = mysql(
                url,
                "SELECT thread_id, command_type, REPLACE(REPLACE(CONVERT(argument USING utf8mb4), "
                "'\\n', '<NL>'), '\\t', ' ') FROM mysql.general_log ORDER BY event_time, thread_id",
            )
    finally:
        mysql(url, f"DROP DATABASE IF EXISTS {name}")
    threads: set[str] = set()
    events: list[tuple[str, str, str]] = []
    for line in rows.splitlines():
        parts = line.split("\t", 2)
        if len(parts) < 3:
            continue
        thread, kind, arg = parts
        if kind == "Connect" and f" on {name}" in arg:
            threads.add(thread)
        events.append((thread, kind, arg))
    mine = [(t, k, a) for t, k, a in events if t in threads]
    trips = sum(1 for _, k, _ in mine if k in ("Query", "Prepare", "Execute"))
    commits = 0
    open_tx: dict[str, bool] = {}  # thread -> a transaction has written
    in_tx: dict[str, bool] = {}
    # A multi-statement message is logged whole: replay its statements
    # (retort separates them with a line holding only `;`).
    statements = [
        (thread, part.replace("<NL>", " "))
        for thread, kind, arg in mine
        if kind in ("Query", "Execute")
        for part in arg.split("<NL>;<NL>")
        if part.strip()
    ]
    for thread, statement in statements:
        statement = statement.strip().rstrip(";").strip().upper()
        if statement in ("BEGIN", "START TRANSACTION"):
            if in_tx.get(thread) and open_tx.get(thread):
                commits += 1  # BEGIN commits the open transaction first
            in_tx[thread], open_tx[thread] = True, False
        elif statement == "COMMIT":
            commits += 1 if in_tx.get(thread) and open_tx.get(thread) else 0
            in_tx[thread] = False
        elif statement == "ROLLBACK":
            in_tx[thread] = False
        elif DDL.match(statement):
            if in_tx.get(thread) and open_tx.get(thread):
                commits += 1  # the implicit commit before the DDL
            in_tx[thread] = False
            commits += 1  # the DDL's own
        elif WRITE.match(statement):
            if in_tx.get(thread):
                open_tx[thread] = True
            else:
                commits += 1
    return trips, commits, after - before


def handler_commits(url: str) -> int:
    """InnoDB's redo log writes so far: one per durable commit of a
    single client (each commit writes the log; with
    `innodb_flush_log_at_trx_commit=1` it also fsyncs it)."""
    out = mysql(url, "SHOW GLOBAL STATUS LIKE 'Innodb_log_writes'")
    return int(out.split()[1])


# ------------------------------------------------------------------ SQLite


def sqlite_counts(retort: str, n: int) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as d:
        revisions(os.path.join(d, "m"), n)
        db = os.path.join(d, "bench.db")
        log = upgrade(retort, os.path.join(d, "m"), f"sqlite://{db}?mode=rwc",
                      {"RUST_LOG": "sqlx::query=debug", "NO_COLOR": "1"})
        logged = [line for line in log.splitlines() if "summary=" in line]
        executions = len(logged)
        # Transactions sent inside one execution (`BEGIN; ...; COMMIT`).
        inline = sum(1 for line in logged if "\\nBEGIN;" in line)
        import sqlite3
        con = sqlite3.connect(db)
        # One history row per revision, and the attempt rows of nothing else:
        # every write transaction of an upgrade writes exactly one history row.
        transactions = con.execute("SELECT count(*) FROM retort_history").fetchone()[0]
        con.close()
    # sqlx's own BEGIN and COMMIT are worker calls it does not log.
    return executions + 2 * (transactions - inline), transactions


# -------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--retort", required=True)
    p.add_argument("--postgres")
    p.add_argument("--postgres-log")
    p.add_argument("--mysql")
    p.add_argument("--sqlite", action="store_true")
    p.add_argument("--sizes", default="100,200")
    a = p.parse_args()
    small, large = (int(s) for s in a.sizes.split(","))
    per = lambda x, y: (y - x) / (large - small)
    print("| backend | round trips per revision | commits per revision | cross-check |")
    print("|---|---:|---:|---|")
    if a.sqlite:
        (e1, t1), (e2, t2) = (sqlite_counts(a.retort, n) for n in (small, large))
        print(f"| SQLite | {per(e1, e2):.2f} (calls to sqlx's worker thread) | {per(t1, t2):.2f} | |")
    if a.postgres:
        log = a.postgres_log or os.path.join(
            os.path.dirname(psql(a.postgres, "SHOW data_directory")), "log")
        (r1, c1), (r2, c2) = (postgres_counts(a.retort, a.postgres, log, n) for n in (small, large))
        print(f"| PostgreSQL | {per(r1, r2):.2f} | {per(c1, c2):.2f} | |")
    if a.mysql:
        (r1, c1, h1), (r2, c2, h2) = (mysql_counts(a.retort, a.mysql, n) for n in (small, large))
        print(f"| MySQL/MariaDB | {per(r1, r2):.2f} | {per(c1, c2):.2f} | redo log writes (server status `Innodb_log_writes`): {per(h1, h2):.2f} |")


if __name__ == "__main__":
    main()
