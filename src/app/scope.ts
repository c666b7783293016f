// A partition's scope: its store, business-attribute catalog, extension-schema cache, lifetimes and
// journey operations, built once per partition. Everything a request reads or writes goes through
// the scope its tenant headers select, so it cannot reach another partition's data.
import { BusinessAttributeCatalog, catalogConfigFor, type CatalogConfig } from '../domain/business-attributes.js';
import { notFound } from '../domain/errors.js';
import { DEFAULT_EXPIRATION, parseLifetime } from '../domain/expiration.js';
import { parseServiceId } from '../domain/ids.js';
import { partitionsOf, serviceIdsOf, type Partition, type Tenant } from '../domain/tenancy.js';
import type { Store } from '../store/store.js';
import { ExtensionSchemaCache } from './extension-schemas.js';
import { Journeys, type JourneyScope } from './journeys.js';

export interface Scope extends JourneyScope {
  /** the journey operations: check → extension schemas → store (with its events) */
  journeys: Journeys;
  /** A service id from a request: 400 if malformed, 404 if it belongs to another partition (see partitionTag). */
  serviceId: (text: string) => bigint;
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
    const parts: JourneyScope = {
      partition,
      store,
      catalog,
      schemas: new ExtensionSchemaCache(store, options.maxExtensions),
      lifetimeFor: (serviceType) => {
        const byType = byTypeCatalog.expirationFor(serviceType);
        return byType === undefined ? defaultLifetime : parseLifetime('settings.expiration', byType);
      },
    };
    scopes.set(partition.key, {
      ...parts,
      journeys: new Journeys(parts),
      serviceId: (text) => {
        const id = parseServiceId(text);
        if (!owns(id)) throw notFound('service', id);
        return id;
      },
    });
  }
  return scopes;
}
