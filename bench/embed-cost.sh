#!/usr/bin/env bash
# What `embed_migrations!` costs a service, beside `sqlx::migrate!` (issue 17).
#
#   bench/embed-cost.sh [--sizes "1000 10000"] [--runs 3] [--before REV]
#       [--rss-rounds 1] [--no-sqlx2] [--keep]
#
# Prints a markdown report on stdout (progress on stderr).
#
# Throwaway service crates, one per (kind, N), in a temp dir, each its own
# workspace (two retort checkouts cannot share a lockfile), with one target
# dir, bench/target/embed-cost (dependencies build once per profile and
# retort checkout). Each is a real service: tokio, an sqlx SQLite pool, and
# `MIGRATIONS.upgrade(&pool, "head")` or `sqlx::migrate!(..).run(&pool)`,
# with `build.rs` printing `cargo:rerun-if-changed=migrations` (both macros
# need it to see an added file). Kinds:
#   retort         retort at HEAD (`git archive` snapshot), N revision files;
#   retort-before  retort at --before REV (only with --before; give the
#                  branch point, `$(git merge-base HEAD main)`, not a moving
#                  branch);
#   sqlx           the same upgrade SQL, one file per revision (simple
#                  migrations `<version>_<name>.sql`, no down);
#   sqlx2          reversible migrations, `.up.sql` + `.down.sql` (2 files per
#                  revision, the comparison compile-time.sh makes); debug
#                  rows only (unless --no-sqlx2).
# N is 0 (empty directory), 1, and each of --sizes; `base` is the same
# service without migrations (connects the pool only).
#
# After a warm-up build per profile, RUNS rounds, each round-robin over the kinds:
#   debug (dev profile, incremental), each size: time `cargo build` after
#     (1) appending a comment line to the newest revision's file,
#     (2) the same to the oldest revision's file,
#     (3) adding one revision (the next of the generated chain; retort's id
#         lands at a random place in id order, as a real new id does),
#     then removing it again and rebuilding (not timed);
#   release, every N and base: `touch src/main.rs`, time
#     `cargo build --release` (only the service crate compiles), then strip a
#     copy of the binary and count its bytes;
#   peak RSS (first --rss-rounds rounds): run the release binary of each size
#     on a fresh SQLite file in /dev/shm; it prints VmHWM after applying.
# Reported: min over rounds of the wall time (all runs listed, with the
# CPU time, user + system of every process, as `cpu-...`). Derived rows:
#   release time added over an empty set = release(N) - release(0);
#   bytes per revision = (stripped(N) - stripped(0)) / N;
#   fixed release cost with one revision = release(1) - release(base), and
#   stripped(1) - stripped(base).
# Never runs `cargo clean`; the temp dir is removed unless --keep. Prefix
# with `nice -n 10` and set CARGO_BUILD_JOBS on a shared machine.

set -euo pipefail

ARGS="$*"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RETORT_DIR=${RETORT_DIR:-$(dirname "$BENCH_DIR")}
SIZES="1000 10000"
RUNS=3
BEFORE=
RSS_ROUNDS=1
SQLX2=1
KEEP=0

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --before) BEFORE=$2; shift 2 ;;
        --rss-rounds) RSS_ROUNDS=$2; shift 2 ;;
        --no-sqlx2) SQLX2=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "embed-cost.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { echo "[embed-cost $(date +%H:%M:%S)] $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# No `head` in pipelines: under `pipefail` its early exit kills the writer
