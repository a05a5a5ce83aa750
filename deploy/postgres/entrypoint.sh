#!/bin/bash
# Start PostgreSQL for the api replicas: on first start (no cluster in $PGDATA) make one, with a database
# POSTGRES_DB owned by a login role POSTGRES_USER (password POSTGRES_PASSWORD, scram-sha-256, reachable
# from the container's networks); then run the server as the postgres user, as PID 1.
#
# The cluster is made in a sibling folder and renamed into place, so a start killed half-way leaves no
# half-made cluster that a later start would take for a real one. Runs as root only to own the volume
# (a fresh volume or tmpfs belongs to root), then drops to postgres with setpriv.
set -euo pipefail

: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD: the password of the role the api replicas log in as}"
POSTGRES_USER=${POSTGRES_USER:-draw}
POSTGRES_DB=${POSTGRES_DB:-feedback}
as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)

parent=$(dirname "$PGDATA")
mkdir -p "$parent" /run/postgresql
chown postgres:postgres "$parent" /run/postgresql
chmod 700 "$parent"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  staging="$PGDATA.init"
  rm -rf "$staging"
  # the superuser `postgres` logs in only over the local socket as the postgres OS user (peer)
  "${as_postgres[@]}" initdb --pgdata="$staging" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  echo "host all all samenet scram-sha-256" >>"$staging/pg_hba.conf"
  quote() { printf "'%s'" "${1//\'/\'\'}"; }
  ident() { printf '"%s"' "${1//\"/\"\"}"; }
  # single-user mode: no server, no socket; one statement per line
  "${as_postgres[@]}" postgres --single -D "$staging" postgres >/dev/null <<SQL
CREATE ROLE $(ident "$POSTGRES_USER") LOGIN PASSWORD $(quote "$POSTGRES_PASSWORD");
CREATE DATABASE $(ident "$POSTGRES_DB") OWNER $(ident "$POSTGRES_USER");
SQL
  rm -rf "$PGDATA"
  mv "$staging" "$PGDATA"
  echo "entrypoint: made the cluster in $PGDATA (database $POSTGRES_DB, role $POSTGRES_USER)" >&2
fi

exec "${as_postgres[@]}" postgres -D "$PGDATA" -c listen_addresses='*' "$@"
