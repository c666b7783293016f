// Opens the store that DATABASE_URL names. Each implementation is loaded only when chosen, so a
// SQLite node never loads pg (and the reverse): start-up stays short.
import type { Config } from '../config.js';
import type { Store } from './store.js';

export async function openStore(config: Pick<Config, 'database' | 'durability' | 'poolSize'>): Promise<Store> {
  const { database, durability } = config;
  if (database.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres/index.js');
    return new PostgresStore({ url: database.url, poolSize: config.poolSize, durability });
  }
  const { SqliteStore } = await import('./sqlite/index.js');
  return new SqliteStore({ path: database.path, durability });
}
