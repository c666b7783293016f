// Optional rate limits (`rate_limit` in the config): at most `max` requests per `window` for each
// tenant (in multi-tenant mode) or each client address (single-tenant mode), so one tenant's retry
// storm cannot starve the others. Over the limit: 429 with Retry-After, before the body is parsed.
// Counted per node, in memory.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';

export interface RateLimitOptions {
  max: number;
  windowMs: number;
}

type Counted = { current: number; ttl: number };

/**
 * The counters: one fixed window per key. Each call answers with a fresh object — the plugin's
 * in-memory store hands out its shared counter, which concurrent requests read after it has moved
 * on (all of a burst then saw the burst's final count and were refused).
 */
class WindowCounters {
  private readonly windows = new Map<string, { count: number; startedAt: number }>();
  private sweptAt = Date.now();

  incr(key: string, callback: (error: Error | null, result: Counted) => void, windowMs: number): void {
    const now = Date.now();
    if (now - this.sweptAt > windowMs) this.sweep(now, windowMs);
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= windowMs) this.windows.set(key, (window = { count: 0, startedAt: now }));
    window.count++;
    callback(null, { current: window.count, ttl: window.startedAt + windowMs - now });
  }

  read(key: string, callback: (error: Error | null, result: Counted) => void, windowMs: number): void {
    const now = Date.now();
    const window = this.windows.get(key);
    const live = window && now - window.startedAt < windowMs;
    callback(null, { current: live ? window.count : 0, ttl: live ? window.startedAt + windowMs - now : windowMs });
  }

  child(): this {
    return this;
  }

  /** Forgets finished windows, so keys that stopped calling take no memory. */
  private sweep(now: number, windowMs: number): void {
    for (const [key, window] of this.windows) if (now - window.startedAt >= windowMs) this.windows.delete(key);
    this.sweptAt = now;
  }
}

export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    store: WindowCounters as never,
    hook: 'preParsing',
    max: options.max,
    timeWindow: options.windowMs,
    keyGenerator: (request: FastifyRequest) => (request.scope?.partition.tenant ? `tenant:${request.scope.partition.tenant.id}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new DomainError('RateLimited', `too many requests: at most ${context.max} per ${Math.round(options.windowMs / 1000)} s; retry after ${context.after}`),
  });
}
