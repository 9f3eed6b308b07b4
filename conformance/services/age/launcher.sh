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

pglite_version="0.5.14"
socket_version="0.2.17"
age_version="0.0.15"
pgvector_version="0.0.15"
port="${AGE_PORT:-55433}"
service_home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/age"
data_dir="$service_home/data-$port"
pid_file="$service_home/server-$port.pid"
log_file="$service_home/server-$port.log"
server_script="$service_home/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js"
url="postgres://postgres@127.0.0.1:${port}/postgres"

log() { echo "[age] $*" >&2; }
fail() {
  log "error: $*"
  exit 1
}

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

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
  if running_pid >/dev/null && listening; then
    log "already running on 127.0.0.1:$port"
    echo "$url"
    return
  fi
  if listening; then
    fail "port $port is taken by a process this script did not start; set AGE_PORT to another port"
  fi
  install
  mkdir -p "$data_dir"
  log "starting PGlite with AGE on 127.0.0.1:$port (data in $data_dir, log in $log_file)"
  # node itself, not npx: the recorded pid must be the server's, so that stop ends it.
  nohup node "$server_script" -d "$data_dir" -h 127.0.0.1 -p "$port" -m 8 \
    -e @electric-sql/pglite-pgvector:vector,@electric-sql/pglite-age:age \
    >"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local deadline=$((SECONDS + ${AGE_START_TIMEOUT:-120}))
  until grep -q 'listening on' "$log_file" 2>/dev/null && listening; do
    if ! running_pid >/dev/null; then
      tail -n 40 "$log_file" >&2 || true
      fail "the PGlite server exited during startup"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$log_file" >&2 || true
      fail "the PGlite server did not listen on 127.0.0.1:$port in time"
    fi
    sleep 0.5
  done
  log "ready"
  echo "$url"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    log "not running"
    return
  fi
  log "stopping pid $pid"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

status() {
  if running_pid >/dev/null && listening; then
    log "running on 127.0.0.1:$port"
    echo "$url"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: bash launcher.sh install|start|stop|status" >&2
    exit 2
    ;;
esac
