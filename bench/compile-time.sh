#!/usr/bin/env bash
# Compile time of `retort::embed_migrations!` vs `sqlx::migrate!` on the same
# generated SQL, where retort's share goes, and retort's load/validate time.
#
#   bench/compile-time.sh [--sizes "1000 10000"] [--runs 5] [--tp-runs 2]
#       [--ablation-runs 2] [--retort-src head|worktree|DIR]
#       [--no-time-passes] [--no-ablation] [--no-graph] [--keep]
#
# Prints a markdown report on stdout (progress on stderr). Takes ~30 min on
# 2 cores with the default sizes; the first run also downloads sqlx and builds
# the dependencies twice (two target dirs, see below).
#
# 1. Builds this crate (`retort-bench`, release) and, for each size N, writes
#    N retort revision files (`gen-migrations`: a chain with a branch + merge
#    every 100 revisions, one head) and the same upgrade / downgrade SQL as
#    2N sqlx reversible migrations (`<version>_<name>.up.sql` / `.down.sql`).
# 2. Writes a throwaway cargo workspace in a temp dir: one binary crate per
#    (macro, N) holding a single `static` initialised by
#    `retort::embed_migrations!("migrations")` or
#    `sqlx::migrate!("./migrations")` (sqlx rejects a bare "migrations"), plus
#    one crate per macro with an empty migrations directory (N = 0: rustc
#    start-up, metadata loading, linking). retort is a path dependency with
#    `default-features = false` (no database driver: only the macro matters);
#    sqlx 0.9 has `default-features = false, features = ["migrate", "macros"]`,
#    the minimum for `sqlx::migrate!`. By default retort is a `git archive`
#    snapshot of HEAD under bench/target/retort-src/<commit> (the work tree may
#    be mid-edit by others); `--retort-src worktree` uses the work tree itself.
# 3. Dev profile (what a developer waits for), incremental, target dir
#    bench/target/compile-time shared by all crates (dependencies build once).
#    Each crate is built twice to warm up; then RUNS rounds, round-robin over
#    the crates, time `cargo build -p <crate>` after
#      (a) `touch src/main.rs`: the macro runs again, its output is unchanged,
#          so incremental compilation reuses the type-checked and evaluated
#          `static`: editing Rust code next to the macro call;
#      (b) appending a comment line to the newest migration: the output
#          changes and the whole embedded set is type-checked and
#          const-evaluated again: writing or editing a migration (and, give or
#          take, every non-incremental build: CI, release, clean checkout);
#    and the no-op `cargo build` after (a) (cargo checking every embedded
#    file's mtime). Reports median and min. A crate that fails with
#    `long_running_const_eval` is reported as such, then timed with
#    `#![allow(long_running_const_eval)]` added to its main.rs.
# 4. Unless --no-time-passes: after editing the newest migration,
#    `RUSTC_BOOTSTRAP=1 cargo rustc -- -Z time-passes` (the same stable
#    compiler), min over --tp-runs runs. `expand_crate` is macro expansion
#    (the proc-macro and `include_str!`s); `type_check_crate` includes the
#    const-evaluation of the `static`.
# 5. Unless --no-ablation: `gen-expanded` writes what `embed_migrations!`
#    expands to, and variants of it (see src/bin/gen-expanded.rs), as plain
#    Rust; each is compiled non-incrementally (CARGO_INCREMENTAL=0, own target
#    dir bench/target/compile-time-noincr) with -Z time-passes, min over
#    --ablation-runs runs, next to the real macros under the same conditions.
# 6. Unless --no-graph: `graph-validation` at the same sizes.
#
# Never runs `cargo clean`. RETORT_DIR defaults to the parent of this
# script's directory.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RETORT_DIR=${RETORT_DIR:-$(dirname "$BENCH_DIR")}
SIZES="1000 10000"
RUNS=5
TP_RUNS=2
ABL_RUNS=2
RETORT_SRC=head
TIME_PASSES=1
ABLATION=1
GRAPH=1
KEEP=0
VARIANTS="macro one-const array-digests literal-text"

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --tp-runs) TP_RUNS=$2; shift 2 ;;
        --ablation-runs) ABL_RUNS=$2; shift 2 ;;
        --retort-src) RETORT_SRC=$2; shift 2 ;;
        --no-time-passes) TIME_PASSES=0; shift ;;
        --no-ablation) ABLATION=0; shift ;;
        --no-graph) GRAPH=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compile-time.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { echo "[compile-time $(date +%H:%M:%S)] $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
minimum() { printf '%s\n' "$@" | sort -n | head -1; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.2f s", ms/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "n/a"}'; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/retort-compile-time.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# --- retort sources ---------------------------------------------------------
case "$RETORT_SRC" in
    head)
        commit=$(git -C "$RETORT_DIR" rev-parse --short HEAD)
        RETORT_PATH="$BENCH_DIR/target/retort-src/$commit"
        if [ ! -f "$RETORT_PATH/Cargo.toml" ]; then
            log "snapshot of HEAD ($commit) -> $RETORT_PATH"
            mkdir -p "$RETORT_PATH"
            git -C "$RETORT_DIR" archive --format=tar HEAD | tar -x -C "$RETORT_PATH"
        fi
        RETORT_DESC="commit $commit (\`git archive HEAD\` snapshot)"
        ;;
    worktree)
        RETORT_PATH=$RETORT_DIR
        RETORT_DESC="work tree of $RETORT_DIR at $(git -C "$RETORT_DIR" rev-parse --short HEAD 2>/dev/null || echo '?') with any uncommitted changes"
        ;;
    *)
        RETORT_PATH=$(cd "$RETORT_SRC" && pwd)
        RETORT_DESC="$RETORT_PATH"
        ;;
