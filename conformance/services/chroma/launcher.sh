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
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=chroma
chroma_version="1.5.9"
port="${CHROMA_PORT:-8768}"
service_home="$services_home/chroma"
venv="$service_home/venv-$chroma_version"
data_dir="$service_home/data"
pid_file="$service_home/chroma.pid"
log_file="$service_home/chroma.log"
url="http://127.0.0.1:${port}"
python="${PYTHON:-python3}"

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
  install_venv "$venv" --no-deps "chromadb==$chroma_version"
  installed || fail "chromadb_rust_bindings cannot be imported after the install"
}

ready() {
  "$python" - "$url/api/v2/heartbeat" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
EOF
}

start() {
  if already_running; then return; fi
  if ready; then
    # Not started by this script (no pid file): leave it running, and do not stop it later.
    log "a Chroma server not started by this script already answers on $url; using it"
    echo "$url"
    return
  fi
  install
  mkdir -p "$data_dir"
  log "starting chroma $chroma_version on $url (data in $data_dir, log in $log_file)"
  # The same call the `chroma` console script makes, without importing the Python client.
  ANONYMIZED_TELEMETRY=False spawn_server "$venv/bin/python" -c \
    'import sys, chromadb_rust_bindings; chromadb_rust_bindings.cli(["chroma"] + sys.argv[1:])' \
    run --path "$data_dir" --host 127.0.0.1 --port "$port"
  wait_ready "${CHROMA_START_TIMEOUT:-60}" 0.5
  echo "$url"
}

stop() { stop_recorded 15; }

status() { report_status 1; }

launcher_main "$@"
