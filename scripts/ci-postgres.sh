#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the OMOP adapter's PostgreSQL tests and print
# its connection URL on stdout (everything else goes to stderr), so CI can do
#   export CONCEPTBRIDGE_TEST_PG_URL="$(scripts/ci-postgres.sh)"
# Uses the Debian postgresql package's binaries with its own data directory and port, so it needs no
# system cluster, never touches one that is running, and works whether or not we are root.
# The role's password is a test-only secret of this private, loopback-only server.
set -euo pipefail

PORT="${CONCEPTBRIDGE_TEST_PG_PORT:-54329}"
ROLE=conceptbridge
PASSWORD=conceptbridge-ci
DB=conceptbridge
URL="postgresql://${ROLE}:${PASSWORD}@127.0.0.1:${PORT}/${DB}"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "$PGBIN" || ! -x "$PGBIN/initdb" ]]; then
  echo "ci-postgres: no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
  exit 1
fi

# Already started by an earlier call (e.g. a second local run): reuse it.
if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  echo "ci-postgres: server already listening on 127.0.0.1:$PORT" >&2
  echo "$URL"
  exit 0
fi

DATA="$(mktemp -d /tmp/conceptbridge-pg.XXXXXX)"
# initdb refuses to run as root: run the server as the package's `postgres` user in that case.
as_owner() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [[ "$(id -u)" == "0" ]]; then chown postgres: "$DATA"; fi

PWFILE="$DATA/.pw"
# Superuser `postgres` gets the same throw-away password; every login (also over the socket) needs one.
as_owner bash -c "umask 077; printf '%s\n' '$PASSWORD' > '$PWFILE'"
as_owner "$PGBIN/initdb" -D "$DATA/db" -U postgres --pwfile="$PWFILE" -A scram-sha-256 -E UTF8 >&2
rm -f "$PWFILE"
as_owner "$PGBIN/pg_ctl" -D "$DATA/db" -l "$DATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA" start >&2

export PGPASSWORD="$PASSWORD"
psql_admin() { "$PGBIN/psql" -v ON_ERROR_STOP=1 -q -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }
psql_admin -d postgres -c "CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'" >&2
psql_admin -d postgres -c "CREATE DATABASE ${DB} OWNER ${ROLE}" >&2
echo "ci-postgres: started in $DATA on 127.0.0.1:$PORT (stop: pg_ctl -D $DATA/db stop)" >&2
echo "$URL"
