// The embedded store: one SQLite file in WAL mode, through better-sqlite3. Two connections: writes
// run on one, in the group commit (one transaction, one fsync per batch); reads run on the other,
// so a read never sees a write that has not committed (WAL gives each read the last commit). The
// SQL itself is src/store/sql/; this file holds only the connections, the file checks and migrations.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DomainError, unavailable } from '../../domain/errors.js';
import { loadMigrations } from '../migrations.js';
import type { SqlWriter } from '../sql/dialect.js';
import { SqlStore, type StoreDriver } from '../sql/sql-store.js';
import type { Write } from '../sql/write.js';
import type { StoreHealth } from '../store.js';
import { sqliteDialect } from './dialect.js';

export interface SqliteStoreOptions {
  /** file path; the directory is created */
  path: string;
  /** 'full': a commit survives power loss (synchronous=FULL); 'relaxed': synchronous=NORMAL */
  durability: 'full' | 'relaxed';
  /** most writes in one group commit */
  maxBatch?: number;
  /** caps the database file (PRAGMA max_page_count); beyond it writes fail as on a full disk */
  maxBytes?: number;
  /** a tenant partition's first service id (its tag << 33): new ids are allocated above it */
  idBase?: bigint;
  /** false: the analytics rollups miss every write (GroupCommitOptions.rollups: for measuring their cost) */
  rollups?: false;
  /** epoch ms of business time (expiry, idle times, records) */
  clock?: () => number;
}

/** SQLite result codes that mean the storage cannot take writes now (full disk, I/O error, locked): 503, not a bug. */
const STORAGE_FAILURES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/;

function storageFailure(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && STORAGE_FAILURES.test(code) ? unavailable(`the store cannot write: ${(error as Error).message}`) : error;
}

/** Prepared statements kept per connection; query shapes are far fewer, so the bound only guards against a shape-per-request bug. */
const STATEMENT_CACHE_MAX = 500;

/** One better-sqlite3 connection as a SqlWriter (synchronous underneath), with its statement cache. */
class SqliteConnection implements SqlWriter {
  readonly statements = new Map<string, Database.Statement>();
  /** `reads`: the read connection, whose errors callers see translated; the writer's go to the batch rule raw */
  constructor(
    readonly db: Database.Database,
    private readonly reads = false,
  ) {}

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_MAX) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, (statement = this.db.prepare(sql)));
    }
    return statement;
  }

  async all<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      const statement = this.stmt(sql);
      if (statement.reader) return statement.all(...params) as R[];
      statement.run(...params);
      return [];
    } catch (error) {
      throw this.reads ? storageFailure(error) : error;
    }
  }

  async one<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    try {
      const statement = this.stmt(sql);
      if (statement.reader) return statement.get(...params) as R | undefined;
      statement.run(...params);
      return undefined;
    } catch (error) {
      throw this.reads ? storageFailure(error) : error;
    }
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    const statement = this.stmt(sql);
    if (statement.reader) return statement.all(...params).length;
    return statement.run(...params).changes;
  }
}