esac

# --- 1. generators -----------------------------------------------------------
log "building retort-bench (release)"
cargo build --release --quiet --manifest-path "$BENCH_DIR/Cargo.toml" --bins
GEN="$BENCH_DIR/target/release/gen-migrations"
GEN_EXPANDED="$BENCH_DIR/target/release/gen-expanded"
GRAPH_BIN="$BENCH_DIR/target/release/graph-validation"

# new_crate WS NAME DEP: a binary crate NAME in workspace WS depending on DEP.
new_crate() {
    mkdir -p "$1/$2/src"
    printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s.workspace = true\n' \
        "$2" "$3" > "$1/$2/Cargo.toml"
}
RETORT_MAIN='static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

fn main() {
    println!("{} revisions", MIGRATIONS.len());
}'
SQLX_MAIN='static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn main() {
    println!("{} migrations", MIGRATOR.iter().count());
}'
# new_workspace WS MEMBERS...
new_workspace() {
    local ws=$1; shift
    local members; members=$(printf '"%s", ' "$@")
    cat > "$ws/Cargo.toml" <<EOF
[workspace]
resolver = "3"
members = [${members%, }]

[workspace.dependencies]
retort = { path = "$RETORT_PATH", default-features = false }
sqlx = { version = "0.9", default-features = false, features = ["migrate", "macros"] }
EOF
    # Start from retort's lock file so shared dependencies match it.
    cp "$RETORT_PATH/Cargo.lock" "$ws/Cargo.lock"
}

# --- 2. throwaway crates -----------------------------------------------------
WS="$WORK/ws"
mkdir -p "$WS"
CRATES=()
declare -A N_OF MACRO_OF FILES_OF SQL_OF FAILS
for macro in retort sqlx; do
    for n in 0 $SIZES; do
        crate="${macro}_$n"
        CRATES+=("$crate")
        N_OF[$crate]=$n
        MACRO_OF[$crate]=$macro
        new_crate "$WS" "$crate" "$macro"
        if [ "$macro" = retort ]; then echo "$RETORT_MAIN" > "$WS/$crate/src/main.rs"; else echo "$SQLX_MAIN" > "$WS/$crate/src/main.rs"; fi
        log "generating $crate"
        stats=$("$GEN" "$n" "--$macro" "$WS/$crate/migrations")
        FILES_OF[$crate]=$(sed -n 's/.* files=\([0-9]*\).*/\1/p' <<<"$stats")
        SQL_OF[$crate]=$(sed -n 's/.* sql_bytes=\([0-9]*\).*/\1/p' <<<"$stats")
    done
