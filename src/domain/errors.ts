// Errors are values with a kind; the HTTP layer maps each kind to a status once (src/http/errors.ts).

/**
 * Tenant: a missing or unknown ContactCenterId / GroupId (400, the documented tenant exception).
 * KeyReused: an Idempotency-Key sent again with another request (422). RateLimited: over the rate limit (429).
 * Forbidden: an authenticated user outside what it may use (403).
 */
export type ErrorKind = 'NotFound' | 'Conflict' | 'Validation' | 'Unavailable' | 'Tenant' | 'KeyReused' | 'RateLimited' | 'Forbidden';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = `${kind}Error`;
  }
}

export type ElementKind = 'service' | 'state' | 'task' | 'profile' | 'extension' | 'record' | 'identification key' | 'business attribute' | 'webhook';

/** The documented 8.5 text: "There are no service found for : <id>" (state and task likewise). */
export function notFound(kind: ElementKind, id: string | number | bigint): DomainError {
  return new DomainError('NotFound', `There are no ${kind} found for : ${id}`);
}

export function alreadyCompleted(kind: ElementKind, id: string | number | bigint): DomainError {
  const name = kind[0].toUpperCase() + kind.slice(1);
  return new DomainError('Conflict', `${name} ${id} is already completed`);
}

export function invalid(message: string): DomainError {
  return new DomainError('Validation', message);
}

export function unavailable(message: string): DomainError {
  return new DomainError('Unavailable', message);
}
