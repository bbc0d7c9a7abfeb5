#!/usr/bin/env bash
# Runtime benchmark: applying revisions and the no-op "already at head"
# startup check, retort vs sqlx's Migrator vs refinery vs raw execution of
# the same SQL (the floor), on SQLite and PostgreSQL. See src/bin/apply/main.rs for
# what exactly is timed, and BENCHMARKS.md for results.
#
#   bench/runtime.sh [--quick] [--pg-disk] [--out FILE]
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
# 4. the no-op check again with a bare connection instead of a pool, for
#    retort and sqlx on both backends (attributes the pool's ping).
# With --pg-disk, also PostgreSQL with its data directory on the disk
# (noisier: the kernel writes back thousands of relation files).
#
# Never runs `cargo clean`; builds only the `apply` binary (feature
# `runtime`), in release.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RETORT_DIR=$(dirname "$BENCH_DIR")
QUICK=0 PG_DISK=0 OUT=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --pg-disk) PG_DISK=1 ;;
    --out) OUT=$2; shift ;;
    -h | --help) sed -n '2,28p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "runtime.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ((QUICK)); then
  APPLY_N=50 NOOP_SIZES=10,200
  : "${APPLY_REPS:=1}" "${APPLY_REPS_DISK:=1}" "${NOOP_REPS:=5}"
else
  APPLY_N=1000 NOOP_SIZES=10,10000
  : "${APPLY_REPS:=9}" "${APPLY_REPS_DISK:=5}" "${NOOP_REPS:=50}"
fi
SAMPLES=${OUT:+$OUT.csv}
SAMPLES=${SAMPLES:-$BENCH_DIR/target/runtime-samples.csv}
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

report() {
  echo "## Runtime benchmark run, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
  echo "- retort: $(git -C "$RETORT_DIR" rev-parse --short HEAD)$(git -C "$RETORT_DIR" diff --quiet -- runtime core src 2>/dev/null || echo ' + uncommitted changes in runtime/core/src')"
  echo "- $(cd "$BENCH_DIR" && cargo tree --quiet --features runtime -e normal --depth 1 2>/dev/null | grep -E ' (sqlx|refinery|tokio-postgres|rusqlite) v' | sed 's/^[^a-z]*//' | tr '\n' ' ')"
  echo

  echo "### SQLite, database files on disk (/var/tmp)"
  echo
  "${PIN[@]}" "$APPLY" --backend sqlite --db-dir /var/tmp --apply-reps "$APPLY_REPS_DISK" "${COMMON[@]}"

  echo "### SQLite, database files in tmpfs (/dev/shm)"
  echo
  "${PIN[@]}" "$APPLY" --backend sqlite --db-dir /dev/shm --only apply --apply-reps "$APPLY_REPS" "${COMMON[@]}"

  echo "### PostgreSQL, data directory in tmpfs"
  echo
  TMPDIR=/dev/shm "$RETORT_DIR/scripts/with-services.sh" --no-mysql -- \
    "$APPLY" --backend postgres --no-autovacuum --apply-reps "$APPLY_REPS" "${COMMON[@]}"

  echo "### No-op check with a bare connection instead of a pool (retort, sqlx)"
  echo
  "${PIN[@]}" "$APPLY" --backend sqlite --db-dir /var/tmp --only noop --handle conn --tools retort,sqlx "${COMMON[@]}"
  TMPDIR=/dev/shm "$RETORT_DIR/scripts/with-services.sh" --no-mysql -- \
    "$APPLY" --backend postgres --no-autovacuum --only noop --handle conn --tools retort,sqlx "${COMMON[@]}"

  if ((PG_DISK)); then
    echo "### PostgreSQL, data directory on disk"
    echo
    TMPDIR=/var/tmp "$RETORT_DIR/scripts/with-services.sh" --no-mysql -- \
      "$APPLY" --backend postgres --no-autovacuum --only apply --apply-reps "$APPLY_REPS" "${COMMON[@]}"
  fi
}

if [[ -n $OUT ]]; then
  report | tee "$OUT"
else
  report
fi
