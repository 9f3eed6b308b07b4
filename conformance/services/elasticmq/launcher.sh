#!/usr/bin/env bash
# Installs and runs ElasticMQ, a real server speaking the Amazon SQS protocol (visibility
# timeouts, receive counts, dead-letter queues with redrive policies), on 127.0.0.1 without Docker:
#   bash launcher.sh install|start|stop|status
# The server and its dependencies come from Maven Central (pom.xml beside this file, fetched
# with `mvn dependency:copy-dependencies`) and run on the system Java 17.
# Progress goes to stderr; `start` and `status` print the endpoint URL as the last line of stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"

service_name=elasticmq
version="$(sed -n 's:.*<elasticmq.version>\(.*\)</elasticmq.version>.*:\1:p' "$here/pom.xml")"
port="${ENGRAM_ELASTICMQ_PORT:-19324}"
home="$services_home/elasticmq"
libs="$home/lib-$version"
runtime="$home/runtime"
pid_file="$runtime/elasticmq.pid"
log_file="$runtime/elasticmq.log"
url="http://127.0.0.1:$port"

install() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v mvn >/dev/null || fail "Maven (mvn) is needed to fetch elasticmq-server $version"
  command -v java >/dev/null || fail "no java on PATH: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
  log "downloading elasticmq-server $version and its dependencies from Maven Central"
  rm -rf "$libs"
  mkdir -p "$libs"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
}

ready() {
  curl -fsS --max-time 5 "$url/?Action=ListQueues" >/dev/null 2>&1
}

start() {
  if already_running; then return; fi
  install
  reset_server "$runtime"
  cat >"$runtime/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = $port, context-path = "" }
rest-sqs { enabled = true, bind-port = $port, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
CONF
  log "starting elasticmq $version on $url"
  spawn_server java -Xmx256m -Dconfig.file="$runtime/elasticmq.conf" \
    -cp "$libs/*" org.elasticmq.server.Main
  wait_ready "${ENGRAM_ELASTICMQ_STARTUP_TIMEOUT:-120}" 0.5
  echo "$url"
}

stop() { stop_recorded 20; }

status() { report_status 3; }

launcher_main "$@"
