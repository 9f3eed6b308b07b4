#!/usr/bin/env bash
# PostgreSQL with Apache AGE (and pgvector) on 127.0.0.1, without Docker: PGlite, PostgreSQL
# compiled to WebAssembly, served over the PostgreSQL wire protocol by pglite-socket.
#
#   bash launcher.sh install|start|stop|status
#
# install: PGlite, pglite-socket and the AGE and pgvector extension packages from npm (pinned
#          below; pglite-socket pins the PGlite version) into a package of their own under the
#          cache directory. Skipped when already done.
# start:   the pglite-socket server on 127.0.0.1:${AGE_PORT:-55433} with its data under the cache
#          directory, waits until it accepts connections and prints the URL as the last line.
#          Idempotent.
# stop:    SIGTERM to the recorded node pid (then SIGKILL after 15 s); a no-op when not running.
#
# Every connection shares PGlite's one session: a transaction open on one connection makes the
# others wait until it ends.
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=age
server_label="the PGlite server"
pglite_version="0.5.14"
socket_version="0.2.17"
age_version="0.0.15"
pgvector_version="0.0.15"
port="${AGE_PORT:-55433}"
service_home="$services_home/age"
data_dir="$service_home/data-$port"
pid_file="$service_home/server-$port.pid"
log_file="$service_home/server-$port.log"
server_script="$service_home/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js"
url="postgres://postgres@127.0.0.1:${port}/postgres"

manifest() {
  cat <<EOF
{
  "name": "engram-age-service",
  "private": true,
  "description": "PGlite with Apache AGE and pgvector over TCP, for Engram's conformance suites",
  "dependencies": {
    "@electric-sql/pglite": "$pglite_version",
    "@electric-sql/pglite-age": "$age_version",
    "@electric-sql/pglite-pgvector": "$pgvector_version",
    "@electric-sql/pglite-socket": "$socket_version"
  }
}
EOF
}

installed_version() {
  node -p "require('$service_home/node_modules/$1/package.json').version" 2>/dev/null || true
}

installed() {
  [ -f "$server_script" ] &&
    [ "$(installed_version @electric-sql/pglite)" = "$pglite_version" ] &&
    [ "$(installed_version @electric-sql/pglite-socket)" = "$socket_version" ] &&
    [ "$(installed_version @electric-sql/pglite-age)" = "$age_version" ] &&
    [ "$(installed_version @electric-sql/pglite-pgvector)" = "$pgvector_version" ]
}

install() {
  if installed; then
    log "pglite $pglite_version with pglite-socket $socket_version, age and pgvector is installed in $service_home"
    return
  fi
  command -v npm >/dev/null || fail "npm is needed to install PGlite"
  mkdir -p "$service_home"
  manifest >"$service_home/package.json"
  log "installing pglite $pglite_version, pglite-socket $socket_version, pglite-age $age_version and pglite-pgvector $pgvector_version from npm into $service_home"
  (cd "$service_home" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2)
  installed || fail "the PGlite packages are not in place after npm install"
}

ready() { grep -q 'listening on' "$log_file" 2>/dev/null && port_open "$port"; }

start() {
  if already_running; then return; fi
  if port_open "$port"; then
    fail "port $port is taken by a process this script did not start; set AGE_PORT to another port"
  fi
  install
  mkdir -p "$data_dir"
  log "starting PGlite with AGE on 127.0.0.1:$port (data in $data_dir, log in $log_file)"
  # node itself, not npx: the recorded pid must be the server's, so that stop ends it.
  spawn_server node "$server_script" -d "$data_dir" -h 127.0.0.1 -p "$port" -m 8 \
    -e @electric-sql/pglite-pgvector:vector,@electric-sql/pglite-age:age
  wait_ready "${AGE_START_TIMEOUT:-120}" 0.5
  echo "$url"
}

stop() { stop_recorded 15; }

status() { report_status 1; }

launcher_main "$@"
