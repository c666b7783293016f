// The embedded store: one SQLite file in WAL mode. Writes go through a group-commit queue: writes
// that arrive in the same event-loop turn share one transaction (one fsync), each inside its own
// savepoint so a rejected write rolls back alone; every promise settles only after COMMIT returns.
// Reads run directly: better-sqlite3 is synchronous, so no read ever sees an open transaction.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
  /** epoch ms of business time (expiry, idle times, records) */
  clock?: () => number;
}

/** SQLite result codes that mean the storage cannot take writes now (full disk, I/O error, locked): 503, not a bug. */
const STORAGE_FAILURES = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/;

function storageFailure(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && STORAGE_FAILURES.test(code) ? unavailable(`the store cannot write: ${(error as Error).message}`) : error;
}


interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** the Idempotency-Key of the request making the write, recorded in the same savepoint */
  idempotent?: IdempotentWrites;
}


/** LIMIT/OFFSET as bound parameters (pushed onto `params`): the SQL text, and so the statement cache, stays one per query shape. */
function pageClause(params: unknown[], limit: number | undefined, offset: number | undefined): string {
  if (limit === undefined && !offset) return '';
  params.push(limit ?? -1, offset ?? 0);
  return ' LIMIT ? OFFSET ?';
}

/** Prepared statements kept; query shapes are far fewer, so the bound only guards against a shape-per-request bug. */
const STATEMENT_CACHE_MAX = 500;

