// The shared store: PostgreSQL through a pg pool, for several contextd nodes on one database.
// Writes go through a group-commit queue, as in the SQLite store: writes that arrive together run in
// one transaction (each in its own savepoint, so a rejected write rolls back alone) and every promise
// settles only after COMMIT returns. A few batches run at once on separate connections. int8 columns are read
// as bigint (pg hands them over as strings; never through a float). When the database cannot be
// reached, calls fail fast with Unavailable (503) and the pool reconnects on the next call.
import pg from 'pg';
import { DomainError, invalid, notFound, unavailable } from '../../domain/errors.js';
import { typeKey } from '../../domain/fields.js';
import { associateDoc, completeDoc } from '../../domain/lifecycle.js';
import type {
  ElementEnd,
  Extensions,
  ServiceAssociation,
  ServiceRecord,
  ServiceStart,
  StateRecord,
  StateStart,
  StateTransition,
  TaskRecord,
  TaskStart,
} from '../../domain/records.js';
import {
  decodeDoc,
  docOf,
  encodeDoc,
  encodeExtensionValue,
  groupExtensions,
  serviceFromRow,
  stateFromRow,
  statusClause,
  taskFromRow,
  type ExtensionRow,
  type ServiceRow,
  type StateRow,
  type TaskRow,
} from '../codec.js';
import { loadMigrations } from '../migrations.js';
import { idempotentFromRow, type IdempotentRow } from '../codec.js';
import { PENDING_STATUS, committed, idempotentWrites, pendingRecord, replayedResult, type IdempotentWrites } from '../idempotent-writes.js';
import type { IdempotentResponse, AuditRecord, ExportFilter, ExtensionChange, ExtensionOwner, PurgeOperation, ServiceFilter, StateFilter, Store, StoreHealth, TaskFilter } from '../store.js';
import { exportWhere, purgeWhere, rearm, autoCompleteAfterMs, autoCompletion, expiryOnInsert } from '../maintenance.js';
import type { Expiry } from '../../domain/expiration.js';
import { identitiesOf, identityValues, type IdentificationKey, type NewIdentificationKey, type ProfileData } from '../../domain/profiles.js';
import type { ExtensionSchema, SchemaEntity } from '../../domain/schemas.js';
import { decodeJson, duplicateIdentity, encodeJson, keyInUse, schemaExists, upperBound } from '../codec.js';

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

