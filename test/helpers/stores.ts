// The store matrix: every suite that uses openTestStore() runs against the store named by
// CONTEXTD_TEST_STORE (sqlite by default; `npm run test:postgres` sets postgres). A PostgreSQL run
// that cannot reach its database fails; it never skips.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

export const STORE_KIND: 'sqlite' | 'postgres' = process.env.CONTEXTD_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const POSTGRES_URL = process.env.CONTEXTD_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';

export interface TestStore {
  kind: 'sqlite' | 'postgres';
  store: Store;
  /** DATABASE_URL that reaches the same data (for server processes) */
  url: string;
  /** raw SQL beside the store, `?` placeholders; numbers come back as numbers */
  raw: (sql: string, ...params: unknown[]) => Promise<Record<string, unknown>[]>;
  /** makes the next service id `id + 1` by inserting a service with id `id` */
  insertServiceWithId: (id: bigint, customerId: string) => Promise<void>;
  /** closes the store and removes its data */
  destroy: () => Promise<void>;
}

/** How many committed events carry rollup deltas not folded into the rollup rows yet (`raw`: a test store's or app's). */
export async function unfoldedEvents(raw: TestStore['raw']): Promise<number> {
  const rows = await raw('SELECT COUNT(*) AS n FROM events WHERE rollup IS NOT NULL AND event_id > (SELECT last_event_id FROM rollup_position)');
  return Number(rows[0].n);
}

export function tempDir(prefix = 'contextd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A PostgreSQL URL whose sessions use their own fresh schema. */
export async function freshPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

// a fixed expiry in 2100 (a lifetime would count from its last write, in 1970)
const SEED_SERVICE = `INSERT INTO services (service_id, customer_id, service_type, started_at, updated_at, expires_at, expires_fixed, doc)
  VALUES (?, ?, 'A', 0, 0, 4102444800000, TRUE, '{"type":"A","started":{"timestamp":"1970-01-01T00:00:00.000Z"}}')`;

/** `clock`: the store's business time (a test's manual clock); wall-clock time by default. */
export async function openTestStore(clock?: () => number): Promise<TestStore> {
  if (STORE_KIND === 'postgres') {
    const { url, drop } = await freshPostgresSchema();
    const store = new PostgresStore({ url, clock });
    await store.migrate();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const raw = async (sql: string, ...params: unknown[]) => {
      let n = 0;
      const rows = (await client.query(sql.replace(/\?/g, () => `$${++n}`), params.map((p) => (typeof p === 'bigint' ? String(p) : p)))).rows;
      return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && k === 'n' ? Number(v) : v])));
    };
    return {
      kind: 'postgres',
      store,
      url,
      raw,
      insertServiceWithId: async (id, customerId) => {
        await raw(SEED_SERVICE, id, customerId);
        await raw(`SELECT setval(pg_get_serial_sequence('services', 'service_id'), ?)`, id);
      },
      destroy: async () => {
        await store.close();
        await client.end();
        await drop();
      },
    };
  }
  const dir = tempDir();
  const path = join(dir, 'contextd.db');
  const store = new SqliteStore({ path, durability: 'full', clock });
  await store.migrate();
  const db = new Database(path);
  return {
    kind: 'sqlite',
    store,
    url: path,
    raw: async (sql, ...params) => db.prepare(sql).all(...params) as Record<string, unknown>[],
    insertServiceWithId: async (id, customerId) => {
      db.prepare(SEED_SERVICE).run(id, customerId);
    },
    destroy: async () => {
      await store.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
