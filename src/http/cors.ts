// CORS: reads (GET, HEAD) from any origin, as browser clients of the documented API expect; writes
// (POST, PUT, DELETE) and credentialed requests only from the configured origins (`cors.write_origins`).
// Preflights are answered before access control and tenant checks (browsers send neither on them).
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const EXPOSED = ['location', 'link', 'idempotent-replayed', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
const REQUEST_HEADERS = ['content-type', 'authorization', 'contactcenterid', 'groupid', 'idempotency-key', 'last-event-id'];

// the answers' options, made once (the delegator runs for every request)
const READS = { origin: '*', methods: ['GET', 'HEAD'], allowedHeaders: REQUEST_HEADERS, exposedHeaders: EXPOSED, maxAge: 600 };
const NONE = { origin: false };
const TRUSTED = { credentials: true, methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], allowedHeaders: REQUEST_HEADERS, exposedHeaders: EXPOSED, maxAge: 600 };

export async function registerCors(app: FastifyInstance, writeOrigins: readonly string[]): Promise<void> {
  const trusted = new Map(writeOrigins.map((origin) => [origin, { ...TRUSTED, origin }]));
  await app.register(cors, {
    delegator: (request: FastifyRequest, callback: (error: Error | null, options: Record<string, unknown>) => void) => {
      const origin = request.headers.origin;
      // without an Origin it is not a cross-origin request (an IVR, a script, a server): no CORS headers
      // to compute or send (Vary: Origin still tells caches the answer depends on it)
      if (origin === undefined) return callback(null, NONE);
      const trustedOptions = trusted.get(origin);
      if (trustedOptions) return callback(null, trustedOptions);
      const method = request.method === 'OPTIONS' ? String(request.headers['access-control-request-method'] ?? '').toUpperCase() : request.method;
      return callback(null, method === 'GET' || method === 'HEAD' ? READS : NONE);
    },
  });
}
