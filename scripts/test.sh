#!/usr/bin/env bash
# `npm test`: every suite on SQLite, then the store and HTTP suites (and the PostgreSQL-only tests) on
# PostgreSQL when a server answers at CONTEXTD_TEST_POSTGRES_URL (default 127.0.0.1:5432, database
# test). The NATS relay tests use CONTEXTD_TEST_NATS_URL (default nats://127.0.0.1:4222). Without one, the PostgreSQL half is skipped with a note — except in CI (CI=true), where that
# is a failure: CI must test both stores. `scripts/test.sh postgres` runs the PostgreSQL half alone
# (`npm run test:postgres`), and fails without a server.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${1:-}
npm run build --silent
# the sources, the tests and the benches type-check (tsx runs them without checking)
npm run typecheck --silent

# the NATS relay tests need a NATS server with JetStream (scripts/ensure-nats.sh starts one): without
# one they are skipped with a note — except in CI, where that is a failure
nats=${CONTEXTD_TEST_NATS_URL:-nats://127.0.0.1:4222}
hostport=${nats#nats://}
if ! (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "test: no NATS answers at $nats (scripts/ensure-nats.sh starts one); CI tests the NATS relay" >&2
    exit 1
  fi
  echo "test: no NATS answers at $nats: the NATS relay tests are skipped (scripts/ensure-nats.sh starts one)" >&2
  export CONTEXTD_TEST_NATS=absent
fi

if [ "$only" != postgres ]; then
  node --import tsx --test $(find test -name '*.test.ts' ! -name '*.pg.test.ts' ! -name '*.browser.test.ts' | sort)
fi

url=${CONTEXTD_TEST_POSTGRES_URL:-postgres://root@127.0.0.1:5432/test}
if node -e "const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1],connectionTimeoutMillis:2000});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))" "$url"; then
  CONTEXTD_TEST_STORE=postgres node --import tsx --test $(find test/http test/store test/postgres -name '*.test.ts' ! -name 'sqlite.test.ts' | sort) test/cli/durability.test.ts
elif [ "${CI:-}" = "true" ] || [ "$only" = postgres ]; then
  echo "test: no PostgreSQL answers at $url (scripts/ensure-postgres.sh starts one); CI tests both stores" >&2
  exit 1
else
  echo "test: no PostgreSQL answers at $url: its half is skipped (scripts/ensure-postgres.sh starts one)" >&2
fi
