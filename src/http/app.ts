// The Fastify application: external plugins first, then our decorators, then the routes.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { Store } from '../store/store.js';
import { clientErrorHandler, errorHandler, registerErrorHandling, formatSchemaErrors, frameworkErrors, MAX_PARAM_LENGTH } from './errors.js';
import { ajvOptions, lazyValidatorFactory, registerJson } from './json.js';
import healthRoutes from './routes/health.js';
import serviceRoutes from './routes/services.js';
import stateRoutes from './routes/states.js';
import taskRoutes from './routes/tasks.js';
import { VERSION } from '../version.js';
import type { CatalogConfig } from '../domain/business-attributes.js';
import { DEFAULT_LIMITS, type Limits } from '../domain/limits.js';
import { DEFAULT_CORE_ATTRIBUTES, type CoreAttribute } from '../domain/profiles.js';
import profileRoutes from './routes/profiles.js';
import metadataRoutes from './routes/metadata.js';
import eventRoutes from './routes/events.js';
import maintenanceRoutes from './routes/maintenance.js';
import customerRoutes from './routes/customers.js';
import consoleRoutes from './routes/console.js';
import serverRoutes from './routes/server.js';
import { EventHub } from './events.js';
import { Sweeper } from '../sweeper.js';
import { registerAccessControl } from './auth.js';
import type { User } from '../domain/access.js';
import type { Partition, Tenant } from '../domain/tenancy.js';
import { buildScopes, registerScopes, type Scope } from './scope.js';
import { registerIdempotency } from './idempotency.js';
import { registerCors } from './cors.js';
import { IDLE_TIMEOUT_MS, guardConnections } from './connections.js';
import { registerRateLimit, type RateLimitOptions } from './rate-limit.js';
import { parseLifetime } from '../domain/expiration.js';

/** How long an Idempotency-Key's first answer is kept and replayed. */
export const DEFAULT_IDEMPOTENCY_RETENTION = '24h';

declare module 'fastify' {
  interface FastifyInstance {
    /** the main store: /health and events between nodes; data goes through request.scope */
    mainStore: Store;
    /** every partition's scope, by partition key ('' in single-tenant mode) */
    scopes: ReadonlyMap<string, Scope>;
    /** the clock: epoch ms used for events without a timestamp */
    clock: () => number;
    /** core profile attributes */
    profileCore: CoreAttribute[];
    limits: Limits;
    events: EventHub;
    sweeper: Sweeper;
    /** every route registered, for the OpenAPI and route-table checks */
    routeTable: { method: string; url: string; documented: boolean }[];
  }
}