/**
 * Creates the file's missing directories one level at a time. mkdirSync's own recursive mode spins
 * forever under a file system that refuses new entries with ENOENT, such as /proc (Node 20).
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing) mkdirSync(at);
}

function open(path: string, durability: 'full' | 'relaxed'): Database.Database {
  const db = new Database(path);
  db.defaultSafeIntegers(true);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

class SqliteDriver implements StoreDriver {
  readonly kind = 'sqlite' as const;
  readonly dialect = sqliteDialect;
  readonly writer: SqliteConnection;
  readonly reader: SqliteConnection;
  /** the file as opened: a write checks that the path still names it (deleted or replaced → 503) */
  private readonly file: { dev: number; ino: number };

  constructor(private readonly options: SqliteStoreOptions) {
    makeDirectories(dirname(options.path));
    this.writer = new SqliteConnection(open(options.path, options.durability));
    const opened = statSync(options.path);
    this.file = { dev: opened.dev, ino: opened.ino };
    const reads = open(options.path, options.durability);
    reads.pragma('query_only = ON');
    this.reader = new SqliteConnection(reads, true);
    if (options.maxBytes !== undefined) {
      const pageSize = Number(this.writer.db.pragma('page_size', { simple: true }));
      this.writer.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
  }

  async transaction<T>(work: (tx: SqlWriter) => Promise<T>): Promise<T> {
    // one batch at a time (the group commit's concurrency is 1): nothing else uses this connection meanwhile
    const db = this.writer.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = await work(this.writer);
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  /** On a full disk or an I/O error SQLite may roll the whole transaction back by itself: the batch has then failed as a whole. */
  isFatal(): boolean {
    return !this.writer.db.inTransaction;
  }

  isRetryable(): boolean {
    return false;
  }

  translate(error: unknown): unknown {
    return storageFailure(error);
  }

  batchFailure(error: unknown): unknown {
    const translated = storageFailure(error);
    return translated instanceof DomainError ? translated : unavailable(`the store could not commit: ${(error as Error).message}`);
  }

  /** Why the path no longer names the opened database file, if it does not (a write there would be acknowledged, then lost). */
  refusal(): string | undefined {
    const path = this.options.path;
    try {
      const now = statSync(path);
      if (now.ino === this.file.ino && now.dev === this.file.dev) return undefined;
      return `the database file ${path} was replaced while open; writes are refused (restart to open the new file)`;
    } catch {
      return `the database file ${path} was deleted while open; writes are refused (restore it and restart)`;
    }
  }

  async migrate(): Promise<number[]> {
    const db = this.writer.db;
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: bigint }[]).map((r) => Number(r.version)));
    const done: number[] = [];
    for (const migration of loadMigrations('sqlite')) {
      if (applied.has(migration.version)) continue;
      db.transaction(() => {
        db.exec(migration.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, new Date().toISOString());
      }).immediate();
      done.push(migration.version);
    }
    // service ids come from the sequence (dialect.allocateIds), which starts at the partition's base
    db.transaction(() => {
      db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'services', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'services')").run();
      const base = this.options.idBase ?? 0n;
      if (base > 0n) db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'services' AND seq < ?").run(base, base);
    }).immediate();
    return done;
  }

  /** Healthy means writable: the file is still in place and a write commits (a read-only file or file system fails here). */
  async health(probe: <T>(write: Write<T>) => Promise<T>): Promise<StoreHealth> {
    try {
      const lost = this.refusal();
      if (lost) return { kind: 'sqlite', ok: false, detail: lost };
      // a real write through the group commit (one fsync, shared with other writes): a write that
      // changes no value writes no page, so the probe flips the header's user_version (unused otherwise)
      await probe({
        plan: async (read) => Number((await read.one<{ user_version: bigint }>('PRAGMA user_version'))?.user_version ?? 0),
        apply: async (tx, version) => void (await tx.run(`PRAGMA user_version = ${version === 1 ? 2 : 1}`)),
      });
      return { kind: 'sqlite', ok: true };
    } catch (error) {
      return { kind: 'sqlite', ok: false, detail: (error as Error).message };
    }
  }

  async vacuum(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    const bytes = () => [this.options.path, `${this.options.path}-wal`].reduce((n, file) => n + (existsSync(file) ? statSync(file).size : 0), 0);
    const bytesBefore = bytes();
    // outside any batch: the command that vacuums has no writes of its own, a server's wait on the lock
    this.writer.db.exec('VACUUM');
    this.writer.db.pragma('wal_checkpoint(TRUNCATE)');
    return { bytesBefore, bytesAfter: bytes() };
  }

  async close(): Promise<void> {
    this.reader.db.close();
    this.writer.db.close();
  }
}

export class SqliteStore extends SqlStore {
  private readonly sqlite: SqliteDriver;

  constructor(options: SqliteStoreOptions) {
    const driver = new SqliteDriver(options);
    super(driver, { maxBatch: options.maxBatch ?? 1000, concurrency: 1, answerWithinMs: Infinity, clock: options.clock ?? Date.now, rollups: options.rollups });
    this.sqlite = driver;
  }

  /** The query plan SQLite makes for `sql` (the production text, e.g. services.ACTIVE_SERVICES_OF_CUSTOMER), one line per step. */
  explainQueryPlan(sql: string, params: unknown[]): string[] {
    return (this.sqlite.reader.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
  }

  /** How many prepared statements the connections hold (bounded; one per query shape). */
  preparedStatements(): number {
    return this.sqlite.reader.statements.size + this.sqlite.writer.statements.size;
  }
}