done
new_workspace "$WS" "${CRATES[@]}"

# edit_migration WS CRATE RUN: append a comment to the newest migration (the
# last revision's file; sqlx: its .down.sql), or touch main.rs when there is none.
edit_migration() {
    local n=${N_OF[$2]}
    if [ "$n" = 0 ]; then touch "$1/$2/src/main.rs"; return; fi
    local idx f file=""
    idx=$(printf %06d $((n - 1)))
    for f in "$1/$2/migrations/"*"_create_t_$idx.sql" "$1/$2/migrations/"*"_create_t_$idx.down.sql"; do
        [ -e "$f" ] && file=$f
    done
    [ -n "$file" ] || { echo "no migration to edit in $2" >&2; exit 1; }
    echo "-- edited $3" >> "$file"
}

export CARGO_TARGET_DIR="$BENCH_DIR/target/compile-time"
cd "$WS"

# --- 3. warm-up, then timed rebuilds -----------------------------------------
for crate in "${CRATES[@]}"; do
    log "warm-up build of $crate"
    if ! cargo build --quiet -p "$crate" 2> "$WORK/err.txt"; then
        if grep -q long_running_const_eval "$WORK/err.txt"; then
            log "$crate fails with long_running_const_eval; timing it with #![allow(long_running_const_eval)]"
            FAILS[$crate]=$(grep -m1 '^error' "$WORK/err.txt")
            sed -i '1i #![allow(long_running_const_eval)]' "$crate/src/main.rs"
            cargo build --quiet -p "$crate"
        else
            cat "$WORK/err.txt" >&2; exit 1
        fi
    fi
    touch "$crate/src/main.rs"
    cargo build --quiet -p "$crate"
    out=$("$CARGO_TARGET_DIR/debug/$crate")
    n=${N_OF[$crate]}
    [ "$out" = "$n revisions" ] || [ "$out" = "$((2 * n)) migrations" ] \
        || { echo "unexpected output from $crate: $out" >&2; exit 1; }
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A TOUCH EDIT NOOP
for ((run = 1; run <= RUNS; run++)); do
    for crate in "${CRATES[@]}"; do
        touch "$crate/src/main.rs"
        t0=$(now_ms); cargo build --quiet -p "$crate"; t1=$(now_ms)
        cargo build --quiet -p "$crate"; t2=$(now_ms)
        edit_migration "$WS" "$crate" "$run"
        t3=$(now_ms); cargo build --quiet -p "$crate"; t4=$(now_ms)
        TOUCH[$crate]="${TOUCH[$crate]:-} $((t1 - t0))"
        NOOP[$crate]="${NOOP[$crate]:-} $((t2 - t1))"
        EDIT[$crate]="${EDIT[$crate]:-} $((t4 - t3))"
        log "run $run/$RUNS $crate: touch $((t1 - t0)) ms, no-op $((t2 - t1)) ms, edit $((t4 - t3)) ms"
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# time_passes CRATE PREFIX: one `-Z time-passes` build; stores the passes as
# PASS[PREFIX/pass] if lower than what is there.
PASSES="expand_crate type_check_crate codegen_crate LLVM_passes link total"
declare -A PASS
time_passes() {
    RUSTC_BOOTSTRAP=1 cargo rustc --quiet -p "$1" --bin "$1" -- -Z time-passes \
        > "$WORK/tp.txt" 2>&1 || { cat "$WORK/tp.txt" >&2; exit 1; }
    local pass t key
    for pass in $PASSES; do
        # "time:   1.234; rss: ...  <pass>"; a pass listed several times is summed
        t=$(awk -v p="$pass" '$1 == "time:" && $NF == p {s += $2 + 0} END {printf "%d", s * 1000}' "$WORK/tp.txt")
        key="$2/$pass"
        if [ -z "${PASS[$key]:-}" ] || [ "$t" -lt "${PASS[$key]}" ]; then PASS[$key]=$t; fi
    done
}

