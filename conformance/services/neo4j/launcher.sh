#!/usr/bin/env bash
# Neo4j 5.26 Community (embedded, with Bolt) on 127.0.0.1, without Docker.
#
#   bash launcher.sh install|start|stop|status
#
# install: resolves org.neo4j:neo4j and org.neo4j:neo4j-bolt (pom.xml beside this script) from
#          Maven Central with `mvn dependency:copy-dependencies` into the cache folder, and
#          compiles EngramNeo4jServer.java against them with javac. Skipped when already done.
# start:   runs EngramNeo4jServer (a DatabaseManagementServiceBuilder with the Bolt connector on
#          127.0.0.1:${NEO4J_PORT:-57687}, authentication off) on a fresh database folder and waits
#          until it prints "Started." and Bolt accepts connections; prints the URL as the last
#          line. Idempotent.
# stop:    SIGTERM (a clean shutdown), then SIGKILL after 60 s; a no-op when not running.
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${NEO4J_PORT:-57687}"
service_home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/neo4j"
neo4j_version="$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' "$here/pom.xml")"
lib_dir="$service_home/lib-$neo4j_version"
classes_dir="$service_home/classes"
run_dir="$service_home/run-$port"
pid_file="$run_dir/server.pid"
log_file="$run_dir/server.log"
url="bolt://127.0.0.1:${port}"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac_bin="${JAVA_HOME:+$JAVA_HOME/bin/}javac"

log() { echo "[neo4j] $*" >&2; }
fail() {
  log "error: $*"
  exit 1
}

ensure_tools() {
  local missing=()
  command -v "$javac_bin" >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  [ "${#missing[@]}" -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}; install them (apt-get install ${missing[*]})"
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  local apt_get=(apt-get -o DPkg::Lock::Timeout=600 -q)
  if ! "${apt_get[@]}" install -y --no-install-recommends "${missing[@]}" >&2; then
    "${apt_get[@]}" update >&2
    "${apt_get[@]}" install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

source_stamp() { sha256sum "$here/EngramNeo4jServer.java" "$here/pom.xml" | sha256sum | cut -c1-16; }

install() {
  [ -n "$neo4j_version" ] || fail "pom.xml names no neo4j.version"
  if [ -f "$lib_dir/.complete" ] && [ -f "$classes_dir/.stamp-$(source_stamp)" ]; then
    log "Neo4j $neo4j_version is installed in $service_home"
    return
  fi
  ensure_tools
  mkdir -p "$service_home"
  if [ ! -f "$lib_dir/.complete" ]; then
    log "resolving Neo4j $neo4j_version from Maven Central"
    rm -rf "$lib_dir.partial"
    mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$lib_dir.partial" -DincludeScope=runtime >&2 ||
      fail "mvn could not resolve org.neo4j:neo4j:$neo4j_version"
    touch "$lib_dir.partial/.complete"
    rm -rf "$lib_dir"
    mv "$lib_dir.partial" "$lib_dir"
  fi
  log "compiling EngramNeo4jServer.java"
  rm -rf "$classes_dir"
  mkdir -p "$classes_dir"
  "$javac_bin" -nowarn -cp "$lib_dir/*" -d "$classes_dir" "$here/EngramNeo4jServer.java" >&2 ||
    fail "javac failed"
  touch "$classes_dir/.stamp-$(source_stamp)"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  install
  if running_pid >/dev/null && port_open; then
    log "already running on 127.0.0.1:$port"
    echo "$url"
    return
  fi
  if running_pid >/dev/null; then stop; fi
  port_open && fail "127.0.0.1:$port is taken by another process; set NEO4J_PORT"
  # A throwaway test database: every start begins empty.
  rm -rf "$run_dir"
  mkdir -p "$run_dir"
  log "starting Neo4j $neo4j_version on 127.0.0.1:$port"
  # setsid + redirections: the server outlives this script and holds none of its pipes.
  setsid "$java_bin" -Xms256m -Xmx"${NEO4J_HEAP:-1g}" -XX:+UseSerialGC \
    -cp "$classes_dir:$lib_dir/*" EngramNeo4jServer "$run_dir/home" "$port" \
    >"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local deadline=$((SECONDS + ${NEO4J_START_TIMEOUT:-300}))
  until grep -q '^Started\.$' "$log_file" 2>/dev/null && port_open; do
    if ! running_pid >/dev/null; then
      tail -n 40 "$log_file" >&2 || true
      fail "the server exited during startup"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$log_file" >&2 || true
      stop
      fail "the server was not ready after ${NEO4J_START_TIMEOUT:-300} s"
    fi
    sleep 1
  done
  log "ready after ${SECONDS} s"
  echo "$url"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$pid_file"
    return
  fi
  log "stopping Neo4j (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after 60 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

status() {
  if running_pid >/dev/null && port_open; then
    log "running on 127.0.0.1:$port (log in $log_file)"
    echo "$url"
  else
    log "not running"
    exit 3
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
