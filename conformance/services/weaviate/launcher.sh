#!/usr/bin/env bash
# Installs and runs a real Weaviate server without Docker: the server is built from its Go module
# (the Go module proxy) once and cached; each start gets a fresh data directory.
#
#   bash launcher.sh install|start|stop|status
#
# Progress goes to stderr; `start` prints the server URL as the last line of stdout. The URL
# carries the gRPC port as a query parameter (`?grpcPort=`), which the conformance test reads.
set -euo pipefail

version="${WEAVIATE_VERSION:-v1.39.0}"
home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/weaviate"
http_port="${WEAVIATE_NATIVE_PORT:-18080}"
grpc_port="${WEAVIATE_NATIVE_GRPC_PORT:-15051}"
binary="$home/bin/weaviate-server-$version"
data="$home/data"
log="$home/weaviate.log"
pid_file="$home/weaviate.pid"
url="http://127.0.0.1:$http_port/?grpcPort=$grpc_port"

say() { echo "[weaviate] $*" >&2; }

running() {
  [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

ready() {
  curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$http_port/v1/.well-known/ready"
}

install() {
  if [[ -x "$binary" ]]; then
    say "weaviate-server $version already built"
    return
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "the Go toolchain (1.26 or newer) is needed to build weaviate-server; it is not on PATH"
    exit 1
  fi
  mkdir -p "$home/bin"
  local staging
  staging="$(mktemp -d "$home/bin/build.XXXXXX")"
  say "building weaviate-server $version from the Go module proxy (first time only; long on 2 cores)"
  local started=$SECONDS
  GOBIN="$staging" GOFLAGS=-mod=mod go install "github.com/weaviate/weaviate/cmd/weaviate-server@$version" >&2
  mv "$staging/weaviate-server" "$binary"
  rmdir "$staging"
  say "built in $((SECONDS - started))s: $binary"
}

start() {
  if running; then
    if ready; then
      say "already running (pid $(cat "$pid_file"))"
      echo "$url"
      return
    fi
  fi
  install
  if running; then
    say "a previous server (pid $(cat "$pid_file")) is not ready; stopping it"
    stop
  fi
  rm -rf "$data"
  mkdir -p "$data"
  say "starting weaviate-server $version on 127.0.0.1:$http_port (gRPC $grpc_port)"
  (
    cd "$home"
    PERSISTENCE_DATA_PATH="$data" \
      AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
      DEFAULT_VECTORIZER_MODULE=none \
      ENABLE_MODULES= \
      DISABLE_TELEMETRY=true \
      CLUSTER_HOSTNAME=node1 \
      CLUSTER_IN_LOCALHOST=true \
      CLUSTER_GOSSIP_BIND_PORT="${WEAVIATE_NATIVE_GOSSIP_PORT:-17946}" \
      CLUSTER_DATA_BIND_PORT="${WEAVIATE_NATIVE_DATA_PORT:-17947}" \
      RAFT_PORT="${WEAVIATE_NATIVE_RAFT_PORT:-18300}" \
      RAFT_INTERNAL_RPC_PORT="${WEAVIATE_NATIVE_RAFT_RPC_PORT:-18301}" \
      RAFT_BOOTSTRAP_EXPECT=1 \
      GRPC_PORT="$grpc_port" \
      QUERY_DEFAULTS_LIMIT=25 \
      LOG_LEVEL=warning \
      setsid nohup "$binary" --host 127.0.0.1 --port "$http_port" --scheme http >"$log" 2>&1 &
    echo $! >"$pid_file"
  )
  local deadline=$((SECONDS + ${WEAVIATE_NATIVE_START_TIMEOUT:-180}))
  until ready; do
    if ! running; then
      say "weaviate-server exited during startup; log tail:"
      tail -n 40 "$log" >&2 || true
      exit 1
    fi
    if ((SECONDS > deadline)); then
      say "weaviate-server not ready in time; log tail:"
      tail -n 40 "$log" >&2 || true
      stop
      exit 1
    fi
    sleep 0.5
  done
  say "ready (pid $(cat "$pid_file"))"
  echo "$url"
}

stop() {
  if ! running; then
    rm -f "$pid_file"
    return
  fi
  local pid
  pid="$(cat "$pid_file")"
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running; killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

status() {
  if running && ready; then
    say "running (pid $(cat "$pid_file"))"
    echo "$url"
  else
    say "not running"
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
