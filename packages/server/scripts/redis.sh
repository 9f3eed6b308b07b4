#!/usr/bin/env bash
# Starts or stops a private Redis for the service tests: Debian's redis-server, on 127.0.0.1,
# data and pid file under $ENGRAM_SERVICES_HOME/redis-server. Idempotent.
#   scripts/redis.sh start   prints REDIS_URL=redis://127.0.0.1:<port>
#   scripts/redis.sh stop
#   scripts/redis.sh url     prints the URL of the running instance
set -euo pipefail

home="${ENGRAM_SERVICES_HOME:-$HOME/.cache/engram-services}/redis-server"
port="${ENGRAM_TEST_REDIS_PORT:-6479}"
pidfile="$home/redis.pid"
mkdir -p "$home"

running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

ensure_installed() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server from Debian's packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  else
    echo "redis-server is not installed: apt-get install redis-server (or set REDIS_URL)" >&2
    exit 1
  fi
}

case "${1:-}" in
  start)
    if ! running; then
      ensure_installed
      rm -f "$pidfile"
      redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$pidfile" \
        --dir "$home" --save '' --appendonly no --logfile "$home/redis.log" >&2
      for _ in $(seq 1 50); do
        if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then break; fi
        sleep 0.1
      done
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null
      echo "$port" > "$home/port"
    fi
    echo "REDIS_URL=redis://127.0.0.1:$(cat "$home/port")"
    ;;
  stop)
    if running; then
      redis-cli -h 127.0.0.1 -p "$(cat "$home/port")" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$pidfile")"
      for _ in $(seq 1 50); do running || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
    ;;
  url)
    running || { echo "redis is not running; run $0 start" >&2; exit 1; }
    echo "redis://127.0.0.1:$(cat "$home/port")"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
