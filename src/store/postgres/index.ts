// The shared store: PostgreSQL through a pg pool, for several contextd nodes on one database. Writes
// go through the group commit (src/store/sql/group-commit.ts); a few batches commit at once, each on
// its own connection, and every write is answered (committed, refused, or 503) within the connect +
// query timeouts. int8 columns are read as bigint (pg hands them over as text; never through a
// float). When the database cannot be reached, calls fail fast with Unavailable (503) and the pool
// reconnects on the next call. The SQL itself is src/store/sql/; this file holds the pool, the
// transaction with its deadline, migrations and the LISTEN/NOTIFY channel between nodes.
import pg from 'pg';
import { DomainError, invalid, unavailable } from '../../domain/errors.js';
import { loadMigrations } from '../migrations.js';
import type { SqlReader, SqlWriter } from '../sql/dialect.js';
import { SqlStore, type StoreDriver } from '../sql/sql-store.js';
import type { ConnectionUse, StoreHealth } from '../store.js';
import { postgresDialect } from './dialect.js';

export interface PostgresStoreOptions {
  url: string;
  poolSize?: number;
  /** how long a request waits for a connection before it gets 503 */
  connectTimeoutMs?: number;
  /** client-side cap on one query, so a hung database never hangs a request */
  queryTimeoutMs?: number;
  /** 'relaxed' sets synchronous_commit=off for this store's sessions */
  durability?: 'full' | 'relaxed';
  /** sessions work in this schema (a tenant partition's); migrate() creates it */
  schema?: string;
  /** a tenant partition's first service id (its tag << 33): new ids are allocated above it */
  idBase?: bigint;
  /** false: the analytics rollups miss every write (GroupCommitOptions.rollups: for measuring their cost) */
  rollups?: false;
  /** epoch ms of business time (expiry, idle times, records); timeouts stay on the wall clock */
  clock?: () => number;
}

/** Double-quotes an identifier for SQL. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The URL with `-c search_path=<schema>` added to its startup options (after any it has, so it wins).
 * The connection string is the one place pg reads options from that nothing else overrides.
 */
