#!/usr/bin/env bash
# Starts a local PostgreSQL on 127.0.0.1 for development and tests (idempotent).
#
#   bash scripts/pg-dev.sh          # prints TEST_DATABASE_URL=postgres://tlcds:tlcds@127.0.0.1:5432/postgres
#   eval "$(bash scripts/pg-dev.sh --env)"   # exports TEST_DATABASE_URL in the calling shell
#
# Installs Debian's `postgresql` package when no PostgreSQL server binary is present, starts the
# Debian cluster (pg_ctlcluster; creates one when there is none), and creates the superuser role
# `tlcds` (password `tlcds`) when missing. The cluster keeps Debian's settings (fsync,
# synchronous_commit…): it behaves like a production server. Works as root (CI, containers) and as a
# user who can sudo. Progress goes to stderr; only the URL line goes to stdout.
set -euo pipefail

MODE=plain
case "${1:-}" in
  --env) MODE=env ;;
  "") ;;
  *)
    echo "usage: $0 [--env]" >&2
    exit 2
    ;;
esac

ROLE=tlcds
PASSWORD=tlcds
log() { echo "pg-dev: $*" >&2; }

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
# Runs a command as the `postgres` OS user (initdb/postgres refuse to run as root).
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    sudo -u postgres -- "$@"
  fi
}

server_binary() { ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(server_binary)" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing Debian's postgresql package"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
BIN="$(dirname "$(server_binary)")"
VERSION="$(basename "$(dirname "$BIN")")"
if [ -z "$VERSION" ]; then
  log "no PostgreSQL server found after installation"
  exit 1
fi

# The first cluster of that version (Debian creates `main` at installation); create it when missing.
CLUSTER="$(pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" '$1 == v { print $2; exit }')"
if [ -z "$CLUSTER" ]; then
  CLUSTER=main
  log "creating cluster $VERSION/$CLUSTER"
  $SUDO pg_createcluster "$VERSION" "$CLUSTER" >&2
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')"
STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $4 }')"
if [ "$STATUS" != online ]; then
  log "starting cluster $VERSION/$CLUSTER on port $PORT"
  # Without systemd (containers, CI), pg_ctlcluster starts the server directly.
  $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

for _ in $(seq 1 60); do
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then break; fi
  sleep 0.5
done
if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  log "PostgreSQL did not accept connections on 127.0.0.1:$PORT (see /var/log/postgresql/)"
  exit 1
fi

# psql as the postgres OS user over the Unix socket (peer authentication).
PSQL=(as_postgres "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres)
if [ "$("${PSQL[@]}" -Atc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  log "creating superuser role $ROLE"
  "${PSQL[@]}" -c "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PASSWORD'" >&2
fi

URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/postgres"
log "PostgreSQL $VERSION ($CLUSTER) ready on 127.0.0.1:$PORT"
if [ "$MODE" = env ]; then
  echo "export TEST_DATABASE_URL='$URL'"
else
  echo "TEST_DATABASE_URL=$URL"
fi
