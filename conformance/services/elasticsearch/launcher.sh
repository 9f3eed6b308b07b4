#!/usr/bin/env bash
# Installs and runs a real Elasticsearch on 127.0.0.1 without Docker:
#   bash launcher.sh install|start|stop|status
# The server is the integ-test-zip distribution from Maven Central (the server module plus
# x-pack core/security, no bundled JDK: it runs on the system Java 17). Elasticsearch refuses to
# run as root, so as root the server runs as an unprivileged user created here when missing,
# from a copy unpacked in that user's home (the cache under $HOME may not be readable by it).
# Progress goes to stderr; `start` and `status` print the URL as the last line of stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=elasticsearch
version="${ENGRAM_ELASTICSEARCH_VERSION:-8.19.21}"
port="${ENGRAM_ELASTICSEARCH_PORT:-19200}"
service_user="${ENGRAM_ELASTICSEARCH_USER:-elasticsearch}"
heap="${ENGRAM_ELASTICSEARCH_HEAP:-512m}"
startup_timeout="${ENGRAM_ELASTICSEARCH_STARTUP_TIMEOUT:-240}"
cache="$services_home/elasticsearch"
artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${version}:zip"
archive="$cache/downloads/elasticsearch-${version}.zip"
url="http://127.0.0.1:${port}"

# Where the unpacked server, its data and logs live: the service user's home when running as
# root, the cache otherwise.
locate_runtime() {
  if is_root; then
    runtime="$(getent passwd "$service_user" | cut -d: -f6 || true)/engram-services/elasticsearch"
  else
    runtime="$cache/runtime"
  fi
  pid_file="$runtime/elasticsearch.pid"
  log_file="$runtime/logs/engram-conformance.log"
}
locate_runtime

ensure_user() {
  ensure_service_user "$service_user"
  locate_runtime
}

install() {
  if [ ! -f "$archive" ]; then
    command -v mvn >/dev/null || fail "Maven (mvn) is needed to fetch $artifact"
    log "downloading $artifact from Maven Central"
    mkdir -p "$cache/downloads"
    mvn -B -q dependency:copy -Dartifact="$artifact" -DoutputDirectory="$cache/downloads" >&2
  fi
  ensure_user
  local home="$runtime/elasticsearch-${version}"
  if [ ! -f "$home/.engram-installed" ]; then
    log "unpacking elasticsearch $version into $runtime"
    as_user "$service_user" mkdir -p "$runtime"
    local staging="$runtime/.unpack-$$"
    rm -rf "$staging" "$home"
    mkdir -p "$staging"
    unzip -q "$archive" -d "$staging"
    mv "$staging/elasticsearch-${version}" "$home"
    rm -rf "$staging"
    touch "$home/.engram-installed"
    if is_root; then chown -R "$service_user:" "$home"; fi
  fi
}

ready() {
  curl -fsS --max-time 5 "$url/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1
}

start() {
  if resume_started "$startup_timeout" 2; then return; fi
  install
  local home="$runtime/elasticsearch-${version}" java_home
  java_home="$(jdk_home ES_JAVA_HOME)"
  as_user "$service_user" mkdir -p "$runtime/data-${version}" "$runtime/logs"
  rm -f "$pid_file"
  log "starting elasticsearch $version on $url (java: $java_home)"
  # -d detaches once the node has started; -p records the server's pid for stop.
  if ! as_user "$service_user" env ES_JAVA_HOME="$java_home" ES_JAVA_OPTS="-Xms${heap} -Xmx${heap}" \
    "$home/bin/elasticsearch" -d -p "$pid_file" \
    -Ediscovery.type=single-node \
    -Expack.security.enabled=false \
    -Enetwork.host=127.0.0.1 \
    -Ehttp.port="$port" \
    -Ecluster.name=engram-conformance \
    -Ecluster.routing.allocation.disk.threshold_enabled=false \
    -Epath.data="$runtime/data-${version}" \
    -Epath.logs="$runtime/logs" \
    >"$runtime/logs/launcher.out" 2>&1; then
    log "elasticsearch failed to start; last lines of its output:"
    tail -n 40 "$runtime/logs/launcher.out" >&2 || true
    show_log_tail
    exit 1
  fi
  wait_ready "$startup_timeout" 2
  echo "$url"
}

stop() { stop_recorded 60; }

status() { report_status 3; }

launcher_main "$@"