// Named statements: PostgreSQL parses and plans each distinct SQL text once per connection.
const statementNames = new Map<string, string>();
function statement(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (!name) statementNames.set(text, (name = `s${statementNames.size}`));
  return { name, text, values };
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

/** An unexpected error inside an optimistic batch (which has no savepoints to fall back to). */
class BatchAborted extends Error {
  constructor(override readonly cause: unknown) {
    super('batch aborted');
  }
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

interface PendingWrite {
  run: (db: Queryable) => Promise<unknown>;
  /** epoch ms by which the write is answered: committed, refused, or 503 */
  deadline: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** a service start, which a batch may insert together with the other starts */
  start?: ServiceStart;
  /** the existing service the write changes */
  lock?: bigint;
  /** the Idempotency-Key of the request making the write, recorded in the same transaction */
  idempotent?: IdempotentWrites;
}



/** Collects positional parameters while a query is assembled. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function pageClause(params: Params, limit?: number, offset?: number): string {
  let clause = '';
  if (limit !== undefined) clause += ` LIMIT ${params.add(limit)}`;
  if (offset) clause += ` OFFSET ${params.add(offset)}`;
  return clause;
}

const SERVICE_COLUMNS = 'service_id, customer_id, contact_key, started_at, completed_at, expires_at, doc';
const STATE_COLUMNS = 'state_id, service_id, started_at, completed_at, doc';
const TASK_COLUMNS = 'task_id, service_id, state_id, started_at, completed_at, doc';
const MIGRATION_LOCK = 0x636f6e74; // "cont": one key for every contextd node
const EVENT_CHANNEL = 'contextd_events';

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private closed = false;
  private pending: PendingWrite[] = [];
  private flushing = 0;
  private flushScheduled = false;
  private readonly maxFlushes: number;
  private readonly maxBatch = 500;
  private idle?: () => void;

  private readonly url: string;
  private readonly schema?: string;
  private readonly idBase: bigint;
  private readonly clock: () => number;
  /** the promise to a request while the database is away: an answer (503 at worst) within connect + query timeout */
  private readonly answerWithinMs: number;

  constructor(options: PostgresStoreOptions) {
    this.answerWithinMs = (options.connectTimeoutMs ?? 3000) + (options.queryTimeoutMs ?? 10_000);
    this.url = options.schema === undefined ? options.url : withSearchPath(options.url, options.schema);
    this.schema = options.schema;
    this.idBase = options.idBase ?? 0n;
    this.clock = options.clock ?? Date.now;
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
    // leave connections for reads: at most half the pool commits batches at once
    this.maxFlushes = Math.max(1, Math.floor((options.poolSize ?? 10) / 2));
    if (options.durability === 'relaxed') {
      this.pool.on('connect', (client) => void client.query('SET synchronous_commit = off').catch(() => undefined));
    }
  }

  // ---- plumbing ----

  private async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
    if (this.closed) throw unavailable('the store is closed');
    try {
      return (await this.pool.query<R>(statement(sql, values))).rows;
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Runs `work` in a transaction on one connection. With a deadline (epoch ms), the connection is
   * dropped when it passes, so a silent database (a blackhole) fails the transaction by then instead
   * of after one query timeout per statement.
   */
  private async transaction<T>(work: (db: Queryable) => Promise<T>, deadline?: number): Promise<T> {
    if (this.closed) throw unavailable('the store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (deadline !== undefined) {
      const drop = () => {
        broken = new Error(`timeout: the database did not answer within ${this.answerWithinMs} ms`);
        (client as unknown as { connection?: { stream?: { destroy: () => void } } }).connection?.stream?.destroy();
      };
      if (deadline <= Date.now()) drop();
      else timer = setTimeout(drop, deadline - Date.now());
    }
    try {
      if (broken) throw broken;
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (broken) throw translate(broken);
      if (isUnavailable(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw translate(error);
    } finally {
      clearTimeout(timer);
      client.release(broken);
    }
  }

  /**
   * Queues a write for the next group commit. `lock`: the existing service it writes to, locked with
   * the batch's other services in id order before any write runs (batches on different connections
   * then never wait for each other in a cycle).
   */
  private write<T>(run: (db: Queryable) => Promise<T>, options: { start?: ServiceStart; lock?: bigint; untracked?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(unavailable('the store is closed'));
    const idempotent = options.untracked ? undefined : idempotentWrites.getStore();
    const replayed = replayedResult(idempotent);
    if (replayed) return Promise.resolve(replayed.value as T);
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        run,
        resolve: (value) => {
          committed(idempotent, value);
          resolve(value as T);
        },
        reject,
        start: options.start,
        lock: options.lock,
        idempotent,
        deadline: Date.now() + this.answerWithinMs,
      });
      this.startFlushes();
    });
  }

  private startFlushes(): void {
    if (this.flushScheduled || this.flushing >= this.maxFlushes) return;
    this.flushScheduled = true;
    // wait one turn of the event loop so that writes arriving together join the batch
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.pending.length === 0 || this.flushing >= this.maxFlushes) return;
      this.flushing++;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      // writes that waited past their deadline for a connection (the database is not answering) get 503 now
      const now = Date.now();
      const batch: PendingWrite[] = [];
      for (const write of this.pending.splice(0, this.maxBatch)) {
        if (write.deadline > now) batch.push(write);
        else write.reject(unavailable(`the database did not answer within ${this.answerWithinMs} ms`));
      }
      if (batch.length > 0) await this.commitBatch(batch);
    } finally {
      this.flushing--;
      if (this.pending.length > 0) this.startFlushes();
      else if (this.flushing === 0) this.idle?.();
    }
  }

  /**
   * Runs a batch in one transaction. Every write checks before it writes, so a write rejected with a
   * DomainError has written nothing and the others go on without savepoints. An unexpected SQL error
   * aborts the transaction: the batch then runs again with a savepoint around each write, so that one
   * fails alone.
   */
  private async commitBatch(batch: PendingWrite[]): Promise<void> {
    let outcomes = new Map<PendingWrite, { ok: boolean; value: unknown }>();
    let savepoints = false;
    for (;;) {
      outcomes = new Map();
      try {
        await this.transaction(async (db) => {
          // every service the batch writes to, locked first and in id order: no lock cycles between batches
          const locks = [...new Set(batch.flatMap((w) => (w.lock === undefined ? [] : [w.lock])))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          if (locks.length > 0) await db.query(statement('SELECT 1 FROM services WHERE service_id = ANY($1::bigint[]) ORDER BY service_id FOR UPDATE', [locks.map(String)]));
          // service starts cannot be rejected by the store: insert them all in two round trips
          const starts = savepoints ? [] : batch.filter((w) => w.start);
          if (starts.length > 1) {
            const ids = await this.insertServices(db, starts.map((w) => w.start!));
            for (const [i, w] of starts.entries()) {
              if (w.idempotent) await this.upsertIdempotent(db, pendingRecord(w.idempotent, ids[i], this.clock()));
              outcomes.set(w, { ok: true, value: ids[i] });
            }
          }
          for (const write of batch) {
            if (outcomes.has(write)) continue;
            if (savepoints) await db.query('SAVEPOINT write');
            try {
              const value = await write.run(db);
              if (write.idempotent) await this.upsertIdempotent(db, pendingRecord(write.idempotent, value, this.clock()));
              outcomes.set(write, { ok: true, value });
              if (savepoints) await db.query('RELEASE SAVEPOINT write');
            } catch (error) {
              if (!(error instanceof DomainError) && !savepoints) throw new BatchAborted(error);
              if (isUnavailable(error) || isRetryable(error)) throw error;
              if (savepoints) await db.query('ROLLBACK TO SAVEPOINT write');
              outcomes.set(write, { ok: false, value: translate(error) });
            }
          }
        }, Math.min(...batch.map((w) => w.deadline)));
        break;
      } catch (error) {
        if (error instanceof BatchAborted && !isUnavailable(error.cause) && !isRetryable(error.cause)) {
          savepoints = true;
          continue;
        }
        const cause = error instanceof BatchAborted ? error.cause : error;
        // a deadlock (with a purge or an erase, which lock many services) or a serialization failure:
        // nothing of the batch was acknowledged, so it runs again while its writes' deadline allows,
        // then answers 503 (never 500)
        const deadline = Math.min(...batch.map((w) => w.deadline));
        if (isRetryable(cause) && Date.now() < deadline) continue;
        const failure = isRetryable(cause) ? unavailable(`the writes could not be serialized within ${this.answerWithinMs} ms; retry`) : translate(cause);
        for (const write of batch) write.reject(failure);
        return;
      }
    }
    for (const write of batch) {
      const outcome = outcomes.get(write)!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.value);
    }
  }

  async migrate(): Promise<number[]> {
    return this.transaction(async (db) => {
      // one node migrates at a time; the others wait here, then find nothing left to do
      await db.query(statement('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]));
      if (this.schema !== undefined) await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      await db.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const applied = new Set((await db.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const done: number[] = [];
      for (const migration of loadMigrations('postgres')) {
        if (applied.has(migration.version)) continue;
        await db.query(migration.sql);
        await db.query(statement('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]));
        done.push(migration.version);
      }
      if (this.idBase > 0n) {
        const [{ seq }] = (await db.query<{ seq: string }>("SELECT pg_get_serial_sequence('services', 'service_id') AS seq")).rows;
        await db.query(statement(`SELECT setval($1::regclass, $2::bigint) FROM ${seq} WHERE last_value < $2::bigint`, [seq, this.idBase]));
      }
      return done;
    });
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.query('SELECT 1');
      return { kind: 'postgres', ok: true };
    } catch (error) {
      return { kind: 'postgres', ok: false, detail: (error as Error).message };
    }
  }

  // ---- live events between nodes ----

  private listener?: pg.Client;
  private listenRetry?: NodeJS.Timeout;
  private listening = false;

  async publishEvent(payload: string): Promise<void> {
    await this.query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, payload]);
  }

  async subscribeEvents(handler: (payload: string) => void): Promise<void> {
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.listening = false;
    clearTimeout(this.listenRetry);
    const listener = this.listener;
    this.listener = undefined;
    listener?.removeAllListeners();
    await listener?.end().catch(() => undefined);
    // commit what is queued first
    if (this.pending.length > 0 || this.flushing > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.closed = true;
    await this.pool.end();
  }

  // ---- checks used inside writes ----

  /** Locks the service row for this transaction (writes to one service serialize); NotFound if absent. */
  private async lockService(db: Queryable, serviceId: bigint): Promise<void> {
    const result = await db.query(statement('SELECT 1 FROM services WHERE service_id = $1 AND expires_at > $2 FOR NO KEY UPDATE', [serviceId, this.clock()]));
    if (result.rowCount === 0) throw notFound('service', serviceId);
  }

  /** Records a write to the service (re-arms its expiry unless fixed, and its idle time); called after every check has passed. */
  private async touchService(db: Queryable, serviceId: bigint, now = this.clock()): Promise<void> {
    const result = await db.query(statement(`UPDATE services SET updated_at = $1, expires_at = ${rearm('$1')} WHERE service_id = $2`, [now, serviceId]));
    if (result.rowCount === 0) throw notFound('service', serviceId);
  }

  /** Applies a ttl / expiration_time given on an event or by PUT /services/{id}. */
  private async setExpiry(db: Queryable, serviceId: bigint, expiry: Expiry, now: number): Promise<void> {
    if (expiry.lifetimeMs !== undefined) {
      await db.query(statement('UPDATE services SET lifetime_ms = $1, expires_fixed = FALSE, expires_at = $2::bigint + $1 WHERE service_id = $3', [expiry.lifetimeMs, now, serviceId]));
    } else if (expiry.fixedAt !== undefined) {
      await db.query(statement('UPDATE services SET expires_fixed = TRUE, expires_at = $1 WHERE service_id = $2', [expiry.fixedAt, serviceId]));
    }
  }

  private async stateExists(db: Queryable, serviceId: bigint, stateId: number): Promise<boolean> {
    return (await db.query(statement('SELECT 1 FROM states WHERE state_id = $1 AND service_id = $2', [stateId, serviceId]))).rowCount !== 0;
  }

  private async writeExtensions(db: Queryable, kind: ExtensionOwner['kind'], ownerId: bigint | number, serviceId: bigint, extensions: Extensions): Promise<void> {
    for (const [key, ext] of extensions) {
      await db.query(
        statement(
          `INSERT INTO extensions (owner_kind, owner_id, service_id, name_key, name, value) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (owner_kind, owner_id, name_key) DO UPDATE SET name = excluded.name, value = excluded.value`,
          [kind, ownerId, serviceId, key, ext.name, encodeExtensionValue(ext.value)],
        ),
      );
    }
  }

  // ---- services ----

  /** Inserts many services with their extensions: ids first (so each start gets its own), then two set-based inserts. */
  private async insertServices(db: Queryable, starts: ServiceStart[]): Promise<bigint[]> {
    const { rows } = await db.query<{ id: bigint }>(
      statement(`SELECT nextval(pg_get_serial_sequence('services', 'service_id')) AS id FROM generate_series(1, $1)`, [starts.length]),
    );
    const ids = rows.map((r) => r.id);
    const now = this.clock();
    const expiries = starts.map((s) => expiryOnInsert(s.expiry, now));
    await db.query(
      statement(
        `INSERT INTO services (service_id, customer_id, contact_key, service_type, started_at, expires_at, lifetime_ms, expires_fixed, auto_complete_after_ms, updated_at, doc)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[], $9::bigint[], $10::bigint[], $11::text[])`,
        [
          ids.map(String),
          starts.map((s) => s.customerId ?? null),
          starts.map((s) => s.contactKey ?? null),
          starts.map((s) => typeKey(s.serviceType)),
          starts.map((s) => s.startedAt),
          expiries.map((e) => e.expiresAt),
          expiries.map((e) => e.lifetimeMs),
          expiries.map((e) => e.fixed),
          starts.map((s) => autoCompleteAfterMs(s)),
          starts.map(() => now),
          starts.map((s) => encodeDoc(docOf({ ...s, type: s.serviceType }))),
        ],
      ),
    );
    const extensions = starts.flatMap((s, i) => [...s.extensions].map(([key, ext]) => ({ id: String(ids[i]), key, ext })));
    if (extensions.length > 0) {
      await db.query(
        statement(
          `INSERT INTO extensions (owner_kind, owner_id, service_id, name_key, name, value)
           SELECT 'service', x.id, x.id, x.k, x.n, x.v FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS x(id, k, n, v)`,
          [extensions.map((e) => e.id), extensions.map((e) => e.key), extensions.map((e) => e.ext.name), extensions.map((e) => encodeExtensionValue(e.ext.value))],
        ),
      );
    }
    return ids;
  }

  startService(start: ServiceStart): Promise<bigint> {
    const doc = docOf({ ...start, type: start.serviceType });
    const extensions = [...start.extensions];
    return this.write(async (db) => {
      const now = this.clock();
      const expiry = expiryOnInsert(start.expiry, now);
      // one round trip: the service and its extensions together
      const { rows } = await db.query<{ service_id: bigint }>(
        statement(
          `WITH s AS (
             INSERT INTO services (customer_id, contact_key, service_type, started_at, expires_at, lifetime_ms, expires_fixed, auto_complete_after_ms, updated_at, doc)
             VALUES ($1, $2, $3, $4, $10, $11, $12, $13, $5, $6) RETURNING service_id),
           e AS (
             INSERT INTO extensions (owner_kind, owner_id, service_id, name_key, name, value)
             SELECT 'service', s.service_id, s.service_id, x.k, x.n, x.v FROM s, unnest($7::text[], $8::text[], $9::text[]) AS x(k, n, v))
           SELECT service_id FROM s`,
          [
            start.customerId ?? null,
            start.contactKey ?? null,
            typeKey(start.serviceType),
            start.startedAt,
            now,
            encodeDoc(doc),
            extensions.map(([key]) => key),
            extensions.map(([, ext]) => ext.name),
            extensions.map(([, ext]) => encodeExtensionValue(ext.value)),
            expiry.expiresAt,
            expiry.lifetimeMs,
            expiry.fixed,
            autoCompleteAfterMs(start),
          ],
        ),
      );
      return rows[0].service_id;
    }, { start });
  }

  endService(serviceId: bigint, end: ElementEnd): Promise<void> {
    return this.write(async (db) => {
      const now = this.clock();
      const { rows } = await db.query<{ doc: string }>(statement('SELECT doc FROM services WHERE service_id = $1 AND expires_at > $2 FOR UPDATE', [serviceId, now]));
      if (rows.length === 0) throw notFound('service', serviceId);
      const doc = completeDoc('service', serviceId, decodeDoc(rows[0].doc), end);
      // one statement: the completion, and the write re-arms the expiry
      await db.query(
        statement(`UPDATE services SET completed_at = $1, doc = $2, updated_at = $4, expires_at = ${rearm('$4')} WHERE service_id = $3`, [end.completedAt, encodeDoc(doc), serviceId, now]),
      );
      await this.writeExtensions(db, 'service', serviceId, serviceId, end.extensions);
      if (end.expiry) await this.setExpiry(db, serviceId, end.expiry, now);
    }, { lock: serviceId });
  }

  associateService(serviceId: bigint, customerId: string, association: ServiceAssociation): Promise<void> {
    return this.write(async (db) => {
      const now = this.clock();
      const { rows } = await db.query<{ doc: string }>(statement('SELECT doc FROM services WHERE service_id = $1 AND expires_at > $2 FOR UPDATE', [serviceId, now]));
      if (rows.length === 0) throw notFound('service', serviceId);
      const doc = associateDoc(decodeDoc(rows[0].doc), association);
      await db.query(
        statement(`UPDATE services SET customer_id = $1, service_type = $2, doc = $3, updated_at = $5, expires_at = ${rearm('$5')} WHERE service_id = $4`, [
          customerId,
          typeKey(doc.type),
          encodeDoc(doc),
          serviceId,
          now,
        ]),
      );
      await this.writeExtensions(db, 'service', serviceId, serviceId, association.extensions);
    }, { lock: serviceId });
  }

  updateServiceExpiration(serviceId: bigint, expiry: Expiry): Promise<void> {
    return this.write(async (db) => {
      const now = this.clock();
      await this.lockService(db, serviceId);
      await this.touchService(db, serviceId, now);
      await this.setExpiry(db, serviceId, expiry, now);
    }, { lock: serviceId });
  }

  deleteService(serviceId: bigint): Promise<void> {
    return this.write(async (db) => {
      // states, tasks and extensions go with it (ON DELETE CASCADE), in the same transaction
      const result = await db.query(statement('DELETE FROM services WHERE service_id = $1 AND expires_at > $2', [serviceId, this.clock()]));
      if (result.rowCount === 0) throw notFound('service', serviceId);
    }, { lock: serviceId });
  }

  async getService(serviceId: bigint): Promise<ServiceRecord | undefined> {
    const [row] = await this.query<ServiceRow>(`SELECT ${SERVICE_COLUMNS} FROM services WHERE service_id = $1 AND expires_at > $2`, [serviceId, this.clock()]);
    return row && serviceFromRow(row);
  }

  async listServices(filter: ServiceFilter): Promise<ServiceRecord[]> {
    const params = new Params();
    let where: string;
    if (filter.customerId !== undefined) where = `customer_id = ${params.add(filter.customerId)}`;
    else if (filter.contactKey !== undefined) where = `contact_key = ${params.add(filter.contactKey)} AND customer_id IS NULL`;
    else throw new Error('listServices needs customerId or contactKey');
    where += `${statusClause(filter.status)} AND expires_at > ${params.add(this.clock())}`;
    if (filter.serviceTypes.length > 0) where += ` AND service_type = ANY(${params.add(filter.serviceTypes)}::text[])`;
    if (filter.startedFrom !== undefined) where += ` AND started_at >= ${params.add(filter.startedFrom)}`;
    if (filter.startedTo !== undefined) where += ` AND started_at < ${params.add(filter.startedTo)}`;
    const sql = `SELECT ${SERVICE_COLUMNS} FROM services WHERE ${where} ORDER BY started_at, service_id${pageClause(params, filter.limit, filter.offset)}`;
    return (await this.query<ServiceRow>(sql, params.values)).map((row) => serviceFromRow(row));
  }

  // ---- states ----

  private async checkPreviousState(db: Queryable, serviceId: bigint, start: StateStart): Promise<void> {
    const previous = start.started.previous_state_id;
    if (previous !== undefined && !(await this.stateExists(db, serviceId, previous))) {
      throw invalid(`previous_state_id ${previous} is not a state of service ${serviceId}`);
    }
  }

  private async insertState(db: Queryable, serviceId: bigint, start: StateStart): Promise<number> {
    const doc = docOf({ ...start, type: start.stateType });
    const { rows } = await db.query<{ state_id: number }>(
      'INSERT INTO states (service_id, state_type, started_at, doc) VALUES ($1, $2, $3, $4) RETURNING state_id',
      [serviceId, typeKey(start.stateType), start.startedAt, encodeDoc(doc)],
    );
    const stateId = rows[0].state_id;
    await this.writeExtensions(db, 'state', stateId, serviceId, start.extensions);
    return stateId;
  }

  private async completeState(db: Queryable, serviceId: bigint, stateId: number, end: ElementEnd, missing: () => DomainError): Promise<void> {
    const { rows } = await db.query<{ doc: string }>(statement('SELECT doc FROM states WHERE state_id = $1 AND service_id = $2 FOR UPDATE', [stateId, serviceId]));
    if (rows.length === 0) throw missing();
    const doc = completeDoc('state', stateId, decodeDoc(rows[0].doc), end);
    await db.query(statement('UPDATE states SET completed_at = $1, doc = $2 WHERE state_id = $3', [end.completedAt, encodeDoc(doc), stateId]));
    await this.writeExtensions(db, 'state', stateId, serviceId, end.extensions);
  }

  startState(serviceId: bigint, start: StateStart): Promise<number> {
    return this.write(async (db) => {
      await this.lockService(db, serviceId);
      await this.checkPreviousState(db, serviceId, start);
      const stateId = await this.insertState(db, serviceId, start);
      await this.touchService(db, serviceId);
      return stateId;
    }, { lock: serviceId });
  }

  endState(serviceId: bigint, stateId: number, end: ElementEnd): Promise<void> {
    return this.write(async (db) => {
      await this.lockService(db, serviceId);
      await this.completeState(db, serviceId, stateId, end, () => notFound('state', stateId));
      await this.touchService(db, serviceId);
    }, { lock: serviceId });
  }

  transitionState(serviceId: bigint, transition: StateTransition): Promise<number> {
    return this.write(async (db) => {
      await this.lockService(db, serviceId);
      const from = transition.fromStateId;
      // completeState checks before it writes; the new state's previous state is `from`, just checked
      await this.completeState(db, serviceId, from, transition.end, () => invalid(`from.state_id ${from} is not a state of service ${serviceId}`));
      const stateId = await this.insertState(db, serviceId, transition.start);
      await this.touchService(db, serviceId);
      return stateId;
    }, { lock: serviceId });
  }

  async getState(serviceId: bigint, stateId: number): Promise<StateRecord | undefined> {
    const [row] = await this.query<StateRow>(`SELECT ${STATE_COLUMNS} FROM states WHERE state_id = $1 AND service_id = $2`, [stateId, serviceId]);
    return row && stateFromRow(row);
  }

  async listStates(filter: StateFilter): Promise<StateRecord[]> {
    if (filter.serviceIds.length === 0) return [];
    const params = new Params();
    let where = `service_id = ANY(${params.add(filter.serviceIds.map(String))}::bigint[])` + statusClause(filter.status);
    if (filter.stateTypes.length > 0) where += ` AND state_type = ANY(${params.add(filter.stateTypes)}::text[])`;
    const sql = `SELECT ${STATE_COLUMNS} FROM states WHERE ${where} ORDER BY started_at, state_id${pageClause(params, filter.limit, filter.offset)}`;
    return (await this.query<StateRow>(sql, params.values)).map((row) => stateFromRow(row));
  }

  // ---- tasks ----

  startTask(serviceId: bigint, start: TaskStart): Promise<number> {
    return this.write(async (db) => {
      await this.lockService(db, serviceId);
      if (start.stateId !== undefined && !(await this.stateExists(db, serviceId, start.stateId))) {
        throw invalid(`state_id ${start.stateId} is not a state of service ${serviceId}`);
      }
      const doc = docOf({ ...start, type: start.taskType });
      const { rows } = await db.query<{ task_id: number }>(
        'INSERT INTO tasks (service_id, state_id, task_type, started_at, doc) VALUES ($1, $2, $3, $4, $5) RETURNING task_id',
        [serviceId, start.stateId ?? null, typeKey(start.taskType), start.startedAt, encodeDoc(doc)],
      );
      const taskId = rows[0].task_id;
      await this.writeExtensions(db, 'task', taskId, serviceId, start.extensions);
      await this.touchService(db, serviceId);
      return taskId;
    }, { lock: serviceId });
  }

  endTask(serviceId: bigint, taskId: number, end: ElementEnd): Promise<void> {
    return this.write(async (db) => {
      await this.lockService(db, serviceId);
      const { rows } = await db.query<{ doc: string }>(statement('SELECT doc FROM tasks WHERE task_id = $1 AND service_id = $2 FOR UPDATE', [taskId, serviceId]));
      if (rows.length === 0) throw notFound('task', taskId);
      const doc = completeDoc('task', taskId, decodeDoc(rows[0].doc), end);
      await db.query(statement('UPDATE tasks SET completed_at = $1, doc = $2 WHERE task_id = $3', [end.completedAt, encodeDoc(doc), taskId]));
      await this.writeExtensions(db, 'task', taskId, serviceId, end.extensions);
      await this.touchService(db, serviceId);
    }, { lock: serviceId });
  }

  async getTask(serviceId: bigint, taskId: number): Promise<TaskRecord | undefined> {
    const [row] = await this.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = $1 AND service_id = $2`, [taskId, serviceId]);
    return row && taskFromRow(row);
  }

  async listTasks(filter: TaskFilter): Promise<TaskRecord[]> {
    if (filter.serviceIds.length === 0) return [];
    const params = new Params();
    let where = `service_id = ANY(${params.add(filter.serviceIds.map(String))}::bigint[])` + statusClause(filter.status);
    if (filter.taskTypes.length > 0) where += ` AND task_type = ANY(${params.add(filter.taskTypes)}::text[])`;
    if (filter.stateId !== undefined) where += ` AND state_id = ${params.add(filter.stateId)}`;
    const sql = `SELECT ${TASK_COLUMNS} FROM tasks WHERE ${where} ORDER BY started_at, task_id${pageClause(params, filter.limit, filter.offset)}`;
    return (await this.query<TaskRow>(sql, params.values)).map((row) => taskFromRow(row));
  }

  // ---- extensions ----

  putExtensions(owner: ExtensionOwner, extensions: Extensions | ExtensionChange): Promise<void> {
    return this.write(async (db) => {
      await this.lockService(db, owner.serviceId);
      if (owner.kind === 'state' && !(await this.stateExists(db, owner.serviceId, owner.id))) throw notFound('state', owner.id);
      if (owner.kind === 'task' && (await db.query(statement('SELECT 1 FROM tasks WHERE task_id = $1 AND service_id = $2', [owner.id, owner.serviceId]))).rowCount === 0) {
        throw notFound('task', owner.id);
      }
      const ownerId = owner.kind === 'service' ? owner.serviceId : owner.id;
      if (typeof extensions === 'function') {
        const { rows } = await db.query<ExtensionRow>(statement('SELECT owner_id, name_key, name, value FROM extensions WHERE owner_kind = $1 AND owner_id = $2', [owner.kind, ownerId]));
        extensions = extensions(groupExtensions(rows).get(String(ownerId)) ?? new Map());
      }
      await this.writeExtensions(db, owner.kind, ownerId, owner.serviceId, extensions);
      await this.touchService(db, owner.serviceId);
    }, { lock: owner.serviceId });
  }

  async loadExtensions(kind: ExtensionOwner['kind'], ids: (bigint | number)[]): Promise<Map<string, Extensions>> {
    if (ids.length === 0) return new Map();
    const rows = await this.query<ExtensionRow>(
      'SELECT owner_id, name_key, name, value FROM extensions WHERE owner_kind = $1 AND owner_id = ANY($2::bigint[])',
      [kind, ids.map(String)],
    );
    return groupExtensions(rows);
  }

  // ---- extension schemas and identification keys ----

  createExtensionSchema(entity: SchemaEntity, schema: ExtensionSchema): Promise<void> {
    return this.write(async (db) => {
      const key = schema.name.toLowerCase();
      const exists = await db.query(statement('SELECT 1 FROM extension_schemas WHERE entity = $1 AND name_key = $2', [entity, key]));
      if (exists.rowCount !== 0) throw schemaExists(entity, schema.name);
      await db.query(statement('INSERT INTO extension_schemas (entity, name_key, definition) VALUES ($1, $2, $3)', [entity, key, encodeJson(schema)]));
    });
  }

  async listExtensionSchemas(entity: SchemaEntity): Promise<ExtensionSchema[]> {
    const rows = await this.query<{ definition: string }>('SELECT definition FROM extension_schemas WHERE entity = $1 ORDER BY name_key', [entity]);
    return rows.map((r) => decodeJson(r.definition) as ExtensionSchema);
  }

  deleteExtensionSchema(entity: SchemaEntity, name: string): Promise<void> {
    return this.write(async (db) => {
      const key = name.toLowerCase();
      if (entity === 'profiles') {
        const { rows } = await db.query<{ definition: string }>(statement('SELECT definition FROM identification_keys WHERE source_key = $1', [key]));
        if (rows.length > 0) throw keyInUse(name, decodeJson(rows[0].definition) as IdentificationKey);
      }
      const exists = await db.query(statement('SELECT 1 FROM extension_schemas WHERE entity = $1 AND name_key = $2 FOR UPDATE', [entity, key]));
      if (exists.rowCount === 0) throw notFound('extension', name);
      await db.query(statement('DELETE FROM extension_schemas WHERE entity = $1 AND name_key = $2', [entity, key]));
      if (entity === 'profiles') await db.query(statement('DELETE FROM profile_extensions WHERE name_key = $1', [key]));
    });
  }

  private async keys(db: Queryable): Promise<IdentificationKey[]> {
    const { rows } = await db.query<{ key_id: number; definition: string }>(statement('SELECT key_id, definition FROM identification_keys ORDER BY key_id', []));
    return rows.map((r) => ({ ...(decodeJson(r.definition) as NewIdentificationKey), id: r.key_id }));
  }

  createIdentificationKey(key: NewIdentificationKey): Promise<IdentificationKey> {
    return this.write(async (db) => {
      // keys and profile writes serialize on this lock, so a profile written meanwhile is indexed too
      await db.query(statement('LOCK TABLE identification_keys IN SHARE ROW EXCLUSIVE MODE', []));
      const exists = await db.query(statement('SELECT 1 FROM identification_keys WHERE name_key = $1', [key.name.toLowerCase()]));
      if (exists.rowCount !== 0) throw invalid(`an identification key named ${key.name} exists already`);
      // every check before any write: a rejected key leaves nothing behind, even in a batch without savepoints
      const owners = new Map<string, string>();
      const entries: { value: string; customerId: string }[] = [];
      for (const profile of await this.readProfiles(db, null)) {
        for (const value of identityValues(profile, { ...key, id: 0 })) {
          const other = owners.get(value);
          if (key.unique && other !== undefined && other !== profile.customerId) throw duplicateIdentity({ ...key, id: 0 }, value);
          owners.set(value, profile.customerId);
          entries.push({ value, customerId: profile.customerId });
        }
      }
      const { rows } = await db.query<{ key_id: number }>(
        statement('INSERT INTO identification_keys (name_key, source_key, definition) VALUES ($1, $2, $3) RETURNING key_id', [
          key.name.toLowerCase(),
          key.source?.toLowerCase() ?? null,
          encodeJson(key),
        ]),
      );
      const created: IdentificationKey = { ...key, id: rows[0].key_id };
      if (entries.length > 0) {
        await db.query(
          statement(
            `INSERT INTO profile_identities (key_id, value, customer_id, is_unique)
             SELECT $1, v, c, $4 FROM unnest($2::text[], $3::text[]) AS x(v, c) ON CONFLICT DO NOTHING`,
            [created.id, entries.map((e) => e.value), entries.map((e) => e.customerId), created.unique],
          ),
        );
      }
      return created;
    });
  }

  async listIdentificationKeys(): Promise<IdentificationKey[]> {
    const rows = await this.query<{ key_id: number; definition: string }>('SELECT key_id, definition FROM identification_keys ORDER BY key_id');
    return rows.map((r) => ({ ...(decodeJson(r.definition) as NewIdentificationKey), id: r.key_id }));
  }

  deleteIdentificationKey(name: string): Promise<void> {
    return this.write(async (db) => {
      const { rows } = await db.query<{ key_id: number }>(statement('SELECT key_id FROM identification_keys WHERE name_key = $1 FOR UPDATE', [name.toLowerCase()]));
      if (rows.length === 0) throw notFound('identification key', name);
      await db.query(statement('DELETE FROM profile_identities WHERE key_id = $1', [rows[0].key_id]));
      await db.query(statement('DELETE FROM identification_keys WHERE key_id = $1', [rows[0].key_id]));
    });
  }

  // ---- profiles ----

  /** Profiles with their extensions; `null`: every profile. */
  private async readProfiles(db: Queryable, customerIds: string[] | null, lock = false): Promise<ProfileData[]> {
    if (customerIds !== null && customerIds.length === 0) return [];
    const where = customerIds === null ? '' : ' WHERE customer_id = ANY($1::text[])';
    const params = customerIds === null ? [] : [customerIds];
    const { rows } = await db.query<{ customer_id: string; attributes: string }>(
      statement(`SELECT customer_id, attributes FROM profiles${where} ORDER BY customer_id${lock ? ' FOR UPDATE' : ''}`, params),
    );
    const extensions = groupExtensions(
      (
        await db.query<ExtensionRow>(
          statement(`SELECT customer_id AS owner_id, name_key, name, value FROM profile_extensions${where} ORDER BY name_key`, params),
        )
      ).rows,
    );
    return rows.map((p) => ({
      customerId: p.customer_id,
      attributes: decodeJson(p.attributes) as Record<string, unknown>,
      extensions: extensions.get(p.customer_id) ?? new Map(),
    }));
  }

  private async saveProfile(db: Queryable, profile: ProfileData, created: boolean): Promise<void> {
    // shares the lock that key creation takes exclusively: no key is created between reading the keys and indexing
    await db.query(statement('LOCK TABLE identification_keys IN ROW EXCLUSIVE MODE', []));
    const keys = await this.keys(db);
    const entries = identitiesOf(profile, keys);
    const unique = entries.filter((e) => e.unique);
    if (unique.length > 0) {
      const { rows } = await db.query<{ key_id: number; value: string }>(
        statement(
          `SELECT key_id, value FROM profile_identities
           WHERE is_unique AND customer_id <> $3 AND (key_id, value) IN (SELECT * FROM unnest($1::int[], $2::text[]))`,
          [unique.map((e) => e.keyId), unique.map((e) => e.value), profile.customerId],
        ),
      );
      if (rows.length > 0) throw duplicateIdentity(keys.find((k) => k.id === rows[0].key_id)!, rows[0].value);
    }
    const now = this.clock();
    if (created) {
      await db.query(
        statement('INSERT INTO profiles (customer_id, attributes, created_at, updated_at) VALUES ($1, $2, $3, $3)', [profile.customerId, encodeJson(profile.attributes), now]),
      );
    } else {
      await db.query(statement('UPDATE profiles SET attributes = $1, updated_at = $2 WHERE customer_id = $3', [encodeJson(profile.attributes), now, profile.customerId]));
      await db.query(statement('DELETE FROM profile_extensions WHERE customer_id = $1', [profile.customerId]));
      await db.query(statement('DELETE FROM profile_identities WHERE customer_id = $1', [profile.customerId]));
    }
    const extensions = [...profile.extensions];
    if (extensions.length > 0) {
      await db.query(
        statement('INSERT INTO profile_extensions (customer_id, name_key, name, value) SELECT $1, k, n, v FROM unnest($2::text[], $3::text[], $4::text[]) AS x(k, n, v)', [
          profile.customerId,
          extensions.map(([k]) => k),
          extensions.map(([, e]) => e.name),
          extensions.map(([, e]) => encodeExtensionValue(e.value)),
        ]),
      );
    }
    if (entries.length > 0) {
      await db.query(
        statement(
          `INSERT INTO profile_identities (key_id, value, customer_id, is_unique)
           SELECT k, v, $3, u FROM unnest($1::int[], $2::text[], $4::boolean[]) AS x(k, v, u) ON CONFLICT DO NOTHING`,
          [entries.map((e) => e.keyId), entries.map((e) => e.value), profile.customerId, entries.map((e) => e.unique)],
        ),
      );
    }
  }

  createProfile(profile: ProfileData): Promise<void> {
    return this.write(async (db) => {
      const exists = await db.query(statement('SELECT 1 FROM profiles WHERE customer_id = $1', [profile.customerId]));
      if (exists.rowCount !== 0) throw invalid(`customer_id ${profile.customerId} is taken`);
      await this.saveProfile(db, profile, true);
    });
  }

  updateProfile(customerId: string, change: (current: ProfileData) => ProfileData): Promise<void> {
    return this.write(async (db) => {
      const [current] = await this.readProfiles(db, [customerId], true);
      if (!current) throw notFound('profile', customerId);
      await this.saveProfile(db, { ...change(current), customerId }, false);
    });
  }

  async getProfiles(customerIds: string[]): Promise<ProfileData[]> {
    try {
      return await this.readProfiles(this.pool, customerIds);
    } catch (error) {
      throw translate(error);
    }
  }

  deleteProfile(customerId: string): Promise<void> {
    return this.write(async (db) => {
      const result = await db.query(statement('DELETE FROM profiles WHERE customer_id = $1', [customerId]));
      if (result.rowCount === 0) throw notFound('profile', customerId);
    });
  }

  async findCustomers(keyId: number, text: string, exact: boolean): Promise<string[]> {
    const rows = exact
      ? await this.query<{ customer_id: string }>('SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = $1 AND value = $2 ORDER BY customer_id', [keyId, text])
      : await this.query<{ customer_id: string }>(
          'SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = $1 AND value >= $2 AND value < $3 ORDER BY customer_id',
          [keyId, text, upperBound(text)],
        );
    return rows.map((r) => r.customer_id);
  }

  // ---- maintenance ----

  async purgeServices(operation: PurgeOperation, before: number, batchSize = 1000): Promise<number> {
    let purged = 0;
    for (;;) {
      // one bounded transaction per batch: requests keep flowing between batches
      const n = await this.write(async (db) => {
        const result = await db.query(
          statement(
            `DELETE FROM services WHERE service_id IN (
               SELECT service_id FROM services WHERE ${purgeWhere(operation, '$1')} ORDER BY service_id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
            [before, batchSize],
          ),
        );
        return result.rowCount ?? 0;
      });
      purged += n;
      if (n < batchSize) return purged;
    }
  }

  async exportPage(filter: ExportFilter, afterId: bigint, pageSize: number): Promise<ServiceRecord[]> {
    const rows = await this.query<ServiceRow>(
      `SELECT ${SERVICE_COLUMNS} FROM services WHERE service_id > $1 AND expires_at > $5 AND ${exportWhere(filter, ['$2', '$3'])} ORDER BY service_id LIMIT $4`,
      [afterId, filter.from, filter.to, pageSize, this.clock()],
    );
    return rows.map((row) => serviceFromRow(row));
  }

  sweepExpired(batchSize: number): Promise<number> {
    return this.write(async (db) => {
      const result = await db.query(
        statement(
          'DELETE FROM services WHERE service_id IN (SELECT service_id FROM services WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)',
          [this.clock(), batchSize],
        ),
      );
      return result.rowCount ?? 0;
    });
  }

  autoCompleteIdle(defaultAfterMs: number | undefined, batchSize: number): Promise<number> {
    return this.write(async (db) => {
      const now = this.clock();
      const { rows: idle } = await db.query<{ service_id: bigint; doc: string }>(
        statement(
          `SELECT service_id, doc FROM services WHERE completed_at IS NULL AND expires_at > $1
             AND updated_at + COALESCE(auto_complete_after_ms, $2::bigint) <= $1 LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [now, defaultAfterMs ?? null, batchSize],
        ),
      );
      for (const { service_id: serviceId, doc } of idle) {
        const end = autoCompletion(now);
        await db.query(statement('UPDATE services SET completed_at = $1, doc = $2 WHERE service_id = $3', [now, encodeDoc(completeDoc('service', serviceId, decodeDoc(doc), end)), serviceId]));
        for (const table of ['states', 'tasks'] as const) {
          const key = table === 'states' ? 'state_id' : 'task_id';
          const { rows: open } = await db.query<{ id: number; doc: string }>(
            statement(`SELECT ${key} AS id, doc FROM ${table} WHERE service_id = $1 AND completed_at IS NULL FOR UPDATE`, [serviceId]),
          );
          for (const element of open) {
            const completed = completeDoc(table === 'states' ? 'state' : 'task', element.id, decodeDoc(element.doc), end);
            await db.query(statement(`UPDATE ${table} SET completed_at = $1, doc = $2 WHERE ${key} = $3`, [now, encodeDoc(completed), element.id]));
          }
        }
        await this.touchService(db, serviceId, now);
      }
      return idle.length;
    });
  }

  // ---- privacy and audit ----

  private async insertAudit(db: Queryable, record: AuditRecord): Promise<void> {
    await db.query(
      statement('INSERT INTO audit_log (at, actor, action, subject, counts) VALUES ($1, $2, $3, $4, $5)', [
        record.at,
        record.actor,
        record.action,
        record.subject ?? null,
        encodeJson(record.counts),
      ]),
    );
  }

  eraseCustomer(customerId: string, audit: Omit<AuditRecord, 'counts'>): Promise<{ profile: number; services: number }> {
    return this.write(async (db) => {
      const profile = (await db.query(statement('DELETE FROM profiles WHERE customer_id = $1', [customerId]))).rowCount ?? 0;
      const services = (await db.query(statement('DELETE FROM services WHERE customer_id = $1', [customerId]))).rowCount ?? 0;
      const counts = { profile, services };
      await this.insertAudit(db, { ...audit, counts });
      return counts;
    });
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.write((db) => this.insertAudit(db, record));
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    const rows = await this.query<{ audit_id: bigint; at: bigint; actor: string; action: AuditRecord['action']; subject: string | null; counts: string }>(
      'SELECT audit_id, at, actor, action, subject, counts FROM audit_log ORDER BY audit_id DESC LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({ id: Number(r.audit_id), at: Number(r.at), actor: r.actor, action: r.action, ...(r.subject === null ? {} : { subject: r.subject }), counts: decodeJson(r.counts) as Record<string, number> }));
  }

  // ---- idempotent retries ----

  async getIdempotentResponse(key: string, notBefore: number): Promise<IdempotentResponse | undefined> {
    const [row] = await this.query<IdempotentRow>(
      'SELECT idem_key, fingerprint, status, location, body, created_at FROM idempotency_keys WHERE idem_key = $1 AND created_at >= $2',
      [key, notBefore],
    );
    return row && idempotentFromRow(row);
  }

  saveIdempotentResponse(r: IdempotentResponse, replaceBefore: number): Promise<void> {
    return this.write((db) => this.upsertIdempotent(db, { ...r, replaceBefore }), { untracked: true });
  }

  /** The first answer for a key stays; a pending record (or an expired one) gives way to a newer one. */
  private async upsertIdempotent(db: Queryable, r: Omit<IdempotentResponse, 'location'> & { location?: string; replaceBefore: number }): Promise<void> {
    await db.query(
      statement(
        `INSERT INTO idempotency_keys (idem_key, fingerprint, status, location, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status, location = excluded.location, body = excluded.body, created_at = excluded.created_at
           WHERE idempotency_keys.created_at < $7 OR (idempotency_keys.status = ${PENDING_STATUS} AND idempotency_keys.fingerprint = excluded.fingerprint)`,
        [r.key, r.fingerprint, r.status, r.location ?? null, r.body, r.createdAt, r.replaceBefore],
      ),
    );
  }


  sweepIdempotentResponses(before: number, batchSize: number): Promise<number> {
    return this.write(
      async (db) =>
        (await db.query(statement('DELETE FROM idempotency_keys WHERE idem_key IN (SELECT idem_key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)', [before, batchSize])))
          .rowCount ?? 0,
    );
  }
}
