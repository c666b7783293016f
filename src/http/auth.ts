// cview/use-role: every API request (the routes under /genesys/1/cs; see api.ts) carries HTTP Basic
// credentials of a configured user; 401 without or with bad ones, 403 when the user's roles do not
// allow the route. Verified credentials are remembered briefly (by a digest),
// so scrypt runs once per client, not once per request. Failed logins are counted per client address
// and per user name; over the bound the answer is 429 before scrypt runs, so a password-guessing
// storm costs no CPU and delays nobody else's login.
//
// What a route needs is declared on the route (`config.requires`), never matched against the URL:
// the router accepts spellings (a trailing slash, percent-escapes) that a URL pattern would miss.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DUMMY_HASH,
  allows,
  credentialDigest,
  grantedPartitions,
  parseBasicAuthorization,
  parsePasswordHash,
  requiredRole,
  verifyPassword,
  type Role,
  type User,
} from '../domain/access.js';
import type { Partition, Tenant } from '../domain/tenancy.js';
import { Exceptions, refuse } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user, with roles on */
    user?: string;
    /** with roles on in multi-tenant mode: the partitions the user may work in */
    mayUse?: (partition: Partition) => boolean;
  }
  interface FastifyContextConfig {
    /** the role a route needs whatever its method (reads of a whole customer or of the audit trail) */
    requires?: Role;
  }
}
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 10_000;

/** Failed logins allowed per client address, and per user name, in each window. */
export const FAILED_LOGINS = { max: 10, windowMs: 60_000 };
const FAILURE_KEYS_MAX = 100_000;

/** Fixed-window failure counts; the oldest keys give way beyond FAILURE_KEYS_MAX, so memory stays bounded. */
class FailureCounts {
  private readonly windows = new Map<string, { count: number; startedAt: number }>();

  /** ms until `key` may try again, or 0 */
  blockedFor(key: string, now: number): number {
    const window = this.windows.get(key);
    if (!window || now - window.startedAt >= FAILED_LOGINS.windowMs) return 0;
    return window.count >= FAILED_LOGINS.max ? window.startedAt + FAILED_LOGINS.windowMs - now : 0;
  }

  add(key: string, now: number): void {
    const window = this.windows.get(key);
    if (window && now - window.startedAt < FAILED_LOGINS.windowMs) return void window.count++;
    this.windows.delete(key);
    if (this.windows.size >= FAILURE_KEYS_MAX) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { count: 1, startedAt: now });
  }
}

export function registerAccessControl(app: FastifyInstance, users: User[], tenants: readonly Tenant[], clock: () => number): void {
  const byName = new Map(
    users.map((u) => [
      u.name,
      { roles: u.roles, hash: parsePasswordHash(u.password_hash), mayUse: tenants.length > 0 ? grantedPartitions(u.tenants ?? [], tenants) : undefined },
    ]),
  );
  const verified = new Map<string, { name: string; until: number }>();
  const failures = new FailureCounts();

  // A browser answers a Basic challenge with its own modal prompt, which leaves a page's fetch waiting
  // on it; a script that asks with X-Requested-With (the console) gets the 401 without the challenge
  // and shows its own sign-in form.
  const deny = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403, message: string, exception: string) => {
    if (status === 401 && request.headers['x-requested-with'] === undefined) reply.header('www-authenticate', 'Basic realm="contextd", charset="UTF-8"');
    return refuse(reply, status, { message, exception });
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const credentials = parseBasicAuthorization(header);
    if (!credentials || !header) return deny(request, reply, 401, 'credentials required: HTTP Basic with a configured user', Exceptions.Authentication);
    const digest = credentialDigest(header);
    const now = clock();
    let session = verified.get(digest);
    if (!session || session.until < now) {
      const byAddress = `ip:${request.ip}`;
      const byUser = `user:${credentials.name}`;
      const wait = Math.max(failures.blockedFor(byAddress, now), failures.blockedFor(byUser, now));
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return refuse(reply.header('retry-after', String(seconds)), 429, { message: `too many failed logins from this address or for this user; retry after ${seconds} s`, exception: Exceptions.RateLimited });
      }
      const user = byName.get(credentials.name);
      const ok = await verifyPassword(credentials.password, user?.hash ?? DUMMY_HASH);
      if (!ok || !user?.hash) {
        failures.add(byAddress, now);
        failures.add(byUser, now);
        return deny(request, reply, 401, 'unknown user or wrong password', Exceptions.Authentication);
      }
      session = { name: credentials.name, until: now + CACHE_MS };
      if (verified.size >= CACHE_MAX) verified.clear();
      verified.set(digest, session);
    }
    const user = byName.get(session.name)!;
    request.user = session.name;
    request.mayUse = user.mayUse;
    if (!allows(user.roles, requiredRole(request.method, request.routeOptions.config?.requires))) return deny(request, reply, 403, 'Requires permission', 'java.rmi.AccessException');
  });
}