export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const current = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${current ? `${current} ` : ''}-c search_path=${schema}`);
  return parsed.toString();
}

/** The schema a URL's startup options select (`-c search_path=…`), if any. */
export function searchPathOf(url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? '';
  const matches = [...options.matchAll(/-c\s*search_path=([^\s,]+)/g)];
  return matches.at(-1)?.[1];
}

type Queryable = Pick<pg.PoolClient, 'query'>;

// The shared SQL uses `?`; PostgreSQL numbers them. Each distinct text becomes a named statement,
// which PostgreSQL parses and plans once per connection.
const prepared = new Map<string, { name: string; text: string }>();
function statement(sql: string, values: readonly unknown[]): pg.QueryConfig {
  let entry = prepared.get(sql);
  if (!entry) {
    let n = 0;
    prepared.set(sql, (entry = { name: `s${prepared.size}`, text: sql.replace(/\?/g, () => `$${++n}`) }));
  }
  return { name: entry.name, text: entry.text, values: values.map((v) => (typeof v === 'bigint' ? v.toString() : v)) };
}

/** Savepoint commands run as plain statements (they take no parameters and need no plan). */
const SAVEPOINT_COMMAND = /^(SAVEPOINT|RELEASE|ROLLBACK TO) /;

class PgConnection implements SqlWriter {
  constructor(
    private readonly db: Queryable,
    /** reads outside a write: errors come out translated (503 when the database is away) */
    private readonly translates = false,
  ) {}

  private async query<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return SAVEPOINT_COMMAND.test(sql) ? await this.db.query<R>(sql) : await this.db.query<R>(statement(sql, params));
    } catch (error) {
      throw this.translates ? translate(error) : error;
    }
  }

  async all<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.query<pg.QueryResultRow>(sql, params)).rows as R[];
  }

  async one<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.all<R>(sql, params))[0];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  /** A file of several statements (a migration): the simple protocol, no parameters, no named statement. */
  async script(sql: string): Promise<void> {
    await this.db.query(sql);
  }
}

const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

// Errors that mean "the database is not there" rather than "this query is wrong".
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006',
]);

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  return /timeout|Connection terminated|connection ended|Client has encountered a connection error|not queryable/i.test(error.message);
}

/** Deadlock or serialization failure: the transaction can simply run again. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === '40P01' || code === '40001';
}

function translate(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  if (isUnavailable(error)) return unavailable(`the database is unreachable: ${(error as Error).message}`);
  // text PostgreSQL cannot hold (a NUL character): the request's fault; the HTTP layer refuses NUL first
  if ((error as { code?: unknown }).code === '22021') return invalid('text must not contain the NUL character');
  return error;
}

const MIGRATION_LOCK = 0x636f6e74; // "cont": one key for every contextd node
const EVENT_CHANNEL = 'contextd_events';

class PostgresDriver implements StoreDriver {
  readonly kind = 'postgres' as const;
  readonly dialect = postgresDialect;
  readonly pool: pg.Pool;
  readonly reader: SqlReader;
  readonly url: string;
  closed = false;
  /** the promise to a request while the database is away: an answer (503 at worst) within connect + query timeout */
  readonly answerWithinMs: number;

  constructor(private readonly options: PostgresStoreOptions) {
    this.answerWithinMs = (options.connectTimeoutMs ?? 3000) + (options.queryTimeoutMs ?? 10_000);
    this.url = options.schema === undefined ? options.url : withSearchPath(options.url, options.schema);
    this.pool = new pg.Pool({
      connectionString: this.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      types,
    });
    // an idle client losing its connection must not crash the process; the pool replaces it
    this.pool.on('error', () => undefined);
    // nor a checked-out one: pg emits 'error' on a client whose connection drops between queries (and
    // after it was released with an error), where nobody listens. Every client gets a listener for
    // its whole life; the loss then shows as the next query's error (503) and the client is discarded.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    if (options.durability === 'relaxed') {
      this.pool.on('connect', (client) => void client.query('SET synchronous_commit = off').catch(() => undefined));
    }
    const pool = new PgConnection(this.pool, true);
    const guarded = (read: () => Promise<unknown>) => (this.closed ? Promise.reject(unavailable('the store is closed')) : read());
    this.reader = {
      all: (sql, params) => guarded(() => pool.all(sql, params)) as never,
      one: (sql, params) => guarded(() => pool.one(sql, params)) as never,
    };
  }

  /**
   * Runs `work` in a transaction on one connection. The connection is dropped when `deadline` (epoch
   * ms) passes, so a silent database (a blackhole) fails the transaction by then instead of after one
   * query timeout per statement.
   */
  async transaction<T>(work: (tx: SqlWriter) => Promise<T>, deadline: number): Promise<T> {
    if (this.closed) throw unavailable('the store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const drop = () => {
      broken = new Error(`timeout: the database did not answer within ${this.answerWithinMs} ms`);
      (client as unknown as { connection?: { stream?: { destroy: () => void } } }).connection?.stream?.destroy();
    };
    if (deadline <= Date.now()) drop();
    else if (Number.isFinite(deadline)) timer = setTimeout(drop, deadline - Date.now());
    try {
      if (broken) throw broken;
      await client.query('BEGIN');
      const result = await work(new PgConnection(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (broken) throw translate(broken);
      const cause = (error as { cause?: unknown }).cause ?? error;
      if (isUnavailable(cause)) broken = cause as Error;
      else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw error;
    } finally {
      clearTimeout(timer);
      client.release(broken);
    }
  }

  /** A lost connection, or a deadlock to retry: the transaction cannot go on past it. */
  isFatal(error: unknown): boolean {
    return isUnavailable(error) || isRetryable(error);
  }

  isRetryable(error: unknown): boolean {
    return isRetryable(error);
  }

  translate(error: unknown): unknown {
    return translate(error);
  }

  batchFailure(error: unknown): unknown {
    return translate(error);
  }

  async migrate(): Promise<number[]> {
    return this.transaction(async (tx) => {
      // one node migrates at a time; the others wait here, then find nothing left to do
      await tx.all('SELECT pg_advisory_xact_lock(CAST(? AS bigint))', [MIGRATION_LOCK]);
      if (this.options.schema !== undefined) await tx.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.options.schema)}`);
      await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const applied = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
      const done: number[] = [];
      for (const migration of loadMigrations('postgres')) {
        if (applied.has(migration.version)) continue;
        await (tx as PgConnection).script(migration.sql);
        await tx.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [migration.version, migration.name]);
        done.push(migration.version);
      }
      const base = this.options.idBase ?? 0n;
      if (base > 0n) {
        const seq = (await tx.one<{ seq: string }>("SELECT pg_get_serial_sequence('services', 'service_id') AS seq"))!.seq;
        await tx.all(`SELECT setval(CAST(? AS regclass), CAST(? AS bigint)) FROM ${seq} WHERE last_value < CAST(? AS bigint)`, [seq, base, base]);
      }
      return done;
    }, Infinity);
  }

  async vacuum(): Promise<{ bytesBefore: number; bytesAfter: number }> {
    const tables = (await this.reader.all<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename')).map((r) => r.name);
    const bytes = async () =>
      Number((await this.reader.one<{ n: unknown }>("SELECT coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename))), 0) AS n FROM pg_tables WHERE schemaname = current_schema()"))?.n ?? 0);
    const bytesBefore = await bytes();
    // VACUUM cannot run inside a transaction: one statement a table on the pool, not the FULL kind (it would lock each table)
    for (const table of tables) await this.pool.query(`VACUUM (ANALYZE) ${quoteIdent(table)}`);
    return { bytesBefore, bytesAfter: await bytes() };
  }

  connections(): ConnectionUse {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.reader.all('SELECT 1 AS ok');
      return { kind: 'postgres', ok: true };
    } catch (error) {
      return { kind: 'postgres', ok: false, detail: (error as Error).message };
    }
  }

  // ---- live events between nodes ----

  private listener?: pg.Client;
  private listenRetry?: NodeJS.Timeout;
  private listening = false;

  async publish(payload: string): Promise<void> {
    await this.reader.all('SELECT pg_notify(?, ?)', [EVENT_CHANNEL, payload]);
  }

  async subscribe(handler: (payload: string) => void): Promise<void> {
    this.listening = true;
    const connect = async (): Promise<void> => {
      if (!this.listening) return;
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 3000 });
      const retry = () => {
        client.removeAllListeners();
        client.end().catch(() => undefined);
        if (this.listener === client) this.listener = undefined;
        if (this.listening) this.listenRetry = setTimeout(() => void connect(), 1000);
      };
      client.on('error', retry);
      client.on('notification', (message) => {
        if (message.channel === EVENT_CHANNEL && message.payload) handler(message.payload);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${EVENT_CHANNEL}`);
        if (!this.listening) return void (await client.end());
        this.listener = client;
      } catch {
        retry();
      }
    };
    await connect();
  }

  /** Stops listening (before the group commit drains: no event arrives for a closing store). */
  async stopListening(): Promise<void> {
    this.listening = false;
    clearTimeout(this.listenRetry);
    const listener = this.listener;
    this.listener = undefined;
    listener?.removeAllListeners();
    await listener?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.stopListening();
    this.closed = true;
    await this.pool.end();
  }
}

export class PostgresStore extends SqlStore {
  private readonly pg: PostgresDriver;

  constructor(options: PostgresStoreOptions) {
    const driver = new PostgresDriver(options);
    super(driver, {
      maxBatch: 500,
      // leave connections for reads: at most half the pool commits batches at once
      concurrency: Math.max(1, Math.floor((options.poolSize ?? 10) / 2)),
      answerWithinMs: driver.answerWithinMs,
      clock: options.clock ?? Date.now,
      rollups: options.rollups,
    });
    this.pg = driver;
  }

  /** Sends an event payload to every node (NOTIFY). */
  publishEvent(payload: string): Promise<void> {
    return this.pg.publish(payload);
  }

  /** Receives every node's event payloads (LISTEN), reconnecting by itself. */
  subscribeEvents(handler: (payload: string) => void): Promise<void> {
    return this.pg.subscribe(handler);
  }

  override async close(): Promise<void> {
    await this.pg.stopListening();
    await super.close();
  }
}
