// Opens stores. Each implementation is loaded only when chosen, so a SQLite node never loads pg (and
// the reverse): start-up stays short.
//
// Tenant partitions are kept apart physically: each (tenant, group) has a store of its own — a
// SQLite file beside the main one, or a PostgreSQL schema — with the same tables and migrations.
// No query can reach another partition's rows, whatever it forgets to filter on. The main store
// (DATABASE_URL as given) holds single-tenant data, answers /health and carries events between nodes.
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { describeDatabase, type Config, type DatabaseTarget } from '../config.js';
import { partitionIdBase, type Partition } from '../domain/tenancy.js';
import type { Store } from './store.js';

/** A name part for the partition: `t<id>` or `t<id>_g_<group slug>_<hash>` (the hash keeps groups that slug alike apart). */
export function partitionSuffix(partition: Partition): string {
  if (!partition.tenant) return '';
  const tenant = `t${partition.tenant.id < 0 ? `m${-partition.tenant.id}` : partition.tenant.id}`;
  if (partition.group === undefined) return tenant;
  const slug = partition.group.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 20);
  const hash = createHash('sha256').update(partition.group).digest('hex').slice(0, 8);
  return `${tenant}_g_${slug}_${hash}`;
}

/** `./data/contextd.db` → `./data/contextd.t101.db` (and `.t101_g_sales_1a2b3c4d.db` for a group). */
export function partitionFilePath(mainPath: string, partition: Partition): string {
  const suffix = partitionSuffix(partition);
  if (!suffix) return mainPath;
  const file = basename(mainPath);
  const dot = file.lastIndexOf('.');
  const stem = dot > 0 ? file.slice(0, dot) : file;
  const extension = dot > 0 ? file.slice(dot) : '.db';
  return join(dirname(mainPath), `${stem}.${suffix}${extension}`);
}

/** `contextd_t101` — or `<schema>_t101` when DATABASE_URL selects a schema of its own. */
export function partitionSchema(baseSchema: string | undefined, partition: Partition): string {
  // PostgreSQL names are at most 63 bytes: the base gives way, the suffix (with its hash) stays whole
  const suffix = partitionSuffix(partition);
  return `${(baseSchema ?? 'contextd').slice(0, 62 - suffix.length)}_${suffix}`.toLowerCase();
}

/** A store that could not be opened or migrated at start-up; the message names the file or the URL (exit code 2). */
export class StoreOpenError extends Error {}

/** The store a partition's data lives in, as a person reads it. */
function partitionTarget(database: DatabaseTarget, partition: Partition): DatabaseTarget {
  return database.kind === 'sqlite' ? { kind: 'sqlite', path: partitionFilePath(database.path, partition) } : database;
}

async function naming<T>(target: DatabaseTarget, doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(`cannot ${doing} the store ${describeDatabase(target)}: ${(error as Error).message}`);
  }
}

type OpenConfig = Pick<Config, 'database' | 'durability' | 'poolSize'> & Partial<Pick<Config, 'pgTimeouts'>>;

/** Opens the store of one partition (not migrated); `clock` is its business time (wall clock by default). */
export async function openPartitionStore(config: OpenConfig, partition: Partition, clock?: () => number): Promise<Store> {
  return naming(partitionTarget(config.database, partition), 'open', () => openStore(config, partition, clock));
}

/** Opens and migrates the store of one partition (a command's store). */
export async function openMigratedPartitionStore(config: OpenConfig, partition: Partition): Promise<Store> {
  const store = await openPartitionStore(config, partition);
  try {
    await naming(partitionTarget(config.database, partition), 'migrate', () => store.migrate());
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

async function openStore(config: OpenConfig, partition: Partition, clock?: () => number): Promise<Store> {
  const { database, durability } = config;
  if (database.kind === 'postgres') {
    const { PostgresStore, searchPathOf } = await import('./postgres/index.js');
    const schema = partition.tenant ? partitionSchema(searchPathOf(database.url), partition) : undefined;
    return new PostgresStore({
      url: database.url,
      poolSize: config.poolSize,
      durability,
      schema,
      idBase: partitionIdBase(partition),
      clock,
      connectTimeoutMs: config.pgTimeouts?.connectMs,
      queryTimeoutMs: config.pgTimeouts?.queryMs,
    });
  }
  const { SqliteStore } = await import('./sqlite/index.js');
  return new SqliteStore({ path: partitionFilePath(database.path, partition), durability, idBase: partitionIdBase(partition), clock });
}

/** The main store and one store per partition (in single-tenant mode, the main store is the only one). */
export class PartitionStores {
  constructor(
    readonly main: Store,
    private readonly byKey: ReadonlyMap<string, Store>,
    /** where each store's data lives, by partition key ('' the main store) */
    private readonly targets: ReadonlyMap<string, DatabaseTarget>,
  ) {}

  get(partition: Partition): Store {
    if (partition.key === '') return this.main;
    const store = this.byKey.get(partition.key);
    if (!store) throw new Error(`no store for partition ${partition.key}`);
    return store;
  }

  /** Applies pending migrations to every store; returns the versions applied to the main one. */
  async migrate(): Promise<number[]> {
    const applied = await naming(this.targets.get('')!, 'migrate', () => this.main.migrate());
    for (const [key, store] of this.byKey) await naming(this.targets.get(key)!, 'migrate', () => store.migrate());
    return applied;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byKey.values(), this.main].map((store) => store.close()));
  }
}

/** Opens the main store and one per partition (none in single-tenant mode). */
export async function openPartitionStores(config: OpenConfig, partitions: readonly Partition[]): Promise<PartitionStores> {
  const main = await openPartitionStore(config, { key: '' });
  const byKey = new Map<string, Store>();
  try {
    for (const partition of partitions) if (partition.key !== '') byKey.set(partition.key, await openPartitionStore(config, partition));
  } catch (error) {
    await Promise.all([main, ...byKey.values()].map((s) => s.close().catch(() => undefined)));
    throw error;
  }
  const targets = new Map([{ key: '' }, ...partitions].map((partition) => [partition.key, partitionTarget(config.database, partition)]));
  return new PartitionStores(main, byKey, targets);
}
