// CORS: reads (GET, HEAD) from any origin, as browser clients of the documented API expect; writes
// (POST, PUT, DELETE) and credentialed requests only from the configured origins (`cors.write_origins`).
// Preflights are answered before access control and tenant checks (browsers send neither on them).
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const EXPOSED = ['location', 'idempotent-replayed', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
const REQUEST_HEADERS = ['content-type', 'authorization', 'contactcenterid', 'groupid', 'idempotency-key', 'last-event-id'];

export async function registerCors(app: FastifyInstance, writeOrigins: readonly string[]): Promise<void> {
  const trusted = new Set(writeOrigins);
  await app.register(cors, {
    delegator: (request: FastifyRequest, callback: (error: Error | null, options: Record<string, unknown>) => void) => {
      const origin = request.headers.origin;
      const method = (request.method === 'OPTIONS' ? String(request.headers['access-control-request-method'] ?? '') : request.method).toUpperCase();
      if (origin !== undefined && trusted.has(origin)) {
        return callback(null, { origin, credentials: true, methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], allowedHeaders: REQUEST_HEADERS, exposedHeaders: EXPOSED, maxAge: 600 });
      }
      if (method === 'GET' || method === 'HEAD') {
        return callback(null, { origin: '*', methods: ['GET', 'HEAD'], allowedHeaders: REQUEST_HEADERS, exposedHeaders: EXPOSED, maxAge: 600 });
      }
      return callback(null, { origin: false });
    },
  });
}
