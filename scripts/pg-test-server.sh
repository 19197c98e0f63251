#!/usr/bin/env bash
# A private PostgreSQL server for the test suite, independent of any system cluster.
#
#   scripts/pg-test-server.sh start    init (first time) and start; reuses a running server
#   scripts/pg-test-server.sh stop     stop it (the data dir is kept, so the next start is quick)
#   scripts/pg-test-server.sh status   exit 0 when it is running
#   scripts/pg-test-server.sh url      print the URL to export as SYNCWRIGHT_TEST_PG_URL
#
# Environment: SYNCWRIGHT_PG_PORT (default 54329), SYNCWRIGHT_PG_DIR (default
# $TMPDIR/syncwright-pg-<port>), SYNCWRIGHT_PG_BIN (default: newest /usr/lib/postgresql/*/bin).
set -euo pipefail

port="${SYNCWRIGHT_PG_PORT:-54329}"
base="${SYNCWRIGHT_PG_DIR:-${TMPDIR:-/tmp}/syncwright-pg-$port}"
data="$base/data"
log="$base/server.log"
db=syncwright_test
url="postgres://postgres@127.0.0.1:$port/$db"

die() { echo "pg-test-server: $*" >&2; exit 1; }

find_bin() {
  if [[ -n "${SYNCWRIGHT_PG_BIN:-}" ]]; then echo "$SYNCWRIGHT_PG_BIN"; return; fi
  local dirs
  dirs=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$dirs" ]] || die "no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  echo "$dirs"
}

# The server refuses to run as root, so root hands the data dir to the postgres OS user.
owner=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  owner=postgres
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user"
fi

as_owner() {
  # cd /: the owner may not be allowed into the caller's working directory.
  if [[ $(id -u) -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

running() {
  [[ -f "$data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

psql_admin() {
  "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

init_cluster() {
  mkdir -p "$base"
  chmod 700 "$base"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$base"; fi
  [[ $(stat -c %U "$base") == "$owner" ]] || die "$base belongs to $(stat -c %U "$base"), not $owner"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$base/initdb.log" 2>&1 ||
    die "initdb failed, see $base/initdb.log"
  # Throwaway data: durability settings off make DDL-heavy tests much faster.
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start() {
  # One starter at a time: parallel CI runs on one machine share this server.
  exec 9>>"${TMPDIR:-/tmp}/syncwright-pg-$port.lock"
  flock -w 120 9 || die "timed out waiting for the start lock"
  if running; then
    echo "pg-test-server: reusing the server in $data" >&2
  else
    [[ -f "$data/PG_VERSION" ]] || init_cluster
    # 9>&-: the server must not inherit (and hold forever) the start lock.
    as_owner "$bin/pg_ctl" start -D "$data" -l "$log" -w -t 60 >/dev/null 9>&- ||
      die "server did not start, see $log"
  fi
  if [[ -z $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
    psql_admin -c "CREATE DATABASE $db"
  fi
  echo "pg-test-server: $("$bin/postgres" --version) on 127.0.0.1:$port" >&2
}

stop() {
  if running; then as_owner "$bin/pg_ctl" stop -D "$data" -m fast -w >/dev/null; fi
}

case "${1:-}" in
  start) bin=$(find_bin); start ;;
  stop) bin=$(find_bin); stop ;;
  status) bin=$(find_bin); running ;;
  url) echo "$url" ;;
  *) die "usage: $0 start|stop|status|url" ;;
esac
