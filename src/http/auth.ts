// cview/use-role: every request (but /health, /openapi.json, /docs and /console's static files)
// carries HTTP Basic credentials of a configured user; 401 without or with bad ones, 403 when the
// user's roles do not allow the method. Verified credentials are remembered briefly (by a digest),
// so scrypt runs once per client, not once per request.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DUMMY_HASH, allows, credentialDigest, parseBasicAuthorization, parsePasswordHash, verifyPassword, type Role, type User } from '../domain/access.js';
import { Exceptions } from './errors.js';
import { OPEN_PATHS } from './scope.js';

// reads that expose a whole customer or the audit trail: Administrator only, like writes
const ADMIN_READS = /^\/genesys\/1\/cs\/(customers\/[^/?]+\/export|maintenance\/audit)(\?|$)/;

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user, with roles on */
    user?: string;
  }
}
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 10_000;

export function registerAccessControl(app: FastifyInstance, users: User[]): void {
  const byName = new Map(users.map((u) => [u.name, { roles: u.roles, hash: parsePasswordHash(u.password_hash) }]));
  const verified = new Map<string, { roles: Role[]; until: number }>();

  const deny = (reply: FastifyReply, status: 401 | 403, message: string, exception: string) => {
    if (status === 401) reply.header('www-authenticate', 'Basic realm="contextd", charset="UTF-8"');
    return reply.status(status).type('application/json').send({ message, exception });
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (OPEN_PATHS.test(request.url) || request.method === 'OPTIONS') return;
    const header = request.headers.authorization;
    const credentials = parseBasicAuthorization(header);
    if (!credentials || !header) return deny(reply, 401, 'credentials required: HTTP Basic with a configured user', Exceptions.Authentication);
    const digest = credentialDigest(header);
    let roles = verified.get(digest);
    if (!roles || roles.until < Date.now()) {
      const user = byName.get(credentials.name);
      const ok = await verifyPassword(credentials.password, user?.hash ?? DUMMY_HASH);
      if (!ok || !user?.hash) return deny(reply, 401, 'unknown user or wrong password', Exceptions.Authentication);
      roles = { roles: user.roles, until: Date.now() + CACHE_MS };
      if (verified.size >= CACHE_MAX) verified.clear();
      verified.set(digest, roles);
    }
    request.user = credentials.name;
    const method = ADMIN_READS.test(request.url) ? 'POST' : request.method;
    if (!allows(roles.roles, method)) return deny(reply, 403, 'Requires permission', 'java.rmi.AccessException');
  });
}
