#!/usr/bin/env bash
# Real Milvus 2.3 standalone (embedded etcd, local storage, RocksMQ) from PyPI's `milvus` package,
# which wraps the official standalone binary:
#   bash launcher.sh install|start|stop|status
# Progress goes to stderr; `start` prints the server URL as the last line of stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=milvus
server_label=Milvus
milvus_version="${MILVUS_PYPI_VERSION:-2.3.5}"
port="${MILVUS_PORT:-19530}"
home="$services_home/milvus"
venv="$home/venv"
base="$home/server"
pid_file="$home/milvus.pid"
log_file="$home/wrapper.log"
url="http://127.0.0.1:$port"

installed() { [[ -f "$home/.installed-$milvus_version" ]]; }

install() {
  if installed; then
    log "milvus $milvus_version already installed in $home"
    return
  fi
  mkdir -p "$home"
  log "installing PyPI milvus==$milvus_version into $venv"
  install_venv "$venv" "milvus==$milvus_version"
  # The wheel ships the binaries xz-compressed and unpacks them on first start; do it now so
  # that start is quick, and check that the dynamic linker finds every library.
  "$venv/bin/python" -c 'import sys, milvus; milvus._initialize_data_files(sys.argv[1])' "$base"
  local missing
  missing="$(LD_LIBRARY_PATH="$base/bin" ldd "$base/bin/milvus" | grep 'not found' || true)"
  if [[ -n "$missing" ]]; then
    log "the milvus binary needs libraries this machine lacks:"
    echo "$missing" >&2
    exit 1
  fi
  touch "$home/.installed-$milvus_version"
  log "installed"
}

# The proxy answers gRPC before its coordinators are up; the wrapper prints its banner only once
# /healthz reports OK.
ready() { grep -q 'Welcome to use Milvus' "$log_file" 2>/dev/null; }

startup_alive() {
  running_pid >/dev/null && ! grep -qE 'already stopped|started timeout' "$log_file"
}

show_log_tail() {
  tail -n 40 "$log_file" >&2 || true
  tail -n 40 "$base/logs/milvus-stderr.log" >&2 2>/dev/null || true
}

start() {
  if already_running; then return; fi
  if running_pid >/dev/null; then
    log "a previous start is still coming up; waiting for it"
  else
    install
    if port_open "$port"; then fail "port $port is taken by another process; set MILVUS_PORT to a free port"; fi
    # Fresh data on every start: the suites create their own collections, and a server killed
    # mid-write never leaves a half-written store behind for the next run.
    rm -rf "$base/data" "$base/logs" "$base/configs" "$base/run"
    log "starting Milvus $milvus_version on port $port"
    # Under setsid the wrapper leads a process group, so stop can reach the server under it.
    PYTHONUNBUFFERED=1 spawn_server "$venv/bin/milvus-server" \
      --data "$base" \
      --proxy-port "$port" \
      --extra-config log.level=warn \
      --extra-config proxy.timeTickInterval=20 \
      --extra-config rootCoord.ip=127.0.0.1 \
      --extra-config proxy.ip=127.0.0.1 \
      --extra-config queryCoord.ip=127.0.0.1 \
      --extra-config queryNode.ip=127.0.0.1 \
      --extra-config indexNode.ip=127.0.0.1 \
      --extra-config dataCoord.ip=127.0.0.1 \
      --extra-config dataNode.ip=127.0.0.1
  fi
  wait_ready "${MILVUS_START_TIMEOUT:-240}" 1
  echo "$url"
}

stop() {
  local pid
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! kill -0 -- "-$pid" 2>/dev/null; then
    rm -f "$pid_file"
    log "not running"
    return
  fi
  # SIGINT makes the wrapper terminate the server and wait for it (SIGTERM would kill only the
  # wrapper); whatever is left of the process group after that is terminated, then killed.
  log "stopping (pid $pid)"
  kill -INT "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 -- "-$pid" 2>/dev/null; do
    if ((waited == 30)); then kill -TERM -- "-$pid" 2>/dev/null || true; fi
    if ((waited >= 45)); then
      kill -KILL -- "-$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$pid_file"
  log "stopped"
}

status() { report_status 1; }

launcher_main "$@"
