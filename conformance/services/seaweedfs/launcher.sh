#!/usr/bin/env bash
# Installs and runs a real SeaweedFS (S3-compatible object storage) on 127.0.0.1 without Docker:
#   bash launcher.sh install|start|stop|status
# The `weed` binary is built from the module's source fetched from the Go module proxy (`go
# install` refuses it: its go.mod has replace directives, so it is built as the main module),
# pinned to the version below, and cached under ~/.cache/engram-seaweedfs. `start` runs master, volume, filer and the
# S3 gateway in one process (`weed server -s3`) with anonymous access.
# Progress goes to stderr; `start` and `status` print the S3 endpoint URL as the last line of stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=seaweedfs
version="${ENGRAM_SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
port="${ENGRAM_SEAWEEDFS_S3_PORT:-18333}"
master_port="${ENGRAM_SEAWEEDFS_MASTER_PORT:-19333}"
volume_port="${ENGRAM_SEAWEEDFS_VOLUME_PORT:-18380}"
filer_port="${ENGRAM_SEAWEEDFS_FILER_PORT:-18888}"
startup_timeout="${ENGRAM_SEAWEEDFS_STARTUP_TIMEOUT:-120}"
cache="${ENGRAM_SEAWEEDFS_HOME:-$HOME/.cache/engram-seaweedfs}"
binary="$cache/bin/weed-${version}"
runtime="$cache/runtime"
pid_file="$runtime/weed.pid"
log_file="$runtime/weed.log"
url="http://127.0.0.1:${port}"

install() {
  [ -x "$binary" ] && return 0
  command -v go >/dev/null || fail "Go is needed to build SeaweedFS (apt-get install golang, or Go 1.26 from go.dev)"
  local module="github.com/seaweedfs/seaweedfs@${version}" source_dir build="$cache/build-${version}"
  log "building $module (weed) from the Go module proxy (several minutes, once)"
  source_dir="$(go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$source_dir" ] || fail "go mod download $module gave no source directory"
  rm -rf "$build"
  mkdir -p "$cache/bin"
  cp -r "$source_dir" "$build"
  chmod -R u+w "$build"
  (cd "$build" && go build -o "$binary.partial" ./weed) >&2
  mv "$binary.partial" "$binary"
  rm -rf "$build"
}

ready() {
  # The gateway answers an anonymous ListBuckets once the filer behind it is up.
  curl -fsS --max-time 5 "$url/" >/dev/null 2>&1
}

start() {
  already_running && return
  install
  reset_server "$runtime/data"
  log "starting seaweedfs S3 gateway on $url"
  spawn_server "$binary" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$runtime/data" \
    -master.port="$master_port" -volume.port="$volume_port" -filer.port="$filer_port" \
    -master.volumeSizeLimitMB=64 -volume.max=0 -s3 -s3.port="$port"
  wait_ready "$startup_timeout" 1
  echo "$url"
}

stop() { stop_recorded 20; }

status() { report_status 3; }

launcher_main "$@"