# --- 4. rustc passes ---------------------------------------------------------
if [ "$TIME_PASSES" = 1 ]; then
    for crate in "${CRATES[@]}"; do
        for ((run = 1; run <= TP_RUNS; run++)); do
            log "time-passes $run/$TP_RUNS $crate"
            edit_migration "$WS" "$crate" "tp$run"
            time_passes "$crate" "$crate"
        done
    done
    for crate in "${CRATES[@]}"; do cargo build --quiet -p "$crate"; done
fi

# --- 5. ablation ---------------------------------------------------------------
ABL_CRATES=()
if [ "$ABLATION" = 1 ]; then
    WS2="$WORK/ws-noincr"
    mkdir -p "$WS2"
    for n in $SIZES; do
        for macro in retort sqlx; do
            crate="real_${macro}_$n"
            ABL_CRATES+=("$crate")
            new_crate "$WS2" "$crate" "$macro"
            cp "$WS/${macro}_$n/src/main.rs" "$WS2/$crate/src/main.rs"
            ln -s "$WS/${macro}_$n/migrations" "$WS2/$crate/migrations"
        done
        for variant in $VARIANTS; do
            crate="x_${variant//-/_}_$n"
            ABL_CRATES+=("$crate")
            new_crate "$WS2" "$crate" retort
            "$GEN_EXPANDED" "$WS/retort_$n/migrations" "$variant" > "$WS2/$crate/src/main.rs"
        done
    done
    new_workspace "$WS2" "${ABL_CRATES[@]}"
    cd "$WS2"
    export CARGO_TARGET_DIR="$BENCH_DIR/target/compile-time-noincr" CARGO_INCREMENTAL=0
    # Dependencies only: every run below rebuilds the crate itself in full.
    first=${SIZES%% *}
    log "ablation: building dependencies"
    cargo build --quiet -p "real_retort_$first" -p "real_sqlx_$first"
    for ((run = 1; run <= ABL_RUNS; run++)); do
        for crate in "${ABL_CRATES[@]}"; do
            log "ablation run $run/$ABL_RUNS $crate"
            touch "$crate/src/main.rs"
            time_passes "$crate" "abl/$crate"
        done
    done
    unset CARGO_INCREMENTAL
    cd "$WS"
fi

# --- report -----------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
sqlx_version=$(CARGO_TARGET_DIR="$BENCH_DIR/target/compile-time" cargo tree --quiet -p sqlx_0 --depth 1 -e normal 2>/dev/null | sed -n 's/^.*sqlx v\([0-9.]*\).*/\1/p' | head -1)
name_of() { [ "${MACRO_OF[$1]}" = retort ] && echo '`embed_migrations!`' || echo '`sqlx::migrate!`'; }

echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($cpu), $mem RAM, $(rustc --version)."
echo "retort: $RETORT_DESC; sqlx ${sqlx_version:-0.9}. Dev profile, incremental; $RUNS rounds round-robin over the crates."
echo "Load average (1/5/15 min) before / after the timed rounds: $LOAD_BEFORE / $LOAD_AFTER."
echo
echo "| macro | revisions | files | SQL bytes | (a) rebuild after \`touch src/main.rs\`, median / min | (b) rebuild after editing one migration, median / min | (b) min − empty-dir (b) min | no-op \`cargo build\`, min |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A TMIN EMIN
for crate in "${CRATES[@]}"; do
    # shellcheck disable=SC2086
    TMIN[$crate]=$(minimum ${TOUCH[$crate]}); EMIN[$crate]=$(minimum ${EDIT[$crate]})
