#!/usr/bin/env bash
# Runtime benchmark: applying revisions and the no-op "already at head"
# startup check, retort vs sqlx's Migrator vs refinery vs raw execution of
# the same SQL (the floor), on SQLite, PostgreSQL and MariaDB. See
# src/bin/apply/main.rs for what exactly is timed, and BENCHMARKS.md for results.
#
#   bench/runtime.sh [--quick] [--only sqlite,postgres,mysql] [--out FILE]
#
# Prints a markdown report on stdout (progress on stderr); every sample is
# appended as CSV to bench/target/runtime-samples.csv (or FILE.csv with --out
# FILE, which also gets the report). About 15 minutes on 2 cores
# (--quick: ~1 minute, small sizes, to check that everything runs).
# SQLite runs are pinned to one CPU with taskset (see PIN below); PostgreSQL
# runs are not pinned.
#
# Runs, in order:
# 1. SQLite, database files on the real disk (/var/tmp): apply 1,000
#    revisions (APPLY_REPS_DISK runs, default 5: fsync-bound, 1-20 s a run), and
#    the no-op check at 10 and 10,000 revisions (NOOP_REPS calls, default 50,
#    after 20 warm-up calls);
# 2. SQLite, database files in tmpfs (/dev/shm: fsync costs nothing, so the
#    tools' own overhead shows): apply 1,000 (APPLY_REPS, default 9);
# 3. PostgreSQL 15 (scripts/with-services.sh, fsync=off, data directory in
#    tmpfs via TMPDIR=/dev/shm, autovacuum turned off on that throwaway
#    server): apply 1,000 (APPLY_REPS) and the no-op check (NOOP_REPS);
#    then PostgreSQL 15 durable (with-services.sh --durable: fsync=on, data
#    directory on the real disk in PG_DIR, default /var/tmp): apply 1,000
#    (APPLY_REPS_DISK);
# 4. the no-op check again with a bare connection instead of a pool, for
#    retort and sqlx on both backends (attributes the pool's ping).
# 5. MariaDB 10.11 (a throwaway server this script starts, see start_mariadb:
#    durable commits, innodb_flush_log_at_trx_commit=1, no binlog, data
#    directory on the real disk in MY_DIR, default /var/tmp): apply 1,000
#    (APPLY_REPS_DISK: fsync-bound like SQLite on disk) and the no-op check
#    (NOOP_REPS; sizes MY_NOOP_SIZES, default NOOP_SIZES).
# --only LIST (comma list of sqlite, postgres, mysql) runs only those stages
# (stage 4 runs its SQLite and PostgreSQL halves with the respective stage).
#
# Never runs `cargo clean`; builds only the `apply` binary (feature
# `runtime`), in release.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RETORT_DIR=$(dirname "$BENCH_DIR")
QUICK=0 OUT="" ONLY=sqlite,postgres,mysql
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --only=*) ONLY=${1#*=} ;;
    -h | --help) sed -n '2,40p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "runtime.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -ra stages <<<"$ONLY"
for st in "${stages[@]}"; do
  case $st in
    sqlite | postgres | mysql) ;;
    *) echo "runtime.sh: --only takes sqlite, postgres, mysql (comma list), not $st" >&2; exit 2 ;;
  esac
done
# want STAGE: true if STAGE is to run.
want() { [[ ,$ONLY, == *,$1,* ]]; }

if ((QUICK)); then
  APPLY_N=50 NOOP_SIZES=10,200
  : "${APPLY_REPS:=1}" "${APPLY_REPS_DISK:=1}" "${NOOP_REPS:=5}"
else
  APPLY_N=1000 NOOP_SIZES=10,10000
  : "${APPLY_REPS:=9}" "${APPLY_REPS_DISK:=5}" "${NOOP_REPS:=50}"
fi
SAMPLES=${OUT:+$OUT.csv}
SAMPLES=${SAMPLES:-$BENCH_DIR/target/runtime-samples.csv}
: "${MY_NOOP_SIZES:=$NOOP_SIZES}" "${MY_DIR:=/var/tmp}" "${PG_DIR:=/var/tmp}"
mkdir -p "$(dirname "$SAMPLES")"
: > "$SAMPLES"

