#!/usr/bin/env bash
# Installs and runs a real Elasticsearch on 127.0.0.1 without Docker:
#   bash launcher.sh install|start|stop|status
# The server is the integ-test-zip distribution from Maven Central (the server module plus
# x-pack core/security, no bundled JDK: it runs on the system Java 17). Elasticsearch refuses to
# run as root, so as root the server runs as an unprivileged user created here when missing,
# from a copy unpacked in that user's home (the cache under $HOME may not be readable by it).
# Progress goes to stderr; `start` and `status` print the URL as the last line of stdout.
set -euo pipefail

version="${ENGRAM_ELASTICSEARCH_VERSION:-8.19.21}"
port="${ENGRAM_ELASTICSEARCH_PORT:-19200}"
service_user="${ENGRAM_ELASTICSEARCH_USER:-elasticsearch}"
heap="${ENGRAM_ELASTICSEARCH_HEAP:-512m}"
startup_timeout="${ENGRAM_ELASTICSEARCH_STARTUP_TIMEOUT:-240}"
cache="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/elasticsearch"
artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${version}:zip"
archive="$cache/downloads/elasticsearch-${version}.zip"
url="http://127.0.0.1:${port}"

log() { printf '[elasticsearch] %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Where the unpacked server, its data and logs live: the service user's home when running as
# root, the cache otherwise.
runtime_dir() {
  if is_root; then
    local home
    home="$(getent passwd "$service_user" | cut -d: -f6)"
    printf '%s/engram-services/elasticsearch' "$home"
  else
    printf '%s/runtime' "$cache"
  fi
}

as_service_user() {
  if is_root; then
    runuser -u "$service_user" -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  is_root || return 0
  if ! getent passwd "$service_user" >/dev/null; then
    log "creating user $service_user"
    useradd --create-home --shell /usr/sbin/nologin --user-group "$service_user"
  fi
  local home
  home="$(getent passwd "$service_user" | cut -d: -f6)"
  if [ ! -d "$home" ]; then
    mkdir -p "$home"
    chown "$service_user:" "$home"
  fi
}

find_java_home() {
  if [ -n "${ES_JAVA_HOME:-}" ]; then
    printf '%s' "$ES_JAVA_HOME"
    return
  fi
  local java
  java="$(command -v java || true)"
  if [ -z "$java" ]; then
    log "no java on PATH: install a JDK 17 (apt-get install openjdk-17-jdk-headless) or set ES_JAVA_HOME"
    exit 1
  fi
  dirname "$(dirname "$(readlink -f "$java")")"
}

install() {
  if [ ! -f "$archive" ]; then
    command -v mvn >/dev/null || { log "Maven (mvn) is needed to fetch $artifact"; exit 1; }
    log "downloading $artifact from Maven Central"
    mkdir -p "$cache/downloads"
    mvn -B -q dependency:copy -Dartifact="$artifact" -DoutputDirectory="$cache/downloads" >&2
  fi
  ensure_user
  local runtime
  runtime="$(runtime_dir)"
  local home="$runtime/elasticsearch-${version}"
  if [ ! -f "$home/.engram-installed" ]; then
    log "unpacking elasticsearch $version into $runtime"
    as_service_user mkdir -p "$runtime"
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

pid_file() { printf '%s/elasticsearch.pid' "$(runtime_dir)"; }

running_pid() {
  local file
  file="$(pid_file)"
  [ -f "$file" ] || return 1
  local pid
  pid="$(cat "$file" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s' "$pid"
}

healthy() {
  curl -fsS --max-time 5 "$url/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1
}

wait_healthy() {
  local waited=0
  until healthy; do
    if [ "$waited" -ge "$startup_timeout" ]; then
      return 1
    fi
    sleep 2
    waited=$((waited + 2))
  done
  log "ready after ${waited}s of waiting"
}

start() {
  if running_pid >/dev/null; then
    # started by an earlier call, maybe still booting
    if wait_healthy; then
      log "already running on $url"
      printf '%s\n' "$url"
      return 0
    fi
    log "a server is running but does not answer; restarting it"
    stop
  fi
  install
  local runtime home java_home
  runtime="$(runtime_dir)"
  home="$runtime/elasticsearch-${version}"
  java_home="$(find_java_home)"
  as_service_user mkdir -p "$runtime/data-${version}" "$runtime/logs"
  rm -f "$(pid_file)"
  log "starting elasticsearch $version on $url (java: $java_home)"
  # -d detaches once the node has started; -p records the server's pid for stop.
  if ! as_service_user env ES_JAVA_HOME="$java_home" ES_JAVA_OPTS="-Xms${heap} -Xmx${heap}" \
    "$home/bin/elasticsearch" -d -p "$(pid_file)" \
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
    tail -n 40 "$runtime/logs/engram-conformance.log" >&2 2>/dev/null || true
    exit 1
  fi
  if ! wait_healthy; then
    log "elasticsearch did not answer on $url within ${startup_timeout}s; last log lines:"
    tail -n 40 "$runtime/logs/engram-conformance.log" >&2 2>/dev/null || true
    stop
    exit 1
  fi
  printf '%s\n' "$url"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$(pid_file)" 2>/dev/null || true
    return 0
  fi
  log "stopping pid $pid"
  kill "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 60 ]; then
      log "still running after 60s, killing"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$(pid_file)" 2>/dev/null || true
}

status() {
  if running_pid >/dev/null && healthy; then
    log "running"
    printf '%s\n' "$url"
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
