#!/usr/bin/env bash
# The feedback store's tests start a throwaway PostgreSQL cluster of their own (backend/testing/postgres.py)
# with Debian's server binaries (initdb, pg_ctl) and its `postgres` user. Install the package when missing.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  id postgres >/dev/null 2>&1 && exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing postgresql for the feedback store's tests..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "The feedback store's tests need PostgreSQL's server: run 'sudo apt-get install -y postgresql' (Debian/Ubuntu)." >&2
exit 1