# with SIGPIPE once the input is over a pipe buffer (thousands of files).
minimum() { printf '%s\n' "$@" | sort -n | sed -n 1p; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.2f s", ms/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a/b; else print "n/a"}'; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/retort-embed-cost.XXXXXX")
cleanup() { if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
TARGET=$BENCH_DIR/target/embed-cost
# Every measurement is also appended here as it is taken, so an
# interrupted run still leaves its numbers.
RUNS_LOG=$BENCH_DIR/target/embed-cost-runs.txt
mkdir -p "$BENCH_DIR/target"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') embed-cost.sh $ARGS" >>"$RUNS_LOG"

snapshot() { # REV -> path of a `git archive` snapshot
    local commit path
    commit=$(git -C "$RETORT_DIR" rev-parse --short "$1")
    path=$BENCH_DIR/target/retort-src/$commit
    if [ ! -f "$path/Cargo.toml" ]; then
        mkdir -p "$path"
        git -C "$RETORT_DIR" archive --format=tar "$commit" | tar -x -C "$path"
    fi
    echo "$path"
}
declare -A SRC DESC
SRC[retort]=$(snapshot HEAD); DESC[retort]="commit $(git -C "$RETORT_DIR" rev-parse --short HEAD)"
KINDS="retort"
if [ -n "$BEFORE" ]; then
    SRC[retort-before]=$(snapshot "$BEFORE")
    DESC[retort-before]="commit $(git -C "$RETORT_DIR" rev-parse --short "$BEFORE")"
    KINDS="$KINDS retort-before"
fi
KINDS="$KINDS sqlx"
DEBUG_KINDS=$KINDS
[ "$SQLX2" = 1 ] && DEBUG_KINDS="$DEBUG_KINDS sqlx2"

log "building gen-migrations"
(cd "$BENCH_DIR" && cargo build --release --quiet --bin gen-migrations)
GEN=$BENCH_DIR/target/release/gen-migrations

# --- the crates -------------------------------------------------------------
write_crate() { # NAME KIND N
    local name=$1 kind=$2 n=$3 dir=$WORK/$1 dep main
    mkdir -p "$dir/src"
    CRATES="${CRATES:-}${CRATES:+ }$name"
    case "$kind" in
        retort*) dep="retort = { path = \"${SRC[$kind]}\", default-features = false, features = [\"sqlite\"] }" ;;
        *) dep= ;;
    esac
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
$dep
sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "sqlite", "migrate", "macros"] }
tokio = { version = "1", default-features = false, features = ["rt", "macros"] }
EOF
    printf 'fn main() {\n    println!("cargo:rerun-if-changed=migrations");\n}\n' >"$dir/build.rs"
    case "$kind" in
        retort*) main='static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");
' ; apply='let applied = MIGRATIONS.upgrade(&pool, "head").await.expect("upgrade").steps.len();' ;;
        base) main= ; apply='let applied = 0;' ;;
        *) main= ; apply='sqlx::migrate!("./migrations").run(&pool).await.expect("migrate"); let applied = "all";' ;;
    esac
    cat >"$dir/src/main.rs" <<EOF
${main}
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(url) = std::env::args().nth(1) else { return };
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    $apply
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: ? kB");
    println!("applied {applied} {hwm}");
}
EOF
    mkdir -p "$dir/migrations"
    if [ "$n" -gt 0 ]; then
        case "$kind" in
            retort*) "$GEN" "$n" --retort "$dir/migrations" >/dev/null ;;
            sqlx) "$GEN" "$n" --sqlx-simple "$dir/migrations" >/dev/null ;;
            sqlx2) "$GEN" "$n" --sqlx "$dir/migrations" >/dev/null ;;
        esac
    fi
}

ALL_N="0 1 $SIZES"
for kind in $DEBUG_KINDS; do
    for n in $ALL_N; do write_crate "${kind//-/_}_$n" "$kind" "$n"; done
done
write_crate base base 0

# The next revision of each size, to add: generated with N + 1 and copied.
for n in $SIZES; do
    for fmt in retort sqlx-simple sqlx; do
        "$GEN" $((n + 1)) --"$fmt" "$WORK/next-$fmt-$n" >/dev/null
    done
done
edited_file() { # CRATE N KIND newest|oldest -> the file to append to
    local dir=$WORK/$1/migrations index=0
    [ "$4" = newest ] && index=$(($2 - 1))
    case "$3" in
        # Retort files are named by id; the table name gives the position.
        retort*) ls "$dir" | grep "_create_t_$(printf '%06d' "$index").sql\$" | sed "s|^|$dir/|" ;;
        # sqlx: by version; with two files, the `.up.sql`.
        *) ls "$dir" | grep -v '\.down\.sql$' | sort | sed -n "$([ "$4" = newest ] && echo '$' || echo 1)p" | sed "s|^|$dir/|" ;;
    esac
}
next_files() { # KIND N -> directory of N+1 and the names to copy
    local fmt
    case "$1" in retort*) fmt=retort ;; sqlx) fmt=sqlx-simple ;; sqlx2) fmt=sqlx ;; esac
    echo "$WORK/next-$fmt-$2"
}

