// Idempotent retries: a POST or PUT carrying an `Idempotency-Key` header acts once; a retry with the
// same key gets the first 2xx answer again (with `Idempotent-Replayed: true`) instead of acting twice.
// Answers are kept per partition (tenant, group) in its store, for the retention (`idempotency.retention`,
// default 24h), then swept. A duplicate arriving while the first is still in progress on this node
// waits for it. A key reused for a different request (method, path, body or user) gets 422.
// Non-2xx answers are not recorded: a retry of a refused request is judged afresh.
//
// The key is recorded in the same transaction as the request's writes (see
// store/idempotent-writes.ts): a retry after a crash between the commit and the answer finds the
// pending record, runs the handler again with its writes' recorded results (nothing is written
// twice), and answers as the first attempt would have.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, invalid } from '../domain/errors.js';
import { addRouteHook } from './route-hooks.js';
import { PENDING_STATUS, decodeResults, idempotentWrites, type IdempotentWrites } from '../store/idempotent-writes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the request body as received (JSON text), for fingerprints */
    rawBody?: string;
    idempotency?: { key: string; fingerprint: string; slot: string; release: () => void; writes: IdempotentWrites };
  }
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export function registerIdempotency(app: FastifyInstance, retentionMs: number): void {
  // per node: the requests in progress, by partition and key
  const inProgress = new Map<string, Promise<void>>();

  const finish = (request: FastifyRequest) => {
    const context = request.idempotency;
    if (!context) return;
    request.idempotency = undefined;
    inProgress.delete(context.slot);
    context.release();
  };

  /** Claims the key, or answers with the recorded answer (true: the reply is sent). */
  const claim = async (request: FastifyRequest, reply: FastifyReply, key: unknown): Promise<boolean> => {
    if (typeof key !== 'string' || !KEY.test(key)) throw invalid('Idempotency-Key must be given once, 1 to 255 visible ASCII characters');
    const fingerprint = createHash('sha256')
      .update(`${request.method} ${request.url}\n${request.user ?? ''}\n${request.rawBody ?? ''}`)
      .digest('base64url');
    const slot = `${request.scope.partition.key}\u0000${key}`;
    for (let waiting = inProgress.get(slot); waiting; waiting = inProgress.get(slot)) await waiting;
    // claimed before the next await: a duplicate arriving from here on waits for this one
    let release!: () => void;
    inProgress.set(slot, new Promise<void>((resolve) => (release = resolve)));
    const writes: IdempotentWrites = { key, fingerprint, replaceBefore: app.clock() - retentionMs, results: [] };
    request.idempotency = { key, fingerprint, slot, release, writes };
    const recorded = await request.scope.store.getIdempotentResponse(key, writes.replaceBefore);
    if (!recorded) return false;
    if (recorded.status === PENDING_STATUS && recorded.fingerprint === fingerprint) {
      // the first attempt's writes committed but its answer was never recorded (a crash): the handler
      // runs again with their results, and its writes are not made again
      writes.recorded = decodeResults(recorded.body);
      reply.header('idempotent-replayed', 'true');
      return false;
    }
    // a replay records nothing: without a context, onSend leaves it alone
    finish(request);
    if (recorded.fingerprint !== fingerprint) {
      throw new DomainError('KeyReused', `Idempotency-Key ${key} was first used for another request (method, path, body or user differ); use a new key`);
    }
    if (recorded.location) reply.header('location', recorded.location);
    reply.status(recorded.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(recorded.body);
    return true;
  };

  /** Records a 2xx answer under the key; a failure to record is logged, the answer still goes out. */
  const record = async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void> => {
    const context = request.idempotency!;
    try {
      if (reply.statusCode >= 200 && reply.statusCode < 300 && (typeof payload === 'string' || payload === undefined || payload === null)) {
        const now = app.clock();
        const location = reply.getHeader('location');
        await request.scope.store.saveIdempotentResponse(
          { key: context.key, fingerprint: context.fingerprint, status: reply.statusCode, location: typeof location === 'string' ? location : undefined, body: payload ?? '', createdAt: now },
          now - retentionMs,
        );
      }
    } catch (error) {
      // the write itself committed: answer it; only a retry's replay is lost
      request.log.warn({ err: error }, 'idempotent answer not recorded');
    } finally {
      finish(request);
    }
  };

  // POST and PUT routes only; a request without the header passes each hook without waiting
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (!methods.includes('POST') && !methods.includes('PUT')) return;
    // the handler of a request with a key runs inside its write context, so each of its writes records the key
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const writes = request.idempotency?.writes;
      return writes ? idempotentWrites.run(writes, () => handler.call(this, request, reply)) : handler.call(this, request, reply);
    } as typeof route.handler;
    addRouteHook(route, 'preValidation', (request, reply, done) => {
      const key = request.headers['idempotency-key'];
      if (key === undefined || (request.method !== 'POST' && request.method !== 'PUT')) return done();
      claim(request, reply, key).then((replied) => replied || done(), done);
    });
    addRouteHook(route, 'onSend', (request, reply, payload, done) => {
      if (!request.idempotency) return done(null, payload);
      record(request, reply, payload).then(() => done(null, payload));
    });
    // whatever happened (an error before onSend, a closed connection), duplicates stop waiting
    addRouteHook(route, 'onResponse', (request, _reply, done) => {
      finish(request);
      done();
    });
    addRouteHook(route, 'onRequestAbort', (request, done) => {
      finish(request);
      done();
    });
  });
}
