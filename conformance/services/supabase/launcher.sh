#!/usr/bin/env bash
# PostgreSQL 15 + pgvector set up the way Supabase sets up a project's database, without Docker.
# It is not Supabase's hosted platform (no Supavisor, PostgREST or Auth): the database only.
#
#   bash launcher.sh install|start|stop|status
#
# Runs the pgvector launcher's server on its own port (${SUPABASE_PORT:-55433}, so the pgvector
# suite's server is never stopped by this one), then, idempotently, in a database of its own
# (engram_supabase): the `extensions` schema holding the vector extension, and Supabase's roles
# `anon`, `authenticated` (no login, no RLS bypass) and `service_role` (BYPASSRLS), granted on
# what the owner `postgres` creates in `public`, as Supabase grants them. The search path is
# left at PostgreSQL's default, without `extensions`, so an unqualified `vector` would fail.
# Prints the database's URL as the last line (start, status).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PGVECTOR_PORT="${SUPABASE_PORT:-55433}"
database=engram_supabase

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

case "${1:-}" in
  install) pgvector install ;;
  start)
    url="$(pgvector start | tail -n 1)"
    prepare "$url"
    ;;
  status)
    url="$(pgvector status | tail -n 1)"
    echo "${url%/*}/$database"
    ;;
  stop) pgvector stop ;;
  *)
    echo "usage: bash launcher.sh install|start|stop|status" >&2
    exit 2
    ;;
esac
