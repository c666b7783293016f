// Opens the store that DATABASE_URL names.
import type { Config } from '../config.js';
import { PostgresStore } from './postgres/index.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store } from './store.js';

export function openStore(config: Pick<Config, 'database' | 'durability' | 'poolSize'>): Store {
  const { database, durability } = config;
  if (database.kind === 'postgres') return new PostgresStore({ url: database.url, poolSize: config.poolSize, durability });
  return new SqliteStore({ path: database.path, durability });
}
