// contextd from its sources with the analytics rollups on or off, for bench/run.ts's "what analytics
// cost writes" rows: ROLLUPS=off builds the store with `rollups: false` (no write carries deltas, no
// fold runs) and drops the three indexes only analytics read (the live board's and the funnel's), so
// the two differ by exactly what analytics add to a write. Both run the same way (through tsx), so the
// rows compare like with like. PORT, DATABASE_URL (a file, or a postgres:// URL), ROLLUPS=on|off.
import Database from 'better-sqlite3';
import pg from 'pg';
import { buildApp } from '../../src/http/app.js';
import type { Store } from '../../src/store/store.js';

const off = process.env.ROLLUPS === 'off';
const url = process.env.DATABASE_URL!;
const options = off ? { rollups: false as const } : {};
const store: Store = url.startsWith('postgres')
  ? new (await import('../../src/store/postgres/index.js')).PostgresStore({ url, durability: 'full', ...options })
  : new (await import('../../src/store/sqlite/index.js')).SqliteStore({ path: url, durability: 'full', ...options });
await store.migrate();
if (off) {
  const drop = ['services_active_by_type', 'states_waiting_by_type', 'services_by_type'].map((index) => `DROP INDEX IF EXISTS ${index};`).join(' ');
  if (url.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(drop);
    await client.end();
  } else {
    const db = new Database(url);
    db.exec(drop);
    db.close();
  }
}
const app = await buildApp({ store, storeFor: () => store, rollupFold: off ? false : undefined });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.send?.('ready');
process.on('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