cd "$WORK"
export CARGO_TARGET_DIR=$TARGET
# Each crate is a workspace of its own (two retort checkouts cannot share a
# lockfile); the target dir is shared, so dependencies still build once.
build() { # CRATE [cargo args]
    local c=$1; shift
    cargo build --quiet --manifest-path "$WORK/$c/Cargo.toml" "$@" 2>"$WORK/err.log" || { cat "$WORK/err.log" >&2; return 1; }
}
# Wall ms on stdout; the CPU time (user + system, all processes) in ms
# goes to $WORK/cpu, read by `add_timed`.
timed() {
    local t0; t0=$(now_ms)
    /usr/bin/time -f '%U %S' -o "$WORK/cpu" bash -c "$(declare -f build); WORK='$WORK' build $*"
    echo $(( $(now_ms) - t0 ))
}
add_timed() { # KEY CRATE [cargo args]
    local key=$1; shift
    add "$key" "$(timed "$@")"
    add "cpu-$key" "$(awk '{printf "%d", ($1 + $2) * 1000}' "$WORK/cpu")"
}

for c in $CRATES; do
    log "warm-up $c"
    build "$c"; build "$c" --release
done
declare -A T # T[scenario/crate] = "ms ms ms"
add() { T[$1]="${T[$1]:-}${T[$1]:+ }$2"; echo "$1 $2" >>"$RUNS_LOG"; }
declare -A RSS

for round in $(seq 1 "$RUNS"); do
    log "round $round/$RUNS: debug"
    for n in $SIZES; do
        for kind in $DEBUG_KINDS; do
            c=${kind//-/_}_$n
            for which in newest oldest; do
                f=$(edited_file "$c" "$n" "$kind" "$which")
                echo "-- edited $round $which" >>"$f"
                add_timed "$which/$c" "$c"
            done
            nextdir=$(next_files "$kind" "$n")
            added=$(comm -13 <(ls "$WORK/$c/migrations") <(ls "$nextdir"))
            for f in $added; do cp "$nextdir/$f" "$WORK/$c/migrations/"; done
            add_timed "add/$c" "$c"
            for f in $added; do rm "$WORK/$c/migrations/$f"; done
            build "$c"
        done
    done
    log "round $round/$RUNS: release"
    for n in base $ALL_N; do
        for kind in $KINDS; do
            if [ "$n" = base ]; then c=base; [ "$kind" = retort ] || continue; else c=${kind//-/_}_$n; fi
            touch "$WORK/$c/src/main.rs"
            add_timed "release/$c" "$c" --release
            cp "$TARGET/release/$c" "$WORK/stripped" && strip "$WORK/stripped"
            T[bytes/$c]=$(stat -c %s "$WORK/stripped")
        done
    done
    if [ "$round" -le "$RSS_ROUNDS" ]; then
        log "round $round/$RUNS: peak RSS"
        for n in $SIZES; do
            for kind in $KINDS; do
                c=${kind//-/_}_$n
                db=/dev/shm/retort-embed-cost-$$.db
                rm -f "$db"*
                t0=$(now_ms)
                out=$("$TARGET/release/$c" "sqlite://$db?mode=rwc")
                add "apply/$c" $(( $(now_ms) - t0 ))
                rm -f "$db"*
                add "rss/$c" "$(echo "$out" | awk '{print $4}')"
            done
        done
    fi
done

# --- report -----------------------------------------------------------------
m() { minimum ${T[$1]}; }
cell() { # ROW-KEY CRATE -> formatted value
    case "$1" in
        rss) awk -v kb="$(m "rss/$2")" 'BEGIN {printf "%.1f MB", kb/1024}' ;;
        *) secs "$(m "$1/$2")" ;;
    esac
}
added_ms() { echo $(( $(m "release/$1_$2") - $(m "release/$1_0") )); }
per_rev() { echo $(( (${T[bytes/$1_$2]} - ${T[bytes/$1_0]}) / $2 )); }

echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(rustc --version), min of $RUNS interleaved rounds (peak RSS: $RSS_ROUNDS)."
echo "Load during the run: \`uptime\` at the end: $(uptime | sed 's/.*load/load/')."
for kind in $KINDS; do echo "- \`$kind\`: ${DESC[$kind]:-sqlx 0.9, one file per revision}"; done
echo
header="| measure | revisions |"; sep="|---|---:|"
for kind in $KINDS; do header="$header $kind |"; sep="$sep---:|"; done
cols=$KINDS
if [ -n "$BEFORE" ]; then header="$header retort / sqlx | retort-before / sqlx |"; sep="$sep---:|---:|"
else header="$header retort / sqlx |"; sep="$sep---:|"; fi
echo "$header"; echo "$sep"
row() { # LABEL N VALUE-FN RAW-FN
    local line="| $1 | $2 |" kind
    for kind in $cols; do line="$line $($3 "${kind//-/_}" "$2") |"; done
    line="$line $(ratio "$($4 retort "$2")" "$($4 sqlx "$2")") |"
    [ -n "$BEFORE" ] && line="$line $(ratio "$($4 retort_before "$2")" "$($4 sqlx "$2")") |"
    echo "$line"
}
for n in $SIZES; do
    for s in newest oldest add; do
        label=$(case $s in newest) echo "debug rebuild, edit the newest revision" ;; oldest) echo "debug rebuild, edit the oldest revision" ;; add) echo "debug rebuild, add one revision" ;; esac)
        eval "v_$s() { secs \"\$(m $s/\$1_\$2)\"; }; r_$s() { m $s/\$1_\$2; }"
        row "$label" "$n" "v_$s" "r_$s"
    done
    v_rel() { echo "+$(secs "$(added_ms "$1" "$2")")"; }; r_rel() { added_ms "$1" "$2"; }
    row "release build, time added over an empty set" "$n" v_rel r_rel
    c_rel() { echo "+$(secs $(( $(m "cpu-release/$1_$2") - $(m "cpu-release/$1_0") )))"; }
    rc_rel() { echo $(( $(m "cpu-release/$1_$2") - $(m "cpu-release/$1_0") )); }
    row "the same, CPU time (user + system)" "$n" c_rel rc_rel
    v_b() { per_rev "$1" "$2"; }; row "stripped binary bytes per revision" "$n" v_b v_b
    v_rss() { cell rss "$1_$2"; }; r_rss() { m "rss/$1_$2"; }
    row "peak RSS applying all on SQLite" "$n" v_rss r_rss
