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
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=neo4j
server_label="the server"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${NEO4J_PORT:-57687}"
service_home="$services_home/neo4j"
neo4j_version="$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' "$here/pom.xml")"
lib_dir="$service_home/lib-$neo4j_version"
classes_dir="$service_home/classes"
run_dir="$service_home/run-$port"
pid_file="$run_dir/server.pid"
log_file="$run_dir/server.log"
url="bolt://127.0.0.1:${port}"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac_bin="${JAVA_HOME:+$JAVA_HOME/bin/}javac"

source_stamp() { sha256sum "$here/EngramNeo4jServer.java" "$here/pom.xml" | sha256sum | cut -c1-16; }

install() {
  [ -n "$neo4j_version" ] || fail "pom.xml names no neo4j.version"
  if [ -f "$lib_dir/.complete" ] && [ -f "$classes_dir/.stamp-$(source_stamp)" ]; then
    log "Neo4j $neo4j_version is installed in $service_home"
    return
  fi
  ensure_commands "$javac_bin:openjdk-17-jdk-headless" mvn:maven
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

ready() { grep -q '^Started\.$' "$log_file" 2>/dev/null && port_open "$port"; }

start() {
  install
  if already_running; then return; fi
  # A throwaway test database: every start begins empty.
  reset_server "$run_dir"
  if port_open "$port"; then fail "127.0.0.1:$port is taken by another process; set NEO4J_PORT"; fi
  log "starting Neo4j $neo4j_version on 127.0.0.1:$port"
  spawn_server "$java_bin" -Xms256m -Xmx"${NEO4J_HEAP:-1g}" -XX:+UseSerialGC \
    -cp "$classes_dir:$lib_dir/*" EngramNeo4jServer "$run_dir/home" "$port"
  wait_ready "${NEO4J_START_TIMEOUT:-300}" 1
  echo "$url"
}

stop() { stop_recorded 60; }

status() { report_status 3; }

launcher_main "$@"
