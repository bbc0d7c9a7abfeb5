#!/usr/bin/env bash
# What depending on retort costs a service: crates compiled, clean debug build
# time and binary size, beside the same service using sqlx's `migrate!` alone.
#
#   bench/footprint.sh [--retort PATH] [--variants "retort-sqlite ..."] [--no-build] [--runs N]
#
# Writes one throwaway service crate per variant to a temp dir (each with the
# project's migrations/ and the same main: connect a pool, apply, exit), then
# for each prints `cargo tree -e normal` crate count and, unless --no-build,
# the clean `cargo build` time (its own target dir; the registry is warm, so
# this is compile time, not download time; min of --runs), the CPU time that
# build used (user + system, all processes: much steadier than the wall time
# on a machine other work is loading) and the binary size.
#
# Variants:
#   retort-sqlite    retort, default-features = false, features = ["sqlite"]
#   retort-postgres  retort, default-features = false, features = ["postgres"]
#   retort-default   retort with its default features
#   sqlx-sqlite      sqlx (sqlite, migrate, macros, runtime-tokio) and sqlx::migrate!
#   sqlx-postgres    sqlx (postgres, ...) and sqlx::migrate!
#
# --retort PATH measures another checkout (e.g. a worktree at an older commit).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
retort=$here
variants="retort-sqlite retort-postgres retort-default sqlx-sqlite sqlx-postgres"
build=1 runs=1
while (($#)); do
  case $1 in
    --retort) retort=$(cd "$2" && pwd); shift ;;
    --variants) variants=$2; shift ;;
    --no-build) build=0 ;;
    --runs) runs=$2; shift ;;
    *) echo "footprint: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sqlx_version=$(sed -n 's/^sqlx = { version = "\([^"]*\)".*/\1/p' "$retort/Cargo.toml" | head -n1)

# service NAME DEPENDENCIES MAIN: writes the crate.
service() {
  local dir=$work/$1
  mkdir -p "$dir/src"
  cp -r "$retort/migrations" "$dir/migrations"
  # The sqlx variants get the same revisions as sqlx files (upgrade section only).
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
tokio = { version = "1", features = ["rt", "macros"] }
$2

[workspace]
EOF
  printf '%s\n' "$3" >"$dir/src/main.rs"
}

retort_main='static MIGRATIONS: retort::Migrations = retort::embed_migrations!("migrations");

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "URL".to_owned());
    let pool = POOL::connect(&url).await.expect("connect");
    let report = MIGRATIONS.upgrade(&pool, "head").await.expect("upgrade");
    println!("{report}");
}'

sqlx_main='#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "URL".to_owned());
    let pool = POOL::connect(&url).await.expect("connect");
    sqlx::migrate!("./sqlx-migrations").run(&pool).await.expect("migrate");
}'

sqlx_files() {
  # One `<version>_<slug>.sql` per revision for sqlx: the upgrade section.
  local dir=$work/$1/sqlx-migrations n=0 f
  mkdir -p "$dir"
  for f in "$retort"/migrations/*.sql; do
    n=$((n + 1))
    sed -n '/^-- migrate:upgrade/,/^-- migrate:downgrade/p' "$f" | sed '1d;$d' >"$dir/$(printf '%04d' "$n")_$(basename "$f")"
  done
}

for v in $variants; do
  case $v in
    retort-sqlite)
      service "$v" "retort = { path = \"$retort\", default-features = false, features = [\"sqlite\"] }
sqlx = { version = \"$sqlx_version\", default-features = false, features = [\"sqlite\", \"runtime-tokio\"] }" "${retort_main//POOL/sqlx::SqlitePool}" ;;
    retort-postgres)
      service "$v" "retort = { path = \"$retort\", default-features = false, features = [\"postgres\"] }
sqlx = { version = \"$sqlx_version\", default-features = false, features = [\"postgres\", \"runtime-tokio\"] }" "${retort_main//POOL/sqlx::PgPool}" ;;
    retort-default)
      service "$v" "retort = { path = \"$retort\" }
sqlx = { version = \"$sqlx_version\", default-features = false, features = [\"sqlite\", \"runtime-tokio\"] }" "${retort_main//POOL/sqlx::SqlitePool}" ;;
    sqlx-sqlite)
      service "$v" "sqlx = { version = \"$sqlx_version\", default-features = false, features = [\"sqlite\", \"runtime-tokio\", \"migrate\", \"macros\"] }" "${sqlx_main//POOL/sqlx::SqlitePool}"
      sqlx_files "$v" ;;
    sqlx-postgres)
      service "$v" "sqlx = { version = \"$sqlx_version\", default-features = false, features = [\"postgres\", \"runtime-tokio\", \"migrate\", \"macros\"] }" "${sqlx_main//POOL/sqlx::PgPool}"
      sqlx_files "$v" ;;
    *) echo "footprint: unknown variant $v" >&2; exit 2 ;;
  esac
done

printf '| service | crates (`cargo tree -e normal`) | clean debug build, wall (min of %s) | CPU time of that build | debug binary |\n|---|---:|---:|---:|---:|\n' "$runs"
for v in $variants; do
  dir=$work/$v
  # Resolve with the project's lock file so versions match what it tests.
  cp "$retort/Cargo.lock" "$dir/Cargo.lock" 2>/dev/null || true
  crates=$(cd "$dir" && cargo tree -q -e normal --prefix none 2>/dev/null | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l)
  time_s=- cpu_s=- size=-
  if ((build)); then
    best=""
    for ((r = 0; r < runs; r++)); do
      rm -rf "$dir/target"
      start=$(date +%s%N)
      TIMEFORMAT='%U %S'
      cpu=$({ time (cd "$dir" && cargo build -q 2>"$dir/build.log"); } 2>&1)
      if [[ ! -x $dir/target/debug/$v ]]; then
        echo "footprint: building $v failed:" >&2
        cat "$dir/build.log" >&2
        exit 1
      fi
      cpu=$(tail -n1 <<<"$cpu")
      ms=$((($(date +%s%N) - start) / 1000000))
      if [[ -z $best || $ms -lt $best ]]; then
        best=$ms
        cpu_s=$(awk '{printf "%.0f s", $1 + $2}' <<<"$cpu")
      fi
    done
    time_s=$(printf '%d.%01d s' $((best / 1000)) $((best % 1000 / 100)))
    size=$(stat -c %s "$dir/target/debug/$v" | awk '{printf "%.0f MB", $1 / 1e6}')
  fi
  printf '| %s | %s | %s | %s | %s |\n' "$v" "$crates" "$time_s" "$cpu_s" "$size"
done
