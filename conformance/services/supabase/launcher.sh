#!/usr/bin/env bash
# PostgreSQL 15 + pgvector set up the way Supabase sets up a project's database, without Docker.
# It is not Supabase's hosted platform (no Supavisor, PostgREST or Auth): the database only.
#
#   bash launcher.sh install|start|stop|status
#
# Runs the pgvector launcher's server on its own port (${SUPABASE_PORT:-55433}, so the pgvector
# suite's server is never stopped by this one) and, in front of it, PgBouncer (Debian's package)
# in transaction mode on ${SUPABASE_POOLER_PORT:-56543}, the pooling mode of Supabase's
# transaction pooler, so every test goes through a pooler that gives each transaction any server
# connection (SUPABASE_POOLER=0 connects directly). Then, idempotently, in a database of its own
# (engram_supabase): the `extensions` schema holding the vector extension, and Supabase's roles
# `anon`, `authenticated` (no login, no RLS bypass) and `service_role` (BYPASSRLS), granted on
# what the owner `postgres` creates in `public`, as Supabase grants them. The search path is
# left at PostgreSQL's default, without `extensions`, so an unqualified `vector` would fail.
# Prints the database's URL, through the pooler, as the last line (start, status).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PGVECTOR_PORT="${SUPABASE_PORT:-55433}"
database=engram_supabase
pooler_port="${SUPABASE_POOLER_PORT:-56543}"
pooler_dir=/var/lib/postgresql/engram-services/supabase-pooler-$pooler_port

pgvector() { bash "$here/../pgvector/launcher.sh" "$@"; }

# The server trusts connections from 127.0.0.1, so any local user can run the setup as postgres.
psql_as_postgres() { /usr/lib/postgresql/15/bin/psql "$1" -v ON_ERROR_STOP=1 -q >&2; }

prepare() {
  local server_url="$1" database_url="${1%/*}/$database"
  psql_as_postgres "$server_url" <<SQL
SELECT 'CREATE DATABASE $database' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')\gexec
SQL
  psql_as_postgres "$database_url" <<'SQL'
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public, extensions TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
SQL
  echo "$database_url"
}

pooler_enabled() { [ "${SUPABASE_POOLER:-1}" != 0 ]; }

install_pooler() {
  pooler_enabled || return 0
  [ -x /usr/sbin/pgbouncer ] && return 0
  echo "[supabase] installing pgbouncer with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer >&2; }
}

pooler_pid() {
  local pid
  pid="$(cat "$pooler_dir/pgbouncer.pid" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# PgBouncer refuses to run as root: it runs as the server's user, with trust like the server.
start_pooler() {
  local server_url="$1" port
  port="${server_url##*:}"
  port="${port%%/*}"
  pooler_pid >/dev/null && return 0
  mkdir -p "$pooler_dir"
  cat >"$pooler_dir/pgbouncer.ini" <<INI
[databases]
$database = host=127.0.0.1 port=$port dbname=$database

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pooler_port
unix_socket_dir =
auth_type = trust
auth_file = $pooler_dir/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,application_name
logfile = $pooler_dir/pgbouncer.log
pidfile = $pooler_dir/pgbouncer.pid
INI
  printf '"postgres" ""\n' >"$pooler_dir/users.txt"
  chown -R postgres "$pooler_dir"
  echo "[supabase] starting pgbouncer (transaction pooling) on 127.0.0.1:$pooler_port" >&2
  runuser -u postgres -- /usr/sbin/pgbouncer -d -q "$pooler_dir/pgbouncer.ini" >&2
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$pooler_port") 2>/dev/null && return 0
    sleep 0.2
  done
  tail -n 20 "$pooler_dir/pgbouncer.log" >&2 || true
  echo "[supabase] pgbouncer did not listen on 127.0.0.1:$pooler_port" >&2
  return 1
}

stop_pooler() {
  local pid
  pid="$(pooler_pid)" || return 0
  echo "[supabase] stopping pgbouncer (pid $pid)" >&2
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}

public_url() {
  local database_url="$1"
  if pooler_enabled; then
    echo "postgres://postgres@127.0.0.1:$pooler_port/$database"
  else
    echo "$database_url"
  fi
}

case "${1:-}" in
  install)
    pgvector install
    install_pooler
    ;;
  start)
    install_pooler
    url="$(pgvector start | tail -n 1)"
    database_url="$(prepare "$url" | tail -n 1)"
    if pooler_enabled; then start_pooler "$url"; fi
    public_url "$database_url"
    ;;
  status)
    url="$(pgvector status | tail -n 1)"
    if pooler_enabled && ! pooler_pid >/dev/null; then
      echo "[supabase] pgbouncer is not running" >&2
      exit 3
    fi
    public_url "${url%/*}/$database"
    ;;
  stop)
    stop_pooler
    pgvector stop
    ;;
  *)
    echo "usage: bash launcher.sh install|start|stop|status" >&2
    exit 2
    ;;
esac
