#!/usr/bin/env bash
# Runs a real Qdrant server on 127.0.0.1 without Docker:
#   bash launcher.sh install|start|stop|status
# No package registry carries a Qdrant binary, so the server is built from its source by build.sh
# (cargo, dependencies from crates.io) and cached under $ENGRAM_QDRANT_CACHE/<tag>/qdrant
# (default ~/.cache/engram-qdrant). The build takes over an hour on 2 cores, so it only runs
# with ENGRAM_BUILD_QDRANT=1; without a cached binary, `install` and `start` explain that and
# exit with status 69 (EX_UNAVAILABLE), which the conformance setup reports as "not run" rather
# than as a failure. Each start gets a fresh storage folder. Progress goes to stderr; `start`
# and `status` print the URL as the last line of stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=qdrant
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${ENGRAM_QDRANT_VERSION:-v1.19.0}"
binary="${ENGRAM_QDRANT_CACHE:-$HOME/.cache/engram-qdrant}/$version/qdrant"
http_port="${ENGRAM_QDRANT_PORT:-16333}"
grpc_port="${ENGRAM_QDRANT_GRPC_PORT:-16334}"
home="$services_home/qdrant"
data="$home/data"
log_file="$home/qdrant.log"
pid_file="$home/qdrant.pid"
url="http://127.0.0.1:$http_port"

# The exit status telling the conformance setup that this server cannot be had here.
unavailable=69

ready() { curl -fs -o /dev/null --max-time 2 "$url/readyz"; }

install() {
  if [[ -x "$binary" ]]; then
    log "qdrant $version: $binary"
    return
  fi
  if [[ "${ENGRAM_BUILD_QDRANT:-}" != 1 ]]; then
    log "no Qdrant $version binary at ${binary/#"$HOME"/\~}, and building it from source takes over an hour on 2 cores: run ENGRAM_BUILD_QDRANT=1 bash conformance/services/qdrant/launcher.sh install once (see build.sh there) to build and cache it"
    exit "$unavailable"
  fi
  ENGRAM_QDRANT_VERSION="$version" bash "$here/build.sh"
}

start() {
  if already_running; then return; fi
  install
  reset_server "$data"
  log "starting qdrant $version on $url (gRPC $grpc_port)"
  (
    cd "$home"
    QDRANT__SERVICE__HOST=127.0.0.1 \
      QDRANT__SERVICE__HTTP_PORT="$http_port" \
      QDRANT__SERVICE__GRPC_PORT="$grpc_port" \
      QDRANT__STORAGE__STORAGE_PATH="$data/storage" \
      QDRANT__STORAGE__SNAPSHOTS_PATH="$data/snapshots" \
      QDRANT__TELEMETRY_DISABLED=true \
      QDRANT__LOG_LEVEL=WARN \
      spawn_server "$binary" --disable-telemetry
  )
  wait_ready "${ENGRAM_QDRANT_START_TIMEOUT:-120}" 0.5
  echo "$url"
}

stop() { stop_recorded 30; }

status() { report_status 3; }

launcher_main "$@"
