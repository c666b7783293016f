// Everything under /genesys/1/cs, as one encapsulated plugin registered with that prefix: its hooks
// (authentication and roles, the tenant scope, rate limits, idempotency) run for its routes only,
// and never for /health, /openapi.json, /docs or /console, which are registered outside it — so no
// hook needs to recognise those by their URL. What a route needs beyond its method's default role is
// declared on the route (`config.requires`).
import type { FastifyInstance } from 'fastify';
import type { User } from '../domain/access.js';
import type { Tenant } from '../domain/tenancy.js';
import { registerAccessControl } from './auth.js';
import { errorHandler } from './errors.js';
import { registerIdempotency } from './idempotency.js';
import { registerRateLimit, type RateLimitOptions } from './rate-limit.js';
import { registerScopes } from './scope.js';
import analyticsRoutes from './routes/analytics.js';
import customerRoutes from './routes/customers.js';
import eventRoutes from './routes/events.js';
import maintenanceRoutes from './routes/maintenance.js';
import metadataRoutes from './routes/metadata.js';
import profileRoutes from './routes/profiles.js';
import serverRoutes from './routes/server.js';
import serviceRoutes from './routes/services.js';
import stateRoutes from './routes/states.js';
import taskRoutes from './routes/tasks.js';
import webhookRoutes from './routes/webhooks.js';

export interface ApiOptions {
  tenants: readonly Tenant[];
  users?: User[];
  rateLimit?: RateLimitOptions;
  idempotencyRetentionMs: number;
  notFoundStatus: 404 | 400;
}

export default async function api(app: FastifyInstance, options: ApiOptions): Promise<void> {
  if (options.users) registerAccessControl(app, options.users, options.tenants, app.clock);
  registerScopes(app, options.tenants, app.scopes);
  if (options.rateLimit) await registerRateLimit(app, options.rateLimit);
  registerIdempotency(app, options.idempotencyRetentionMs);

  await app.register(async (journeys) => {
    // cview.not-found-status applies to services, states and tasks only
    journeys.setErrorHandler(errorHandler(options.notFoundStatus));
    await journeys.register(serviceRoutes);
    await journeys.register(stateRoutes);
    await journeys.register(taskRoutes);
  });
  await app.register(profileRoutes);
  await app.register(metadataRoutes);
  await app.register(eventRoutes);
  await app.register(maintenanceRoutes);
  await app.register(customerRoutes);
  await app.register(webhookRoutes);
  await app.register(analyticsRoutes);
  await app.register(serverRoutes, { tenants: options.tenants });
}
