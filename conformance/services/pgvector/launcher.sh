#!/usr/bin/env bash
# PostgreSQL 15 with pgvector on 127.0.0.1, without Docker.
#
#   bash launcher.sh install|start|stop|status
#
# install: PostgreSQL 15 and its server headers from Debian's packages, then pgvector built from
#          Debian's own source package (the trixie suite carries 0.8, which has
#          hnsw.iterative_scan), fetched through a private apt configuration so the machine's
#          sources are left alone. Skipped when already done.
# start:   initdb (as the unprivileged postgres user: PostgreSQL refuses to run as root) and
#          start on 127.0.0.1:${PGVECTOR_PORT:-55432} with trust authentication; prints the URL
#          as the last line. Idempotent.
# stop:    fast shutdown through pg_ctl (postmaster.pid); a no-op when not running.
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

service_name=pgvector
pg_major=15
port="${PGVECTOR_PORT:-55432}"
service_home="$services_home/pgvector"
pg_bin="/usr/lib/postgresql/${pg_major}/bin"
run_user=postgres
url="postgres://postgres@127.0.0.1:${port}/postgres"

as_server_user() { as_user "$run_user" "$@"; }

packages_installed() {
  local package status
  for package in "postgresql-${pg_major}" "postgresql-server-dev-${pg_major}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || return 1
  done
}

install_packages() {
  if packages_installed; then
    log "postgresql-${pg_major} and postgresql-server-dev-${pg_major} are installed"
    return
  fi
  is_root || fail "postgresql-${pg_major} and postgresql-server-dev-${pg_major} are missing; install them as root (apt-get install postgresql-${pg_major} postgresql-server-dev-${pg_major})"
  log "installing postgresql-${pg_major} and postgresql-server-dev-${pg_major} with apt-get"
  apt_install "postgresql-${pg_major}" "postgresql-server-dev-${pg_major}"
}

pg_config_value() { "$pg_bin/pg_config" "$1"; }

# The installed extension's default version, e.g. 0.8.0, or nothing.
installed_vector_version() {
  local control
  control="$(pg_config_value --sharedir)/extension/vector.control"
  [ -f "$control" ] && [ -f "$(pg_config_value --pkglibdir)/vector.so" ] || return 0
  sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$control"
}

# iterative_scan (filtered HNSW search that returns every match) needs pgvector 0.8 or newer.
vector_is_current() {
  local version major minor
  version="$(installed_vector_version)"
  [ -n "$version" ] || return 1
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  [ "$major" -gt 0 ] || [ "$minor" -ge 8 ]
}

# The URIs line of the machine's Debian sources, so no mirror host is written here.
debian_uri() {
  local sources=/etc/apt/sources.list.d/debian.sources uri=""
  if [ -f "$sources" ]; then
    uri="$(sed -n 's/^URIs:[[:space:]]*//p' "$sources" | head -n 1)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$uri" ] || fail "no Debian mirror found in the apt sources"
  echo "$uri"
}

build_vector() {
  if vector_is_current; then
    log "pgvector $(installed_vector_version) is installed for PostgreSQL ${pg_major}"
    return
  fi
  is_root || fail "pgvector 0.8+ is not installed for PostgreSQL ${pg_major}; run 'bash launcher.sh install' as root"
  local apt_dir="$service_home/apt" source_dir="$service_home/source"
  mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$source_dir"
  cat >"$apt_dir/sources.list.d/trixie-src.sources" <<SOURCES
Types: deb-src
URIs: $(debian_uri)
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local apt_options=(
    -o Dir::Etc::SourceList=/dev/null
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o APT::Sandbox::User=root
  )
  log "fetching the pgvector source package (trixie)"
  apt-get "${apt_options[@]}" update -q >&2
  rm -rf "$source_dir"
  mkdir -p "$source_dir"
  (cd "$source_dir" && apt-get "${apt_options[@]}" source --download-only -q pgvector >&2)
  local archive
  archive="$(find "$source_dir" -maxdepth 1 -name 'pgvector_*.orig.tar.*' | head -n 1)"
  [ -n "$archive" ] || fail "apt-get source did not download pgvector's upstream archive"
  mkdir -p "$source_dir/build"
  tar -xf "$archive" -C "$source_dir/build" --strip-components=1
  log "building pgvector from $(basename "$archive")"
  make -C "$source_dir/build" -s -j"$(nproc)" PG_CONFIG="$pg_bin/pg_config" >&2
  make -C "$source_dir/build" -s install PG_CONFIG="$pg_bin/pg_config" >&2
  vector_is_current || fail "pgvector was built but PostgreSQL ${pg_major} does not see version 0.8+"
  log "installed pgvector $(installed_vector_version)"
}

install() {
  install_packages
  build_vector
}

# Data, socket and log live where the server's user can write: the cache folder when that user
# can reach it (root's home usually is closed to others), otherwise that user's own home.
run_dir() {
  local candidate="$service_home/run-$port"
  if ! is_root; then
    echo "$candidate"
    return
  fi
  mkdir -p "$candidate"
  chown "$run_user" "$candidate"
  if runuser -u "$run_user" -- test -w "$candidate"; then
    echo "$candidate"
    return
  fi
  rmdir "$candidate" 2>/dev/null || true
  local user_home
  user_home="$(getent passwd "$run_user" | cut -d: -f6)"
  echo "$user_home/engram-services/pgvector-$port"
}

ensure_user() {
  is_root || return 0
  if ! id "$run_user" >/dev/null 2>&1; then
    log "creating the system user $run_user"
    useradd --system --home-dir "/var/lib/$run_user" --create-home --shell /bin/bash "$run_user"
  fi
}

is_running() {
  local data="$1/data"
  [ -f "$data/postmaster.pid" ] && as_server_user "$pg_bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

serving() { is_running "$(run_dir)"; }

start() {
  install
  ensure_user
  if already_running; then return; fi
  local dir
  dir="$(run_dir)"
  if is_root; then
    mkdir -p "$dir"
    chown "$run_user" "$dir"
  fi
  as_server_user mkdir -p "$dir/socket"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initdb in $dir/data"
    as_server_user "$pg_bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=trust >"$dir/initdb.log" 2>&1 || {
      tail -n 30 "$dir/initdb.log" >&2
      fail "initdb failed"
    }
  fi
  # A throwaway test server: durability settings are relaxed for speed, never the semantics.
  local options="-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off"
  options+=" -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  log "starting PostgreSQL ${pg_major} on 127.0.0.1:$port"
  if ! as_server_user "$pg_bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w \
    -t "${PGVECTOR_START_TIMEOUT:-60}" -o "$options" >&2; then
    tail -n 40 "$dir/server.log" >&2 || true
    fail "PostgreSQL did not become ready"
  fi
  if ! as_server_user "$pg_bin/pg_isready" -h 127.0.0.1 -p "$port" -t 30 >&2; then
    tail -n 40 "$dir/server.log" >&2 || true
    fail "PostgreSQL does not accept connections on 127.0.0.1:$port"
  fi
  echo "$url"
}

stop() {
  local dir
  if ! id "$run_user" >/dev/null 2>&1 && is_root; then
    log "not running"
    return
  fi
  dir="$(run_dir)"
  if ! is_running "$dir"; then
    log "not running"
    return
  fi
  log "stopping PostgreSQL on 127.0.0.1:$port"
  as_server_user "$pg_bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >&2
}

status() { report_status 3; }

launcher_main "$@"
