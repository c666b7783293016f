// The Fastify application: external plugins first, then our decorators, then the routes.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import type { Store } from '../store/store.js';
import { registerErrorHandling, formatSchemaErrors } from './errors.js';
import { ajvOptions, lazyValidatorFactory, registerJson } from './json.js';
import healthRoutes from './routes/health.js';
import serviceRoutes from './routes/services.js';
import stateRoutes from './routes/states.js';
import taskRoutes from './routes/tasks.js';
import { VERSION } from '../version.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    /** the clock: epoch ms used for events without a timestamp */
    clock: () => number;
  }
}

export interface AppOptions {
  store: Store;
  bodyLimit?: number;
  notFoundStatus?: 404 | 400;
  logger?: FastifyServerOptions['logger'];
  clock?: () => number;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    ajv: ajvOptions,
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory() as never } },
    schemaErrorFormatter: formatSchemaErrors as unknown as FastifyServerOptions['schemaErrorFormatter'],
    routerOptions: { ignoreTrailingSlash: true },
  });

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
        { name: 'server', description: 'Health and documents' },
      ],
    },
  });

  app.decorate('store', options.store);
  app.decorate('clock', options.clock ?? Date.now);
  registerJson(app, bodyLimit);
  registerErrorHandling(app, options.notFoundStatus ?? 404);

  await app.register(healthRoutes, { version: VERSION });
  await app.register(serviceRoutes);
  await app.register(stateRoutes);
  await app.register(taskRoutes);
  return app;
}
