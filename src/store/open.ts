// Opens the store that DATABASE_URL names.
import type { DatabaseTarget } from '../config.js';
import { SqliteStore } from './sqlite/index.js';
import type { Store } from './store.js';

export async function openStore(target: DatabaseTarget, durability: 'full' | 'relaxed'): Promise<Store> {
  if (target.kind === 'postgres') {
    throw new Error('the PostgreSQL store is not available in this version; use a SQLite path in DATABASE_URL');
  }
  return new SqliteStore({ path: target.path, durability });
}
