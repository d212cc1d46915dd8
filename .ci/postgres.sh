#!/usr/bin/env bash
# Starts a local PostgreSQL for the tests and prints the URL they use.
#
#   .ci/postgres.sh                                  # by hand: prints TEST_DATABASE_URL=...
#   export "$(.ci/postgres.sh | tail -n 1)"          # ... and sets it in this shell
#   TEST_DATABASE_URL=... .venv/bin/python -m pytest # the suite on PostgreSQL
#
# Uses Debian's postgresql packages (installs them with apt-get when missing), creates a cluster
# if there is none, starts it, and makes the test role and database (password auth over TCP on
# 127.0.0.1). Safe to run again: everything that exists already is left as it is. Needs root
# (or the postgres user's rights); the server keeps running afterwards.
# The last line of its output is `TEST_DATABASE_URL=postgresql://...`; nothing else is printed
# on stdout.
set -euo pipefail

PG_TEST_USER="${PG_TEST_USER:-tiktok_cancel_test}"
PG_TEST_PASSWORD="${PG_TEST_PASSWORD:-tiktok_cancel_test}"
PG_TEST_DB="${PG_TEST_DB:-tiktok_cancel_test}"
PG_TEST_PORT="${PG_TEST_PORT:-5432}"

log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql with apt-get"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

# The cluster on our port, else the newest one, else a new one.
cluster=$(pg_lsclusters -h | awk -v port="$PG_TEST_PORT" '$3 == port {print $1, $2; exit}')
if [ -z "$cluster" ]; then
  cluster=$(pg_lsclusters -h | awk '{print $1, $2}' | sort -V | tail -n 1)
fi
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  log "creating cluster $version main on port $PG_TEST_PORT"
  pg_createcluster --port "$PG_TEST_PORT" "$version" main >&2
  cluster="$version main"
fi
read -r version name <<<"$cluster"
port=$(pg_lsclusters -h "$version" "$name" | awk '{print $3}')

status=$(pg_lsclusters -h "$version" "$name" | awk '{print $4}')
if [ "$status" != online ]; then
  log "starting cluster $version $name (port $port)"
  pg_ctlcluster "$version" "$name" start >&2
fi

# Wait until it answers (start returns once the postmaster is up; be patient anyway).
for _ in $(seq 1 30); do
  if as_postgres pg_isready -q -p "$port"; then break; fi
  sleep 1
done
as_postgres pg_isready -q -p "$port" || { log "PostgreSQL on port $port does not answer"; exit 1; }

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }

# Role (its password set every time, so a changed PG_TEST_PASSWORD takes effect) and database.
# CREATEDB is not needed: the tests make one schema per test inside this database.
psql_admin -v user="$PG_TEST_USER" -v password="$PG_TEST_PASSWORD" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'user', :'password') \gexec
SQL
psql_admin -v user="$PG_TEST_USER" -v db="$PG_TEST_DB" >&2 <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL

url="postgresql://${PG_TEST_USER}:${PG_TEST_PASSWORD}@127.0.0.1:${port}/${PG_TEST_DB}"
# Prove the URL works the way the tests use it: over TCP, with the password.
PGPASSWORD="$PG_TEST_PASSWORD" psql -X -q -At -h 127.0.0.1 -p "$port" -U "$PG_TEST_USER" \
  -d "$PG_TEST_DB" -c 'SELECT 1' >/dev/null || { log "cannot log in as $PG_TEST_USER"; exit 1; }
log "PostgreSQL $version/$name is running on 127.0.0.1:$port"
echo "TEST_DATABASE_URL=$url"
