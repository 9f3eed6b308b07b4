#!/usr/bin/env bash
# Chroma on 127.0.0.1, without Docker.
#
#   bash launcher.sh install|start|stop|status
#
# install: the chromadb wheel from PyPI (pinned below) into a virtualenv of its own, without its
#          Python dependencies: the server is the Rust frontend compiled into the wheel's
#          chromadb_rust_bindings module, which is what the `chroma run` command calls. The
#          Python client's dependencies (onnxruntime, grpc, kubernetes, ...) are not needed for
#          that, and skipping them keeps the install to one 23 MB download. Skipped when done.
# start:   `chroma run` on 127.0.0.1:${CHROMA_PORT:-8768} with data under the cache directory,
#          waits for /api/v2/heartbeat and prints the URL as the last line. Idempotent.
# stop:    SIGTERM to the recorded pid (then SIGKILL after 15 s); a no-op when not running.
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail

chroma_version="1.5.9"
port="${CHROMA_PORT:-8768}"
service_home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/chroma"
venv="$service_home/venv-$chroma_version"
data_dir="$service_home/data"
pid_file="$service_home/chroma.pid"
log_file="$service_home/chroma.log"
url="http://127.0.0.1:${port}"
python="${PYTHON:-python3}"

log() { echo "[chroma] $*" >&2; }
fail() {
  log "error: $*"
  exit 1
}

installed() {
  [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" -c 'import chromadb_rust_bindings' >/dev/null 2>&1
}

install() {
  if installed; then
    log "chromadb $chroma_version is installed in $venv"
    return
  fi
  mkdir -p "$service_home"
  log "installing the chromadb $chroma_version wheel from PyPI into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2 || fail "could not create a virtualenv (on Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "chromadb==$chroma_version" >&2
  installed || fail "chromadb_rust_bindings cannot be imported after the install"
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

healthy() {
  "$python" - "$url/api/v2/heartbeat" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

start() {
  if running_pid >/dev/null && healthy; then
    log "already running on $url"
    echo "$url"
    return
  fi
  if healthy; then
    # Not started by this script (no pid file): leave it running, and do not stop it later.
    log "a Chroma server not started by this script already answers on $url; using it"
    echo "$url"
    return
  fi
  install
  mkdir -p "$data_dir"
  log "starting chroma $chroma_version on $url (data in $data_dir, log in $log_file)"
  # The same call the `chroma` console script makes, without importing the Python client.
  ANONYMIZED_TELEMETRY=False nohup "$venv/bin/python" -c \
    'import sys, chromadb_rust_bindings; chromadb_rust_bindings.cli(["chroma"] + sys.argv[1:])' \
    run --path "$data_dir" --host 127.0.0.1 --port "$port" >"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local deadline=$((SECONDS + ${CHROMA_START_TIMEOUT:-60}))
  until healthy; do
    if ! running_pid >/dev/null; then
      tail -n 40 "$log_file" >&2 || true
      fail "chroma exited during startup"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$log_file" >&2 || true
      fail "chroma did not answer $url/api/v2/heartbeat in time"
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
  if running_pid >/dev/null && healthy; then
    log "running on $url"
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
