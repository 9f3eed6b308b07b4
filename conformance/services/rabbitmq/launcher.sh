#!/usr/bin/env bash
# Installs and runs a real RabbitMQ on 127.0.0.1 without Docker or systemd:
#   bash launcher.sh install|start|stop|status
# The server is Debian's `rabbitmq-server` package (3.10), started as a node of its own (its own
# node name, ports, Erlang cookie, data and log folders under the services cache), so it neither
# needs nor disturbs a system-wide RabbitMQ. The guest user may connect from 127.0.0.1.
# Progress goes to stderr; `start` and `status` print the AMQP URL as the last line of stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=rabbitmq
port="${ENGRAM_RABBITMQ_PORT:-15673}"
dist_port="${ENGRAM_RABBITMQ_DIST_PORT:-25673}"
node="${ENGRAM_RABBITMQ_NODE:-engram-services@localhost}"
home="$services_home/rabbitmq"
runtime="$home/runtime"
pid_file="$runtime/rabbitmq.pid"
log_file="$runtime/rabbitmq.out"
sbin=/usr/lib/rabbitmq/bin
url="amqp://guest:guest@127.0.0.1:$port"

install() {
  if [ -x "$sbin/rabbitmq-server" ]; then return; fi
  is_root || fail "rabbitmq-server is not installed: apt-get install rabbitmq-server (or set RABBITMQ_URL)"
  log "installing rabbitmq-server from Debian's packages"
  apt_install rabbitmq-server
}

# Every RabbitMQ command of this node: its own home (Erlang cookie), config, data and logs.
node_env() {
  (
    export HOME="$runtime" \
      RABBITMQ_NODENAME="$node" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
      RABBITMQ_NODE_PORT="$port" \
      RABBITMQ_DIST_PORT="$dist_port" \
      RABBITMQ_CONFIG_FILE="$runtime/rabbitmq.conf" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$runtime/enabled_plugins" \
      RABBITMQ_MNESIA_BASE="$runtime/mnesia" \
      RABBITMQ_LOG_BASE="$runtime/log" \
      RABBITMQ_PID_FILE="$runtime/rabbitmq.beam.pid"
    "$@"
  )
}

ready() {
  port_open "$port" &&
    node_env "$sbin/rabbitmq-diagnostics" -q -n "$node" check_running >/dev/null 2>&1
}

start() {
  if already_running; then return; fi
  install
  reset_server "$runtime"
  mkdir -p "$runtime/mnesia" "$runtime/log"
  printf '[].\n' >"$runtime/enabled_plugins"
  cat >"$runtime/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
loopback_users.guest = true
disk_free_limit.absolute = 50MB
log.console = true
log.file = false
CONF
  log "starting rabbitmq node $node on $url"
  node_env spawn_server "$sbin/rabbitmq-server"
  wait_ready "${ENGRAM_RABBITMQ_STARTUP_TIMEOUT:-120}" 1
  echo "$url"
}

stop() {
  if running_pid >/dev/null; then
    node_env "$sbin/rabbitmqctl" -q -n "$node" stop >/dev/null 2>&1 || true
  fi
  stop_recorded 30
}

status() { report_status 3; }

launcher_main "$@"
