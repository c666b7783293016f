#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at 127.0.0.1:5432 with trust auth for user root and a
# database `test` (what `npm run test:postgres` expects): installs it with apt-get if it is missing,
# starts the cluster if it is down. For CI and development machines, not for production.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "ensure-postgres: starting cluster $version/main" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! psql -h 127.0.0.1 -U root -d test -Atc 'select 1' >/dev/null 2>&1; then
  echo "ensure-postgres: setting up role root, database test and trust auth on loopback" >&2
  hba=$(su postgres -c "psql -Atc 'show hba_file'")
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    su postgres -c "psql -qc 'select pg_reload_conf()'" >/dev/null
  fi
  su postgres -c "psql -qc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END \\\$\\\$\"" >/dev/null
  su postgres -c "psql -Atc \"select 1 from pg_database where datname = 'test'\"" | grep -q 1 || su postgres -c "createdb -O root test"
fi

psql -h 127.0.0.1 -U root -d test -Atc 'select 1' >/dev/null
echo "ensure-postgres: ready at 127.0.0.1:5432" >&2
