#!/usr/bin/env bash
# Fleet benchmark (issue 14): upgrade 200 PostgreSQL databases by 20
# revisions with `retort upgrade --fleet --jobs N` (N = 1, 4, 16), beside a
# shell loop running `retort upgrade head` once per database; and the no-op
# `retort check --fleet` / `retort upgrade --fleet` over the whole fleet at head.
#
#   bench/fleet.sh [--url URL] [--rounds R] [--dbs N] [--revisions K]
#   scripts/with-services.sh --no-mysql -- bench/fleet.sh      # throwaway server
#
# --url: a PostgreSQL superuser URL (default: $RETORT_TEST_POSTGRES_URL, as
# exported by scripts/with-services.sh, whose server runs with fsync=off; the
# report prints the server's fsync setting). Defaults: 3 rounds, 200 databases,
# 20 revisions in a line (each a CREATE TABLE and one INSERT).
#
# Builds the retort binary in release (`cargo build --release -p retort-cli`
# at the repo root) and runs a copy of it; the report names the commit and
# any uncommitted files outside bench/. Writes a project with a
# `[fleet.bench]` table (shape = "database", targets_file) to a temp dir
# and creates the databases. Then R interleaved
# rounds; in each, every method in turn: the databases are dropped and
# created again and the server checkpoints (not timed), the method is timed
# (wall clock), and all databases are checked to be at head with every
# revision's row present (one psql session, not timed). After each fleet
# upgrade, a no-op `check --fleet --jobs 16` and a no-op
# `upgrade --fleet --jobs 16` are timed too. Methods:
#   loop    for db in ...; do retort upgrade head --database-url URL/db -q; done
#   jobsN   retort upgrade --fleet --jobs N -q
# Prints a markdown report on stdout (progress on stderr): wall times, and
# the CPU time of the retort processes and of the server's backends (read
# from the postmaster's reaped children; 0 when the server is not local).
# Drops its databases at exit. Needs psql on PATH. About 20 minutes on 2 cores.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
URL=${RETORT_TEST_POSTGRES_URL:-} ROUNDS=3 NDB=200 NREV=20
while (($#)); do
  case $1 in
    --url) URL=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --dbs) NDB=$2; shift ;;
    --revisions) NREV=$2; shift ;;
    -h | --help) sed -n '2,31p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "fleet.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -n $URL ]] || { echo "fleet.sh: needs --url or RETORT_TEST_POSTGRES_URL (see scripts/with-services.sh)" >&2; exit 2; }
command -v psql >/dev/null || { echo "fleet.sh: needs psql on PATH" >&2; exit 2; }
METHODS=(loop jobs1 jobs4 jobs16)
log() { printf 'fleet.sh: %s\n' "$*" >&2; }
now_ns() { date +%s%N; }
LOAD_BEFORE=$(uptime)

