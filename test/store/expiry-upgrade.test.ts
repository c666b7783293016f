// Migration 016 on a store that holds services: a write now re-arms an expiry through updated_at
// alone, so a service whose expires_at was not its last write plus its lifetime (a ttl an older
// build's PUT set, or a row written by hand) must keep the expiry it had through the upgrade.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadMigrations } from '../../src/store/migrations.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { freshPostgresSchema, STORE_KIND, tempDir } from '../helpers/stores.js';

const LIFETIME = 157_680_000_000; // the default: 5 years
const NOW = Date.UTC(2026, 0, 1);
const DOC = '{"type":"A","started":{"timestamp":"2026-01-01T00:00:00.000Z"}}';
// [service_id, updated_at, expires_at, lifetime_ms, expires_fixed]: what each row's expiry was before
const ROWS: [number, number, number, number, boolean][] = [
  [1, NOW, NOW + LIFETIME, LIFETIME, false], // as every write left it
  [2, NOW - 86_400_000, NOW + 3_600_000, 3_600_000, false], // a ttl of an hour set now by PUT, the last write a day ago
  [3, NOW, NOW + 60_000, LIFETIME, true], // a fixed expiration_time
];

/** A store migrated up to 015, holding ROWS, then opened by this build (which applies 016). */
async function upgraded(): Promise<{ store: Store; done: () => Promise<void> }> {
  const before = (sql: string) => loadMigrations(STORE_KIND).filter((m) => m.version < 16).map((m) => m.sql).concat(sql);
  const insert = (fixed: (b: boolean) => string) =>
    ROWS.map(([id, updated, expires, lifetime, isFixed]) => `INSERT INTO services (service_id, service_type, customer_id, started_at, updated_at, expires_at, lifetime_ms, expires_fixed, doc) VALUES (${id}, 'A', 'U', ${NOW}, ${updated}, ${expires}, ${lifetime}, ${fixed(isFixed)}, '${DOC}');`).join('\n');
  const record = (n: number) => `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
    ${Array.from({ length: n }, (_, i) => `INSERT INTO schema_migrations VALUES (${i + 1}, 'before', '2026-01-01');`).join('\n')}`;
  if (STORE_KIND === 'postgres') {
    const { url, drop } = await freshPostgresSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const sql of before(insert((b) => String(b)))) await client.query(sql);
    await client.query(record(15).replace('applied_at TEXT NOT NULL', 'applied_at TIMESTAMPTZ NOT NULL DEFAULT now()'));
    await client.end();
    const store = new PostgresStore({ url, clock: () => NOW });
    assert.deepEqual(await store.migrate(), loadMigrations('postgres').filter((m) => m.version >= 16).map((m) => m.version));
    return { store, done: async () => (await store.close(), await drop()) };
  }
  const dir = tempDir();
  const path = join(dir, 'contextd.db');
  const db = new Database(path);
  for (const sql of before(insert((b) => (b ? '1' : '0')))) db.exec(sql);
  db.exec(record(15));
  db.close();
  const store = new SqliteStore({ path, durability: 'full', clock: () => NOW });
  assert.deepEqual(await store.migrate(), loadMigrations('sqlite').filter((m) => m.version >= 16).map((m) => m.version));
  return { store, done: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

test(`[${STORE_KIND}] migration 016: every service keeps the expiry it had`, async () => {
  const { store, done } = await upgraded();
  try {
    for (const [id, , expires] of ROWS) assert.equal((await store.getService(BigInt(id)))?.expiresAt, expires, `service ${id}`);
  } finally {
    await done();
  }
});
