#!/usr/bin/env bash
# Debian's PostgreSQL server (initdb, pg_ctl, postgres) for the vote endpoint's PostgreSQL tests and load runs,
# which start their own throwaway server (endpoint/local-postgres.ts). A no-op when the binaries are already there,
# on PATH or in /usr/lib/postgresql/<version>/bin.
set -euo pipefail
found() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then return 0; fi
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
found && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-postgres: PostgreSQL server binaries missing and not root; install them with: sudo apt-get install -y postgresql" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: PostgreSQL server binaries missing and no apt-get here; install PostgreSQL and put initdb and pg_ctl on PATH" >&2
  exit 1
fi
echo "ensure-postgres: installing postgresql from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql </dev/null >/dev/null
found || { echo "ensure-postgres: installed postgresql, yet initdb and pg_ctl are still missing" >&2; exit 1; }
