// The scope hook: each API request's scope is the partition its tenant headers select (see
// src/app/scope.ts). Routes reach data only through request.scope.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Scope } from '../app/scope.js';
import { DomainError } from '../domain/errors.js';
import { describePartition, resolvePartition, type Tenant } from '../domain/tenancy.js';

export type { Scope };

declare module 'fastify' {
  interface FastifyRequest {
    /** set for every API route by the scope hook of the API plugin (api.ts); routes outside it never read it */
    scope: Scope;
  }
  interface FastifyContextConfig {
    /** the route reads no partition's data (GET /server/partitions): no tenant headers needed */
    unscoped?: boolean;
  }
}

/**
 * Resolves each API request's scope from its ContactCenterId / GroupId headers (after access
 * control: an unauthenticated caller learns nothing about the tenants). Unmatched routes keep their
 * 404/405 answers.
 */
export function registerScopes(app: FastifyInstance, tenants: readonly Tenant[], scopes: ReadonlyMap<string, Scope>): void {
  app.decorateRequest('scope', null as unknown as Scope);
  // a callback hook, not an async one: it runs on every API request and never waits
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    if (request.routeOptions.config?.unscoped) return done();
    let partition;
    try {
      partition = resolvePartition(tenants, request.headers.contactcenterid, request.headers.groupid);
    } catch (error) {
      return done(error as Error);
    }
    if (request.mayUse && !request.mayUse(partition)) return done(new DomainError('Forbidden', `user ${request.user} may not use ${describePartition(partition)}`));
    request.scope = scopes.get(partition.key)!;
    done();
  });
}