done
for crate in "${CRATES[@]}"; do
    macro=${MACRO_OF[$crate]}
    # shellcheck disable=SC2086
    tmed=$(median ${TOUCH[$crate]}); emed=$(median ${EDIT[$crate]}); noop=$(minimum ${NOOP[$crate]})
    mark=""; [ -n "${FAILS[$crate]:-}" ] && mark=" †"
    delta=$([ "${N_OF[$crate]}" = 0 ] && echo "(baseline)" || secs $((EMIN[$crate] - EMIN[${macro}_0])))
    echo "| $(name_of "$crate")$mark | ${N_OF[$crate]} | ${FILES_OF[$crate]} | ${SQL_OF[$crate]} | $(secs "$tmed") / $(secs "${TMIN[$crate]}") | $(secs "$emed") / $(secs "${EMIN[$crate]}") | $delta | $(secs "$noop") |"
done
echo
for crate in "${CRATES[@]}"; do
    [ -n "${FAILS[$crate]:-}" ] && echo "† does not compile as is: \`${FAILS[$crate]}\` (deny-by-default lint \`long_running_const_eval\`); timed with \`#![allow(long_running_const_eval)]\` added to main.rs."
done
echo
echo "| revisions | retort / sqlx, (a) touch (min) | retort / sqlx, (b) edit (min) | retort / sqlx, (b) macro cost (min − empty-dir min) |"
echo "|---:|---:|---:|---:|"
for n in $SIZES; do
    echo "| $n | $(ratio "${TMIN[retort_$n]}" "${TMIN[sqlx_$n]}") | $(ratio "${EMIN[retort_$n]}" "${EMIN[sqlx_$n]}") | $(ratio $((EMIN[retort_$n] - EMIN[retort_0])) $((EMIN[sqlx_$n] - EMIN[sqlx_0]))) |"
done
echo
echo "<details><summary>All runs (ms)</summary>"
echo
for crate in "${CRATES[@]}"; do echo "- $crate: touch${TOUCH[$crate]}; edit${EDIT[$crate]}; no-op${NOOP[$crate]}"; done
echo
echo "</details>"

if [ "$TIME_PASSES" = 1 ]; then
    echo
    echo "rustc \`-Z time-passes\` after editing one migration (incremental, min of $TP_RUNS):"
    echo
    header="| crate |"; rule="|---|"
    for pass in $PASSES; do header="$header \`$pass\` |"; rule="$rule---:|"; done
    echo "$header"; echo "$rule"
    for crate in "${CRATES[@]}"; do
        line="| $crate |"
        for pass in $PASSES; do line="$line $(secs "${PASS[$crate/$pass]}") |"; done
        echo "$line"
    done
fi

if [ "$ABLATION" = 1 ]; then
    echo
    echo "Where retort's time goes: the real macros and, compiled without the proc-macro, what \`embed_migrations!\` expands to (\`macro\`) and variants of it (\`gen-expanded\`); non-incremental (\`CARGO_INCREMENTAL=0\`), variants with \`#![allow(long_running_const_eval)]\` (the real retort crate only where † above); rustc \`-Z time-passes\`, min of $ABL_RUNS:"
    echo
    echo "| crate | revisions | \`expand_crate\` | \`type_check_crate\` | \`total\` |"
    echo "|---|---:|---:|---:|---:|"
    for crate in "${ABL_CRATES[@]}"; do
        n=${crate##*_}; label=${crate%_*}
        case "$label" in
            real_retort) label='`embed_migrations!` (real)' ;;
            real_sqlx) label='`sqlx::migrate!` (real)' ;;
            x_*) label="\`${label#x_}\`"; label=${label//_/-} ;;
        esac
        echo "| $label | $n | $(secs "${PASS[abl/$crate/expand_crate]}") | $(secs "${PASS[abl/$crate/type_check_crate]}") | $(secs "${PASS[abl/$crate/total]}") |"
    done
fi

if [ "$GRAPH" = 1 ]; then
    sizes_csv=$(echo "$SIZES" | tr ' ' ',')
    echo
    echo "\`graph-validation --sizes $sizes_csv\`: \`retort_core::load::load_dir\` and its phases, release build (retort-core from the work tree):"
    echo
    "$GRAPH_BIN" --sizes "$sizes_csv" --runs 10
fi
