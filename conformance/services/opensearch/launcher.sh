#!/usr/bin/env bash
# Installs and runs a real OpenSearch with the k-NN plugin on 127.0.0.1 without Docker:
#   bash launcher.sh install|start|stop|status
# Assembled from Maven Central (pom.xml beside this file): the integ-test-zip distribution (the
# server and transport-netty4, no bundled JDK: it runs on the system Java 17), the modules
# lang-painless (the k-NN plugin extends it) and reindex (_delete_by_query) laid out from their
# jars and libraries, and the k-NN plugin zip.
# Only k-NN's Lucene engine works here (the plugin's faiss/nmslib JNI libraries ship in the full
# distribution only); the adapter uses that engine. OpenSearch refuses to run as root, so as root
# the server runs as an unprivileged user created here when missing, from a copy unpacked in that
# user's home. Progress goes to stderr; `start` and `status` print the URL as the last line of
# stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=opensearch
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(sed -nE 's#.*<opensearch.version>(.*)</opensearch.version>.*#\1#p' "$here/pom.xml")"
port="${ENGRAM_OPENSEARCH_PORT:-19201}"
service_user="${ENGRAM_OPENSEARCH_USER:-opensearch}"
heap="${ENGRAM_OPENSEARCH_HEAP:-512m}"
startup_timeout="${ENGRAM_OPENSEARCH_STARTUP_TIMEOUT:-300}"
cache="$services_home/opensearch"
# Downloads and the assembled server are keyed by pom.xml, so changing it reinstalls.
layout="${version}-$(cksum <"$here/pom.xml" | cut -d' ' -f1)"
downloads="$cache/downloads-${layout}"
url="http://127.0.0.1:${port}"

locate_runtime() {
  if is_root; then
    runtime="$(getent passwd "$service_user" | cut -d: -f6 || true)/engram-services/opensearch"
  else
    runtime="$cache/runtime"
  fi
  pid_file="$runtime/opensearch.pid"
  log_file="$runtime/logs/engram-conformance.log"
}
locate_runtime

ensure_user() {
  ensure_service_user "$service_user"
  locate_runtime
}

# What is copied from the resolved dependencies: the distribution, the plugin, and the modules'
# jars (the rest is in the distribution's lib folder already).
artifacts=opensearch,opensearch-knn,lang-painless,opensearch-scripting-painless-spi,antlr4-runtime
artifacts+=,asm,asm-analysis,asm-commons,asm-tree,asm-util,reindex-client,opensearch-rest-client
artifacts+=,opensearch-ssl-config,httpclient,httpcore,httpasyncclient,httpcore-nio,commons-codec
artifacts+=,commons-logging

download() {
  [ -f "$downloads/.complete" ] && return
  command -v mvn >/dev/null || fail "Maven (mvn) is needed to fetch OpenSearch $version from Maven Central"
  log "downloading OpenSearch $version, its lang-painless and reindex modules and the k-NN plugin from Maven Central"
  rm -rf "$downloads"
  mkdir -p "$downloads"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$downloads" \
    -DincludeScope=runtime \
    -DincludeArtifactIds="$artifacts" \
    >&2 || fail "mvn could not resolve OpenSearch $version (see pom.xml)"
  # the server jar (a dependency of lang-painless) is already inside the distribution zip
  rm -f "$downloads/opensearch-${version}.jar"
  touch "$downloads/.complete"
}

# A module as the full distribution lays it out: its jars (file name prefixes), the descriptor
# and the security policy of the module's build.
install_module() {
  local home="$1" name="$2" classname="$3" policy="$4" jar
  shift 4
  local module="$home/modules/$name"
  mkdir -p "$module"
  for jar in "$@"; do cp "$downloads/$jar"-[0-9]*.jar "$module/"; done
  cat >"$module/plugin-descriptor.properties" <<EOF
description=The $name module of OpenSearch
version=$version
name=$name
classname=$classname
java.version=11
opensearch.version=$version
extended.plugins=
has.native.controller=false
EOF
  printf 'grant {\n%s\n};\n' "$policy" >"$module/plugin-security.policy"
}

