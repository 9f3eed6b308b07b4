#!/usr/bin/env bash
# Installs and runs a real Weaviate server without Docker: the server is built from its Go module
# (the Go module proxy) once and cached; each start gets a fresh data directory.
#
#   bash launcher.sh install|start|stop|status
#
# Progress goes to stderr; `start` prints the server URL as the last line of stdout. The URL
# carries the gRPC port as a query parameter (`?grpcPort=`), which the conformance test reads.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=weaviate
server_label=weaviate-server
version="${WEAVIATE_VERSION:-v1.39.0}"
home="$services_home/weaviate"
http_port="${WEAVIATE_NATIVE_PORT:-18080}"
grpc_port="${WEAVIATE_NATIVE_GRPC_PORT:-15051}"
binary="$home/bin/weaviate-server-$version"
data="$home/data"
log_file="$home/weaviate.log"
pid_file="$home/weaviate.pid"
url="http://127.0.0.1:$http_port/?grpcPort=$grpc_port"

ready() {
  curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$http_port/v1/.well-known/ready"
}

install() {
  if [[ -x "$binary" ]]; then
    log "weaviate-server $version already built"
    return
  fi
  command -v go >/dev/null 2>&1 ||
    fail "the Go toolchain (1.26 or newer) is needed to build weaviate-server; it is not on PATH"
  mkdir -p "$home/bin"
  local staging
  staging="$(mktemp -d "$home/bin/build.XXXXXX")"
  log "building weaviate-server $version from the Go module proxy (first time only; long on 2 cores)"
  local started=$SECONDS
  GOBIN="$staging" GOFLAGS=-mod=mod go install "github.com/weaviate/weaviate/cmd/weaviate-server@$version" >&2
  mv "$staging/weaviate-server" "$binary"
  rmdir "$staging"
  log "built in $((SECONDS - started))s: $binary"
}

start() {
  if already_running; then return; fi
  install
  reset_server "$data"
  log "starting weaviate-server $version on 127.0.0.1:$http_port (gRPC $grpc_port)"
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
      spawn_server "$binary" --host 127.0.0.1 --port "$http_port" --scheme http
  )
  wait_ready "${WEAVIATE_NATIVE_START_TIMEOUT:-180}" 0.5
  echo "$url"
}

stop() { stop_recorded 30; }

status() { report_status 0; }

launcher_main "$@"