export interface AppOptions {
  /** the main store (the only one in single-tenant mode) */
  store: Store;
  /** multi-tenant mode when not empty: ContactCenterId / GroupId select a partition */
  tenants?: Tenant[];
  /** the store of each tenant partition (required with tenants) */
  storeFor?: (partition: Partition) => Store;
  /** request limits; each defaults to DEFAULT_LIMITS */
  limits?: Partial<Limits>;
  notFoundStatus?: 404 | 400;
  logger?: FastifyServerOptions['logger'];
  clock?: () => number;
  businessAttributes?: CatalogConfig;
  /** cview/expiration: the default lifetime of a service (5y) */
  expiration?: string;
  /** cview/auto-complete-enabled and cview/auto-complete-after (seconds) */
  autoComplete?: { enabled: boolean; afterSeconds?: number };
  /** how long an Idempotency-Key's first answer is replayed (default 24h) */
  idempotencyRetention?: string;
  /** origins allowed to write (and to send credentials); reads are open to any origin */
  corsWriteOrigins?: string[];
  /** per tenant (or client address, single-tenant): at most max requests per window */
  rateLimit?: RateLimitOptions;
  /** cview.use-role on: HTTP Basic against these users */
  users?: User[];
  profileAttributes?: CoreAttribute[];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const bodyLimit = limits.bodyBytes;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    ajv: ajvOptions,
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory() as never } },
    schemaErrorFormatter: formatSchemaErrors as unknown as FastifyServerOptions['schemaErrorFormatter'],
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    connectionTimeout: IDLE_TIMEOUT_MS,
  });
  guardConnections(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'contextd — Context Services REST API',
        description: 'Services, states and tasks of customer journeys, under /genesys/1/cs.',
        version: VERSION,
      },
      tags: [
        { name: 'services', description: 'A customer need and its journey' },
        { name: 'states', description: 'Phases a service passes through' },
        { name: 'tasks', description: 'Units of work done for a service' },
        { name: 'profiles', description: 'Customer profiles, their extensions, identification' },
        { name: 'metadata', description: 'Extension schemas, identification keys, business attributes' },
        { name: 'events', description: 'Live journey events (Server-Sent Events)' },
        { name: 'maintenance', description: 'Purge and export' },
        { name: 'privacy', description: 'Customer erase and export, and the audit log' },
        { name: 'server', description: 'Health and documents' },
      ],
    },
  });

  app.decorate('routeTable', []);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD' && method !== 'OPTIONS') app.routeTable.push({ method, url: route.url, documented: !(route.schema as { hide?: boolean } | undefined)?.hide });
    }
  });
  const tenants = options.tenants ?? [];
  const idempotencyRetentionMs = parseLifetime('idempotency.retention', options.idempotencyRetention ?? DEFAULT_IDEMPOTENCY_RETENTION);
  if (tenants.length > 0 && !options.storeFor) throw new Error('buildApp: tenants need storeFor');
  const store = options.store;
  app.decorate('mainStore', store);
  app.decorate(
    'scopes',
    buildScopes({
      tenants,
      storeFor: (partition) => (partition.key === '' ? store : options.storeFor!(partition)),
      businessAttributes: options.businessAttributes,
      expiration: options.expiration,
      maxExtensions: limits.extensionsPerElement,
    }),
  );
  app.decorate('clock', options.clock ?? Date.now);
  app.decorate('limits', limits);
  app.decorate('profileCore', options.profileAttributes ?? DEFAULT_CORE_ATTRIBUTES);
  const transport =
    store.publishEvent && store.subscribeEvents
      ? { publish: store.publishEvent.bind(store), subscribe: store.subscribeEvents.bind(store) }
      : undefined;
  app.decorate('events', new EventHub(transport, (error) => app.log.warn({ err: error }, 'event not published')));
  await app.events.start();
  app.decorate(
    'sweeper',
    new Sweeper([...app.scopes.values()].map((scope) => ({ partition: scope.partition, store: scope.store })), {
      idempotencyRetentionMs,
      autoComplete: options.autoComplete?.enabled ?? false,
      autoCompleteAfterMs: options.autoComplete?.afterSeconds === undefined ? undefined : options.autoComplete.afterSeconds * 1000,
      onSwept: (partition, { expired, completed }) => {
        if (expired) app.events.emitMaintenance(partition, 'maintenance.expired', { purged: expired });
        if (completed) app.events.emitMaintenance(partition, 'maintenance.auto-completed', { purged: completed });
      },
      onError: (error) => app.log.warn({ err: error }, 'sweep failed'),
    }),
  );
  app.addHook('onClose', async () => {
    app.events.stop();
    await app.sweeper.stop();
  });
  registerJson(app, bodyLimit, { maxDepth: limits.jsonDepth, maxStringLength: limits.stringLength });
  registerErrorHandling(app);
  await registerCors(app, options.corsWriteOrigins ?? []);
  if (options.users) registerAccessControl(app, options.users, tenants, app.clock);
  registerScopes(app, tenants, app.scopes);
  if (options.rateLimit) await registerRateLimit(app, options.rateLimit);
  registerIdempotency(app, idempotencyRetentionMs);

  await app.register(healthRoutes, { version: VERSION });
  const notFoundStatus = options.notFoundStatus ?? 404;
  await app.register(async (journeys) => {
    // cview.not-found-status applies to services, states and tasks only
    journeys.setErrorHandler(errorHandler(notFoundStatus));
    await journeys.register(serviceRoutes);
    await journeys.register(stateRoutes);
    await journeys.register(taskRoutes);
  });
  await app.register(profileRoutes);
  await app.register(metadataRoutes);
  await app.register(eventRoutes);
  await app.register(maintenanceRoutes);
  await app.register(customerRoutes);
  await app.register(serverRoutes);
  await app.register(consoleRoutes);
  return app;
}
