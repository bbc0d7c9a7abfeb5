#!/usr/bin/env python3
"""Summarise a test report written by tests/common/report.rs.

    scripts/test-report.py REPORT_FILE

Each line of the report is `pass|skip <TAB> suite <TAB> test <TAB> detail`
(detail: the server label of a pass, the reason of a skip). Prints the
passed test runs per suite and server (one column per PostgreSQL version,
MariaDB, SQLite) and the skipped tests, which libtest shows as "ok".
scripts/with-services.sh runs it after the command.
"""

import collections
import re
import sys


def server_order(label):
    """PostgreSQL by version, then MariaDB/MySQL, then SQLite, then the rest."""
    m = re.fullmatch(r"PostgreSQL (\d+)", label)
    if m:
        return (0, int(m.group(1)), label)
    if label.startswith(("MariaDB", "MySQL")):
        return (1, 0, label)
    if label == "SQLite":
        return (2, 0, label)
    return (3, 0, label)


def main(path):
    passes = collections.Counter()  # (suite, server) -> runs
    skips = collections.defaultdict(list)  # reason -> ["suite test", ...]
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")
        if len(fields) != 4 or fields[0] not in ("pass", "skip"):
            print(f"{path}:{number}: not a report line: {line!r}", file=sys.stderr)
            return 2
        kind, suite, test, detail = fields
        if kind == "pass":
            passes[(suite, detail)] += 1
        else:
            skips[detail].append(f"{suite} {test}")

    if passes:
        servers = sorted({server for _, server in passes}, key=server_order)
        suites = sorted({suite for suite, _ in passes})
        width = max(len("suite"), len("total"), *(len(s) for s in suites))
        print("== database test runs that passed, per suite and server")
        print("  " + "suite".ljust(width) + "".join(f"  {s:>13}" for s in servers))
        for suite in suites:
            row = "".join(f"  {passes[(suite, s)] or '-':>13}" for s in servers)
            print("  " + suite.ljust(width) + row)
        totals = "".join(
            f"  {sum(n for (_, server), n in passes.items() if server == s):>13}" for s in servers
        )
        print("  " + "total".ljust(width) + totals)

    count = sum(len(tests) for tests in skips.values())
    if count == 0:
        print("== no test skipped")
        return 0
    print(f"== {count} test(s) skipped: shown as \"ok\" by cargo test, but they did not run")
    for reason, tests in sorted(skips.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"  {len(tests):4}  {reason}")
        shown = sorted(tests)
        more = f", ... ({len(shown) - 5} more)" if len(shown) > 5 else ""
        print(f"        {', '.join(shown[:5])}{more}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: scripts/test-report.py REPORT_FILE", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