# URL of database $1 on the server of $URL (same user, host, port, query).
BASE=${URL%%\?*} QUERY=""
[[ $URL == *\?* ]] && QUERY="?${URL#*\?}"
db_url() { printf '%s/%s%s' "${BASE%/*}" "$1" "$QUERY"; }
sql() { PGOPTIONS="-c client_min_messages=warning" psql "$URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/retort-fleet-bench.XXXXXX")
DBS=()
for ((i = 0; i < NDB; i++)); do DBS+=("retort_fleetbench_$$_$i"); done
cleanup() {
  local rc=$?
  if [[ -n ${DROP_ON_EXIT:-} ]]; then
    log "dropping the $NDB databases"
    printf 'DROP DATABASE IF EXISTS %s WITH (FORCE);\n' "${DBS[@]}" | sql -f - >/dev/null || log "some databases were not dropped"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building retort (release)"
BUILT=$(cd "$ROOT" && cargo build --release -p retort-cli --message-format=json-render-diagnostics |
  sed -n 's/.*"executable":"\([^"]*\/retort\)".*/\1/p' | tail -n 1)
[[ -x $BUILT ]] || { echo "fleet.sh: built no retort binary" >&2; exit 1; }
# A copy: a build in the shared target dir during the run cannot swap it.
RETORT=$WORK/retort
cp "$BUILT" "$RETORT"
DIRTY=$(git -C "$ROOT" status --porcelain -- . ':!bench' ':!BENCHMARKS.md' | awk '{print $2}' | paste -sd, | sed 's/,/, /g')
SOURCE="$(git -C "$ROOT" rev-parse --short HEAD)${DIRTY:+ + uncommitted changes in $DIRTY}"

# The project: NREV revisions in a line, each creating t_NN and inserting one row.
mkdir "$WORK/migrations"
prev="" head=""
for ((k = 1; k <= NREV; k++)); do
  id=$(printf 'fb%010d' "$k") t=$(printf 't_%02d' "$k")
  cat >"$WORK/migrations/${id}_rev.sql" <<EOF
-- revision $k
--
-- Revision ID: $id
-- Revises: $prev
-- Create Date: 2026-12-04 09:00:00+00:00

-- migrate:upgrade
CREATE TABLE $t (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
INSERT INTO $t (id, note) VALUES (1, 'revision $k');

-- migrate:downgrade
DROP TABLE $t;
EOF
  prev=$id head=$id
done
printf '[database]\nurl = "%s"\n\n[fleet.bench]\nshape = "database"\ntargets_file = "tenants.txt"\n' "$URL" >"$WORK/retort.toml"
printf '%s\n' "${DBS[@]}" >"$WORK/tenants.txt"
ROWS=0
for ((k = 1; k <= NREV; k++)); do ROWS+=$(printf ' + (SELECT count(*) FROM t_%02d)' "$k"); done
VERIFY="$WORK/verify.sql"
for db in "${DBS[@]}"; do
  printf '\\c %s\nSELECT (SELECT string_agg(version_num, %s) FROM retort_version) || %s || (%s);\n' "$db" "','" "' '" "$ROWS"
done >"$VERIFY"

reset_dbs() {
  DROP_ON_EXIT=1
  for db in "${DBS[@]}"; do printf 'DROP DATABASE IF EXISTS %s WITH (FORCE);\nCREATE DATABASE %s;\n' "$db" "$db"; done |
    sql -f - >/dev/null
  sql -c CHECKPOINT >/dev/null
  sleep 1 # the postmaster reaps these sessions' backends before the next server_cpu
}
# verify WHAT: every database at head, with one row from each revision.
verify() {
  local ok
  ok=$(sql -f "$VERIFY" | grep -cx "$head $NREV" || true)
  ((ok == NDB)) || { echo "fleet.sh: after $1, $ok of $NDB databases at head $head with $NREV rows" >&2; exit 1; }
}
# CPU ms of the server's ended backends (the postmaster's reaped children),
# when it runs on this machine; else 0.
PM=$(head -n 1 "$(sql -c 'SHOW data_directory')/postmaster.pid" 2>/dev/null || true)
TICK=$(getconf CLK_TCK)
server_cpu() { awk -v t="$TICK" '{ print int(($16 + $17) * 1000 / t) }' "/proc/$PM/stat" 2>/dev/null || echo 0; }
# timed NAME CMD...: runs CMD in the project dir; appends its wall time (ms)
# to T[NAME], the CPU time of its processes to C[NAME] and the server's to S[NAME].
declare -A T=() C=() S=()
timed() {
  local name=$1 t0 t1 s0
  shift
  s0=$(server_cpu) t0=$(now_ns)
  (cd "$WORK" && "$@" >/dev/null && times) >"$WORK/times"
  t1=$(now_ns)
  sleep 0.5 # for the postmaster to reap the last backends
  LAST=$(((t1 - t0) / 1000000))
  T[$name]+="$LAST "
  C[$name]+="$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print int((u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000) }' "$WORK/times") "
  S[$name]+="$(($(server_cpu) - s0)) "
}
upgrade_loop() {
  local db
  for db in "${DBS[@]}"; do "$RETORT" upgrade head --database-url "$(db_url "$db")" -q; done
}

SERVER=$(sql -c "SELECT split_part(version(), ' ', 2) || ', fsync=' || current_setting('fsync') || ', max_connections=' || current_setting('max_connections')")
log "server: PostgreSQL $SERVER; $NDB databases x $NREV revisions, $ROUNDS rounds; project in $WORK"
for ((r = 1; r <= ROUNDS; r++)); do
  for m in "${METHODS[@]}"; do
    log "round $r/$ROUNDS: $m (resetting $NDB databases first)"
    reset_dbs
    if [[ $m == loop ]]; then
      timed loop upgrade_loop
    else
      timed "$m" "$RETORT" upgrade --fleet --jobs "${m#jobs}" -q
    fi
    log "  $m: $LAST ms"
    verify "$m"
    if [[ $m != loop ]]; then
      timed noop_check "$RETORT" check --fleet --jobs 16 -q
      c=$LAST
      timed noop_upgrade "$RETORT" upgrade --fleet --jobs 16 -q
      log "  no-op check: $c ms, no-op upgrade: $LAST ms"
      verify "no-op upgrade"
    fi
  done
done
LOAD_AFTER=$(uptime)

# stats SAMPLES: "median min max" of the space-separated samples.
stats() {
  tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR] = $1} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}
s() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }
read -r LOOP_MED _ _ < <(stats "${T[loop]}")
med() { stats "$1" | awk '{ printf "%.1f s", $1 / 1000 }'; }
echo "## Fleet benchmark run, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "- machine: $(nproc) CPUs, $(uname -sr); retort $SOURCE"
echo "- server: PostgreSQL $SERVER"
echo "- $NDB databases x $NREV revisions (CREATE TABLE + INSERT each), $ROUNDS rounds (methods interleaved)"
echo "- load before: ${LOAD_BEFORE##*load average: }; after: ${LOAD_AFTER##*load average: }"
echo
echo "| method | median | min | max | loop ÷ method (medians) | retort CPU (median) | server CPU (median) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for m in "${METHODS[@]}"; do
  read -r med lo hi < <(stats "${T[$m]}")
  case $m in
    loop) label="shell loop, \`retort upgrade head\` per database" ;;
    *) label="\`retort upgrade --fleet --jobs ${m#jobs}\`" ;;
  esac
  echo "| $label | $(s "$med") | $(s "$lo") | $(s "$hi") | $(awk -v a="$LOOP_MED" -v b="$med" 'BEGIN { printf "%.2f×", a / b }') | $(med "${C[$m]}") | $(med "${S[$m]}") |"
done
for m in noop_check noop_upgrade; do
  read -r med lo hi < <(stats "${T[$m]}")
  echo "| no-op \`retort ${m#noop_} --fleet --jobs 16\`, all at head | $(s "$med") | $(s "$lo") | $(s "$hi") | | $(med "${C[$m]}") | $(med "${S[$m]}") |"
done
echo
echo "CPU: user + system time of the retort processes, and of the server's backends (0 when the server is not local)."
echo "All runs, wall / retort CPU / server CPU (ms):"
echo
for m in "${METHODS[@]}" noop_check noop_upgrade; do echo "- $m: ${T[$m]% } / ${C[$m]% } / ${S[$m]% }"; done