echo "runtime.sh: building bench/target/release/apply" >&2
cargo build --release --quiet --manifest-path "$BENCH_DIR/Cargo.toml" --features runtime --bin apply
APPLY=$BENCH_DIR/target/release/apply
# SQLite runs are pinned to one CPU: sqlx's SQLite driver runs each
# connection on a worker thread, and on this 2-vCPU VM a wake-up across CPUs
# sometimes costs 50-100 µs more than on the same CPU, which made the no-op
# timings of sqlx-based tools bimodal from one run to the next.
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 1)
COMMON=(--apply-n "$APPLY_N" --noop-sizes "$NOOP_SIZES" --noop-reps "$NOOP_REPS" --samples "$SAMPLES")

# A throwaway MariaDB, started the way scripts/with-services.sh starts one
# (mariadbd --no-defaults, data in a temp dir, a free loopback port), but
# with durable commits and its data on the real disk; it is stopped and its
# data deleted on exit. with_mariadb COMMAND...: runs COMMAND with
# RETORT_TEST_MYSQL_URL set.
MY_TMP="" MY_PID=""
stop_mariadb() {
  if [[ -n $MY_PID ]]; then
    kill "$MY_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 150; i++)); do kill -0 "$MY_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$MY_PID" 2>/dev/null || true
    wait "$MY_PID" 2>/dev/null || true
  fi
  [[ -z $MY_TMP ]] || rm -rf "$MY_TMP"
  MY_PID="" MY_TMP=""
}
start_mariadb() {
  local user port try deadline
  [[ :$PATH: == *:/usr/sbin:* ]] || PATH="$PATH:/usr/sbin"
  command -v mariadbd >/dev/null || {
    echo "runtime.sh: mariadbd not found (apt-get install mariadb-server mariadb-client)" >&2
    return 1
  }
  user=$(id -un)
  MY_TMP=$(mktemp -d "$MY_DIR/retort-bench-mariadb.XXXXXX")
  mkdir -p "$MY_TMP/tmp"
  mariadb-install-db --no-defaults --user="$user" --datadir="$MY_TMP/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$MY_TMP/install.log" 2>&1 || {
    tail -n 30 "$MY_TMP/install.log" >&2
    return 1
  }
  for try in 1 2 3; do # retry on a fresh port if another process grabbed ours
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # Durable: every commit flushes and syncs the redo log (=1, the
    # default, spelled out); no binary log, so sync_binlog does not apply.
    mariadbd --no-defaults --user="$user" --datadir="$MY_TMP/data" --bind-address=127.0.0.1 \
      --port="$port" --socket="$MY_TMP/sock" --pid-file="$MY_TMP/pid" --log-error="$MY_TMP/error.log" \
      --tmpdir="$MY_TMP/tmp" --max-connections=500 --skip-name-resolve \
      --innodb-flush-log-at-trx-commit=1 --skip-log-bin </dev/null >/dev/null 2>&1 &
    MY_PID=$!
    deadline=$((SECONDS + 60))
    while kill -0 "$MY_PID" 2>/dev/null && ((SECONDS < deadline)); do
      if timeout -k 1 5 mariadb-admin --no-defaults --connect-timeout=5 --protocol=tcp \
        -h 127.0.0.1 -P "$port" -u root ping >/dev/null 2>&1; then
        export RETORT_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/mysql"
        echo "runtime.sh: MariaDB $(mariadbd --version | awk '{print $3}') ready: $RETORT_TEST_MYSQL_URL (data in $MY_TMP)" >&2
        return 0
      fi
      sleep 0.2
    done
    kill -0 "$MY_PID" 2>/dev/null && break # timed out
    wait "$MY_PID" 2>/dev/null || true
  done
  tail -n 30 "$MY_TMP/error.log" >&2
  echo "runtime.sh: MariaDB failed to start" >&2
  return 1
}
with_mariadb() {
  # Here, not at the top: report runs in a subshell under --out.
  trap stop_mariadb EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start_mariadb || { stop_mariadb; return 1; }
  local rc=0
  "$@" || rc=$?
  stop_mariadb
  return "$rc"
}
# The server's settings, for the report.
mariadb_settings() {
  local port=${RETORT_TEST_MYSQL_URL##*:}
  port=${port%%/*}
  mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root -N -B -e "SELECT CONCAT(
    'MariaDB ', VERSION(), ': innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit,
    ', log_bin=', @@log_bin, ', innodb_doublewrite=', @@innodb_doublewrite,
    ', innodb_flush_method=', @@innodb_flush_method, ', innodb_buffer_pool_size=',
    @@innodb_buffer_pool_size DIV 1048576, ' MiB')"
}
mysql_stage() {
  echo "- server: $(mariadb_settings), data directory in $MY_DIR"
  echo
  "$APPLY" --backend mysql --apply-reps "$APPLY_REPS_DISK" "${COMMON[@]}" --noop-sizes "$MY_NOOP_SIZES"
}

report() {
  echo "## Runtime benchmark run, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
  echo "- retort: $(git -C "$RETORT_DIR" rev-parse --short HEAD)$(git -C "$RETORT_DIR" diff --quiet -- runtime core src 2>/dev/null || echo ' + uncommitted changes in runtime/core/src')"
  echo "- $(cd "$BENCH_DIR" && cargo tree --quiet --features runtime -e normal --depth 1 2>/dev/null | grep -E ' (sqlx|refinery|tokio-postgres|rusqlite|mysql_async) v' | sed 's/^[^a-z]*//' | tr '\n' ' ')"
  echo "- load: $(uptime)"
  echo

  if want sqlite; then
    echo "### SQLite, database files on disk (/var/tmp)"
    echo
    "${PIN[@]}" "$APPLY" --backend sqlite --db-dir /var/tmp --apply-reps "$APPLY_REPS_DISK" "${COMMON[@]}"

    echo "### SQLite, database files in tmpfs (/dev/shm)"
    echo
    "${PIN[@]}" "$APPLY" --backend sqlite --db-dir /dev/shm --only apply --apply-reps "$APPLY_REPS" "${COMMON[@]}"
  fi

  if want postgres; then
    echo "### PostgreSQL, data directory in tmpfs"
    echo
    TMPDIR=/dev/shm "$RETORT_DIR/scripts/with-services.sh" --no-mysql -- \
      "$APPLY" --backend postgres --no-autovacuum --apply-reps "$APPLY_REPS" "${COMMON[@]}"
  fi

  if want postgres; then
    echo "### PostgreSQL, durable (fsync=on), data directory on disk ($PG_DIR)"
    echo
    TMPDIR=$PG_DIR "$RETORT_DIR/scripts/with-services.sh" --durable --no-mysql -- \
      "$APPLY" --backend postgres --no-autovacuum --durable --only apply --apply-reps "$APPLY_REPS_DISK" "${COMMON[@]}"
  fi

  if want sqlite || want postgres; then
    echo "### No-op check with a bare connection instead of a pool (retort, sqlx)"
    echo
  fi
  if want sqlite; then
    "${PIN[@]}" "$APPLY" --backend sqlite --db-dir /var/tmp --only noop --handle conn --tools retort,sqlx "${COMMON[@]}"
  fi
  if want postgres; then
    TMPDIR=/dev/shm "$RETORT_DIR/scripts/with-services.sh" --no-mysql -- \
      "$APPLY" --backend postgres --no-autovacuum --only noop --handle conn --tools retort,sqlx "${COMMON[@]}"
  fi

  if want mysql; then
    echo "### MariaDB, durable commits, data directory on disk ($MY_DIR)"
    echo
    with_mariadb mysql_stage
  fi
}

if [[ -n $OUT ]]; then
  report | tee "$OUT"
else
  report
fi