function jsonList(values: readonly (string | number | bigint)[]): string {
  return `[${values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : v.toString())).join(',')}]`;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly idBase: bigint;
  private readonly clock: () => number;

  /** the file as opened: a write checks that the path still names it (deleted or replaced → 503) */
  private readonly path: string;
  private readonly file: { dev: number; ino: number };

  constructor(options: SqliteStoreOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.path = options.path;
    const opened = statSync(options.path);
    this.file = { dev: opened.dev, ino: opened.ino };
    this.db.defaultSafeIntegers(true);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.maxBatch = options.maxBatch ?? 1000;
    this.idBase = options.idBase ?? 0n;
    this.clock = options.clock ?? Date.now;
    if (options.maxBytes !== undefined) {
      const pageSize = Number(this.db.pragma('page_size', { simple: true }));
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
  }

  // ---- plumbing ----

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_MAX) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, (statement = this.db.prepare(sql)));
    }
    return statement;
  }

  /** Queues a write for the next group commit; `untracked`: not one of the request's own writes (records, probes). */
  private write<T>(run: () => T, untracked = false): Promise<T> {
    if (this.closed) return Promise.reject(unavailable('the store is closed'));
    const idempotent = untracked ? undefined : idempotentWrites.getStore();
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
        idempotent,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    // a write into a file that was deleted (or replaced) while open would be acknowledged and then lost
    const lost = this.fileLost();
    if (lost) {
      for (const write of batch) write.reject(unavailable(lost));
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.stmt('BEGIN IMMEDIATE').run();
      for (const write of batch) {
        this.stmt('SAVEPOINT write').run();
        try {
          const value = write.run();
          if (write.idempotent) this.upsertIdempotent(pendingRecord(write.idempotent, value, this.clock()));
          outcomes.push({ ok: true, value });
          this.stmt('RELEASE write').run();
        } catch (error) {
          // on a full disk or an I/O error SQLite may roll the whole transaction back by itself:
          // then the batch has failed as a whole (nothing of it is written)
          if (!this.db.inTransaction) throw storageFailure(error);
          this.stmt('ROLLBACK TO write').run();
          this.stmt('RELEASE write').run();
          outcomes.push({ ok: false, value: storageFailure(error) });
        }
      }
      this.stmt('COMMIT').run();
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      const failure = error instanceof DomainError ? error : unavailable(`the store could not commit: ${(error as Error).message}`);
      for (const write of batch) write.reject(failure);
      return;
    }
    batch.forEach((write, i) => (outcomes[i].ok ? write.resolve(outcomes[i].value) : write.reject(outcomes[i].value)));
  }

  /** Waits until every queued write has committed. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushScheduled) await new Promise((r) => setImmediate(r));
  }

  async migrate(): Promise<number[]> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: bigint }[]).map((r) => Number(r.version)));
    const done: number[] = [];
    for (const migration of loadMigrations('sqlite')) {
      if (applied.has(migration.version)) continue;
      this.db.transaction(() => {
        this.db.exec(migration.sql);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, new Date().toISOString());
      }).immediate();
      done.push(migration.version);
    }
    if (this.idBase > 0n) {
      // AUTOINCREMENT allocates above both the sequence and the largest id
      this.db.transaction(() => {
        this.db.prepare("INSERT INTO sqlite_sequence (name, seq) SELECT 'services', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'services')").run();
        this.db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'services' AND seq < ?").run(this.idBase, this.idBase);
      }).immediate();
    }
    return done;
  }

  /** Why the path no longer names the opened database file, if it does not. */
  private fileLost(): string | undefined {
    try {
      const now = statSync(this.path);
      if (now.ino === this.file.ino && now.dev === this.file.dev) return undefined;
      return `the database file ${this.path} was replaced while open; writes are refused (restart to open the new file)`;
    } catch {
      return `the database file ${this.path} was deleted while open; writes are refused (restore it and restart)`;
    }
  }

  /** Healthy means writable: the file is still in place and a write commits (a read-only file or file system fails here). */
  async health(): Promise<StoreHealth> {
    try {
      const lost = this.fileLost();
      if (lost) return { kind: 'sqlite', ok: false, detail: lost };
      this.stmt('SELECT 1').get();
      // a real write through the group commit (one fsync, shared with other writes): a write that
      // changes no value writes no page, so the probe counts in the header's user_version (unused otherwise)
      await this.write(() => this.db.pragma(`user_version = ${(Number(this.db.pragma('user_version', { simple: true })) + 1) % 1_000_000}`), true);
      return { kind: 'sqlite', ok: true };
    } catch (error) {
      return { kind: 'sqlite', ok: false, detail: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    this.db.close();
  }

  // ---- checks used inside writes ----

  /** NotFound unless the service exists and has not expired. */
  private requireService(serviceId: bigint): void {
    if (!this.stmt('SELECT 1 FROM services WHERE service_id = ? AND expires_at > ?').get(serviceId, this.clock())) throw notFound('service', serviceId);
  }

  /** Records a write to the service: re-arms its expiry (unless fixed) and its idle time. */
  private touchService(serviceId: bigint, now: number): void {
    this.stmt(`UPDATE services SET updated_at = @now, expires_at = ${rearm('@now')} WHERE service_id = @id`).run({ now, id: serviceId });
  }

  /** Applies a ttl / expiration_time given on an event or by PUT /services/{id}. */
  private setExpiry(serviceId: bigint, expiry: Expiry, now: number): void {
    if (expiry.lifetimeMs !== undefined) {
      this.stmt('UPDATE services SET lifetime_ms = @lifetime, expires_fixed = 0, expires_at = @now + @lifetime WHERE service_id = @id').run({
        lifetime: expiry.lifetimeMs,
        now,
        id: serviceId,
      });
    } else if (expiry.fixedAt !== undefined) {
      this.stmt('UPDATE services SET expires_fixed = 1, expires_at = ? WHERE service_id = ?').run(expiry.fixedAt, serviceId);
    }
  }

  private writeExtensions(kind: ExtensionOwner['kind'], ownerId: bigint | number, serviceId: bigint, extensions: Extensions): void {
    if (extensions.size === 0) return;
    const upsert = this.stmt(
      `INSERT INTO extensions (owner_kind, owner_id, service_id, name_key, name, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (owner_kind, owner_id, name_key) DO UPDATE SET name = excluded.name, value = excluded.value`,
    );
    for (const [key, ext] of extensions) upsert.run(kind, ownerId, serviceId, key, ext.name, encodeExtensionValue(ext.value));
  }

  // ---- services ----

  startService(start: ServiceStart): Promise<bigint> {
    const doc = docOf({ ...start, type: start.serviceType });
    return this.write(() => {
      const now = this.clock();
      const expiry = expiryOnInsert(start.expiry, now);
      const row = this.stmt(
        `INSERT INTO services (customer_id, contact_key, service_type, started_at, expires_at, lifetime_ms, expires_fixed, auto_complete_after_ms, updated_at, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING service_id`,
      ).get(
        start.customerId ?? null,
        start.contactKey ?? null,
        typeKey(start.serviceType),
        start.startedAt,
        expiry.expiresAt,
        expiry.lifetimeMs,
        expiry.fixed ? 1 : 0,
        autoCompleteAfterMs(start),
        now,
        encodeDoc(doc),
      ) as { service_id: bigint };
      this.writeExtensions('service', row.service_id, row.service_id, start.extensions);
      return row.service_id;
    });
  }

  endService(serviceId: bigint, end: ElementEnd): Promise<void> {
    return this.write(() => {
      const now = this.clock();
      const row = this.stmt('SELECT doc FROM services WHERE service_id = ? AND expires_at > ?').get(serviceId, now) as { doc: string } | undefined;
      if (!row) throw notFound('service', serviceId);
      const doc = completeDoc('service', serviceId, decodeDoc(row.doc), end);
      // one statement: the completion, and the write re-arms the expiry
      this.stmt(`UPDATE services SET completed_at = @completedAt, doc = @doc, updated_at = @now, expires_at = ${rearm('@now')} WHERE service_id = @id`).run({
        completedAt: end.completedAt,
        doc: encodeDoc(doc),
        now,
        id: serviceId,
      });
      if (end.expiry) this.setExpiry(serviceId, end.expiry, now);
      this.writeExtensions('service', serviceId, serviceId, end.extensions);
    });
  }

  associateService(serviceId: bigint, customerId: string, association: ServiceAssociation): Promise<void> {
    return this.write(() => {
      const now = this.clock();
      const row = this.stmt('SELECT doc FROM services WHERE service_id = ? AND expires_at > ?').get(serviceId, now) as { doc: string } | undefined;
      if (!row) throw notFound('service', serviceId);
      const doc = associateDoc(decodeDoc(row.doc), association);
      this.stmt(
        `UPDATE services SET customer_id = @customerId, service_type = @type, doc = @doc, updated_at = @now, expires_at = ${rearm('@now')} WHERE service_id = @id`,
      ).run({ customerId, type: typeKey(doc.type), doc: encodeDoc(doc), now, id: serviceId });
      this.writeExtensions('service', serviceId, serviceId, association.extensions);
    });
  }

  updateServiceExpiration(serviceId: bigint, expiry: Expiry): Promise<void> {
    return this.write(() => {
      const now = this.clock();
      this.requireService(serviceId);
      this.touchService(serviceId, now);
      this.setExpiry(serviceId, expiry, now);
    });
  }

  deleteService(serviceId: bigint): Promise<void> {
    return this.write(() => {
      // states, tasks and extensions go with it (ON DELETE CASCADE), in this one transaction
      const result = this.stmt('DELETE FROM services WHERE service_id = ? AND expires_at > ?').run(serviceId, this.clock());
      if (result.changes === 0) throw notFound('service', serviceId);
    });
  }

  async getService(serviceId: bigint): Promise<ServiceRecord | undefined> {
    const row = this.stmt(
      'SELECT service_id, customer_id, contact_key, started_at, completed_at, expires_at, doc FROM services WHERE service_id = ? AND expires_at > ?',
    ).get(serviceId, this.clock()) as ServiceRow | undefined;
    return row && serviceFromRow(row);
  }

  async listServices(filter: ServiceFilter): Promise<ServiceRecord[]> {
    const params: unknown[] = [];
    let where: string;
    if (filter.customerId !== undefined) {
      where = 'customer_id = ?';
      params.push(filter.customerId);
    } else if (filter.contactKey !== undefined) {
      where = 'contact_key = ? AND customer_id IS NULL';
      params.push(filter.contactKey);
    } else {
      throw new Error('listServices needs customerId or contactKey');
    }
    where += statusClause(filter.status) + ' AND expires_at > ?';
    params.push(this.clock());
    if (filter.serviceTypes.length > 0) {
      where += ' AND service_type IN (SELECT value FROM json_each(?))';
      params.push(jsonList(filter.serviceTypes));
    }
    if (filter.startedFrom !== undefined) {
      where += ' AND started_at >= ?';
      params.push(filter.startedFrom);
    }
    if (filter.startedTo !== undefined) {
      where += ' AND started_at < ?';
      params.push(filter.startedTo);
    }
    const sql = `SELECT service_id, customer_id, contact_key, started_at, completed_at, expires_at, doc FROM services
      WHERE ${where} ORDER BY started_at, service_id${pageClause(params, filter.limit, filter.offset)}`;
    return (this.stmt(sql).all(...params) as ServiceRow[]).map((row) => serviceFromRow(row));
  }

  /** The query plan of a customer's active services (shown by tests to prove the index is used). */
  explainActiveServicesOfCustomer(): string[] {
    const rows = this.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT service_id FROM services WHERE customer_id = ? AND completed_at IS NULL ORDER BY started_at, service_id`,
      )
      .all('x') as { detail: string }[];
    return rows.map((r) => r.detail);
  }

  explainAnonymousServices(): string[] {
    const rows = this.db
      .prepare(`EXPLAIN QUERY PLAN SELECT service_id FROM services WHERE contact_key = ? AND customer_id IS NULL ORDER BY started_at, service_id`)
      .all('x') as { detail: string }[];
    return rows.map((r) => r.detail);
  }

  // ---- states ----

  private insertState(serviceId: bigint, start: StateStart): number {
    const previous = start.started.previous_state_id;
    if (previous !== undefined && !this.stmt('SELECT 1 FROM states WHERE state_id = ? AND service_id = ?').get(previous, serviceId)) {
      throw invalid(`previous_state_id ${previous} is not a state of service ${serviceId}`);
    }
    const doc = docOf({ ...start, type: start.stateType });
    const row = this.stmt(
      'INSERT INTO states (service_id, state_type, started_at, doc) VALUES (?, ?, ?, ?) RETURNING state_id',
    ).get(serviceId, typeKey(start.stateType), start.startedAt, encodeDoc(doc)) as { state_id: bigint };
    const stateId = Number(row.state_id);
    this.writeExtensions('state', stateId, serviceId, start.extensions);
    this.touchService(serviceId, this.clock());
    return stateId;
  }

  private completeState(serviceId: bigint, stateId: number, end: ElementEnd, missing: () => DomainError): void {
    const row = this.stmt('SELECT doc FROM states WHERE state_id = ? AND service_id = ?').get(stateId, serviceId) as { doc: string } | undefined;
    if (!row) throw missing();
    const doc = completeDoc('state', stateId, decodeDoc(row.doc), end);
    this.stmt('UPDATE states SET completed_at = ?, doc = ? WHERE state_id = ?').run(end.completedAt, encodeDoc(doc), stateId);
    this.writeExtensions('state', stateId, serviceId, end.extensions);
    this.touchService(serviceId, this.clock());
  }

  startState(serviceId: bigint, start: StateStart): Promise<number> {
    return this.write(() => {
      this.requireService(serviceId);
      return this.insertState(serviceId, start);
    });
  }

  endState(serviceId: bigint, stateId: number, end: ElementEnd): Promise<void> {
    return this.write(() => {
      this.requireService(serviceId);
      this.completeState(serviceId, stateId, end, () => notFound('state', stateId));
    });
  }

  transitionState(serviceId: bigint, transition: StateTransition): Promise<number> {
    return this.write(() => {
      this.requireService(serviceId);
      const from = transition.fromStateId;
      this.completeState(serviceId, from, transition.end, () => invalid(`from.state_id ${from} is not a state of service ${serviceId}`));
      return this.insertState(serviceId, transition.start);
    });
  }

  async getState(serviceId: bigint, stateId: number): Promise<StateRecord | undefined> {
    const row = this.stmt('SELECT state_id, service_id, started_at, completed_at, doc FROM states WHERE state_id = ? AND service_id = ?').get(
      stateId,
      serviceId,
    ) as StateRow | undefined;
    return row && stateFromRow(row);
  }

  async listStates(filter: StateFilter): Promise<StateRecord[]> {
    if (filter.serviceIds.length === 0) return [];
    const params: unknown[] = [jsonList(filter.serviceIds)];
    let where = 'service_id IN (SELECT value FROM json_each(?))' + statusClause(filter.status);
    if (filter.stateTypes.length > 0) {
      where += ' AND state_type IN (SELECT value FROM json_each(?))';
      params.push(jsonList(filter.stateTypes));
    }
    const sql = `SELECT state_id, service_id, started_at, completed_at, doc FROM states WHERE ${where}
      ORDER BY started_at, state_id${pageClause(params, filter.limit, filter.offset)}`;
    return (this.stmt(sql).all(...params) as StateRow[]).map((row) => stateFromRow(row));
  }

  // ---- tasks ----

  startTask(serviceId: bigint, start: TaskStart): Promise<number> {
    return this.write(() => {
      this.requireService(serviceId);
      if (start.stateId !== undefined && !this.stmt('SELECT 1 FROM states WHERE state_id = ? AND service_id = ?').get(start.stateId, serviceId)) {
        throw invalid(`state_id ${start.stateId} is not a state of service ${serviceId}`);
      }
      const doc = docOf({ ...start, type: start.taskType });
      const row = this.stmt(
        'INSERT INTO tasks (service_id, state_id, task_type, started_at, doc) VALUES (?, ?, ?, ?, ?) RETURNING task_id',
      ).get(serviceId, start.stateId ?? null, typeKey(start.taskType), start.startedAt, encodeDoc(doc)) as { task_id: bigint };
      const taskId = Number(row.task_id);
      this.writeExtensions('task', taskId, serviceId, start.extensions);
      this.touchService(serviceId, this.clock());
      return taskId;
    });
  }

  endTask(serviceId: bigint, taskId: number, end: ElementEnd): Promise<void> {
    return this.write(() => {
      this.requireService(serviceId);
      const row = this.stmt('SELECT doc FROM tasks WHERE task_id = ? AND service_id = ?').get(taskId, serviceId) as { doc: string } | undefined;
      if (!row) throw notFound('task', taskId);
      const doc = completeDoc('task', taskId, decodeDoc(row.doc), end);
      this.stmt('UPDATE tasks SET completed_at = ?, doc = ? WHERE task_id = ?').run(end.completedAt, encodeDoc(doc), taskId);
      this.writeExtensions('task', taskId, serviceId, end.extensions);
      this.touchService(serviceId, this.clock());
    });
  }

  async getTask(serviceId: bigint, taskId: number): Promise<TaskRecord | undefined> {
    const row = this.stmt(
      'SELECT task_id, service_id, state_id, started_at, completed_at, doc FROM tasks WHERE task_id = ? AND service_id = ?',
    ).get(taskId, serviceId) as TaskRow | undefined;
    return row && taskFromRow(row);
  }

  async listTasks(filter: TaskFilter): Promise<TaskRecord[]> {
    if (filter.serviceIds.length === 0) return [];
    const params: unknown[] = [jsonList(filter.serviceIds)];
    let where = 'service_id IN (SELECT value FROM json_each(?))' + statusClause(filter.status);
    if (filter.taskTypes.length > 0) {
      where += ' AND task_type IN (SELECT value FROM json_each(?))';
      params.push(jsonList(filter.taskTypes));
    }
    if (filter.stateId !== undefined) {
      where += ' AND state_id = ?';
      params.push(filter.stateId);
    }
    const sql = `SELECT task_id, service_id, state_id, started_at, completed_at, doc FROM tasks WHERE ${where}
      ORDER BY started_at, task_id${pageClause(params, filter.limit, filter.offset)}`;
    return (this.stmt(sql).all(...params) as TaskRow[]).map((row) => taskFromRow(row));
  }

  // ---- extensions ----

  putExtensions(owner: ExtensionOwner, extensions: Extensions | ExtensionChange): Promise<void> {
    return this.write(() => {
      this.requireService(owner.serviceId);
      if (owner.kind === 'state' && !this.stmt('SELECT 1 FROM states WHERE state_id = ? AND service_id = ?').get(owner.id, owner.serviceId)) {
        throw notFound('state', owner.id);
      }
      if (owner.kind === 'task' && !this.stmt('SELECT 1 FROM tasks WHERE task_id = ? AND service_id = ?').get(owner.id, owner.serviceId)) {
        throw notFound('task', owner.id);
      }
      const ownerId = owner.kind === 'service' ? owner.serviceId : owner.id;
      if (typeof extensions === 'function') {
        const rows = this.stmt('SELECT owner_id, name_key, name, value FROM extensions WHERE owner_kind = ? AND owner_id = ?').all(owner.kind, ownerId) as ExtensionRow[];
        extensions = extensions(groupExtensions(rows).get(String(ownerId)) ?? new Map());
      }
      this.writeExtensions(owner.kind, ownerId, owner.serviceId, extensions);
      this.touchService(owner.serviceId, this.clock());
    });
  }

  async loadExtensions(kind: ExtensionOwner['kind'], ids: (bigint | number)[]): Promise<Map<string, Extensions>> {
    if (ids.length === 0) return new Map();
    const rows = this.stmt(
      'SELECT owner_id, name_key, name, value FROM extensions WHERE owner_kind = ? AND owner_id IN (SELECT value FROM json_each(?))',
    ).all(kind, jsonList(ids)) as ExtensionRow[];
    return groupExtensions(rows);
  }

  // ---- extension schemas and identification keys ----

  createExtensionSchema(entity: SchemaEntity, schema: ExtensionSchema): Promise<void> {
    return this.write(() => {
      const key = schema.name.toLowerCase();
      if (this.stmt('SELECT 1 FROM extension_schemas WHERE entity = ? AND name_key = ?').get(entity, key)) throw schemaExists(entity, schema.name);
      this.stmt('INSERT INTO extension_schemas (entity, name_key, definition) VALUES (?, ?, ?)').run(entity, key, encodeJson(schema));
    });
  }

  async listExtensionSchemas(entity: SchemaEntity): Promise<ExtensionSchema[]> {
    const rows = this.stmt('SELECT definition FROM extension_schemas WHERE entity = ? ORDER BY name_key').all(entity) as { definition: string }[];
    return rows.map((r) => decodeJson(r.definition) as ExtensionSchema);
  }

  deleteExtensionSchema(entity: SchemaEntity, name: string): Promise<void> {
    return this.write(() => {
      const key = name.toLowerCase();
      if (entity === 'profiles') {
        const user = this.stmt('SELECT definition FROM identification_keys WHERE source_key = ?').get(key) as { definition: string } | undefined;
        if (user) throw keyInUse(name, decodeJson(user.definition) as IdentificationKey);
      }
      const result = this.stmt('DELETE FROM extension_schemas WHERE entity = ? AND name_key = ?').run(entity, key);
      if (result.changes === 0) throw notFound('extension', name);
      if (entity === 'profiles') this.stmt('DELETE FROM profile_extensions WHERE name_key = ?').run(key);
    });
  }

  private keys(): IdentificationKey[] {
    const rows = this.stmt('SELECT key_id, definition FROM identification_keys ORDER BY key_id').all() as { key_id: bigint; definition: string }[];
    return rows.map((r) => ({ ...(decodeJson(r.definition) as NewIdentificationKey), id: Number(r.key_id) }));
  }

  createIdentificationKey(key: NewIdentificationKey): Promise<IdentificationKey> {
    return this.write(() => {
      if (this.stmt('SELECT 1 FROM identification_keys WHERE name_key = ?').get(key.name.toLowerCase())) {
        throw invalid(`an identification key named ${key.name} exists already`);
      }
      const row = this.stmt('INSERT INTO identification_keys (name_key, source_key, definition) VALUES (?, ?, ?) RETURNING key_id').get(
        key.name.toLowerCase(),
        key.source?.toLowerCase() ?? null,
        encodeJson(key),
      ) as { key_id: bigint };
      const created: IdentificationKey = { ...key, id: Number(row.key_id) };
      // index the profiles that exist already
      const insert = this.stmt('INSERT OR IGNORE INTO profile_identities (key_id, value, customer_id, is_unique) VALUES (?, ?, ?, ?)');
      const owner = this.stmt('SELECT customer_id FROM profile_identities WHERE key_id = ? AND value = ?');
      for (const profile of this.allProfiles()) {
        for (const value of identityValues(profile, created)) {
          const other = owner.get(created.id, value) as { customer_id: string } | undefined;
          if (created.unique && other && other.customer_id !== profile.customerId) throw duplicateIdentity(created, value);
          insert.run(created.id, value, profile.customerId, created.unique ? 1 : 0);
        }
      }
      return created;
    });
  }

  async listIdentificationKeys(): Promise<IdentificationKey[]> {
    return this.keys();
  }

  deleteIdentificationKey(name: string): Promise<void> {
    return this.write(() => {
      const row = this.stmt('SELECT key_id FROM identification_keys WHERE name_key = ?').get(name.toLowerCase()) as { key_id: bigint } | undefined;
      if (!row) throw notFound('identification key', name);
      this.stmt('DELETE FROM profile_identities WHERE key_id = ?').run(row.key_id);
      this.stmt('DELETE FROM identification_keys WHERE key_id = ?').run(row.key_id);
    });
  }

  // ---- profiles ----

  private allProfiles(): ProfileData[] {
    const rows = this.stmt('SELECT customer_id FROM profiles ORDER BY customer_id').all() as { customer_id: string }[];
    return this.readProfiles(rows.map((r) => r.customer_id));
  }

  private readProfiles(customerIds: string[]): ProfileData[] {
    if (customerIds.length === 0) return [];
    const ids = jsonList(customerIds);
    const profiles = this.stmt('SELECT customer_id, attributes FROM profiles WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY customer_id').all(ids) as {
      customer_id: string;
      attributes: string;
    }[];
    const extensions = groupExtensions(
      this.stmt(
        'SELECT customer_id AS owner_id, name_key, name, value FROM profile_extensions WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY name_key',
      ).all(ids) as ExtensionRow[],
    );
    return profiles.map((p) => ({
      customerId: p.customer_id,
      attributes: decodeJson(p.attributes) as Record<string, unknown>,
      extensions: extensions.get(p.customer_id) ?? new Map(),
    }));
  }

  /** Checks unique key values against other customers, then writes the profile, its extensions and its index entries. */
  private saveProfile(profile: ProfileData, created: boolean): void {
    const keys = this.keys();
    const entries = identitiesOf(profile, keys);
    const owner = this.stmt('SELECT customer_id FROM profile_identities WHERE key_id = ? AND value = ? AND is_unique = 1 AND customer_id <> ?');
    for (const entry of entries) {
      if (entry.unique && owner.get(entry.keyId, entry.value, profile.customerId)) throw duplicateIdentity(keys.find((k) => k.id === entry.keyId)!, entry.value);
    }
    const now = this.clock();
    if (created) {
      this.stmt('INSERT INTO profiles (customer_id, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)').run(profile.customerId, encodeJson(profile.attributes), now, now);
    } else {
      this.stmt('UPDATE profiles SET attributes = ?, updated_at = ? WHERE customer_id = ?').run(encodeJson(profile.attributes), now, profile.customerId);
      this.stmt('DELETE FROM profile_extensions WHERE customer_id = ?').run(profile.customerId);
      this.stmt('DELETE FROM profile_identities WHERE customer_id = ?').run(profile.customerId);
    }
    const insertExtension = this.stmt('INSERT INTO profile_extensions (customer_id, name_key, name, value) VALUES (?, ?, ?, ?)');
    for (const [key, ext] of profile.extensions) insertExtension.run(profile.customerId, key, ext.name, encodeExtensionValue(ext.value));
    const insertIdentity = this.stmt('INSERT OR IGNORE INTO profile_identities (key_id, value, customer_id, is_unique) VALUES (?, ?, ?, ?)');
    for (const entry of entries) insertIdentity.run(entry.keyId, entry.value, profile.customerId, entry.unique ? 1 : 0);
  }

  createProfile(profile: ProfileData): Promise<void> {
    return this.write(() => {
      if (this.stmt('SELECT 1 FROM profiles WHERE customer_id = ?').get(profile.customerId)) {
        throw invalid(`customer_id ${profile.customerId} is taken`);
      }
      this.saveProfile(profile, true);
    });
  }

  updateProfile(customerId: string, change: (current: ProfileData) => ProfileData): Promise<void> {
    return this.write(() => {
      const [current] = this.readProfiles([customerId]);
      if (!current) throw notFound('profile', customerId);
      this.saveProfile({ ...change(current), customerId }, false);
    });
  }

  async getProfiles(customerIds: string[]): Promise<ProfileData[]> {
    return this.readProfiles(customerIds);
  }

  deleteProfile(customerId: string): Promise<void> {
    return this.write(() => {
      // extensions and index entries go with it (ON DELETE CASCADE); services are kept
      const result = this.stmt('DELETE FROM profiles WHERE customer_id = ?').run(customerId);
      if (result.changes === 0) throw notFound('profile', customerId);
    });
  }

  async findCustomers(keyId: number, text: string, exact: boolean): Promise<string[]> {
    const rows = exact
      ? this.stmt('SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = ? AND value = ? ORDER BY customer_id').all(keyId, text)
      : this.stmt('SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = ? AND value >= ? AND value < ? ORDER BY customer_id').all(keyId, text, upperBound(text));
    return (rows as { customer_id: string }[]).map((r) => r.customer_id);
  }

  explainIdentify(): string[] {
    const rows = this.db.prepare('EXPLAIN QUERY PLAN SELECT DISTINCT customer_id FROM profile_identities WHERE key_id = ? AND value >= ? AND value < ?').all(1, 'a', 'b') as {
      detail: string;
    }[];
    return rows.map((r) => r.detail);
  }

  // ---- maintenance ----

  async purgeServices(operation: PurgeOperation, before: number, batchSize = 1000): Promise<number> {
    const purge = this.stmt(`DELETE FROM services WHERE service_id IN (SELECT service_id FROM services WHERE ${purgeWhere(operation, '?')} ORDER BY service_id LIMIT ?)`);
    let purged = 0;
    for (;;) {
      // one bounded transaction per batch: requests keep flowing between batches
      const n = await this.write(() => purge.run(before, batchSize).changes);
      purged += n;
      if (n < batchSize) return purged;
    }
  }

  async exportPage(filter: ExportFilter, afterId: bigint, pageSize: number): Promise<ServiceRecord[]> {
    const sql = `SELECT service_id, customer_id, contact_key, started_at, completed_at, expires_at, doc FROM services
      WHERE service_id > ? AND expires_at > ? AND ${exportWhere(filter, ['?', '?'])} ORDER BY service_id LIMIT ?`;
    const range = filter.events === 'any' ? [filter.from, filter.to, filter.from, filter.to] : [filter.from, filter.to];
    const params = [afterId, this.clock(), ...range, pageSize];
    return (this.stmt(sql).all(...params) as ServiceRow[]).map((row) => serviceFromRow(row));
  }

  sweepExpired(batchSize: number): Promise<number> {
    return this.write(
      () =>
        this.stmt('DELETE FROM services WHERE service_id IN (SELECT service_id FROM services WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)').run(this.clock(), batchSize)
          .changes,
    );
  }

  autoCompleteIdle(defaultAfterMs: number | undefined, batchSize: number): Promise<number> {
    return this.write(() => {
      const now = this.clock();
      const idle = this.stmt(
        `SELECT service_id, doc FROM services WHERE completed_at IS NULL AND expires_at > @now
           AND updated_at + COALESCE(auto_complete_after_ms, @after) <= @now LIMIT @limit`,
      ).all({ now, after: defaultAfterMs ?? null, limit: batchSize }) as { service_id: bigint; doc: string }[];
      for (const { service_id: serviceId, doc } of idle) {
        const end = autoCompletion(now);
        this.stmt('UPDATE services SET completed_at = ?, doc = ? WHERE service_id = ?').run(now, encodeDoc(completeDoc('service', serviceId, decodeDoc(doc), end)), serviceId);
        for (const table of ['states', 'tasks'] as const) {
          const key = table === 'states' ? 'state_id' : 'task_id';
          const open = this.stmt(`SELECT ${key} AS id, doc FROM ${table} WHERE service_id = ? AND completed_at IS NULL`).all(serviceId) as { id: bigint; doc: string }[];
          for (const element of open) {
            const completed = completeDoc(table === 'states' ? 'state' : 'task', element.id, decodeDoc(element.doc), end);
            this.stmt(`UPDATE ${table} SET completed_at = ?, doc = ? WHERE ${key} = ?`).run(now, encodeDoc(completed), element.id);
          }
        }
        this.touchService(serviceId, now);
      }
      return idle.length;
    });
  }

  // ---- privacy and audit ----

  private insertAudit(record: AuditRecord): void {
    this.stmt('INSERT INTO audit_log (at, actor, action, subject, counts) VALUES (?, ?, ?, ?, ?)').run(
      record.at,
      record.actor,
      record.action,
      record.subject ?? null,
      encodeJson(record.counts),
    );
  }

  eraseCustomer(customerId: string, audit: Omit<AuditRecord, 'counts'>): Promise<{ profile: number; services: number }> {
    return this.write(() => {
      const profile = this.stmt('DELETE FROM profiles WHERE customer_id = ?').run(customerId).changes;
      const services = this.stmt('DELETE FROM services WHERE customer_id = ?').run(customerId).changes;
      const counts = { profile, services };
      this.insertAudit({ ...audit, counts });
      return counts;
    });
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.write(() => this.insertAudit(record));
  }

  async listAudit(limit: number): Promise<AuditRecord[]> {
    const rows = this.stmt('SELECT audit_id, at, actor, action, subject, counts FROM audit_log ORDER BY audit_id DESC LIMIT ?').all(limit) as {
      audit_id: bigint;
      at: bigint;
      actor: string;
      action: AuditRecord['action'];
      subject: string | null;
      counts: string;
    }[];
    return rows.map((r) => ({ id: Number(r.audit_id), at: Number(r.at), actor: r.actor, action: r.action, ...(r.subject === null ? {} : { subject: r.subject }), counts: decodeJson(r.counts) as Record<string, number> }));
  }

  // ---- idempotent retries ----

  async getIdempotentResponse(key: string, notBefore: number): Promise<IdempotentResponse | undefined> {
    const row = this.stmt('SELECT idem_key, fingerprint, status, location, body, created_at FROM idempotency_keys WHERE idem_key = ? AND created_at >= ?').get(key, notBefore) as
      | IdempotentRow
      | undefined;
    return row && idempotentFromRow(row);
  }

  saveIdempotentResponse(r: IdempotentResponse, replaceBefore: number): Promise<void> {
    return this.write(() => this.upsertIdempotent({ ...r, replaceBefore }), true);
  }

  /** The first answer for a key stays; a pending record (or an expired one) gives way to a newer one. */
  private upsertIdempotent(r: Omit<IdempotentResponse, 'location'> & { location?: string; replaceBefore: number }): void {
    this.stmt(
      `INSERT INTO idempotency_keys (idem_key, fingerprint, status, location, body, created_at) VALUES (@key, @fingerprint, @status, @location, @body, @createdAt)
         ON CONFLICT (idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status, location = excluded.location, body = excluded.body, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < @replaceBefore OR (idempotency_keys.status = ${PENDING_STATUS} AND idempotency_keys.fingerprint = excluded.fingerprint)`,
    ).run({ key: r.key, fingerprint: r.fingerprint, status: r.status, location: r.location ?? null, body: r.body, createdAt: r.createdAt, replaceBefore: r.replaceBefore });
  }

  sweepIdempotentResponses(before: number, batchSize: number): Promise<number> {
    return this.write(
      () => this.stmt('DELETE FROM idempotency_keys WHERE idem_key IN (SELECT idem_key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)').run(before, batchSize).changes,
    );
  }
}
