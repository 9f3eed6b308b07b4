#!/usr/bin/env bash
# Real Milvus 2.3 standalone (embedded etcd, local storage, RocksMQ) from PyPI's `milvus` package,
# which wraps the official standalone binary:
#   bash launcher.sh install|start|stop|status
# Progress goes to stderr; `start` prints the server URL as the last line of stdout.
set -euo pipefail

milvus_version="${MILVUS_PYPI_VERSION:-2.3.5}"
port="${MILVUS_PORT:-19530}"
home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/milvus"
venv="$home/venv"
base="$home/server"
pid_file="$home/milvus.pid"
wrapper_log="$home/wrapper.log"
url="http://127.0.0.1:$port"
start_timeout="${MILVUS_START_TIMEOUT:-240}"

log() { echo "[milvus] $*" >&2; }

installed() { [[ -f "$home/.installed-$milvus_version" ]]; }

install() {
  if installed; then
    log "milvus $milvus_version already installed in $home"
    return
  fi
  mkdir -p "$home"
  log "installing PyPI milvus==$milvus_version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "milvus==$milvus_version" >&2
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

running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

healthy() {
  # The proxy answers gRPC before its coordinators are up; the wrapper prints its banner only
  # once /healthz reports OK.
  grep -q 'Welcome to use Milvus' "$wrapper_log" 2>/dev/null
}

start() {
  if pid="$(running_pid)" && healthy; then
    log "already running (pid $pid)"
    echo "$url"
    return
  fi
  if running_pid >/dev/null; then
    log "a previous start is still coming up; waiting for it"
  else
    install
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port is taken by another process; set MILVUS_PORT to a free port"
      exit 1
    fi
    # Fresh data on every start: the suites create their own collections, and a server killed
    # mid-write never leaves a half-written store behind for the next run.
    rm -rf "$base/data" "$base/logs" "$base/configs" "$base/run"
    : >"$wrapper_log"
    log "starting Milvus $milvus_version on port $port"
    # setsid: the wrapper leads its own process group, so stop can reach the server under it.
    PYTHONUNBUFFERED=1 setsid "$venv/bin/milvus-server" \
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
      --extra-config dataNode.ip=127.0.0.1 \
      >"$wrapper_log" 2>&1 </dev/null &
    echo $! >"$pid_file"
  fi
  local waited=0
  until healthy; do
    if ! running_pid >/dev/null || grep -qE 'already stopped|started timeout' "$wrapper_log"; then
      log "Milvus did not start; wrapper output and server log tail:"
      tail -n 40 "$wrapper_log" >&2 || true
      tail -n 40 "$base/logs/milvus-stderr.log" >&2 2>/dev/null || true
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    if ((waited >= start_timeout)); then
      log "Milvus not ready after ${start_timeout}s; log tail:"
      tail -n 40 "$wrapper_log" >&2 || true
      tail -n 40 "$base/logs/milvus-stderr.log" >&2 2>/dev/null || true
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "ready after ${waited}s"
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

status() {
  if pid="$(running_pid)" && healthy; then
    log "running (pid $pid)"
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
