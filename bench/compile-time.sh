#!/usr/bin/env bash
# Compile time of `retort::embed_migrations!` vs `sqlx::migrate!` on the same
# generated SQL, plus retort's load/validate time at the same sizes.
#
#   bench/compile-time.sh [--sizes "1000 10000"] [--runs 5] [--no-time-passes]
#                         [--no-graph] [--keep]
#
# Prints a markdown report on stdout (progress goes to stderr). What it does:
#
# 1. builds this crate (`retort-bench`) in release and runs `gen-migrations`
#    to write, for each size N, N retort revision files and the same upgrade /
#    downgrade SQL as 2N sqlx reversible migrations (`.up.sql` / `.down.sql`);
# 2. writes a throwaway cargo workspace to a temp dir with one binary crate
#    per (macro, N), each holding a single
#    `static M = retort::embed_migrations!("migrations")` (retort by path,
#    default features) or `static M = sqlx::migrate!("./migrations")` (sqlx rejects a bare "migrations") (sqlx 0.9,
#    `default-features = false, features = ["migrate", "macros"]`, the
#    minimum for `sqlx::migrate!`), plus a crate per macro with an *empty*
#    migrations directory as the baseline (rustc start-up, metadata loading,
#    linking); all share CARGO_TARGET_DIR=bench/target/compile-time, so
#    dependencies build once and stay built between invocations;
# 3. builds every crate once (warm-up), then, RUNS times round-robin:
#    `touch src/main.rs && cargo build -p <crate>` (dev profile, incremental:
#    what a developer waits for after editing the crate that embeds the
#    migrations) and reports median and min wall time; also the no-op
#    `cargo build` time (cargo checking the freshness of every embedded file);
# 4. unless --no-time-passes: `RUSTC_BOOTSTRAP=1 cargo rustc -- -Z time-passes`
#    on each crate (same stable compiler), min over 3 runs of the main passes,
#    `expand_crate` being the macro expansion itself;
# 5. unless --no-graph: `graph-validation` (load + parse + validate time per
#    revision at the same sizes).
#
# Environment: RETORT_DIR (default: the parent of this script's directory),
# CARGO_TARGET_DIR for the throwaway crates (default bench/target/compile-time).
# Never runs `cargo clean`; the first run downloads sqlx and builds the
# dependencies (a few minutes on 2 cores).

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RETORT_DIR=${RETORT_DIR:-$(dirname "$BENCH_DIR")}
SIZES="1000 10000"
RUNS=5
TIME_PASSES=1
GRAPH=1
KEEP=0

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --no-time-passes) TIME_PASSES=0; shift ;;
        --no-graph) GRAPH=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compile-time.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { echo "[compile-time] $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# median and min of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
minimum() { printf '%s\n' "$@" | sort -n | head -1; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.2f s", ms/1000}'; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/retort-compile-time.XXXXXX")
cleanup() {
    if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- 1. generator ----------------------------------------------------------
log "building retort-bench (release)"
cargo build --release --quiet --manifest-path "$BENCH_DIR/Cargo.toml" --bins
GEN="$BENCH_DIR/target/release/gen-migrations"
GRAPH_BIN="$BENCH_DIR/target/release/graph-validation"

# --- 2. throwaway crates ---------------------------------------------------
WS="$WORK/ws"
mkdir -p "$WS"
CRATES=()
declare -A N_OF MACRO_OF FILES_OF SQL_OF
for macro in retort sqlx; do
    for n in 0 $SIZES; do
        crate="${macro}_$n"
        CRATES+=("$crate")
        N_OF[$crate]=$n
        MACRO_OF[$crate]=$macro
        mkdir -p "$WS/$crate/src"
        cat > "$WS/$crate/Cargo.toml" <<EOF
[package]
name = "$crate"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$macro.workspace = true
EOF
        if [ "$macro" = retort ]; then
            cat > "$WS/$crate/src/main.rs" <<'EOF'
static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

fn main() {
    println!("{} revisions", MIGRATIONS.len());
}
EOF
        else
            cat > "$WS/$crate/src/main.rs" <<'EOF'
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn main() {
    println!("{} migrations", MIGRATOR.iter().count());
}
EOF
        fi
        stats=$("$GEN" "$n" "--$macro" "$WS/$crate/migrations")
        FILES_OF[$crate]=$(sed -n 's/.* files=\([0-9]*\).*/\1/p' <<<"$stats")
        SQL_OF[$crate]=$(sed -n 's/.* sql_bytes=\([0-9]*\).*/\1/p' <<<"$stats")
    done
done
members=$(printf '"%s", ' "${CRATES[@]}")
cat > "$WS/Cargo.toml" <<EOF
[workspace]
resolver = "3"
members = [${members%, }]

[workspace.dependencies]
retort = { path = "$RETORT_DIR" }
sqlx = { version = "0.9", default-features = false, features = ["migrate", "macros"] }
EOF
# Start from the workspace's lock file so shared dependencies match it.
cp "$RETORT_DIR/Cargo.lock" "$WS/Cargo.lock"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_DIR/target/compile-time}
cd "$WS"

# --- 3. warm-up, then timed incremental rebuilds ---------------------------
for crate in "${CRATES[@]}"; do
    log "warm-up build of $crate"
    cargo build --quiet -p "$crate"
    # A second build: the first one after a dependency change can differ.
    touch "$crate/src/main.rs"
    cargo build --quiet -p "$crate"
    [ "$("$CARGO_TARGET_DIR/debug/$crate")" = "${N_OF[$crate]} revisions" ] \
        || [ "$("$CARGO_TARGET_DIR/debug/$crate")" = "$(( 2 * ${N_OF[$crate]} )) migrations" ] \
        || { echo "unexpected output from $crate" >&2; exit 1; }
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A TIMES NOOP
for ((run = 1; run <= RUNS; run++)); do
    for crate in "${CRATES[@]}"; do
        touch "$crate/src/main.rs"
        t0=$(now_ms)
        cargo build --quiet -p "$crate"
        t1=$(now_ms)
        cargo build --quiet -p "$crate"
        t2=$(now_ms)
        TIMES[$crate]="${TIMES[$crate]:-} $((t1 - t0))"
        NOOP[$crate]="${NOOP[$crate]:-} $((t2 - t1))"
        log "run $run/$RUNS $crate: $((t1 - t0)) ms (no-op $((t2 - t1)) ms)"
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 4. rustc passes --------------------------------------------------------
PASSES="expand_crate type_check_crate MIR_borrow_checking monomorphization_collector codegen_crate LLVM_passes link total"
declare -A PASS
if [ "$TIME_PASSES" = 1 ]; then
    for crate in "${CRATES[@]}"; do
        for run in 1 2 3; do
            log "time-passes $run/3 $crate"
            touch "$crate/src/main.rs"
            RUSTC_BOOTSTRAP=1 cargo rustc --quiet -p "$crate" --bin "$crate" -- -Z time-passes \
                > "$WORK/tp.txt" 2>&1 || { cat "$WORK/tp.txt" >&2; exit 1; }
            for pass in $PASSES; do
                # "time:   1.234; rss: ...  <pass>": a pass may appear several times; add them up
                t=$(awk -v p="$pass" '$1 == "time:" && $NF == p {s += $2 + 0} END {printf "%d", s * 1000}' "$WORK/tp.txt")
                key="$crate/$pass"
                if [ -z "${PASS[$key]:-}" ] || [ "$t" -lt "${PASS[$key]}" ]; then PASS[$key]=$t; fi
            done
        done
    done
    # Leave the crates built the normal way.
    for crate in "${CRATES[@]}"; do cargo build --quiet -p "$crate"; done
fi

# --- report -----------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
rev=$(git -C "$RETORT_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$RETORT_DIR" status --porcelain -- core macros runtime src Cargo.toml 2>/dev/null | grep -q . && echo " + uncommitted changes" || true)
sqlx_version=$(cargo tree --quiet -p sqlx_0 --depth 1 -e normal 2>/dev/null | sed -n 's/^.*sqlx v\([0-9.]*\).*/\1/p' | head -1)

echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($cpu), $mem RAM; $(rustc --version);"
echo "retort at $rev$dirty, sqlx ${sqlx_version:-0.9}. Dev profile (\`cargo build\`, incremental), $RUNS runs per crate"
echo "round-robin; load average before/after the timed runs: $LOAD_BEFORE / $LOAD_AFTER."
echo
echo "| macro | revisions | files embedded | SQL bytes | rebuild after \`touch src/main.rs\`: median | min | macro cost (min − empty-dir min) | no-op \`cargo build\` (min) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A MIN
for crate in "${CRATES[@]}"; do
    # shellcheck disable=SC2086
    MIN[$crate]=$(minimum ${TIMES[$crate]})
done
for crate in "${CRATES[@]}"; do
    macro=${MACRO_OF[$crate]}
    base=${MIN[${macro}_0]}
    # shellcheck disable=SC2086
    med=$(median ${TIMES[$crate]})
    # shellcheck disable=SC2086
    noop=$(minimum ${NOOP[$crate]})
    name=$([ "$macro" = retort ] && echo '`embed_migrations!`' || echo '`sqlx::migrate!`')
    delta=$([ "${N_OF[$crate]}" = 0 ] && echo "(baseline)" || secs $((MIN[$crate] - base)))
    echo "| $name | ${N_OF[$crate]} | ${FILES_OF[$crate]} | ${SQL_OF[$crate]} | $(secs "$med") | $(secs "${MIN[$crate]}") | $delta | $(secs "$noop") |"
done
for n in $SIZES; do
    r=${MIN[retort_$n]}; s=${MIN[sqlx_$n]}
    echo
    echo "At $n revisions, \`embed_migrations!\` rebuild min / \`sqlx::migrate!\` rebuild min = $(awk -v r="$r" -v s="$s" 'BEGIN {printf "%.2f", r/s}');"
    echo "macro cost ratio = $(awk -v r="$((r - MIN[retort_0]))" -v s="$((s - MIN[sqlx_0]))" 'BEGIN {if (s > 0) printf "%.2f", r/s; else print "n/a"}')."
done
echo
echo "<details><summary>All runs (ms)</summary>"
echo
for crate in "${CRATES[@]}"; do echo "- $crate: rebuild${TIMES[$crate]}; no-op${NOOP[$crate]}"; done
echo
echo "</details>"

if [ "$TIME_PASSES" = 1 ]; then
    echo
    echo "rustc \`-Z time-passes\` (min of 3 runs; a pass listed several times is summed):"
    echo
    header="| crate |"; rule="|---|"
    for pass in $PASSES; do header="$header \`$pass\` |"; rule="$rule---:|"; done
    echo "$header"; echo "$rule"
    for crate in "${CRATES[@]}"; do
        line="| ${crate} |"
        for pass in $PASSES; do line="$line $(secs "${PASS[$crate/$pass]}") |"; done
        echo "$line"
    done
fi

if [ "$GRAPH" = 1 ]; then
    sizes_csv=$(echo "$SIZES" | tr ' ' ',')
    echo
    echo "\`graph-validation --sizes $sizes_csv\` (\`retort_core::load::load_dir\` and its phases, release build):"
    echo
    "$GRAPH_BIN" --sizes "$sizes_csv" --runs 10
fi
