#!/usr/bin/env bash
# Apache Cassandra 5.0 (one node, SAI and vector search) on 127.0.0.1, without Docker.
#
#   bash launcher.sh install|start|stop|status
#
# install: resolves org.apache.cassandra:cassandra-all (pom.xml beside this script) and its
#          runtime dependencies from Maven Central with `mvn dependency:copy-dependencies` into
#          the cache folder. Skipped when already done.
# start:   writes a cassandra.yaml (127.0.0.1 only, native protocol on ${CASSANDRA_PORT:-19042},
#          small caches) and runs CassandraDaemon on the system Java 17 with the JVM options of
#          Cassandra's jvm17-server.options and a ${CASSANDRA_HEAP:-1g} heap, on a fresh data
#          folder; waits until CQL clients are accepted and prints the URL as the last line.
#          Idempotent.
# stop:    SIGTERM, then SIGKILL after 60 s; a no-op when not running.
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=cassandra
server_label="the Cassandra node"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${CASSANDRA_PORT:-19042}"
storage_port="${CASSANDRA_STORAGE_PORT:-17000}"
service_home="$services_home/cassandra"
cassandra_version="$(sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$here/pom.xml")"
lib_dir="$service_home/lib-$cassandra_version"
run_dir="$service_home/run-$port"
pid_file="$run_dir/server.pid"
log_file="$run_dir/server.log"
url="cassandra://127.0.0.1:${port}/datacenter1"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"

install() {
  [ -n "$cassandra_version" ] || fail "pom.xml names no cassandra.version"
  if [ -f "$lib_dir/.complete" ]; then
    log "Cassandra $cassandra_version is installed in $lib_dir"
    return
  fi
  ensure_commands "$java_bin:openjdk-17-jre-headless" mvn:maven
  mkdir -p "$service_home"
  log "resolving Cassandra $cassandra_version from Maven Central"
  rm -rf "$lib_dir.partial"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$lib_dir.partial" -DincludeScope=runtime >&2 ||
    fail "mvn could not resolve org.apache.cassandra:cassandra-all:$cassandra_version"
  touch "$lib_dir.partial/.complete"
  rm -rf "$lib_dir"
  mv "$lib_dir.partial" "$lib_dir"
}

write_config() {
  cat >"$run_dir/cassandra.yaml" <<EOF
cluster_name: engram-conformance
num_tokens: 1
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$storage_port"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $storage_port
native_transport_port: $port
start_native_transport: true
data_file_directories:
  - $run_dir/data
commitlog_directory: $run_dir/commitlog
saved_caches_directory: $run_dir/saved_caches
hints_directory: $run_dir/hints
cdc_raw_directory: $run_dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 8MiB
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
key_cache_size: 8MiB
counter_cache_size: 0MiB
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 2
concurrent_materialized_view_writes: 2
compaction_throughput: 0MiB/s
read_request_timeout: 20000ms
range_request_timeout: 30000ms
write_request_timeout: 10000ms
request_timeout: 30000ms
disk_access_mode: mmap_index_only
sai_options:
  segment_write_buffer_size: 64MiB
EOF
}

# The JVM options of Cassandra's own jvm17-server.options (Java module access for its off-heap
# and reflection code, Netty settings), with a small heap and the serial collector for 2 cores.
jvm_options() {
  local options=(
    -Xms256m -Xmx"${CASSANDRA_HEAP:-1g}" -Xss512k -XX:+UseSerialGC
    -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$run_dir"
    -Djdk.attach.allowAttachSelf=true
    -javaagent:"$(ls "$lib_dir"/jamm-*.jar | head -n 1)"
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    -Dcassandra-foreground=yes
    -Dcassandra.config="file://$run_dir/cassandra.yaml"
    -Dcassandra.storagedir="$run_dir"
    -Dcassandra.logdir="$run_dir"
    -Dlogback.configurationFile="file://$here/logback.xml"
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.load_ring_state=false
    -Dcassandra.superuser_setup_delay_ms=0
    -Dcassandra.max_local_pause_in_ms=60000
  )
  local export_module
  for export_module in java.base/jdk.internal.misc java.management.rmi/com.sun.jmx.remote.internal.rmi \
    java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql java.base/java.lang.ref \
    jdk.unsupported/sun.misc jdk.compiler/com.sun.tools.javac.file jdk.attach/sun.tools.attach; do
    options+=(--add-exports "$export_module=ALL-UNNAMED")
  done
  for export_module in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref \
    java.base/jdk.internal.reflect java.base/jdk.internal.math java.base/jdk.internal.module \
    java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal java.base/sun.nio.ch \
    java.base/java.io java.base/java.lang.reflect jdk.compiler/com.sun.tools.javac \
    java.base/java.lang java.base/java.util; do
    options+=(--add-opens "$export_module=ALL-UNNAMED")
  done
  printf '%s\n' "${options[@]}"
}

ready() { grep -q 'Starting listening for CQL clients' "$log_file" 2>/dev/null && port_open "$port"; }

start() {
  install
  if already_running; then return; fi
  # A throwaway test node: every start begins empty.
  reset_server "$run_dir"
  if port_open "$port"; then fail "127.0.0.1:$port is taken by another process; set CASSANDRA_PORT"; fi
  mkdir -p "$run_dir/data" "$run_dir/commitlog" "$run_dir/saved_caches" "$run_dir/hints" "$run_dir/cdc_raw"
  write_config
  local options=()
  mapfile -t options < <(jvm_options)
  log "starting Cassandra $cassandra_version on 127.0.0.1:$port"
  spawn_server "$java_bin" "${options[@]}" -cp "$lib_dir/*" org.apache.cassandra.service.CassandraDaemon
  wait_ready "${CASSANDRA_START_TIMEOUT:-300}" 1
  echo "$url"
}

stop() { stop_recorded 60; }

status() { report_status 3; }

launcher_main "$@"