done
v_fix() { echo "+$(secs $(( $(m "release/$1_1") - $(m release/base) )))"; }
r_fix() { echo $(( $(m "release/$1_1") - $(m release/base) )); }
row "release build with one revision, over the same service without migrations" 1 v_fix r_fix
c_fix() { echo "+$(secs $(( $(m "cpu-release/$1_1") - $(m cpu-release/base) )))"; }
rc_fix() { echo $(( $(m "cpu-release/$1_1") - $(m cpu-release/base) )); }
row "the same, CPU time (user + system)" 1 c_fix rc_fix
v_fixb() { echo "+$(( ${T[bytes/$1_1]} - ${T[bytes/base]} ))"; }; r_fixb() { echo $(( ${T[bytes/$1_1]} - ${T[bytes/base]} )); }
row "stripped bytes with one revision, over the same service without migrations" 1 v_fixb r_fixb
if [ "$SQLX2" = 1 ]; then
    echo
    echo "Two files per revision (\`.up.sql\` + \`.down.sql\`), debug rebuilds:"
    echo
    echo "| revisions | edit newest, retort / sqlx2 | edit oldest | add one | sqlx2 edit newest / oldest / add |"
    echo "|---:|---:|---:|---:|---:|"
    for n in $SIZES; do
        echo "| $n | $(ratio "$(m newest/retort_$n)" "$(m newest/sqlx2_$n)") | $(ratio "$(m oldest/retort_$n)" "$(m oldest/sqlx2_$n)") | $(ratio "$(m add/retort_$n)" "$(m add/sqlx2_$n)") | $(secs "$(m newest/sqlx2_$n)") / $(secs "$(m oldest/sqlx2_$n)") / $(secs "$(m add/sqlx2_$n)") |"
    done
fi
echo
echo "<details><summary>All runs (ms; bytes)</summary>"
echo
for key in $(printf '%s\n' "${!T[@]}" | sort); do echo "- $key: ${T[$key]}"; done
echo
echo "</details>"