install_modules() {
  # painless generates classes at run time and finds allowlisted classes through class loaders
  install_module "$1" lang-painless org.opensearch.painless.PainlessPlugin \
    '  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";' \
    lang-painless opensearch-scripting-painless-spi antlr4-runtime asm asm-analysis asm-commons \
    asm-tree asm-util
  # reindex from a remote cluster opens connections through the REST client
  install_module "$1" reindex org.opensearch.index.reindex.ReindexPlugin \
    '  permission java.net.SocketPermission "*", "connect";
  permission java.net.NetPermission "getProxySelector";' \
    reindex-client opensearch-rest-client opensearch-ssl-config httpclient httpcore \
    httpasyncclient httpcore-nio commons-codec commons-logging
}

install() {
  download
  ensure_user
  local home="$runtime/opensearch-${version}"
  if [ "$(cat "$home/.engram-installed" 2>/dev/null)" != "$layout" ]; then
    log "assembling opensearch $version with lang-painless, reindex and k-NN into $runtime"
    as_user "$service_user" mkdir -p "$runtime"
    local staging="$runtime/.unpack-$$"
    rm -rf "$staging" "$home"
    mkdir -p "$staging"
    unzip -q "$downloads/opensearch-${version}.zip" -d "$staging" || {
      rm -rf "$staging"
      fail "could not unpack $downloads/opensearch-${version}.zip"
    }
    mv "$staging/opensearch-${version}" "$home"
    rm -rf "$staging"
    install_modules "$home"
    mkdir -p "$home/plugins/opensearch-knn"
    unzip -q "$downloads"/opensearch-knn-*.zip -d "$home/plugins/opensearch-knn"
    echo "$layout" >"$home/.engram-installed"
    if is_root; then chown -R "$service_user:" "$home"; fi
  fi
}

ready() {
  curl -fsS --max-time 5 "$url/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1
}

start() {
  if resume_started "$startup_timeout" 2; then return; fi
  install
  local home="$runtime/opensearch-${version}" java_home
  java_home="$(jdk_home OPENSEARCH_JAVA_HOME)"
  as_user "$service_user" mkdir -p "$runtime/data-${version}" "$runtime/logs"
  rm -f "$pid_file"
  log "starting opensearch $version on $url (java: $java_home)"
  if ! as_user "$service_user" env OPENSEARCH_JAVA_HOME="$java_home" JAVA_HOME="$java_home" \
    OPENSEARCH_JAVA_OPTS="-Xms${heap} -Xmx${heap}" \
    "$home/bin/opensearch" -d -p "$pid_file" \
    -Ediscovery.type=single-node \
    -Enetwork.host=127.0.0.1 \
    -Ehttp.port="$port" \
    -Etransport.port="$((port + 100))" \
    -Ecluster.name=engram-conformance \
    -Ecluster.routing.allocation.disk.threshold_enabled=false \
    -Epath.data="$runtime/data-${version}" \
    -Epath.logs="$runtime/logs" \
    >"$runtime/logs/launcher.out" 2>&1; then
    log "opensearch failed to start; last lines of its output:"
    tail -n 40 "$runtime/logs/launcher.out" >&2 || true
    show_log_tail
    exit 1
  fi
  wait_ready "$startup_timeout" 2
  echo "$url"
}

# bin/opensearch -d puts the JVM in the background at once; the JVM writes its pid file only
# later, during its bootstrap.
startup_alive() {
  running_pid >/dev/null ||
    pgrep -f -- "-Dopensearch.path.home=$runtime/opensearch-${version}" >/dev/null
}

stop() { stop_recorded 60; }

status() { report_status 3; }

launcher_main "$@"
