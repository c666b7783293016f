// Hooks on the routes that need them, added from an onRoute hook: a global hook runs on every
// request (and an async one allocates a promise each time) even where it has nothing to do.
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

type Done = (error?: Error | null) => void;
type RouteHooks = {
  preValidation: (request: FastifyRequest, reply: FastifyReply, done: Done) => void;
  onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => void;
  onResponse: (request: FastifyRequest, reply: FastifyReply, done: Done) => void;
  onRequestAbort: (request: FastifyRequest, done: Done) => void;
};

/** Appends `hook` to the route's own `name` hooks (after the ones it declares). */
export function addRouteHook<N extends keyof RouteHooks>(route: RouteOptions, name: N, hook: RouteHooks[N]): void {
  const own = (route as unknown as Record<string, unknown>)[name];
  (route as unknown as Record<string, unknown>)[name] = [...(own === undefined ? [] : [own].flat()), hook];
}
