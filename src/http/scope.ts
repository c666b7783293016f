// A request's scope: the partition its tenant headers select, with that partition's store,
// business-attribute catalog, extension-schema cache and lifetimes. Routes reach data only through
// request.scope, so a route cannot read or write outside the caller's partition.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BusinessAttributeCatalog, catalogConfigFor, type CatalogConfig } from '../domain/business-attributes.js';
import { DEFAULT_EXPIRATION, parseLifetime } from '../domain/expiration.js';
import type { LongOrString } from '../domain/fields.js';
import { describePartition, serviceIdsOf, partitionsOf, resolvePartition, type Partition, type Tenant } from '../domain/tenancy.js';
import type { Store } from '../store/store.js';
import { ExtensionSchemaCache } from './extension-schemas.js';
import { DomainError, notFound } from '../domain/errors.js';
import { parseServiceId } from '../domain/ids.js';

export interface Scope {
  partition: Partition;
  store: Store;
  catalog: BusinessAttributeCatalog;
  /** extension schemas, cached briefly (see extension-schemas.ts) */
  schemas: ExtensionSchemaCache;
  /** how long a service of this type lives after its last write, unless a ttl or expiration_time says otherwise */
  lifetimeFor: (serviceType: LongOrString | undefined) => number;
  /** A service id from a request: 400 if malformed, 404 if it belongs to another partition (see partitionTag). */
  serviceId: (text: string) => bigint;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set for every API route by the scope hook of the API plugin (api.ts); routes outside it never read it */
    scope: Scope;
  }
}

export interface ScopeOptions {
  tenants: readonly Tenant[];
  /** the store of a partition */
  storeFor: (partition: Partition) => Store;
  businessAttributes?: CatalogConfig;
  /** cview/expiration */
  expiration?: string;
  /** limits.extensions_per_element */
  maxExtensions: number;
}

/** One scope per partition, built once. */
export function buildScopes(options: ScopeOptions): Map<string, Scope> {
  const defaultLifetime = parseLifetime('cview.expiration', options.expiration ?? DEFAULT_EXPIRATION);
  const catalogs = new Map<number | undefined, BusinessAttributeCatalog>();
  const scopes = new Map<string, Scope>();
  for (const partition of partitionsOf(options.tenants)) {
    const tenantId = partition.tenant?.id;
    let catalog = catalogs.get(tenantId);
    if (!catalog) catalogs.set(tenantId, (catalog = new BusinessAttributeCatalog(catalogConfigFor(options.businessAttributes ?? {}, partition.tenant))));
    const store = options.storeFor(partition);
    const byTypeCatalog = catalog;
    const owns = serviceIdsOf(partition);
    scopes.set(partition.key, {
      partition,
      store,
      catalog,
      schemas: new ExtensionSchemaCache(store, options.maxExtensions),
      serviceId: (text) => {
        const id = parseServiceId(text);
        if (!owns(id)) throw notFound('service', id);
        return id;
      },
      lifetimeFor: (serviceType) => {
        const byType = byTypeCatalog.expirationFor(serviceType);
        return byType === undefined ? defaultLifetime : parseLifetime('settings.expiration', byType);
      },
    });
  }
  return scopes;
}

/**
 * Resolves each API request's scope from its ContactCenterId / GroupId headers (after access
 * control: an unauthenticated caller learns nothing about the tenants). Unmatched routes keep their
 * 404/405 answers.
 */
export function registerScopes(app: FastifyInstance, tenants: readonly Tenant[], scopes: ReadonlyMap<string, Scope>): void {
  app.decorateRequest('scope', null as unknown as Scope);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const partition = resolvePartition(tenants, request.headers.contactcenterid, request.headers.groupid);
    if (request.mayUse && !request.mayUse(partition)) throw new DomainError('Forbidden', `user ${request.user} may not use ${describePartition(partition)}`);
    request.scope = scopes.get(partition.key)!;
  });
}
