// The Fastify application: external plugins first, then our decorators, then the routes.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { Store } from '../store/store.js';
import { clientErrorHandler, registerErrorHandling, formatSchemaErrors, frameworkErrors, logRefusals, MAX_PARAM_LENGTH } from './errors.js';
import { ajvOptions, lazyValidatorFactory, registerJson } from './json.js';
import healthRoutes from './routes/health.js';
import { VERSION } from '../package-root.js';
import type { CatalogConfig } from '../domain/business-attributes.js';
import { DEFAULT_LIMITS, type Limits } from '../domain/limits.js';
import { DEFAULT_CORE_ATTRIBUTES, type CoreAttribute } from '../domain/profiles.js';
import consoleRoutes from './routes/console.js';
import { EventHub } from '../app/events.js';
import { NatsSink, type NatsOptions } from '../app/nats.js';
import { OutboxRelay } from '../app/relay.js';
import { WebhookDispatcher, type WebhookOptions } from '../app/webhooks.js';
import { RollupFolder, type RollupFolderOptions } from '../rollup-folder.js';
import { Sweeper } from '../sweeper.js';
import type { Role, User } from '../domain/access.js';
import type { Partition, Tenant } from '../domain/tenancy.js';
import { buildScopes, type Scope } from '../app/scope.js';
import { registerCors } from './cors.js';
import { IDLE_TIMEOUT_MS, guardConnections } from './connections.js';
import type { RateLimitOptions } from './rate-limit.js';
import api from './api.js';
import { Metrics } from './metrics.js';
import { withExamples } from './openapi-examples.js';
import { BASE } from './schemas/common.js';
import { parseLifetime } from '../domain/expiration.js';

/** How long an Idempotency-Key's first answer is kept and replayed. */
export const DEFAULT_IDEMPOTENCY_RETENTION = '24h';
/** How long the outbox keeps committed events (a stream resumes within it). */
export const DEFAULT_EVENT_RETENTION = '7d';

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
    /** relays the outbox to NATS JetStream (events.nats); started by the server */
    relay?: OutboxRelay;
    /** delivers each partition's webhooks; started by the server */
    webhooks: WebhookDispatcher;
    sweeper: Sweeper;
    /** every route registered, for the OpenAPI and route-table checks */
    routeTable: { method: string; url: string; documented: boolean; requires?: Role }[];
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
  /** how long the outbox keeps events (default 7d) */
  eventRetention?: string;
  /** events.nats: relay every committed event to NATS JetStream */
  nats?: NatsOptions;
  /** events.webhooks: delivery timeout and retry period (the clock defaults to the app's) */
  webhooks?: WebhookOptions;
  /** how soon after a commit its rollup deltas are folded into the rollup rows; false: never (tests fold through the store) */
  rollupFold?: RollupFolderOptions | false;
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
        { name: 'analytics', description: 'Journeys in numbers: the live board and time in state (a contextd extension)' },
        { name: 'webhooks', description: 'Signed deliveries of events to HTTP receivers (a contextd extension)' },
        { name: 'maintenance', description: 'Purge and export' },
        { name: 'privacy', description: 'Customer erase and export, and the audit log' },
        { name: 'server', description: 'Health and documents' },
      ],
    },
    transformObject: (document) => withExamples('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });

  app.decorate('routeTable', []);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      app.routeTable.push({ method, url: route.url, documented: !(route.schema as { hide?: boolean } | undefined)?.hide, requires: route.config?.requires });
    }
  });
  const tenants = options.tenants ?? [];
  const idempotencyRetentionMs = parseLifetime('idempotency.retention', options.idempotencyRetention ?? DEFAULT_IDEMPOTENCY_RETENTION);
  if (tenants.length > 0 && !options.storeFor) throw new Error('buildApp: tenants need storeFor');
  const store = options.store;
  app.decorate('mainStore', store);
  app.decorate('clock', options.clock ?? Date.now);
  app.decorate('limits', limits);
  app.decorate('profileCore', options.profileAttributes ?? DEFAULT_CORE_ATTRIBUTES);
  const transport =
    store.publishEvent && store.subscribeEvents
      ? { publish: store.publishEvent.bind(store), subscribe: store.subscribeEvents.bind(store) }
      : undefined;
  app.decorate('events', new EventHub(transport, (error) => app.log.warn({ err: error }, 'event wake-up failed')));
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
  const targets = [...app.scopes.values()].map((scope) => ({ partition: scope.partition, store: scope.store }));
  if (options.nats) app.decorate('relay', new OutboxRelay(new NatsSink(options.nats), targets, { onError: (error) => app.log.warn({ err: error }, 'NATS relay: will retry') }));
  app.decorate('webhooks', new WebhookDispatcher(targets, { clock: app.clock, ...options.webhooks, onError: (error) => app.log.warn({ err: error }, 'webhook delivery: will retry') }));
  const folder = options.rollupFold === false ? undefined : new RollupFolder({ onError: (error) => app.log.warn({ err: error }, 'rollup fold: will retry at the next commit'), ...options.rollupFold });
  // a commit that appended events wakes the partition's stream (here, and on the other nodes), relays and rollup fold
  for (const { partition, store } of targets)
    store.onEventsCommitted(() => {
      app.events.committed(partition);
      app.relay?.wake(partition);
      app.webhooks.wake(partition);
      folder?.wake(store);
    });
  // what an import or an older node left unfolded
  for (const { store } of targets) folder?.wake(store);
  await app.events.start();
  const metrics = new Metrics(targets, app.events);
  app.decorate(
    'sweeper',
    new Sweeper(targets, {
      idempotencyRetentionMs,
      eventRetentionMs: parseLifetime('events.retention', options.eventRetention ?? DEFAULT_EVENT_RETENTION),
      clock: app.clock,
      autoComplete: options.autoComplete?.enabled ?? false,
      autoCompleteAfterMs: options.autoComplete?.afterSeconds === undefined ? undefined : options.autoComplete.afterSeconds * 1000,
      onError: (error) => app.log.warn({ err: error }, 'sweep failed'),
      onSwept: (result) => metrics.countSweep(result),
    }),
  );
  app.addHook('onClose', async () => {
    app.events.stop();
    await app.relay?.stop();
    await app.webhooks.stop();
    await app.sweeper.stop();
    await folder?.stop();
  });
  registerJson(app, bodyLimit, { maxDepth: limits.jsonDepth, maxStringLength: limits.stringLength });
  registerErrorHandling(app);
  await registerCors(app, options.corsWriteOrigins ?? []);

  metrics.register(app);
  logRefusals(app);
  // outside the API: no credentials, no tenant
  await app.register(healthRoutes, { version: VERSION });
  await app.register(consoleRoutes);
  await app.register(api, {
    prefix: BASE,
    tenants,
    users: options.users,
    rateLimit: options.rateLimit,
    idempotencyRetentionMs,
    notFoundStatus: options.notFoundStatus ?? 404,
  });
  return app;
}
